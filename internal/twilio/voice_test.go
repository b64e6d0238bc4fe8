package twilio_test

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/twilio"
)

func callForm(from string) url.Values {
	return url.Values{"CallSid": {"CA0123456789abcdef0123456789abcdef"}, "From": {from}, "To": {"+15055550000"},
		"CallStatus": {"ringing"}, "CallerName": {"SOMEONE"}, "CallerCity": {"ALBUQUERQUE"}}
}

func TestParseCallHidesWithheldNumbers(t *testing.T) {
	for _, tc := range []struct {
		from   string
		hidden bool
	}{
		{"+15055550100", false},
		{" +15055550100 ", false},
		{"", true},
		{"anonymous", true},
		{"Anonymous", true},
		{"+266696687", true}, // ANONYMOUS on a keypad
		{"+7378742833", true},
		{"restricted", true},
		{"unknown", true},
		{"UNAVAILABLE", true},
		{"+0123456789", true},
		{"client:alice", true},
		{"sip:someone@example.org", true},
	} {
		c, err := twilio.ParseCall(callForm(tc.from))
		if err != nil {
			t.Fatalf("From %q: %v", tc.from, err)
		}
		if c.Hidden != tc.hidden || (c.Hidden && c.From != "") || (!c.Hidden && c.From != strings.TrimSpace(tc.from)) {
			t.Errorf("From %q: hidden=%v from=%q, want hidden=%v", tc.from, c.Hidden, c.From, tc.hidden)
		}
	}
}

