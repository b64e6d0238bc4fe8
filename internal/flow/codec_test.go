package flow_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/communityhotline/hotline/internal/flow"
)

type stateCase struct {
	name string
	st   flow.State
}

// stateCases are the shapes a member's state takes, and the odd ones the codec must still
// carry exactly. The fuzz targets start from their encodings.
func stateCases() []stateCase {
	return []stateCase{
		{"zero", flow.State{}},
		{"subscriber", flow.State{Lang: "es", Areas: []string{"bernalillo-county"}, Address: "+15052000000"}},
		{"subscriber two areas", flow.State{Lang: "en", Areas: []string{"albuquerque", "bernalillo-county"}, Address: "+15052000000"}},
		{"opted out", flow.State{Lang: "es", OptedOut: true}},
		{"opted out, alerts ended", flow.State{Lang: "es", OptedOut: true, AlertsEnded: true}},
		{"alerts ended, other lang", flow.State{Lang: "fr", AlertsEnded: true}},
		{"home with stale active", flow.State{Lang: "en", Active: 1764150000}},
		{"home with empty data map", flow.State{Lang: "en", Data: map[string]string{}, Areas: []string{}}},
		{"mid conversation", flow.State{
			Lang: "es", Node: "report/where", Active: 1764150000,
			Data: map[string]string{"what": "checkpoint", "when": "now", "zip": "87102"},
		}},
		{"data only", flow.State{Data: map[string]string{"k": "v"}, Active: 7}},
		{"case", flow.State{Lang: "en", Case: 4211, Node: "case/open", Active: 1764150000}},
		{"case at home", flow.State{Case: 1<<40 + 3}},
		{"negative numbers", flow.State{Case: -1, Node: "n", Active: -1764150000}},
		{"undeliverable", flow.State{Lang: "es", Undeliverable: true, Areas: []string{"santa-fe"}, Address: "+15055550100"}},
		{"all flags", flow.State{OptedOut: true, Undeliverable: true, Lang: "es", Case: 1, Node: "x", Active: 1}},
		{"other lang", flow.State{Lang: "fr", Areas: []string{"dona-ana-county"}, Address: "+33612345678"}},
		{"whatsapp address", flow.State{Lang: "en", Areas: []string{"albuquerque"}, Address: "whatsapp:+15055550100"}},
		{"leading zero address", flow.State{Address: "+0123"}},
		{"bare number address", flow.State{Address: "5551234"}},
		{"one digit address", flow.State{Address: "+1"}},
		{"sixteen digit address", flow.State{Address: "+1234567890123456"}},
		{"longest e164 address", flow.State{Address: "+999999999999999"}},
		{"plus only address", flow.State{Address: "+"}},
		{"area just suffix", flow.State{Areas: []string{"-county"}}},
		{"area suffix inside", flow.State{Areas: []string{"x-county-y"}}},
		{"area suffix twice", flow.State{Areas: []string{"a-county-county"}}},
		{"area empty", flow.State{Areas: []string{""}}},
		{"area 126", flow.State{Areas: []string{strings.Repeat("a", 126), strings.Repeat("b", 126) + "-county"}}},
		{"area 127", flow.State{Areas: []string{strings.Repeat("a", 127), strings.Repeat("b", 127) + "-county"}}},
		{"area 200", flow.State{Areas: []string{strings.Repeat("z", 200), strings.Repeat("q", 200) + "-county"}}},
		{"many areas", flow.State{Lang: "es", Areas: manyAreas(300), Address: "+15052000000"}},
		{"data empty key and value", flow.State{Node: "n", Data: map[string]string{"": "", "k": ""}}},
		{"unicode", flow.State{Lang: "es", Node: "report/qué", Data: map[string]string{"dónde": "Peñasco 🚨", "\x00": "\xff\xfe"}}},
	}
}

func manyAreas(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strings.Repeat("p", i%20) + "-county"[:i%8]
	}
	return ids
}

// roundTripped is what decoding st's encoding must give: a member at home has no Active, and
// empty Data and Areas are nil.
func roundTripped(st flow.State) flow.State {
	st = st.Clone()
	if len(st.Data) == 0 {
		st.Data = nil
	}
	if len(st.Areas) == 0 {
		st.Areas = nil
	}
	if st.Node == "" && st.Data == nil {
		st.Active = 0
	}
	return st
}

