package web_test

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/twilio"
)

// voiceRoutes are every voice route, with the query each is called with.
var voiceRoutes = []string{
	"/twilio/voice", "/twilio/voice/gather?n=1", "/twilio/voice/gather?n=0&q=lang", "/twilio/voice/dial?case=1&n=2",
	"/twilio/voice/consent?case=1", "/twilio/voice/case?case=1", "/twilio/voice/whisper?case=1&lang=es", "/twilio/voice/whisper/accept?case=1",
	"/twilio/voice/status", "/twilio/voice/fallback",
}

// TestVoiceRoutesRefuseUnsigned: every voice route answers 403 to a request Twilio did not
// sign, or signed for another URL (the query is signed too), and 413 to an absurd body, before
// anything is read from or written to Redis.
func TestVoiceRoutesRefuseUnsigned(t *testing.T) {
	s := startServer(t)
	before := s.dump()
	form := callForm("CA0000000000000000000000000000sig1", "+15055550741", hotlineNumber)
	form.Set("Digits", "1")
	for _, path := range voiceRoutes {
		base, _, _ := strings.Cut(path, "?")
		for name, sig := range map[string]string{
			"unsigned":         "x",
			"other token":      twilio.Sign("another-token", testPublic+path, form),
			"query not signed": twilio.Sign(testToken, testPublic+base, form),
			"other case":       twilio.Sign(testToken, testPublic+strings.ReplaceAll(path, "case=1", "case=2"), form),
		} {
			if name == "query not signed" && base == path || name == "other case" && !strings.Contains(path, "case=1") {
				continue
			}
			resp := s.postVoice(path, form, sig)
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s: status %d, want 403", name, path, resp.StatusCode)
			}
		}
		big := url.Values{"CallSid": {"CA1"}, "SpeechResult": {strings.Repeat("a", 70<<10)}}
		resp := s.postVoice(path, big, "")
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: a 70 KiB body got %d, want 413", path, resp.StatusCode)
		}
	}
	if after := s.dump(); !reflect.DeepEqual(before, after) {
		t.Errorf("refused requests changed Redis:\nbefore %v\nafter  %v", before, after)
	}
	// Signed, the same form is answered.
	if doc := s.voice("/twilio/voice", form); doc.verbs() == "" {
		t.Error("a signed call got an empty answer")
	}
}

// lockedBuffer is a log several goroutines write.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestCallLogsNoNumberNorWords: a whole call (words said, keys, a volunteer rung and taking
// it, a yes to texts, a relay) logs its CallSid and case, and no phone number, nothing said and
// no key pressed.
func TestCallLogsNoNumberNorWords(t *testing.T) {
	var log lockedBuffer
	s := startServerLogged(t, nil, &log)
	const caller = "+15055550742"
	r := &callRun{s: s, t: t, file: "(log test)", sid: "CA0000000000000000000000000000log1", from: caller}
	r.heard(s.voice("/twilio/voice", r.callerForm()))
	r.heard(s.voice(r.gather, r.callerForm("Digits", "1")))
	r.heard(s.voice(r.gather, r.callerForm("SpeechResult", "Zanahoria Bernalillo")))
	r.heard(s.voice(r.gather, r.callerForm("SpeechResult", "quiero hablar con una persona por favor")))
	if r.dial == "" {
		t.Fatalf("asking for a person rang nobody: %s", r.said)
	}
	leg := callForm("CA0000000000000000000000000000log2", hotlineNumber, r.phone)
	leg.Set("Digits", "1")
	s.voice(r.whisper, leg)
	s.voice("/twilio/voice/whisper/accept?case="+r.caseN, leg)
	r.heard(s.voice(r.dial, r.callerForm("DialCallStatus", "no-answer")))
	r.heard(s.voice(r.gather, r.callerForm("Digits", "1")))
	s.text(testVolunteer, "#"+r.caseN+" Zanahoria morada")
	if got := s.sentTo(caller, 3*time.Second); !strings.Contains(strings.Join(got, "\n"), "Zanahoria morada") {
		t.Errorf("the volunteer's text did not reach the caller who agreed: %q", got)
	}
	s.postVoice("/twilio/voice/status", r.callerForm("CallStatus", "completed"), "").Body.Close()
	s.app.DrainJobs()

	out := log.String()
	if !strings.Contains(out, r.sid) || !strings.Contains(out, "case="+r.caseN) {
		t.Fatalf("the call is not in the log by its CallSid and case:\n%s", out)
	}
	for _, secret := range []string{caller, strings.TrimPrefix(caller, "+1"), testVolunteer, strings.TrimPrefix(testVolunteer, "+1"),
		"Zanahoria", "zanahoria", "persona por favor"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows %q:\n%s", secret, out)
		}
	}
}

