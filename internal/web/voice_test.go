package web_test

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/twilio"
)

// hotlineNumber is the hotline's own number, the To of a member's call.
const hotlineNumber = "+15055550000"

// twimlNode is one element of a TwiML answer, as parsed.
type twimlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr  `xml:",any,attr"`
	Text    string      `xml:",chardata"`
	Kids    []twimlNode `xml:",any"`
}

func (n twimlNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// said is every text the node says, in order (a <Say>'s words sit in its <prosody>).
func (n twimlNode) said() []string {
	if n.XMLName.Local == "Say" {
		var b strings.Builder
		var words func(twimlNode)
		words = func(m twimlNode) {
			b.WriteString(m.Text)
			for _, k := range m.Kids {
				words(k)
			}
		}
		words(n)
		return []string{strings.TrimSpace(b.String())}
	}
	var out []string
	for _, k := range n.Kids {
		out = append(out, k.said()...)
	}
	return out
}

// verb returns the answer's first top-level verb called name.
func (n twimlNode) verb(name string) (twimlNode, bool) {
	for _, k := range n.Kids {
		if k.XMLName.Local == name {
			return k, true
		}
	}
	return twimlNode{}, false
}

func (n twimlNode) verbs() string {
	var names []string
	for _, k := range n.Kids {
		names = append(names, k.XMLName.Local)
	}
	return strings.Join(names, " ")
}

// callForm is a Voice webhook's fields as Twilio sends them for call sid.
func callForm(sid, from, to string) url.Values {
	return url.Values{"CallSid": {sid}, "AccountSid": {"AC0123"}, "From": {from}, "To": {to}, "Called": {to},
		"Caller": {from}, "CallStatus": {"in-progress"}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"},
		"CallerName": {"SOMEONE"}, "CallerCity": {"ALBUQUERQUE"}, "FromCity": {"ALBUQUERQUE"}}
}

// postVoice sends form to path (query included), signed as Twilio signs it, or with sig.
func (s *hotlineServer) postVoice(path string, form url.Values, sig string) *http.Response {
	s.t.Helper()
	if sig == "" {
		sig = twilio.Sign(testToken, testPublic+path, form)
	}
	req, _ := http.NewRequest("POST", s.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp
}

// voice posts a signed voice webhook and returns its TwiML, parsed.
func (s *hotlineServer) voice(path string, form url.Values) twimlNode {
	s.t.Helper()
	resp := s.postVoice(path, form, "")
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("%s: status %d: %s", path, resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		s.t.Fatalf("%s: content type %q", path, ct)
	}
	var doc twimlNode
	if err := xml.Unmarshal(raw, &doc); err != nil || doc.XMLName.Local != "Response" {
		s.t.Fatalf("%s: TwiML %q: %v", path, raw, err)
	}
	return doc
}

// sentTo waits a little for the fake Twilio to have a message to number, and returns the
// bodies sent to it.
func (s *hotlineServer) sentTo(number string, wait time.Duration) []string {
	return s.sentUntil(number, "", wait)
}

// sentUntil is sentTo waiting for a text that contains want ("": any text), since a number
// may have had other texts before.
func (s *hotlineServer) sentUntil(number, want string, wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		var bodies []string
		for _, m := range s.fake.Messages() {
			if m.To == number {
				bodies = append(bodies, m.Body)
			}
		}
		if (len(bodies) > 0 && strings.Contains(strings.Join(bodies, "\n"), want)) || time.Now().After(deadline) {
			return bodies
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestVoiceTranscripts plays every testdata/voice-*.txt call through the real voice webhooks,
// signed, against real Redis. A call transcript reads:
//
//	call +15055550100   a call starts from this number ("call hidden": a withheld number)
//	press 2             keys pressed at the question being asked
//	say Bernalillo      words said there (SpeechResult)
//	silence             nothing: Twilio follows the answer's <Redirect>
//	< text              what is said must contain text (several < lines: in order)
//	<! text             what is said must not contain text
//	= hangup            the answer ends the call; also: = dial (rings the volunteer from the
//	                    hotline's number), = nodial, = keys (a question for one key, or
//	                    words), = keysonly (for one key and nothing else),
//	                    = speech (one that listens for words too), = lang es-MX (the
//	                    question's and the voice's language), = connect (an empty answer)
//	whisper             the volunteer's phone, rung by the last <Dial>, answers
//	accept 1            the volunteer presses a key at the whisper
//	dial no-answer      the <Dial> ended so (DialCallStatus)
//	volunteer TEXT      the volunteer texts the hotline ("{case}": the call's case number);
//	                    < lines then read the hotline's answer to them
//	sms NUMBER TEXT     NUMBER texts the hotline; < lines then read the answer
//	texted NUMBER TEXT  the hotline texted NUMBER a message containing TEXT
//	not-texted NUMBER   the hotline texted NUMBER nothing
func TestVoiceTranscripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/voice-*.txt")
	if len(files) == 0 {
		t.Fatal("no call transcripts in testdata/")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			runCallTranscript(t, startServer(t), file)
		})
	}
}

// callRun is a call transcript being played.
type callRun struct {
	s    *hotlineServer
	t    *testing.T
	file string
	line int
	// sid and from are the current call's; calls counts calls, for SIDs.
	sid, from string
	calls     int
	// last is the last answer; said its words; pos how far the < lines have read them.
	last twimlNode
	said string
	pos  int
	// gather, redirect and dial are the caller's leg's next URLs; phone is the last Dial's
	// first number, whisper its URL; accept is the whisper's own question.
	gather, redirect, dial, phone, whisper, accept string
	// caseN is the case the last <Dial> or question about texts was for, which "{case}" in
	// a volunteer's text stands for.
	caseN string
}

func (r *callRun) fail(format string, args ...any) {
	r.t.Helper()
	r.t.Errorf("%s:%d: %s", r.file, r.line, fmt.Sprintf(format, args...))
}

func (r *callRun) callerForm(extra ...string) url.Values {
	f := callForm(r.sid, r.from, hotlineNumber)
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

// heard takes in a caller's leg's answer.
func (r *callRun) heard(doc twimlNode) {
	r.took(doc)
	r.gather, r.redirect, r.dial, r.phone, r.whisper = "", "", "", "", ""
	if g, ok := doc.verb("Gather"); ok {
		r.gather = g.attr("action")
	}
	if rd, ok := doc.verb("Redirect"); ok {
		r.redirect = strings.TrimSpace(rd.Text)
	}
	for _, v := range doc.Kids {
		if u, err := url.Parse(v.attr("action")); err == nil && u.Query().Get("case") != "" {
			r.caseN = u.Query().Get("case")
		}
	}
	if d, ok := doc.verb("Dial"); ok {
		r.dial = d.attr("action")
		for _, n := range d.Kids {
			if n.XMLName.Local == "Number" && r.phone == "" {
				r.phone, r.whisper = strings.TrimSpace(n.Text), n.attr("url")
			}
		}
	}
}

func (r *callRun) took(doc twimlNode) {
	r.last, r.said, r.pos = doc, strings.Join(doc.said(), "\n"), 0
}

func runCallTranscript(t *testing.T, s *hotlineServer, file string) {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &callRun{s: s, t: t, file: file}
	sc := bufio.NewScanner(f)
	for r.line = 1; sc.Scan(); r.line++ {
		line := sc.Text()
		word, rest, _ := strings.Cut(line, " ")
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
		case word == "call":
			r.calls++
			r.sid = fmt.Sprintf("CA%s%08d", strings.Repeat("0", 24), r.calls)
			r.from = rest
			if rest == "hidden" {
				r.from = "anonymous"
			}
			// "call +1505… unverified": the carrier found the number not the caller's; only
			// the call's first request says so, as Twilio's does.
			var verstat []string
			if number, ok := strings.CutSuffix(r.from, " unverified"); ok {
				r.from, verstat = number, []string{"StirVerstat", "TN-Validation-Failed-A"}
			}
			r.heard(s.voice("/twilio/voice", r.callerForm(verstat...)))
		case word == "press" || word == "say" || word == "silence":
			target := r.gather
			if word == "silence" {
				target = r.redirect
			}
			if target == "" {
				t.Fatalf("%s:%d: %s, but nothing is being asked:\n%s", file, r.line, word, r.said)
			}
			field := map[string]string{"press": "Digits", "say": "SpeechResult"}[word]
			var form url.Values
			if field != "" {
				form = r.callerForm(field, rest)
			} else {
				form = r.callerForm()
			}
			r.heard(s.voice(target, form))
		case word == "whisper":
			if r.whisper == "" {
				t.Fatalf("%s:%d: whisper, but no phone is ringing", file, r.line)
			}
			leg := callForm("CA"+strings.Repeat("f", 24)+fmt.Sprintf("%08d", r.calls), hotlineNumber, r.phone)
			leg.Set("ParentCallSid", r.sid)
			leg.Set("Direction", "outbound-dial")
			doc := s.voice(r.whisper, leg)
			r.took(doc)
			r.accept = ""
			if g, ok := doc.verb("Gather"); ok {
				r.accept = g.attr("action")
			}
		case word == "accept":
			if r.accept == "" {
				t.Fatalf("%s:%d: accept, but the whisper asks nothing", file, r.line)
			}
			leg := callForm("CA"+strings.Repeat("f", 24)+fmt.Sprintf("%08d", r.calls), hotlineNumber, r.phone)
			leg.Set("Digits", rest)
			r.took(s.voice(r.accept, leg))
		case word == "dial":
			if r.dial == "" {
				t.Fatalf("%s:%d: dial, but nothing was dialled", file, r.line)
			}
			r.heard(s.voice(r.dial, r.callerForm("DialCallStatus", rest)))
		case word == "sms":
			number, body, _ := strings.Cut(rest, " ")
			r.last, r.said, r.pos = twimlNode{}, strings.Join(s.text(number, body), "\n"), 0
		case word == "volunteer":
			r.last, r.said, r.pos = twimlNode{}, strings.Join(s.text(testVolunteer, strings.ReplaceAll(rest, "{case}", r.caseN)), "\n"), 0
		case word == "texted":
			number, want, _ := strings.Cut(rest, " ")
			bodies := s.sentUntil(number, want, 3*time.Second)
			if !strings.Contains(strings.Join(bodies, "\n"), want) {
				r.fail("no text to %s contains %q; sent: %q", number, want, bodies)
			}
		case word == "not-texted":
			if bodies := s.sentTo(rest, 300*time.Millisecond); len(bodies) > 0 {
				r.fail("texted %s: %q", rest, bodies)
			}
		case strings.HasPrefix(line, "<! "):
			if want := strings.TrimPrefix(line, "<! "); strings.Contains(r.said, want) {
				r.fail("said %q:\n%s", want, r.said)
			}
		case strings.HasPrefix(line, "< "):
			want := strings.TrimPrefix(line, "< ")
			i := strings.Index(r.said[r.pos:], want)
			if i < 0 {
				r.fail("not said (in order): %q; said:\n%s", want, r.said)
				continue
			}
			r.pos += i + len(want)
		case strings.HasPrefix(line, "= "):
			r.check(strings.TrimPrefix(line, "= "))
		default:
			t.Fatalf("%s:%d: unknown line %q", file, r.line, line)
		}
	}
}

// check checks a fact about the last answer.
func (r *callRun) check(fact string) {
	r.t.Helper()
	name, arg, _ := strings.Cut(fact, " ")
	verbs := r.last.verbs()
	g, hasGather := r.last.verb("Gather")
	switch name {
	case "hangup":
		if !strings.HasSuffix(verbs, "Hangup") {
			r.fail("the call goes on: %s", verbs)
		}
	case "connect":
		if verbs != "" {
			r.fail("the volunteer is not connected: %s", verbs)
		}
	case "dial":
		d, ok := r.last.verb("Dial")
		if !ok || r.phone != testVolunteer || d.attr("callerId") != hotlineNumber {
			r.fail("no Dial of the volunteer from the hotline's number: %s %+v", verbs, d.Attrs)
		}
	case "nodial":
		if _, ok := r.last.verb("Dial"); ok {
			r.fail("a Dial: %s", verbs)
		}
	case "keys":
		if !hasGather || !strings.HasPrefix(g.attr("input"), "dtmf") || g.attr("numDigits") != "1" {
			r.fail("not a question for one key first: %+v", g.Attrs)
		}
	case "keysonly":
		if !hasGather || g.attr("input") != "dtmf" || g.attr("numDigits") != "1" {
			r.fail("not a question for one key and nothing else: %+v", g.Attrs)
		}
	case "speech":
		if !hasGather || !strings.Contains(g.attr("input"), "speech") || g.attr("hints") == "" {
			r.fail("not a question that listens for words, with hints: %+v", g.Attrs)
		}
	case "lang":
		if !hasGather || g.attr("language") != arg {
			r.fail("the question is not in %s: %+v", arg, g.Attrs)
		}
		for _, k := range g.Kids {
			if k.XMLName.Local == "Say" && k.attr("language") != arg {
				r.fail("said in %s, want %s", k.attr("language"), arg)
			}
		}
	default:
		r.t.Fatalf("%s:%d: unknown fact %q", r.file, r.line, fact)
	}
}