func TestStateRoundTrip(t *testing.T) {
	for _, c := range stateCases() {
		t.Run(c.name, func(t *testing.T) {
			b := flow.EncodeState(c.st)
			got, err := flow.DecodeState(b)
			if err != nil {
				t.Fatalf("DecodeState(% x): %v", b, err)
			}
			if want := roundTripped(c.st); !reflect.DeepEqual(got, want) {
				t.Errorf("round trip of %+v\n got %+v\nwant %+v\n(encoded % x)", c.st, got, want, b)
			}
			if again := flow.EncodeState(got); !bytes.Equal(again, b) {
				t.Errorf("re-encoding differs:\n% x\n% x", b, again)
			}
		})
	}
}

func TestEncodeStateDropsActiveAtHome(t *testing.T) {
	idle := flow.EncodeState(flow.State{Lang: "es", Areas: []string{"santa-fe"}, Active: 1764150000})
	bare := flow.EncodeState(flow.State{Lang: "es", Areas: []string{"santa-fe"}})
	if !bytes.Equal(idle, bare) {
		t.Errorf("Active stored for a member at home: % x vs % x", idle, bare)
	}
	busy := flow.State{Node: "report/where", Active: 1764150000}
	got, err := flow.DecodeState(flow.EncodeState(busy))
	if err != nil || got.Active != busy.Active {
		t.Errorf("Active mid-conversation: got %d, %v; want %d", got.Active, err, busy.Active)
	}
}

func TestEncodeStateIsDeterministic(t *testing.T) {
	st := flow.State{Node: "n", Data: map[string]string{}}
	for i := range 50 {
		st.Data[strings.Repeat("k", i)] = "v"
	}
	first := flow.EncodeState(st)
	for range 20 {
		if b := flow.EncodeState(st); !bytes.Equal(b, first) {
			t.Fatalf("two encodings of one state:\n% x\n% x", first, b)
		}
	}
}

func TestDecodeStateEmpty(t *testing.T) {
	for _, b := range [][]byte{nil, {}, []byte("{}")} {
		st, err := flow.DecodeState(b)
		if err != nil || !reflect.DeepEqual(st, flow.State{}) {
			t.Errorf("DecodeState(%#v) = %+v, %v; want zero state", b, st, err)
		}
	}
}

func TestDecodeStateLegacyJSON(t *testing.T) {
	for _, c := range []struct {
		json string
		want flow.State
	}{
		{`{"l":"es","a":["santa-fe"],"t":1764150000,"p":"+15052000000"}`,
			flow.State{Lang: "es", Areas: []string{"santa-fe"}, Active: 1764150000, Address: "+15052000000"}},
		{`{"l":"en","n":"report/where","d":{"what":"checkpoint"},"t":1764150000,"c":12,"u":true}`,
			flow.State{Lang: "en", Node: "report/where", Data: map[string]string{"what": "checkpoint"}, Active: 1764150000, Case: 12, Undeliverable: true}},
		{`{"l":"es","o":true,"d":{},"a":[]}`, flow.State{Lang: "es", OptedOut: true}},
	} {
		got, err := flow.DecodeState([]byte(c.json))
		if err != nil {
			t.Errorf("DecodeState(%s): %v", c.json, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("DecodeState(%s)\n got %+v\nwant %+v", c.json, got, c.want)
		}
		b := flow.EncodeState(got)
		if len(b) >= len(c.json) {
			t.Errorf("re-encoding %s is %d bytes, not smaller than its %d", c.json, len(b), len(c.json))
		}
		again, err := flow.DecodeState(b)
		if err != nil || !reflect.DeepEqual(again, roundTripped(c.want)) {
			t.Errorf("re-encoded %s decodes to %+v, %v", c.json, again, err)
		}
	}
	if _, err := flow.DecodeState([]byte(`{"l":`)); err == nil {
		t.Error("broken legacy JSON decoded without error")
	}
}

// TestStateSizes holds the sizes that keep a sealed state (29 bytes more) within Redis's
// 64-byte listpack limit for typical members.
func TestStateSizes(t *testing.T) {
	for _, c := range []struct {
		name string
		st   flow.State
		max  int
	}{
		{"subscriber", flow.State{Lang: "es", Areas: []string{"bernalillo-county"}, Address: "+15052000000"}, 24},
		{"subscriber two areas", flow.State{Lang: "en", Areas: []string{"albuquerque", "bernalillo-county"}, Address: "+15052000000"}, 35},
		{"opted out", flow.State{Lang: "es", OptedOut: true}, 3},
		{"opted out, alerts ended", flow.State{Lang: "es", OptedOut: true, AlertsEnded: true}, 4},
		{"idle subscriber with stale active", flow.State{Lang: "es", Areas: []string{"dona-ana-county"}, Address: "+15055550100", Active: 1764150000}, 24},
	} {
		b := flow.EncodeState(c.st)
		t.Logf("%s: %d bytes (% x)", c.name, len(b), b)
		if len(b) > c.max {
			t.Errorf("%s: %d bytes, want at most %d", c.name, len(b), c.max)
		}
	}
}

func TestDecodeStateRejects(t *testing.T) {
	for _, c := range stateCases() {
		b := flow.EncodeState(c.st)
		for i := 1; i < len(b); i++ {
			if st, err := flow.DecodeState(b[:i]); err == nil {
				t.Errorf("%s: prefix of %d/%d bytes decoded to %+v", c.name, i, len(b), st)
			}
		}
		if _, err := flow.DecodeState(append(bytes.Clone(b), 0)); err == nil {
			t.Errorf("%s: trailing byte accepted", c.name)
		}
		unmarked := bytes.Clone(b)
		unmarked[0] &^= 0x80
		if _, err := flow.DecodeState(unmarked); err == nil {
			t.Errorf("%s: first byte without bit 7 accepted", c.name)
		}
	}
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"unknown address form", []byte{0x80, 0, 3}},
		{"repeated data key", []byte{0x90, 0, 0, 1, 'n', 0, 2, 1, 'k', 1, 'a', 1, 'k', 1, 'b'}},
		{"huge area count", []byte{0x80, 0xff, 0xff, 0xff, 0xff, 0x0f, 0}},
		{"huge string length", []byte{0x8c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0}},
		{"overflowing varint", []byte{0xa0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}},
		{"area escape without length", []byte{0x80, 1, 0x7f}},
		{"more flags without their byte", []byte{0xc0}},
		{"a reserved bit of the more flags", []byte{0xc0, 0x02, 0, 0}},
		{"every reserved bit of the more flags", []byte{0xc0, 0xfe, 0, 0}},
	} {
		if st, err := flow.DecodeState(c.b); err == nil {
			t.Errorf("%s: % x decoded to %+v", c.name, c.b, st)
		}
	}
}