func TestParseCallRefuses(t *testing.T) {
	for name, change := range map[string]func(url.Values){
		"no CallSid":      func(f url.Values) { f.Del("CallSid") },
		"CallSid symbols": func(f url.Values) { f.Set("CallSid", "CA:1") },
		"two Froms":       func(f url.Values) { f.Add("From", "+15055550101") },
		"Digits words":    func(f url.Values) { f.Set("Digits", "1a") },
		"long speech":     func(f url.Values) { f.Set("SpeechResult", strings.Repeat("a", 3000)) },
	} {
		f := callForm("+15055550100")
		change(f)
		_, err := twilio.ParseCall(f)
		if !errors.Is(err, twilio.ErrInvalidField) && !errors.Is(err, twilio.ErrMissingField) {
			t.Errorf("%s: err %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "5055550") {
			t.Errorf("%s: the error quotes a number: %v", name, err)
		}
	}
	c, err := twilio.ParseCall(url.Values{"CallSid": {"CA1"}, "Digits": {"*"}, "SpeechResult": {" hola\xff "}})
	if err != nil || c.Digits != "*" || c.Speech != "hola\uFFFD" {
		t.Errorf("keys and speech: %+v %v", c, err)
	}
}

// FuzzParseCall: whatever the form, ParseCall never panics, and what it accepts is within its
// rules (an id usable in a key, keys only in Digits, valid UTF-8 speech, a number or nothing).
func FuzzParseCall(f *testing.F) {
	f.Add("CA0123", "+15055550100", "1", "")
	f.Add("CA0123", "anonymous", "", "Bernalillo")
	f.Add("CA0123", "+266696687", "*", "la migra está aquí")
	f.Add("", "", "#", "\xff\xfe")
	f.Add("CA:x", "+1505\x00", "12a", "")
	f.Fuzz(func(t *testing.T, sid, from, digits, speech string) {
		c, err := twilio.ParseCall(url.Values{"CallSid": {sid}, "From": {from}, "Digits": {digits}, "SpeechResult": {speech}})
		if err != nil {
			return
		}
		if c.SID == "" || strings.Trim(c.SID, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
			t.Errorf("accepted CallSid %q", c.SID)
		}
		if strings.Trim(c.Digits, "0123456789*#") != "" {
			t.Errorf("accepted Digits %q", c.Digits)
		}
		if !utf8.ValidString(c.Speech) {
			t.Errorf("speech not UTF-8: %q", c.Speech)
		}
		if c.Hidden == (c.From != "") {
			t.Errorf("hidden=%v with From %q", c.Hidden, c.From)
		}
		if c.From != "" && (c.From[0] != '+' || strings.Trim(c.From[1:], "0123456789") != "") {
			t.Errorf("accepted From %q as a number", c.From)
		}
	})
}

// voiceDoc is the TwiML of a call's answer, as far as the tests read it.
type voiceDoc struct {
	XMLName xml.Name `xml:"Response"`
	Verbs   []struct {
		XMLName  xml.Name
		Voice    string `xml:"voice,attr"`
		Language string `xml:"language,attr"`
		Input    string `xml:"input,attr"`
		Hints    string `xml:"hints,attr"`
		Action   string `xml:"action,attr"`
		Prosody  []struct {
			Rate string `xml:"rate,attr"`
			Text string `xml:",chardata"`
		} `xml:"prosody"`
		Says []struct {
			Prosody struct {
				Text string `xml:",chardata"`
			} `xml:"prosody"`
		} `xml:"Say"`
		Numbers []struct {
			Phone string `xml:",chardata"`
			URL   string `xml:"url,attr"`
		} `xml:"Number"`
	} `xml:",any"`
}

func TestWriteVoiceTwiML(t *testing.T) {
	var hints []string
	for i := range 600 {
		hints = append(hints, fmt.Sprintf("Place, %d %s", i, strings.Repeat("x", 120)))
	}
	mia := twilio.Voice{Name: "Polly.Mia", Language: "es-MX"}
	var b strings.Builder
	err := twilio.WriteVoiceTwiML(&b,
		twilio.Say{Text: "Hola & <adiós>", Voice: mia},
		twilio.Gather{Action: "/twilio/voice/gather?n=1&s=2", Input: twilio.InputKeysSpeech, NumDigits: 1, Timeout: 6, Language: "es-MX",
			Hints: hints, Say: []twilio.Say{{Text: "Para leyes, marque 2.", Voice: mia}}},
		twilio.Dial{CallerID: "+15055550000", Action: "/twilio/voice/dial?n=2&case=7", Timeout: 20, TimeLimit: 3600,
			Numbers: []twilio.Number{{Phone: "+15055550990", URL: "/twilio/voice/whisper?case=7&lang=es"}}},
		twilio.Redirect{URL: "/twilio/voice/gather?n=1&s=1"},
		twilio.Hangup{},
	)
	if err != nil {
		t.Fatal(err)
	}
	var doc voiceDoc
	if err := xml.Unmarshal([]byte(b.String()), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	var names []string
	for _, v := range doc.Verbs {
		names = append(names, v.XMLName.Local)
	}
	if got := strings.Join(names, " "); got != "Say Gather Dial Redirect Hangup" {
		t.Fatalf("verbs %q", got)
	}
	say := doc.Verbs[0]
	if say.Voice != "Polly.Mia" || say.Language != "es-MX" || len(say.Prosody) != 1 || say.Prosody[0].Rate != "90%" || say.Prosody[0].Text != "Hola & <adiós>" {
		t.Errorf("Say: %+v", say)
	}
	g := doc.Verbs[1]
	if g.Input != "dtmf speech" || g.Action != "/twilio/voice/gather?n=1&s=2" || len(g.Says) != 1 || g.Says[0].Prosody.Text != "Para leyes, marque 2." {
		t.Errorf("Gather: %+v", g)
	}
	list := strings.Split(g.Hints, ",")
	if len(list) != 500 {
		t.Errorf("%d hints, want Twilio's 500", len(list))
	}
	for _, h := range list {
		if utf8.RuneCountInString(h) > 100 || strings.HasPrefix(h, " ") {
			t.Fatalf("hint %q", h)
		}
	}
	d := doc.Verbs[2]
	if len(d.Numbers) != 1 || d.Numbers[0].Phone != "+15055550990" || d.Numbers[0].URL != "/twilio/voice/whisper?case=7&lang=es" {
		t.Errorf("Dial: %+v", d)
	}
	if !strings.Contains(b.String(), "<prosody rate=\"90%\">") {
		t.Errorf("SSML prosody not lower-case:\n%s", b.String())
	}

	if err := twilio.WriteVoiceTwiML(&b, twilio.Gather{Say: []twilio.Say{{Text: " "}}}); !errors.Is(err, twilio.ErrEmptyReply) {
		t.Errorf("an empty Say: %v", err)
	}
	b.Reset()
	if err := twilio.WriteVoiceTwiML(&b); err != nil || !strings.Contains(b.String(), "<Response") || strings.Contains(b.String(), "<Say") {
		t.Errorf("no verbs: %q %v", b.String(), err)
	}
}
