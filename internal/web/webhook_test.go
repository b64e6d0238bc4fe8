package web_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/bot"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/content"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/redistest"
	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/web"
	"github.com/communityhotline/hotline/locales"
)

func TestBadSignatureIsRefusedAndChangesNothing(t *testing.T) {
	s := startServer(t)
	s.text(testSender, "hola")
	before := s.dump()
	for name, sig := range map[string]string{
		"wrong":   "GvWf1cFY/Q7PnoempGyD5oXAezc=",
		"garbage": "not base64 at all",
	} {
		resp := s.post(s.form(testSender, "PARAR"), sig)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s signature: status %d, want 403", name, resp.StatusCode)
		}
	}
	// Signed for another URL: a replay against this endpoint.
	form := s.form(testSender, "PARAR")
	req, _ := http.NewRequest("POST", s.srv.URL+"/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("missing signature: status %d, want 403", resp.StatusCode)
	}
	if after := s.dump(); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused request changed Redis:\nbefore %v\nafter  %v", before, after)
	}
}

func TestRetriedMessageGetsSameReplyAndOneStateChange(t *testing.T) {
	s := startServer(t)
	s.text(testSender, "hola")
	form := s.form(testSender, "ENGLISH")
	first := s.replies(s.post(form, ""))
	afterFirst := s.dump()
	second := s.replies(s.post(form, ""))
	if !reflect.DeepEqual(first, second) || len(first) == 0 {
		t.Fatalf("retry answered %q, first answer was %q", second, first)
	}
	if after := s.dump(); !reflect.DeepEqual(afterFirst, after) {
		t.Errorf("the retry changed Redis:\nbefore %v\nafter  %v", afterFirst, after)
	}
	if n := s.answered(); n != 2 {
		t.Errorf("%d messages recorded as answered after two distinct messages and one retry, want 2", n)
	}
}

// answered counts the messages recorded as answered (each by the one state write it made),
// straight from Redis; the test has one member.
func (s *hotlineServer) answered() int64 {
	s.t.Helper()
	ctx := context.Background()
	keys := s.rdb.Keys(ctx, s.prefix+":m:*:r:*").Val()
	if len(keys) == 0 {
		s.t.Fatal("no reply log")
	}
	var n int64
	for _, k := range keys {
		n += s.rdb.HLen(ctx, k).Val()
	}
	return n
}

// storedState reads the member's sealed state straight from Redis, wherever it is kept.
func (s *hotlineServer) storedState(phone string) string {
	s.t.Helper()
	ctx := context.Background()
	var found []string
	for _, k := range s.rdb.Keys(ctx, s.prefix+":m*").Val() {
		switch typ := s.rdb.Type(ctx, k).Val(); {
		case typ == "hash" && strings.Contains(k, ":mb:"):
			for _, v := range s.rdb.HGetAll(ctx, k).Val() {
				found = append(found, v)
			}
		case typ == "string" && strings.Count(k, ":") == strings.Count(s.prefix, ":")+3:
			found = append(found, s.rdb.Get(ctx, k).Val())
		}
	}
	if len(found) != 1 {
		s.t.Fatalf("%d member states, want 1", len(found))
	}
	return found[0]
}

func TestConcurrentMessagesFromOneMember(t *testing.T) {
	s := startServer(t)
	const n = 64
	var wg sync.WaitGroup
	replies := make([][]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Alternate languages so that racing writes would show as a lost update.
			word := []string{"english", "español"}[i%2]
			replies[i] = s.text(testSender, word)
		}()
	}
	wg.Wait()
	for i, r := range replies {
		if len(r) == 0 {
			t.Errorf("message %d got no reply", i)
		}
	}
	if got := s.answered(); got != n {
		t.Errorf("%d messages recorded as answered, want %d", got, n)
	}
	// The state is still readable and coherent: the member gets a normal answer.
	if r := s.text(testSender, "menu"); len(r) != 1 || !(strings.Contains(r[0], "1 Your rights") || strings.Contains(r[0], "1 Sus derechos")) {
		t.Errorf("after the burst, menu answered %q", r)
	}
}

