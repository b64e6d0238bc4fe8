package loadgen_test

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/loadgen"
	"github.com/communityhotline/hotline/internal/redistest"
	"github.com/communityhotline/hotline/internal/twilio"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const (
	testToken = "loadgen-test-token-0123456789"
	// testPublic differs from the httptest server's URL, as a PUBLIC_URL behind a proxy
	// does: signatures must cover it, not the URL requests are sent to.
	testPublic = "https://hotline.example.org"
)

func checkMonotone(t *testing.T, name string, p loadgen.Percentiles) {
	t.Helper()
	if !(0 <= p.P50 && p.P50 <= p.P90 && p.P90 <= p.P99 && p.P99 <= p.Max) {
		t.Errorf("%s percentiles not monotone: %+v", name, p)
	}
}

func TestRunAgainstTheCeiling(t *testing.T) {
	rdb, prefix := redistest.Open(t)
	srv := httptest.NewServer(loadgen.CeilingHandler(rdb, prefix, testToken, testPublic))
	defer srv.Close()
	const rate, members = 200, 7
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		URL: srv.URL, PublicURL: testPublic, Token: testToken,
		Rate: rate, Duration: time.Second, Members: members, Concurrency: 16,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scheduled != rate || res.Sent != rate || res.NotSent != 0 || res.Errors != 0 {
		t.Fatalf("scheduled %d, sent %d, not sent %d, errors %d (%s); want %d sent",
			res.Scheduled, res.Sent, res.NotSent, res.Errors, res.FirstError, rate)
	}
	if res.Status[200] != rate || res.OK() != rate {
		t.Errorf("responses %v, want %d × 200", res.Status, rate)
	}
	// Open-loop at 200/s for 1 s: about 1 s and 200/s, loosely (the race detector, a busy
	// machine).
	if res.Elapsed < 900*time.Millisecond || res.Elapsed > 2*time.Second {
		t.Errorf("elapsed %v for 1 s of load", res.Elapsed)
	}
	if tp := res.Throughput(); tp < rate*0.5 || tp > rate*1.15 {
		t.Errorf("throughput %.0f/s at a rate of %d/s", tp, rate)
	}
	for name, p := range map[string]loadgen.Percentiles{"latency": res.Latency, "service": res.Service, "lag": res.Lag} {
		if p.N != rate {
			t.Errorf("%s has %d samples, want %d", name, p.N, rate)
		}
		checkMonotone(t, name, p)
	}
	// One key per member: the members count is respected.
	keys := rdb.Keys(context.Background(), prefix+":ceiling:*").Val()
	if len(keys) != members {
		t.Errorf("the ceiling saw %d members (%v), want %d", len(keys), keys, members)
	}
}

// seen is one request as the recording handler saw it.
type seen struct {
	sid, from, body string
	valid           bool
	parseErr        error
	at              time.Duration
}

