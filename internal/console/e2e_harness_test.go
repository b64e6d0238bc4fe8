package console_test

// The end-to-end harness: the real hotline (app.New, the web server with the webhook and the
// console, a dispatch worker, the escalation loop) on real Redis, with internal/twiliofake as
// Twilio, driven in headless Chromium (internal/browsertest). Members text it through signed
// webhooks; what any phone received is read from the fake. Tests using it are named
// TestBrowser… and run when HOTLINE_BROWSER_TESTS=1 (CI sets it).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/communityhotline/hotline/internal/app"
	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/browsertest"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/redistest"
	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/twiliofake"
	"github.com/communityhotline/hotline/internal/web"
)

// siteAdminToken signs in as the administrator (ADMIN_TOKEN) in end-to-end tests.
const siteAdminToken = "e2e-admin-token-0123456789"

// hotlineNumber is the number the hotline texts from (TWILIO_FROM).
const hotlineNumber = "+15055550000"

// site is the whole hotline, running.
type site struct {
	t    testing.TB
	URL  string
	App  *app.App
	Fake *twiliofake.Server
	sids atomic.Int64
}

// startSite starts the hotline with the test settings, changed by env (e.g.
// "HOTLINE_BROADCAST_APPROVALS": "1"), and a worker sending what it queues.
func startSite(t testing.TB, env map[string]string) *site {
	t.Helper()
	_, prefix := redistest.Open(t)
	fake := twiliofake.New()
	t.Cleanup(fake.Close)
	// The server's address is the public URL Twilio signs webhooks for, so it is known first.
	var handler atomic.Pointer[http.Handler]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	vars := map[string]string{
		"REDIS_URL": redistest.URL(t), "HOTLINE_KEY_PREFIX": prefix, "HOTLINE_SECRET": "e2e-secret-for-member-ids",
		"TWILIO_ACCOUNT_SID": twiliofake.AccountSID, "TWILIO_AUTH_TOKEN": twiliofake.AuthToken, "PUBLIC_URL": srv.URL,
		"TWILIO_FROM": hotlineNumber, "TWILIO_API_BASE": fake.URL(), "HOTLINE_SEND_RATE": "0",
		"HOTLINE_PROGRAM_NAME": "Test Hotline", "HOTLINE_CONTACT": "505-555-0199", "ADMIN_TOKEN": siteAdminToken,
		"HOTLINE_SENDER_LIMIT": "0", "HOTLINE_REPLY_CAP": "0",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Parse(func(name string) string { return vars[name] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	deps, err := a.WebDeps()
	if err != nil {
		t.Fatal(err)
	}
	h := web.NewServer(deps)
	handler.Store(&h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Dispatcher().Run(ctx) }()
	go a.Cases().Run(ctx)
	go a.RunJobSweeps(ctx)
	go a.WatchRoster(ctx)
	t.Cleanup(func() { cancel(); <-done; a.DrainJobs() })
	return &site{t: t, URL: srv.URL, App: a, Fake: fake}
}

// addOrganizer puts an organizer on the roster, as the admin API would.
func (s *site) addOrganizer(name, phone, lang string) string {
	s.t.Helper()
	o, err := s.App.Directory().AddOrganizer(context.Background(), audit.Admin(audit.ViaCLI), name, phone, lang)
	if err != nil {
		s.t.Fatal(err)
	}
	return o.ID
}

// addVolunteer puts a volunteer on the roster, on call when onCall (as texting ON does).
func (s *site) addVolunteer(name, phone string, langs []string, onCall bool) string {
	s.t.Helper()
	v, err := s.App.Directory().AddVolunteer(context.Background(), audit.Admin(audit.ViaCLI), name, phone, langs)
	if err != nil {
		s.t.Fatal(err)
	}
	if onCall {
		if err := s.App.Cases().SetOnCall(context.Background(), v.ID, true); err != nil {
			s.t.Fatal(err)
		}
	}
	return v.ID
}

// text sends body from phone to the hotline as Twilio would (a signed webhook) and returns
// the replies in the TwiML answer.
func (s *site) text(phone, body string) []string {
	s.t.Helper()
	form := url.Values{
		"MessageSid": {fmt.Sprintf("SM%032d", s.sids.Add(1))}, "AccountSid": {twiliofake.AccountSID},
		"From": {phone}, "To": {hotlineNumber}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"},
	}
	full := s.URL + "/twilio/sms"
	req, _ := http.NewRequest(http.MethodPost, full, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilio.Sign(twiliofake.AuthToken, full, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("webhook answered %d: %s", resp.StatusCode, raw)
	}
	var out []string
	for _, m := range regexp.MustCompile(`(?s)<Message>(.*?)</Message>`).FindAllStringSubmatch(string(raw), -1) {
		out = append(out, htmlUnescape(m[1]))
	}
	return out
}

// received is every message the fake Twilio took for phone, oldest first.
func (s *site) received(phone string) []twiliofake.Message {
	var out []twiliofake.Message
	for _, m := range s.Fake.Messages() {
		if m.To == phone {
			out = append(out, m)
		}
	}
	return out
}

// waitReceived waits until phone has received a message containing substr and returns it.
func (s *site) waitReceived(phone, substr string) twiliofake.Message {
	s.t.Helper()
	deadline := time.Now().Add(browsertest.StepTimeout)
	for {
		for _, m := range s.received(phone) {
			if strings.Contains(m.Body, substr) {
				return m
			}
		}
		if time.Now().After(deadline) {
			var got []string
			for _, m := range s.received(phone) {
				got = append(got, m.Body)
			}
			s.t.Fatalf("%s never received %q; got %q", phone, substr, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

// signIn opens a tab of b and signs the person with phone in, with the code the hotline texts
// them (read from the fake Twilio), in the console's language lang ("es" or "en"). It
// returns the tab, on the overview (or the volunteer's first page).
func (s *site) signIn(t testing.TB, b *browsertest.Browser, phone, lang string) context.Context {
	t.Helper()
	tab := b.Tab(t)
	before := len(s.received(phone))
	browsertest.Do(t, tab, "open the sign-in page", chromedp.Navigate(s.URL+"/console/login"))
	s.switchLanguage(t, tab, lang)
	browsertest.Do(t, tab, "ask for a code",
		chromedp.SendKeys(chromedp.CSS("#phone"), phone),
		chromedp.Submit(chromedp.CSS("#phone")))
	deadline := time.Now().Add(browsertest.StepTimeout)
	var code string
	for code == "" {
		if got := s.received(phone); len(got) > before {
			if m := codeRE.FindStringSubmatch(got[len(got)-1].Body); m != nil {
				code = m[1]
			}
		}
		if code == "" {
			if time.Now().After(deadline) {
				t.Fatalf("no sign-in code reached %s", phone)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	browsertest.Do(t, tab, "type the code",
		chromedp.WaitVisible(chromedp.CSS("#code")),
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Submit(chromedp.CSS("#code")))
	s.waitSignedIn(t, tab)
	return tab
}

// signInAdmin signs in with ADMIN_TOKEN.
func (s *site) signInAdmin(t testing.TB, b *browsertest.Browser, lang string) context.Context {
	t.Helper()
	tab := b.Tab(t)
	browsertest.Do(t, tab, "open the sign-in page", chromedp.Navigate(s.URL+"/console/login"))
	s.switchLanguage(t, tab, lang)
	browsertest.Do(t, tab, "sign in with the admin token",
		chromedp.Click(chromedp.CSS("details summary")),
		chromedp.SendKeys(chromedp.CSS("#token"), siteAdminToken),
		chromedp.Submit(chromedp.CSS("#token")))
	s.waitSignedIn(t, tab)
	return tab
}

// waitSignedIn waits until the tab has left the sign-in pages (to its first page, whatever
// the role's is).
func (s *site) waitSignedIn(t testing.TB, tab context.Context) {
	t.Helper()
	deadline := time.Now().Add(browsertest.StepTimeout)
	for {
		path := browsertest.Eval[string](t, tab, "location.pathname")
		if !strings.HasPrefix(path, "/console/login") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still on %s after signing in: %s", path, browsertest.Eval[string](t, tab, "document.body.innerText"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// switchLanguage presses the header's language button for lang, and waits for the page it
// leads to: the old page is marked first, so that a wait cannot be answered by the page
// being left (which pressing the language already shown would otherwise allow).
func (s *site) switchLanguage(t testing.TB, tab context.Context, lang string) {
	t.Helper()
	browsertest.Eval[bool](t, tab, "window.__leaving = true")
	browsertest.Do(t, tab, "switch the console to "+lang,
		chromedp.Click(chromedp.CSS(`form.lang button[value="`+lang+`"]`)))
	deadline := time.Now().Add(browsertest.StepTimeout)
	for {
		// An evaluation that fails while the next page loads is only a "not yet".
		ectx, cancel := context.WithTimeout(tab, 5*time.Second)
		still, err := chromedp.Run(ectx, chromedp.Evaluate[bool]("window.__leaving === true || document.readyState !== 'complete'"))
		cancel()
		if err == nil && !still {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("switching to %s: the page did not change", lang)
		}
		time.Sleep(50 * time.Millisecond)
	}
	browsertest.WaitText(t, tab, `form.lang button[aria-pressed="true"]`, map[string]string{"es": "Español", "en": "English"}[lang])
}

// open navigates tab to path on the site.
func (s *site) open(t testing.TB, tab context.Context, path string) {
	t.Helper()
	browsertest.Do(t, tab, "open "+path, chromedp.Navigate(s.URL+path))
}

func htmlUnescape(s string) string {
	r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#39;", "'", "&apos;", "'", "&amp;", "&")
	return r.Replace(s)
}