func FuzzDecodeState(f *testing.F) {
	for _, c := range stateCases() {
		f.Add(flow.EncodeState(c.st))
	}
	f.Add([]byte(`{"l":"es","a":["santa-fe"],"t":1764150000,"p":"+15052000000"}`))
	f.Add([]byte(`{"n":"x","d":{"a":"b"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := flow.DecodeState(b)
		if err != nil {
			return
		}
		enc := flow.EncodeState(st)
		again, err := flow.DecodeState(enc)
		if err != nil {
			t.Fatalf("re-encoding of %+v (% x) does not decode: %v", st, enc, err)
		}
		if want := roundTripped(st); !reflect.DeepEqual(again, want) {
			t.Fatalf("% x decodes to %+v, which round-trips to %+v", b, want, again)
		}
	})
}

func FuzzStateRoundTrip(f *testing.F) {
	f.Add("es", "", "bernalillo-county", "", "+15052000000", int64(0), int64(0), uint8(0b0100))
	f.Add("fr", "report/where", "x-county-y", "-county", "whatsapp:+15055550100", int64(1764150000), int64(42), uint8(0b11111))
	f.Add("", "", "", strings.Repeat("a", 130)+"-county", "+0123", int64(-1), int64(-5), uint8(0b1010))
	f.Fuzz(func(t *testing.T, lang, node, area1, area2, address string, active, caseNo int64, flags uint8) {
		st := flow.State{
			Lang: lang, Node: node, Address: address, Active: active, Case: caseNo,
			OptedOut: flags&1 != 0, Undeliverable: flags&2 != 0,
		}
		if flags&4 != 0 {
			st.Areas = append(st.Areas, area1)
		}
		if flags&8 != 0 {
			st.Areas = append(st.Areas, area2)
		}
		if flags&16 != 0 {
			st.Data = map[string]string{area1: node, area2: lang}
		}
		b := flow.EncodeState(st)
		got, err := flow.DecodeState(b)
		if err != nil {
			t.Fatalf("DecodeState(EncodeState(%+v)) = %v (% x)", st, err, b)
		}
		if want := roundTripped(st); !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip of %+v\n got %+v\nwant %+v", st, got, want)
		}
	})
}