func TestRequestsAreSignedWebhooksFromDistinctMembers(t *testing.T) {
	v := twilio.NewVerifier(testToken)
	var mu sync.Mutex
	var got []seen
	start := time.Now()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		s := seen{
			sid: r.PostForm.Get("MessageSid"), from: r.PostForm.Get("From"), body: r.PostForm.Get("Body"),
			valid: r.URL.Path == loadgen.Path && r.Method == http.MethodPost &&
				v.Valid(testPublic+r.URL.RequestURI(), r.PostForm, r.Header.Get(twilio.SignatureHeader)),
			at: time.Since(start),
		}
		_, s.parseErr = twilio.ParseInbound(r.PostForm)
		mu.Lock()
		got = append(got, s)
		mu.Unlock()
		w.Header().Set("Content-Type", twilio.ContentType)
		twilio.WriteTwiML(w, []string{"ok"})
	}))
	defer srv.Close()
	const rate, members, n = 400, 13, 200
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		URL: srv.URL + "/", PublicURL: testPublic, Token: testToken,
		Rate: rate, Duration: 500 * time.Millisecond, Members: members,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every request due is scheduled; on a loaded machine a few may still wait for a free
	// slot when the time is up (NotSent), but every one sent is seen and counted once.
	if res.Scheduled != n || res.Sent+res.NotSent != n || res.NotSent > n/10 || len(got) != res.Sent || res.Status[200] != res.Sent {
		t.Fatalf("scheduled %d, sent %d, not sent %d; the server saw %d, the generator counted %v; want %d scheduled, all but a few sent, each seen once",
			res.Scheduled, res.Sent, res.NotSent, len(got), res.Status, n)
	}
	sids := map[string]bool{}
	froms := map[string]bool{}
	var firstHalf int
	for _, s := range got {
		if !s.valid {
			t.Errorf("request %s: signature not valid for %s%s", s.sid, testPublic, loadgen.Path)
		}
		if s.parseErr != nil {
			t.Errorf("request %s: not a webhook the hotline parses: %v", s.sid, s.parseErr)
		}
		if sids[s.sid] {
			t.Errorf("MessageSid %s sent twice", s.sid)
		}
		sids[s.sid] = true
		froms[s.from] = true
		// Request i comes from member m = i mod members, with that member's next body:
		// member m starts at body m.
		i, err := strconv.ParseInt(s.sid[len(s.sid)-16:], 16, 64)
		if err != nil || len(s.sid) != 34 || !strings.HasPrefix(s.sid, "SM") {
			t.Fatalf("MessageSid %q is not SM and 32 hex digits", s.sid)
		}
		if want := loadgen.MemberPhone(int(i) % members); s.from != want {
			t.Errorf("request %d from %s, want %s", i, s.from, want)
		}
		if want := loadgen.DefaultBodies[(int(i)/members+int(i)%members)%len(loadgen.DefaultBodies)]; s.body != want {
			t.Errorf("request %d says %q, want %q", i, s.body, want)
		}
		if s.at < 250*time.Millisecond {
			firstHalf++
		}
	}
	if len(froms) != members {
		t.Errorf("%d distinct members, want %d", len(froms), members)
	}
	// Spread over the run, not sent in a burst: each half holds about half (loosely).
	if firstHalf < n*3/10 || firstHalf > n*7/10 {
		t.Errorf("%d of %d requests arrived in the first half of the run", firstHalf, n)
	}
	// Another run never repeats a MessageSid: a hotline would answer it from its reply log.
	mu.Lock()
	got = nil
	mu.Unlock()
	if _, err := loadgen.Run(context.Background(), loadgen.Config{
		URL: srv.URL, PublicURL: testPublic, Token: testToken, Rate: 100, Duration: 50 * time.Millisecond, Members: 1,
	}); err != nil {
		t.Fatal(err)
	}
	for _, s := range got {
		if sids[s.sid] {
			t.Errorf("a second run reused MessageSid %s", s.sid)
		}
	}
}

func TestStalledServerStopsTheRunOnTime(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	begin := time.Now()
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		URL: srv.URL, Token: testToken, Rate: 100, Duration: 300 * time.Millisecond, Members: 3,
		Concurrency: 5, Timeout: 200 * time.Millisecond,
	})
	took := time.Since(begin)
	if err != nil {
		t.Fatal(err)
	}
	// At most Duration + 20 ms + Timeout, with slack for a slow machine.
	if took > 1500*time.Millisecond {
		t.Errorf("the run took %v against a stalled server", took)
	}
	if res.Scheduled != 30 || res.Sent > 15 || res.Sent+res.NotSent != 30 || res.NotSent == 0 {
		t.Errorf("scheduled %d, sent %d, not sent %d: 5 in flight for 300 ms with a 200 ms timeout", res.Scheduled, res.Sent, res.NotSent)
	}
	if res.Errors != res.Sent || res.OK() != 0 || res.Latency.N != 0 || res.FirstError == "" {
		t.Errorf("errors %d (%q), ok %d, latency samples %d, for %d requests that all timed out",
			res.Errors, res.FirstError, res.OK(), res.Latency.N, res.Sent)
	}
	// Waiting for a free slot is the generator's lag, charged to the stalled server.
	if res.Lag.Max < 150*time.Millisecond {
		t.Errorf("max lag %v; requests waited ~200 ms for a slot", res.Lag.Max)
	}
}

func TestCanceledRunReturnsWhatItSaw(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res, err := loadgen.Run(ctx, loadgen.Config{URL: srv.URL, Rate: 100, Duration: time.Minute, Members: 1})
	if err == nil {
		t.Fatal("no error from a canceled run")
	}
	if res.Sent == 0 || res.NotSent == 0 || res.Sent+res.NotSent != res.Scheduled {
		t.Errorf("sent %d, not sent %d of %d", res.Sent, res.NotSent, res.Scheduled)
	}
}

