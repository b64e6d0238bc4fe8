package web_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/app"
	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/bot"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/redistest"
	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/twiliofake"
	"github.com/communityhotline/hotline/internal/web"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const (
	// testToken is the fake Twilio's, so that the messages the hotline sends outside a
	// reply (pages, relays) go out to it.
	testToken  = twiliofake.AuthToken
	testSecret = "test-secret-for-member-ids"
	testPublic = "https://hotline.example.org"
	testSender = "+15055550100"
	// testVolunteer is the phone of the volunteer on call.
	testVolunteer = "+15055550990"
)

// hotlineServer is the hotline wired as serve wires it (app.New), its web handler on an
// httptest server, on a real Redis.
type hotlineServer struct {
	t   testing.TB
	srv *httptest.Server
	// rdb is the app's own Redis client, so that a hook on it sees every command the app
	// sends.
	rdb    redis.UniversalClient
	prefix string
	store  *redisstore.Store
	keys   *privacy.Keys
	engine *bot.Engine
	sids   atomic.Int64
	app    *app.App
	cfg    config.Config
	// fake is the fake Twilio the hotline sends through (pages, relays).
	fake *twiliofake.Server
}

func startServer(t testing.TB) *hotlineServer { return startServerWith(t, nil) }

// startServerWith lets a test change the settings (the limits, say) before start.
func startServerWith(t testing.TB, tune func(*config.Config)) *hotlineServer {
	t.Helper()
	return startServerLogged(t, tune, io.Discard)
}

// startServerLogged is startServerWith with the app's log written to logTo.
func startServerLogged(t testing.TB, tune func(*config.Config), logTo io.Writer) *hotlineServer {
	t.Helper()
	_, prefix := redistest.Open(t) // a prefix of its own, its keys deleted after
	fake := twiliofake.New()
	t.Cleanup(fake.Close)
	env := map[string]string{
		"REDIS_URL": redistest.URL(t), "HOTLINE_KEY_PREFIX": prefix, "HOTLINE_SECRET": testSecret,
		"TWILIO_ACCOUNT_SID": twiliofake.AccountSID, "TWILIO_AUTH_TOKEN": testToken, "PUBLIC_URL": testPublic,
		"TWILIO_FROM": "+15055550000", "TWILIO_API_BASE": fake.URL(), "HOTLINE_SEND_RATE": "0",
		"HOTLINE_PROGRAM_NAME": "Test Hotline", "HOTLINE_CONTACT": "505-555-0199",
		// No limits unless a test sets them: a test texts faster than any member.
		"HOTLINE_SENDER_LIMIT": "0", "HOTLINE_REPLY_CAP": "0",
	}
	cfg, err := config.Parse(func(name string) string { return env[name] })
	if err != nil {
		t.Fatal(err)
	}
	if tune != nil {
		tune(&cfg)
	}
	s := startAppLogged(t, cfg, logTo)
	s.fake = fake
	// Two ZIPs as import-zips would load them (cmd/hotline tests the import itself).
	ctx := context.Background()
	if err := s.store.ReplaceZips(ctx, map[string]string{"87501": "santa-fe-county|", "88001": "dona-ana-county|las-cruces"}); err != nil {
		t.Fatal(err)
	}
	if err := s.app.LoadZips(ctx); err != nil {
		t.Fatal(err)
	}
	// A volunteer on call, as in any deployment: a member asking for a person is told one
	// is being found (with nobody on call the hotline says so instead).
	if _, err := s.app.Directory().AddVolunteer(ctx, audit.Admin(audit.ViaCLI), "Vera", testVolunteer, []string{"es", "en"}); err != nil {
		t.Fatal(err)
	}
	if r := s.text(testVolunteer, "ON"); len(r) != 1 {
		t.Fatalf("the volunteer coming on call was answered %q", r)
	}
	return s
}

// startApp builds the hotline from cfg with app.New, as serve does, and serves its handler.
func startApp(t testing.TB, cfg config.Config) *hotlineServer {
	t.Helper()
	return startAppLogged(t, cfg, io.Discard)
}

func startAppLogged(t testing.TB, cfg config.Config, logTo io.Writer) *hotlineServer {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if logTo != io.Discard {
		log = slog.New(slog.NewTextHandler(logTo, nil))
	}
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	deps, err := a.WebDeps()
	if err != nil {
		t.Fatal(err)
	}
	s := &hotlineServer{t: t, srv: httptest.NewServer(web.NewServer(deps)), rdb: a.Redis(), prefix: cfg.KeyPrefix,
		store: a.Store(), keys: a.Keys(), engine: a.Engine(), app: a, cfg: cfg}
	t.Cleanup(s.srv.Close)
	return s
}

// restartEngine returns a second server on the same Redis, as another process of the same
// deployment would be: it has seen no member yet. Message ids go on from s's.
func (s *hotlineServer) restartEngine() *hotlineServer {
	other := startApp(s.t, s.cfg)
	other.sids.Store(s.sids.Load() + 1_000_000)
	return other
}

// form is an inbound SMS webhook's fields as Twilio sends them.
func (s *hotlineServer) form(from, body string) url.Values {
	return url.Values{
		"MessageSid": {fmt.Sprintf("SM%032d", s.sids.Add(1))}, "AccountSid": {"AC0123"},
		"From": {from}, "To": {"+15055550000"}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"},
		"FromCity": {"ALBUQUERQUE"}, "FromState": {"NM"}, "FromZip": {"87102"}, "FromCountry": {"US"},
	}
}

// post sends form signed as Twilio signs it (or with sig when not empty) and returns the
// response.
func (s *hotlineServer) post(form url.Values, sig string) *http.Response {
	s.t.Helper()
	if sig == "" {
		sig = twilio.Sign(testToken, testPublic+"/twilio/sms", form)
	}
	req, _ := http.NewRequest("POST", s.srv.URL+"/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp
}

// text sends one signed SMS and returns the reply messages.
func (s *hotlineServer) text(from, body string) []string {
	s.t.Helper()
	return s.replies(s.post(s.form(from, body), ""))
}

func (s *hotlineServer) replies(resp *http.Response) []string {
	s.t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("status %d: %s", resp.StatusCode, raw)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		s.t.Fatalf("content type %q", ct)
	}
	var doc struct {
		Messages []string `xml:"Message"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		s.t.Fatalf("TwiML %q: %v", raw, err)
	}
	return doc.Messages
}

// dump returns every key and value under the test's prefix, for comparing before and after.
func (s *hotlineServer) dump() map[string]string {
	ctx := context.Background()
	out := map[string]string{}
	for _, k := range s.rdb.Keys(ctx, s.prefix+":*").Val() {
		if strings.Contains(k, ":q:") {
			continue // the per-minute and per-hour counters count every delivery, retries too
		}
		switch s.rdb.Type(ctx, k).Val() {
		case "hash":
			out[k] = fmt.Sprint(s.rdb.HGetAll(ctx, k).Val())
		case "zset":
			out[k] = fmt.Sprint(s.rdb.ZRangeWithScores(ctx, k, 0, -1).Val())
		case "set":
			members := s.rdb.SMembers(ctx, k).Val()
			slices.Sort(members)
			out[k] = fmt.Sprint(members)
		default:
			out[k] = s.rdb.Get(ctx, k).Val()
		}
	}
	return out
}