// TestCallLimits: a call past its steps, or a caller past the engine's limits, hears the limit
// and is hung up on, never silence.
func TestCallLimits(t *testing.T) {
	s := startServerWith(t, func(c *config.Config) { c.SenderLimit = 3 })
	form := callForm("CA0000000000000000000000000000lim1", "+15055550751", hotlineNumber)
	doc := s.voice("/twilio/voice/gather?n=61", form)
	if said := strings.Join(doc.said(), " "); !strings.Contains(said, "For English") && !strings.Contains(said, "límite") {
		t.Errorf("step 61 said %q", said)
	}
	if !strings.HasSuffix(doc.verbs(), "Hangup") {
		t.Errorf("step 61 goes on: %s", doc.verbs())
	}

	r := &callRun{s: s, t: t, file: "(limit test)", sid: "CA0000000000000000000000000000lim2", from: "+15055550752"}
	r.heard(s.voice("/twilio/voice", r.callerForm()))
	r.heard(s.voice(r.gather, r.callerForm("Digits", "1")))
	for i := 0; i < 6 && r.gather != ""; i++ {
		r.heard(s.voice(r.gather, r.callerForm("Digits", "9")))
	}
	if r.gather != "" || !strings.HasSuffix(r.last.verbs(), "Hangup") || !strings.Contains(r.said, "límite") {
		t.Errorf("a caller past the per-minute limit was not told and hung up on: %s\n%s", r.last.verbs(), r.said)
	}
}

// TestCallWhenRedisFails: with the store gone the caller hears the error and the call ends;
// the fallback URL says the same in both languages without reading anything.
func TestCallWhenRedisFails(t *testing.T) {
	s := startServer(t)
	form := callForm("CA0000000000000000000000000000err1", "+15055550761", hotlineNumber)
	fb := s.voice("/twilio/voice/fallback", form)
	said := strings.Join(fb.said(), "\n")
	if !strings.Contains(said, "algo falló") || !strings.Contains(said, "something went wrong") || !strings.HasSuffix(fb.verbs(), "Hangup") {
		t.Errorf("fallback: %s\n%s", fb.verbs(), said)
	}
	s.rdb.Close()
	doc := s.voice("/twilio/voice", form)
	said = strings.Join(doc.said(), "\n")
	if !strings.Contains(said, "algo falló") || !strings.HasSuffix(doc.verbs(), "Hangup") {
		t.Errorf("with Redis gone a call heard: %s\n%s", doc.verbs(), said)
	}
	doc = s.voice("/twilio/voice/gather?n=1", url.Values(mergeForm(form, "Digits", "2")))
	if !strings.HasSuffix(doc.verbs(), "Hangup") {
		t.Errorf("with Redis gone a step goes on: %s", doc.verbs())
	}
}

func mergeForm(f url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// TestCallStatusIsCounted: the status callback is counted by status, unknown statuses as
// "other", and answered with no TwiML.
func TestCallStatusIsCounted(t *testing.T) {
	s := startServer(t)
	for _, st := range []string{"completed", "completed", "no-answer", "made-up"} {
		resp := s.postVoice("/twilio/voice/status", mergeForm(callForm("CA0000000000000000000000000000sta1", "+15055550771", hotlineNumber), "CallStatus", st), "")
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("status callback: %d", resp.StatusCode)
		}
	}
	resp, err := http.Get(s.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`hotline_voice_call_status_total{status="completed"} 2`, `hotline_voice_call_status_total{status="no-answer"} 1`, `hotline_voice_call_status_total{status="other"} 1`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
