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

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/bot"
	"github.com/communityhotline/hotline/internal/content"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/redistest"
	"github.com/communityhotline/hotline/internal/smstext"
	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/web"
	"github.com/communityhotline/hotline/locales"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const (
	testToken  = "test-auth-token-0123456789"
	testSecret = "test-secret-for-member-ids"
	testPublic = "https://hotline.example.org"
	testSender = "+15055550100"
)

// hotlineServer is the real handler, wired as cmd/hotline wires it, on a real Redis.
type hotlineServer struct {
	t      testing.TB
	srv    *httptest.Server
	rdb    *redis.Client
	prefix string
	store  *redisstore.Store
	keys   *privacy.Keys
	engine *bot.Engine
	sids   atomic.Int64
	// handler builds the server's handler around a new engine (a fresh process's).
	handler func() (http.Handler, *bot.Engine)
}

// subscription mirrors cmd/hotline's wiring: an opted-out member is listed nowhere.
func subscription(st flow.State) redisstore.Subscription {
	if st.OptedOut {
		return redisstore.Subscription{Lang: st.Lang}
	}
	return redisstore.Subscription{Areas: st.Areas, Lang: st.Lang}
}

func startServer(t testing.TB) *hotlineServer { return startServerWith(t, nil) }

// startServerWith lets a test change the engine's settings (its limits, say) before start.
func startServerWith(t testing.TB, tune func(*bot.Config)) *hotlineServer {
	t.Helper()
	// Two ZIPs as import-zips would load them (cmd/hotline tests the import itself).
	zips := &places.ZipTable{}
	zips.Replace(map[string]places.ZipEntry{
		"87501": {County: "santa-fe-county"},
		"88001": {County: "dona-ana-county", City: "las-cruces"},
	})
	c, err := content.Load(flows.FS, locales.FS, zips)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := privacy.NewKeys(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	rdb, prefix := redistest.Open(t)
	store, err := redisstore.New(rdb, prefix, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg := bot.Config{
		Flows: c.Flows, Store: store, Keys: keys,
		Renderer: smstext.New(c.Catalog, map[string]string{"Program": "Test Hotline", "Contact": "505-555-0199", "Minutes": "10"}, false),
		Subscriptions: func(ctx context.Context, id string, before, after flow.State) error {
			return store.SyncSubscriptions(ctx, id, subscription(before), subscription(after))
		},
	}
	if tune != nil {
		tune(&cfg)
	}
	handler := func() (http.Handler, *bot.Engine) {
		engine := bot.New(cfg)
		return web.NewServer(web.Deps{
			Bot: engine, Verifier: twilio.NewVerifier(testToken), PublicURL: testPublic,
			Ready: store.Ping, Fallback: "fallback", Log: slog.New(slog.DiscardHandler),
		}), engine
	}
	h, engine := handler()
	s := &hotlineServer{t: t, srv: httptest.NewServer(h), rdb: rdb, prefix: prefix, store: store, keys: keys, engine: engine, handler: handler}
	t.Cleanup(s.srv.Close)
	return s
}

// restartEngine returns a second server on the same Redis, as another process of the same
// deployment would be: it has seen no member yet. Message ids go on from s's.
func (s *hotlineServer) restartEngine() *hotlineServer {
	h, engine := s.handler()
	other := &hotlineServer{t: s.t, srv: httptest.NewServer(h), rdb: s.rdb, prefix: s.prefix, store: s.store, keys: s.keys, engine: engine, handler: s.handler}
	other.sids.Store(s.sids.Load() + 1_000_000)
	s.t.Cleanup(other.srv.Close)
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
