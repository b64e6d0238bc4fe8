package flow

// A member's State is stored sealed (AES-GCM adds 29 bytes) in a Redis hash, and Redis keeps a
// hash in its compact listpack form only while every value is at most 64 bytes. So the
// plaintext of a typical subscriber must fit in 35 bytes, which JSON cannot do; this is the
// compact binary form that can.
//
// The form is, in order:
//
//	flags    one byte:
//	           bit 7    always set, so that the first byte is never '{', which marks the JSON
//	                    form states were stored in before
//	           bit 6    more flags: a second flags byte follows this one
//	           bit 5    has case: Case follows the address
//	           bit 4    has conversation: Node, Active and Data follow last
//	           bits 3-2 language: 0 "", 1 "es", 2 "en", 3 another, whose string follows
//	           bit 1    Undeliverable
//	           bit 0    OptedOut
//	more     only with bit 6, one byte: bit 0 AlertsEnded; the other bits are reserved for a
//	         later format (which will say what follows) and refused
//	lang     string, only for language 3
//	areas    uvarint count, then each area: a head byte whose bit 7 says the id ends in
//	         "-county" (stored without it, as most county ids do) and whose low 7 bits are the
//	         length of the rest; 127 there means the length follows as a uvarint
//	address  one byte: 0 none; 1 an E.164 number (+ and 2 to 15 digits, the first not 0),
//	         whose digits follow as a uvarint (5 bytes for a US number); 2 a string follows
//	case     uvarint, only with bit 5
//	conv     only with bit 4: Node as a string, Active as a uvarint, then a uvarint count of
//	         Data pairs, each a key string and a value string, in key order
//
// A string is a uvarint length and that many bytes. Case and Active are stored as the uvarint
// of their uint64 bits: they are positive in practice, and a negative one still round-trips.
//
// The decoder accepts any well-formed input, including forms this encoder does not write
// (a non-minimal varint, a conversation flag with nothing in it), so that an encoder that
// saves a byte more cleverly later still reads back what this one wrote.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

const (
	flagMark          = 1 << 7
	flagMore          = 1 << 6
	flagCase          = 1 << 5
	flagConversation  = 1 << 4
	langShift         = 2
	langMask          = 3 << langShift
	flagUndeliverable = 1 << 1
	flagOptedOut      = 1 << 0

	moreAlertsEnded = 1 << 0
	moreKnown       = moreAlertsEnded

	langNone, langES, langEN, langOther = 0, 1, 2, 3

	addrNone, addrE164, addrString = 0, 1, 2

	countySuffix  = "-county"
	areaCounty    = 1 << 7
	areaLenEscape = 1<<7 - 1
)

// EncodeState returns st's compact binary form (described at the top of this file).
//
// A member at home (Node == "" and no Data) has no conversation to expire, so their Active
// is not stored: DecodeState(EncodeState(st)) equals st except that Active is 0 for such a
// member (and empty Data and Areas come back nil). Storing less about idle members is the
// point, not a side effect.
func EncodeState(st State) []byte {
	flags := byte(flagMark)
	if st.OptedOut {
		flags |= flagOptedOut
	}
	if st.Undeliverable {
		flags |= flagUndeliverable
	}
	lang := byte(langOther)
	switch st.Lang {
	case "":
		lang = langNone
	case "es":
		lang = langES
	case "en":
		lang = langEN
	}
	flags |= lang << langShift
	if st.Case != 0 {
		flags |= flagCase
	}
	conversation := st.Node != "" || len(st.Data) > 0
	if conversation {
		flags |= flagConversation
	}

	var more byte
	if st.AlertsEnded {
		more |= moreAlertsEnded
	}
	if more != 0 {
		flags |= flagMore
	}

	b := append(make([]byte, 0, 48), flags)
	if more != 0 {
		b = append(b, more)
	}
	if lang == langOther {
		b = appendString(b, st.Lang)
	}
	b = binary.AppendUvarint(b, uint64(len(st.Areas)))
	for _, id := range st.Areas {
		b = appendArea(b, id)
	}
	if st.Address == "" {
		b = append(b, addrNone)
	} else if n, ok := e164(st.Address); ok {
		b = binary.AppendUvarint(append(b, addrE164), n)
	} else {
		b = appendString(append(b, addrString), st.Address)
	}
	if st.Case != 0 {
		b = binary.AppendUvarint(b, uint64(st.Case))
	}
	if conversation {
		b = appendString(b, st.Node)
		b = binary.AppendUvarint(b, uint64(st.Active))
		b = binary.AppendUvarint(b, uint64(len(st.Data)))
		// Sorted, so that one state always has one encoding.
		for _, k := range slices.Sorted(maps.Keys(st.Data)) {
			b = appendString(appendString(b, k), st.Data[k])
		}
	}
	return b
}