func TestNoPhoneNumberOrBodyInRedis(t *testing.T) {
	s := startServer(t)
	phones := []string{"+15055550111", "+15055550122"}
	for _, p := range phones {
		// A subscriber's address is kept (sealed) for alerts; a marker body in free text.
		for _, msg := range []string{"hola", "alertas", "ABQ", "si", "MARKER-BODY-7731 where is the office"} {
			s.text(p, msg)
		}
	}
	dump := s.dump()
	if len(dump) == 0 {
		t.Fatal("nothing stored")
	}
	for k, v := range dump {
		for _, needle := range []string{"5055550111", "5055550122", "MARKER-BODY-7731", "ALBUQUERQUE", "87102", "Hola", "Envíe"} {
			if strings.Contains(k, needle) || strings.Contains(v, needle) {
				t.Errorf("key %q or its value contains %q", k, needle)
			}
		}
	}
}

func TestMalformedRequests(t *testing.T) {
	s := startServer(t)
	do := func(method, ctype, body string) int {
		req, _ := http.NewRequest(method, s.srv.URL+"/twilio/sms", strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, ctype, body string
		want                      int
	}{
		{"oversized", "POST", form, "Body=" + strings.Repeat("a", 70<<10), http.StatusRequestEntityTooLarge},
		{"unparseable", "POST", form, "Body=%zz", http.StatusBadRequest},
		{"get", "GET", "", "", http.StatusMethodNotAllowed},
		{"put", "PUT", form, "", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		if got := do(tt.method, tt.ctype, tt.body); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
	// A signed request without the fields a message needs is a 400 that names the field.
	resp := s.post(map[string][]string{"AccountSid": {"AC1"}}, "")
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("signed form without MessageSid: status %d, want 400", resp.StatusCode)
	}
}

func TestHealthAndReady(t *testing.T) {
	s := startServer(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(s.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
	}
}

func BenchmarkWebhook(b *testing.B) {
	s := startServer(b)
	s.text(testSender, "hola")
	benchmarkText(b, s)
}

// BenchmarkWebhookFreeText is a question in a member's own words, which the model reads and
// whose place is found in the sentence: the cost of understanding on top of BenchmarkWebhook.
func BenchmarkWebhookFreeText(b *testing.B) {
	s := startServer(b)
	s.text(testSender, "hola")
	for b.Loop() {
		if r := s.text(testSender, "quisiera saber si el condado de santa fe le ayuda a la migra"); len(r) == 0 {
			b.Fatal(r)
		}
	}
}

func TestSubscriptionIndexFollowsTheMember(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	const phone = "+15055550701"
	id := s.keys.MemberID("sms", phone)
	subscribers := func(area, lang string) []string {
		t.Helper()
		ids, err := s.store.Subscribers(ctx, area, lang)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	for _, msg := range []string{"hola", "alertas", "ABQ"} {
		s.text(phone, msg)
	}
	if got := subscribers("albuquerque", "es"); len(got) != 0 {
		t.Fatalf("subscribed before confirming: %v", got)
	}
	s.text(phone, "SI")
	if got := subscribers("albuquerque", "es"); !reflect.DeepEqual(got, []string{id}) {
		t.Fatalf("after SI: %v", got)
	}
	s.text(phone, "english")
	if got := subscribers("albuquerque", "es"); len(got) != 0 {
		t.Errorf("still in the Spanish list after switching: %v", got)
	}
	if got := subscribers("albuquerque", "en"); !reflect.DeepEqual(got, []string{id}) {
		t.Errorf("not in the English list after switching: %v", got)
	}
	// Twilio's own opt-out detection, with a word we do not list.
	form := s.form(phone, "stopp")
	form.Set("OptOutType", "STOP")
	if r := s.replies(s.post(form, "")); len(r) != 1 || !strings.Contains(r[0], "no more messages") {
		t.Errorf("OptOutType STOP answered %q", r)
	}
	if got := subscribers("albuquerque", "en"); len(got) != 0 {
		t.Errorf("still subscribed after opting out: %v", got)
	}
}

// roundTrips counts commands and pipelines sent to Redis: each is one network round trip.
type roundTrips struct{ n atomic.Int64 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// scriptRuns counts the commit scripts sent to Redis: the scripts with five keys (the
// commit's; counting a dropped message takes three).
type scriptRuns struct{ n atomic.Int64 }

func (h *scriptRuns) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *scriptRuns) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		if name := cmd.Name(); (name == "evalsha" || name == "eval") && len(args) > 2 && fmt.Sprint(args[2]) == "5" {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (h *scriptRuns) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestOneRoundTripPerMessage holds the design's promise: a webhook from a member the process
// has seen, or from a new member, is one round trip to Redis (the commit script checks the
// state it was worked out from, counts the message and records the reply).
func TestOneRoundTripPerMessage(t *testing.T) {
	s := startServer(t)
	s.text("+15055550177", "hola") // loads the commit script into Redis
	var rt roundTrips
	s.rdb.AddHook(&rt)
	for _, msg := range []string{"hola", "menu", "1", "2", "menu", "2", "bernalillo"} {
		before := rt.n.Load()
		s.text(testSender, msg)
		if got := rt.n.Load() - before; got != 1 {
			t.Errorf("%q took %d Redis round trips, want 1", msg, got)
		}
	}
	form := s.form(testSender, "menu")
	s.post(form, "").Body.Close()
	before := rt.n.Load()
	s.post(form, "").Body.Close()
	if got := rt.n.Load() - before; got != 1 {
		t.Errorf("a retried message took %d round trips, want 1", got)
	}
	// Another process, which has not seen the member, steps from a wrong guess once: the
	// commit hands back the state, and the second attempt goes through.
	other := s.restartEngine()
	other.rdb.AddHook(&rt)
	other.text("+15055550178", "hola") // a process's first message loads the staff rosters, kept 30 s
	before = rt.n.Load()
	if r := other.text(testSender, "menu"); len(r) != 1 {
		t.Errorf("the other process answered %q", r)
	}
	if got := rt.n.Load() - before; got != 2 {
		t.Errorf("a member new to the process took %d round trips, want 2", got)
	}
}

// baselineServer is a webhook handler with no engine: it parses the form, checks the
// signature, runs work (if any), and writes a one-message TwiML reply. BenchmarkWebhook is
// measured against it.
func baselineServer(b *testing.B, work func(r *http.Request) error) *hotlineServer {
	v := twilio.NewVerifier(testToken)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		if !v.Valid(testPublic+r.URL.RequestURI(), r.PostForm, r.Header.Get(twilio.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		if work != nil {
			if err := work(r); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		w.Header().Set("Content-Type", twilio.ContentType)
		twilio.WriteTwiML(w, []string{"Envíe un número:\n1 Sus derechos"})
	}))
	b.Cleanup(srv.Close)
	return &hotlineServer{t: b, srv: srv}
}

func benchmarkText(b *testing.B, s *hotlineServer) {
	for b.Loop() {
		if r := s.text(testSender, "menu"); len(r) != 1 {
			b.Fatal(r)
		}
	}
}

// BenchmarkBaselineParseVerify is the floor: parse, verify, reply, no state.
func BenchmarkBaselineParseVerify(b *testing.B) {
	benchmarkText(b, baselineServer(b, nil))
}

// BenchmarkBaselineOneRoundTrip adds to the floor the least state a webhook can keep: one
// pipelined GET+SET to the same Redis. BenchmarkWebhook minus this is what the engine
// (two round trips, sealing, the flow step, rendering) costs.
func BenchmarkBaselineOneRoundTrip(b *testing.B) {
	rdb, prefix := redistest.Open(b)
	benchmarkText(b, baselineServer(b, func(r *http.Request) error {
		key := prefix + ":baseline:" + r.PostForm.Get("From")
		_, err := rdb.Pipelined(r.Context(), func(p redis.Pipeliner) error {
			p.Get(r.Context(), key)
			p.Set(r.Context(), key, r.PostForm.Get("MessageSid"), time.Hour)
			return nil
		})
		if errors.Is(err, redis.Nil) {
			return nil
		}
		return err
	}))
}

// TestUnreadableStateIsNotOverwritten: a member whose sealed state cannot be opened (a
// changed secret, damaged data) may have opted out; they get no reply, and the state stays.
func TestUnreadableStateIsNotOverwritten(t *testing.T) {
	for _, tc := range []struct {
		name     string
		messages []string
	}{
		{"conversation", []string{"hola", "1"}},
		{"opted out", []string{"hola", "ALTO"}},
		{"subscriber", []string{"hola", "alertas", "ABQ", "si"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t)
			for _, m := range tc.messages {
				s.text(testSender, m)
			}
			set := s.stateSetter(testSender)
			set("damaged")
			// Both the process that has the member in memory and one that does not.
			for _, srv := range []*hotlineServer{s, s.restartEngine()} {
				if r := srv.text(testSender, "hola"); len(r) != 0 {
					t.Errorf("answered %q", r)
				}
			}
			if got := s.storedState(testSender); got != "damaged" {
				t.Errorf("the unreadable state was overwritten with %q", got)
			}
		})
	}
}

// stateSetter finds where the member's state is stored (their bucket's field, or their own
// key) and returns a function that overwrites it there, as damage or a lost secret would.
func (s *hotlineServer) stateSetter(phone string) func(v string) {
	s.t.Helper()
	ctx := context.Background()
	id := s.keys.MemberID("sms", phone)
	for _, k := range s.rdb.Keys(ctx, s.prefix+":mb:*").Val() {
		if s.rdb.HExists(ctx, k, id).Val() {
			return func(v string) { s.rdb.HSet(ctx, k, id, v) }
		}
	}
	keys := s.rdb.Keys(ctx, s.prefix+":m:*:"+id).Val()
	if len(keys) != 1 {
		s.t.Fatalf("no stored state for the member (%v)", keys)
	}
	return func(v string) { s.rdb.Set(ctx, keys[0], v, redis.KeepTTL) }
}

// TestSubscriptionIndexSurvivesRacingLanguageChanges: a subscriber switching languages many
// times at once must end up in exactly the list of the language their state says.
func TestSubscriptionIndexSurvivesRacingLanguageChanges(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	for _, msg := range []string{"hola", "alertas", "ABQ", "si"} {
		s.text(testSender, msg)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.text(testSender, []string{"english", "español"}[i%2])
		}()
	}
	wg.Wait()
	id := s.keys.MemberID("sms", testSender)
	st, err := s.engine.State(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"es", "en"} {
		ids, _ := s.store.Subscribers(ctx, "albuquerque", lang)
		want := lang == st.Lang
		if got := len(ids) == 1; got != want {
			t.Errorf("state language %s; %s list = %v", st.Lang, lang, ids)
		}
	}
}

// TestSenderLimit: past the per-minute limit a member gets one polite notice, then nothing,
// and the dropped messages do no flow work (the state does not change).
func TestSenderLimit(t *testing.T) {
	s := startServerWith(t, func(c *config.Config) { c.SenderLimit = 5 })
	answeredForm := s.form(testSender, "hola")
	answeredReply := s.replies(s.post(answeredForm, ""))
	for range 4 {
		if r := s.text(testSender, "hola"); len(r) != 1 {
			t.Fatalf("within the limit: %q", r)
		}
	}
	v := s.storedState(testSender)
	if r := s.text(testSender, "hola"); len(r) != 1 || !strings.Contains(r[0], "Espere un minuto") {
		t.Errorf("first message past the limit: %q", r)
	}
	var scripts scriptRuns
	s.rdb.AddHook(&scripts)
	for range 3 {
		if r := s.text(testSender, "ENGLISH"); len(r) != 0 {
			t.Errorf("past the limit, answered %q", r)
		}
	}
	if n := scripts.n.Load(); n != 0 {
		t.Errorf("messages past the limit ran the commit script %d times: they must be dropped before any flow work", n)
	}
	resp, err := http.Get(s.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metricsText), "hotline_unanswered_messages_total 3") {
		t.Errorf("/metrics does not count the 3 dropped messages:\n%s", metricsText)
	}
	if got := s.storedState(testSender); got != v {
		t.Error("dropped messages changed the state")
	}
	if r := s.text("+15055550999", "hola"); len(r) != 1 {
		t.Errorf("another member was limited too: %q", r)
	}
	// Twilio retrying a message answered before the limit gets that same answer.
	if r := s.replies(s.post(answeredForm, "")); !reflect.DeepEqual(r, answeredReply) {
		t.Errorf("a retry past the limit got %q, want the first answer %q", r, answeredReply)
	}
}

// TestReplyCap: two bots answering each other are cut off after the hourly cap.
func TestReplyCap(t *testing.T) {
	s := startServerWith(t, func(c *config.Config) { c.ReplyCap = 3 })
	for i := range 5 {
		r := s.text(testSender, "menu")
		if (i < 3) != (len(r) == 1) {
			t.Errorf("message %d: %q", i+1, r)
		}
	}
}

// TestOptOutWorksPastTheLimits: STOP and PARAR are handled even from a member over the
// per-minute limit and the hourly cap (carrier rules; Twilio blocks only its English words).
func TestOptOutWorksPastTheLimits(t *testing.T) {
	s := startServerWith(t, func(c *config.Config) { c.SenderLimit, c.ReplyCap = 3, 4 })
	for range 6 {
		s.text(testSender, "hola")
	}
	if r := s.text(testSender, "PARAR"); len(r) != 1 || !strings.Contains(r[0], "no recibirá más mensajes") {
		t.Fatalf("PARAR past the limits answered %q", r)
	}
	if r := s.text(testSender, "COMENZAR"); len(r) != 1 || !strings.Contains(r[0], "bienvenido de nuevo") {
		t.Errorf("COMENZAR past the limits answered %q", r)
	}
}

// failingRenderer stands for content with a defect: no reply renders.
type failingRenderer struct{}

func (failingRenderer) Render(hotline.Channel, string, []flow.Reply) ([]string, error) {
	return nil, errors.New(`rendering "alerts_manage" in es: a template variable has no value`)
}

func (failingRenderer) Options(hotline.Channel, string, []flow.Reply) ([]hotline.Option, error) {
	return nil, nil
}

// recordingSpool records what the webhook keeps for replay.
type recordingSpool struct {
	mu  sync.Mutex
	ins []hotline.Inbound
}

func (s *recordingSpool) Append(in hotline.Inbound) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ins = append(s.ins, in)
	return nil
}

// TestContentDefectIsNotAnOutage: a reply that does not render gets the fallback, but the
// message is not kept for replay as if Redis were down (issue 11): replaying it later would
// fail the same way.
func TestContentDefectIsNotAnOutage(t *testing.T) {
	s := startServer(t)
	c, err := content.Load(flows.FS, locales.FS, &places.ZipTable{})
	if err != nil {
		t.Fatal(err)
	}
	spool := &recordingSpool{}
	engine := bot.New(bot.Config{Flows: c.Flows, Store: s.store, Keys: s.keys, Renderer: failingRenderer{}})
	srv := httptest.NewServer(web.NewServer(web.Deps{Bot: engine, Verifier: twilio.NewVerifier(testToken), PublicURL: testPublic,
		Ready: s.store.Ping, Fallback: "fallback", Spool: spool}))
	defer srv.Close()
	s.srv = srv
	if got := s.text(testSender, "hola"); len(got) != 1 || got[0] != "fallback" {
		t.Errorf("reply %q, want the fallback", got)
	}
	if len(spool.ins) != 0 {
		t.Errorf("a content defect was spooled as an outage: %d messages", len(spool.ins))
	}
}

// failingBot fails every message as an unreachable Redis would.
type failingBot struct{}

func (failingBot) Answer(context.Context, hotline.Inbound) (hotline.Reply, error) {
	return hotline.Reply{}, errors.New("dial tcp: connection refused")
}

// failingSpool cannot keep anything (a full or broken disk).
type failingSpool struct{}

func (failingSpool) Append(hotline.Inbound) error { return errors.New("disk full") }

// TestKeptMessageSaysItWillBeAnswered: during an outage a message the spool kept is answered
// with "we got it, no need to write again" (it will be answered); one it could not keep gets
// the fallback, which asks to try again.
func TestKeptMessageSaysItWillBeAnswered(t *testing.T) {
	s := startServer(t)
	for _, c := range []struct {
		name  string
		spool web.Spooler
		want  string
	}{{"kept", &recordingSpool{}, "kept"}, {"not kept", failingSpool{}, "fallback"}} {
		srv := httptest.NewServer(web.NewServer(web.Deps{Bot: failingBot{}, Verifier: twilio.NewVerifier(testToken), PublicURL: testPublic,
			Ready: s.store.Ping, Fallback: "fallback", Kept: "kept", Spool: c.spool}))
		s.srv = srv
		if got := s.text(testSender, "hola"); len(got) != 1 || got[0] != c.want {
			t.Errorf("%s: reply %q, want %q", c.name, got, c.want)
		}
		srv.Close()
	}
}