func TestCeilingRefusesBadSignatures(t *testing.T) {
	rdb, prefix := redistest.Open(t)
	srv := httptest.NewServer(loadgen.CeilingHandler(rdb, prefix, testToken, testPublic))
	defer srv.Close()
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		URL: srv.URL, PublicURL: testPublic, Token: "another-token", Rate: 100, Duration: 50 * time.Millisecond, Members: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status[http.StatusForbidden] != 5 || res.OK() != 0 {
		t.Errorf("wrong token: responses %v, want 5 × 403", res.Status)
	}
	// Signed for the URL requests are sent to, not the ceiling's public URL: a replay.
	res, _ = loadgen.Run(context.Background(), loadgen.Config{
		URL: srv.URL, Token: testToken, Rate: 100, Duration: 20 * time.Millisecond, Members: 1,
	})
	if res.Status[http.StatusForbidden] != 2 {
		t.Errorf("signed for another URL: responses %v, want 2 × 403", res.Status)
	}
	if keys := rdb.Keys(context.Background(), prefix+":*").Val(); len(keys) != 0 {
		t.Errorf("refused requests wrote %v", keys)
	}
	resp, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/readyz: %d", resp.StatusCode)
	}
}

func TestBadConfigsSendNothing(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) }))
	defer srv.Close()
	ok := loadgen.Config{URL: srv.URL, Rate: 10, Duration: time.Second, Members: 1}
	for name, edit := range map[string]func(*loadgen.Config){
		"no URL":           func(c *loadgen.Config) { c.URL = "" },
		"not http":         func(c *loadgen.Config) { c.URL = "ftp://127.0.0.1" },
		"URL with a path":  func(c *loadgen.Config) { c.URL = srv.URL + "/twilio/sms" },
		"bad public URL":   func(c *loadgen.Config) { c.PublicURL = "hotline.example.org" },
		"zero rate":        func(c *loadgen.Config) { c.Rate = 0 },
		"NaN rate":         func(c *loadgen.Config) { c.Rate = math.NaN() },
		"zero duration":    func(c *loadgen.Config) { c.Duration = 0 },
		"too many":         func(c *loadgen.Config) { c.Rate, c.Duration = 100_000, time.Hour },
		"no members":       func(c *loadgen.Config) { c.Members = 0 },
		"too many members": func(c *loadgen.Config) { c.Members = loadgen.MaxMembers + 1 },
		"negative cap":     func(c *loadgen.Config) { c.Concurrency = -1 },
		"long timeout":     func(c *loadgen.Config) { c.Timeout = time.Hour },
		"empty bodies":     func(c *loadgen.Config) { c.Bodies = []string{} },
	} {
		c := ok
		edit(&c)
		if _, err := loadgen.Run(context.Background(), c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("refused configs sent %d requests", n)
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := loadgen.Summarize(ds)
	want := loadgen.Percentiles{N: 100, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got != want {
		t.Errorf("Summarize(1..100 ms) = %+v, want %+v", got, want)
	}
	if got := loadgen.Summarize(nil); got != (loadgen.Percentiles{}) {
		t.Errorf("Summarize(nil) = %+v", got)
	}
	if got := loadgen.Summarize([]time.Duration{7}); got.P50 != 7 || got.Max != 7 || got.N != 1 {
		t.Errorf("Summarize(one) = %+v", got)
	}
}

func TestShortRunSendsTheWholeMix(t *testing.T) {
	// Fewer requests than members: every request is a member's first, yet the bodies vary.
	want, got := map[string]bool{}, map[string]bool{}
	for i, b := range loadgen.DefaultBodies {
		want[b] = true
		got[loadgen.Form("0123456789abcdef", i, 1000, "AC1", loadgen.DefaultBodies).Get("Body")] = true
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the first %d requests of 1000 members said %v, want all of %v", len(loadgen.DefaultBodies), got, want)
	}
}

// TestEmptyAnswersCounted: a 200 without a reply message (a dropped message) is counted
// apart, so a run of dropped messages cannot pass for a run of answers.
func TestEmptyAnswersCounted(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		if n.Add(1)%2 == 0 {
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response></Response>`))
			return
		}
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response><Message>hola</Message></Response>`))
	}))
	defer srv.Close()
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		URL: srv.URL, PublicURL: testPublic, Token: testToken, Rate: 100, Duration: 200 * time.Millisecond, Members: 3, Concurrency: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status[200] != res.Sent || res.Sent == 0 {
		t.Fatalf("responses %v of %d sent", res.Status, res.Sent)
	}
	if want := res.Sent / 2; res.Empty != want {
		t.Errorf("empty = %d of %d answers, want %d", res.Empty, res.Sent, want)
	}
}