// DecodeState reads what EncodeState wrote, and also the JSON form states were stored in
// before (a first byte of '{'), so that members stored before the change keep their state.
// Nil or empty input is the zero State. Truncated input, bytes left over and flags this
// version does not know are errors.
func DecodeState(b []byte) (State, error) {
	if len(b) == 0 {
		return State{}, nil
	}
	if b[0] == '{' {
		return decodeJSONState(b)
	}
	if b[0]&flagMark == 0 {
		return State{}, fmt.Errorf("state: unknown form (first byte %#02x)", b[0])
	}
	r := stateReader{b: b, off: 1}
	flags := b[0]
	st := State{OptedOut: flags&flagOptedOut != 0, Undeliverable: flags&flagUndeliverable != 0}
	if flags&flagMore != 0 {
		more := r.byte()
		if more&^moreKnown != 0 {
			return State{}, fmt.Errorf("state: unknown form (second flags byte %#02x)", more)
		}
		st.AlertsEnded = more&moreAlertsEnded != 0
	}
	switch (flags & langMask) >> langShift {
	case langES:
		st.Lang = "es"
	case langEN:
		st.Lang = "en"
	case langOther:
		st.Lang = r.string()
	}
	for range r.count() {
		st.Areas = append(st.Areas, r.area())
	}
	switch r.byte() {
	case addrNone:
	case addrE164:
		st.Address = "+" + strconv.FormatUint(r.uvarint(), 10)
	case addrString:
		st.Address = r.string()
	default:
		r.fail("unknown address form")
	}
	if flags&flagCase != 0 {
		st.Case = int64(r.uvarint())
	}
	if flags&flagConversation != 0 {
		st.Node = r.string()
		st.Active = int64(r.uvarint())
		for range r.count() {
			k, v := r.string(), r.string()
			if _, dup := st.Data[k]; dup {
				r.fail("repeated data key")
			}
			if st.Data == nil {
				st.Data = map[string]string{}
			}
			st.Data[k] = v
		}
	}
	if r.off != len(b) {
		r.fail("trailing bytes")
	}
	if r.err != nil {
		return State{}, r.err
	}
	return st, nil
}

// decodeJSONState reads a state stored before the binary form, with the same nil-for-empty
// as the binary decoder so that callers see one shape whichever form a state came from.
func decodeJSONState(b []byte) (State, error) {
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, fmt.Errorf("state: legacy JSON: %w", err)
	}
	if len(st.Data) == 0 {
		st.Data = nil
	}
	if len(st.Areas) == 0 {
		st.Areas = nil
	}
	return st, nil
}

// e164 returns the digits of an E.164 address as a number. The first digit is never 0, so
// the number gives the digits back exactly.
func e164(addr string) (uint64, bool) {
	digits, ok := strings.CutPrefix(addr, "+")
	if !ok || len(digits) < 2 || len(digits) > 15 || digits[0] == '0' {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64) // base 10 refuses signs and underscores
	return n, err == nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendArea(b []byte, id string) []byte {
	rest, county := strings.CutSuffix(id, countySuffix)
	var head byte
	if county {
		head = areaCounty
	}
	if len(rest) < areaLenEscape {
		b = append(b, head|byte(len(rest)))
	} else {
		b = binary.AppendUvarint(append(b, head|areaLenEscape), uint64(len(rest)))
	}
	return append(b, rest...)
}

// stateReader reads the binary form. Its first error sticks and later reads return zero
// values, so that DecodeState reads straight through and checks once.
type stateReader struct {
	b   []byte
	off int
	err error
}

func (r *stateReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("state: %s at byte %d of %d", what, r.off, len(r.b))
	}
}

func (r *stateReader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail("truncated")
		return 0
	}
	r.off++
	return r.b[r.off-1]
}

func (r *stateReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("truncated or overflowing number")
		return 0
	}
	r.off += n
	return v
}

// count reads a number of items. Each takes at least a byte, so a count larger than what is
// left is refused before anything loops over it.
func (r *stateReader) count() uint64 {
	n := r.uvarint()
	if n > uint64(len(r.b)-r.off) {
		r.fail("count larger than the input")
		return 0
	}
	return n
}

func (r *stateReader) bytes(n uint64) string {
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail("truncated")
		return ""
	}
	s := string(r.b[r.off : r.off+int(n)])
	r.off += int(n)
	return s
}

func (r *stateReader) string() string { return r.bytes(r.uvarint()) }

func (r *stateReader) area() string {
	head := r.byte()
	n := uint64(head &^ areaCounty)
	if n == areaLenEscape {
		n = r.uvarint()
	}
	id := r.bytes(n)
	if head&areaCounty != 0 && r.err == nil {
		id += countySuffix
	}
	return id
}
