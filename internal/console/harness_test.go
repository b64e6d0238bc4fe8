package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/console"
	"github.com/communityhotline/hotline/internal/effects"
	"github.com/communityhotline/hotline/internal/escalation"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/policyedit"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/redistest"
	"github.com/communityhotline/hotline/internal/staff"
	"github.com/communityhotline/hotline/locales"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// Known numbers: staff, and a member whose number and id must appear on no page.
const (
	orgPhone    = "+15055550111"
	volPhone    = "+15055550222"
	memberPhone = "+15055550987"
	adminToken  = "test-admin-token"
)

type outbox struct {
	mu   sync.Mutex
	sent []hotline.Outbound
	// drain waits for the sign-in codes being texted, which go out after the page answers.
	drain func()
}

func (o *outbox) Send(_ context.Context, m hotline.Outbound) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, m)
	return fmt.Sprintf("SM%d", len(o.sent)), nil
}

func (o *outbox) to(phone string) []string {
	if o.drain != nil {
		o.drain()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, m := range o.sent {
		if m.To == phone {
			out = append(out, m.Body)
		}
	}
	return out
}

type idRenderer struct{}

func (idRenderer) Render(lang string, rs []flow.Reply) ([]string, error) {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID + " " + r.Data["N"]
	}
	return out, nil
}

type noMembers struct{}

func (noMembers) Update(context.Context, string, func(*flow.State) bool) error { return nil }
func (noMembers) State(context.Context, string) (flow.State, error)            { return flow.State{}, nil }
func (noMembers) Create(context.Context, string, flow.State) error             { return nil }

// casesStats is the overview's counts from the real case list, with a member's case open.
type casesStats struct{ cases *escalation.Service }

func (c casesStats) Overview(ctx context.Context) (console.Overview, error) {
	cs, err := c.cases.Cases(ctx)
	o := console.Overview{MessagesIn: 41, MessagesOut: 58, QueueDepth: 3,
		Subscribers: []console.AreaCount{{Area: "bernalillo-county", Lang: "es", N: 7}}}
	for _, k := range cs {
		o.Cases = append(o.Cases, console.CaseAge{N: k.N, Kind: k.Kind, Urgent: k.Urgent, Age: time.Duration(k.AgeS) * time.Second})
	}
	return o, err
}

// env is a console over real services on a real Redis, with an organizer, a volunteer and
// one member's open case.
type env struct {
	t        *testing.T
	srv      *httptest.Server
	store    *redisstore.Store
	keys     *privacy.Keys
	sent     *outbox
	cases    *escalation.Service
	memberID string
	now      time.Time
	volID    string
	orgID    string
	roster   *staff.Roster
	// broadcasts pages
	bcs *broadcast.Service
	dir *staff.Directory
	sim simEnv
	// policy is the policy page's service, over the shipped places data (policy page).
	policy *policyedit.Service
	places *places.Directory
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	rdb, prefix := redistest.Open(t)
	store, err := redisstore.New(rdb, prefix, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := privacy.NewKeys("test-secret-0123456789")
	e := &env{t: t, store: store, keys: keys, sent: &outbox{}, now: time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)}
	now := func() time.Time { return e.now }
	roster := staff.New(staff.Config{Source: store})
	langs := []string{"es", "en"}
	// broadcasts pages: approvals on, places and a price, as a deployment has them.
	placesDir, err := places.Load(flows.FS, "data/places.toml")
	if err != nil {
		t.Fatal(err)
	}
	bcs := broadcast.New(broadcast.Config{Store: store, Keys: keys, Languages: langs, Places: placesDir,
		Approvals: true, CostPerSegment: 0.0079, Rate: 10, Now: now, Audit: &audit.Log{Store: store, Now: now}})
	e.bcs = bcs
	auditLog := &audit.Log{Store: store, Now: now}
	e.cases = escalation.New(escalation.Config{Store: store, Keys: keys, Members: noMembers{}, Sender: e.sent, Renderer: idRenderer{},
		Broadcasts: bcs, Languages: langs, Roster: roster, Audit: auditLog, Now: now})
	e.roster = roster
	dir := staff.NewDirectory(staff.DirectoryConfig{Store: store, Keys: keys, Languages: langs, Roster: roster,
		OnVolunteerRemoved: e.cases.ReopenVolunteerCases, Audit: auditLog, Now: now})
	o, err := dir.AddOrganizer(ctx, audit.Admin(audit.ViaCLI), "Olga Organizer", orgPhone, "en")
	if err != nil {
		t.Fatal(err)
	}
	v, err := dir.AddVolunteer(ctx, audit.Admin(audit.ViaCLI), "Vero Volunteer", volPhone, []string{"es"})
	if err != nil {
		t.Fatal(err)
	}
	e.orgID, e.volID = o.ID, v.ID
	e.dir = dir
	e.memberID = keys.MemberID(hotline.SMS, memberPhone)
	job := effects.Job{Member: e.memberID, Msg: "SMmember1", From: memberPhone, Lang: "es",
		Effects: []flow.Effect{actions.OpenCase{Kind: "person", Text: "ayuda por favor"}}}
	if _, err := e.cases.HandleJob(ctx, job, e.sent); err != nil {
		t.Fatal(err)
	}
	msgs, _ := console.LoadMessages(locales.FS, langs)
	e.policy, e.places = newPolicy(t, store, auditLog, now)
	signin := staff.NewSignIn(staff.SignInConfig{Store: store, Roster: roster, Sender: e.sent, AdminToken: adminToken,
		PhoneID: func(p string) string { return keys.MemberID(hotline.SMS, p) },
		Text: func(lang, code string) (string, error) {
			return msgs.T(lang, "sms_code", map[string]any{"Program": "Test Hotline", "Code": code})
		}})
	e.sent.drain = signin.Drain
	h, err := console.New(console.Config{
		SignIn: signin, Sessions: &staff.Sessions{Store: store, Roster: roster, AdminToken: adminToken, Now: now},
		Directory: directory{dir, e.cases}, Audit: auditLog, Stats: casesStats{e.cases},
		Broadcasts: bcs, Subscribers: func(ctx context.Context) (map[string]map[string]int64, error) {
			return store.SubscriberCounts(ctx, langs)
		},
		Simulator: e.sim.open(t, rdb, prefix, keys),
		Policies: func(context.Context) ([]console.PolicyCheck, error) {
			return []console.PolicyCheck{{ID: "a", Checked: "2026-05-20"}, {ID: "b", Checked: "2025-01-01"}, {ID: "c"}}, nil
		},
		Languages: langs, Messages: locales.FS, Program: "Test Hotline", Now: now, ClientIPHeader: "Fly-Client-IP",
		Cases: e.cases, Volunteers: roster,
		Policy: e.policy,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// directory is the staff directory with escalation's on-call switch, as internal/app wires it.
type directory struct {
	*staff.Directory
	cases *escalation.Service
}

func (d directory) SetOnCall(ctx context.Context, id string, on bool) error {
	return d.cases.SetOnCall(ctx, id, on)
}

// client is a browser without redirects followed, with its cookies.
type client struct {
	e    *env
	http *http.Client
	csrf string
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	code   int
	body   string
	header http.Header
}

func (c *client) do(method, path string, form url.Values, hdr map[string]string) resp {
	c.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.e.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept-Language", "en-US,en;q=0.9") // unless a test says otherwise
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	r, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(b)); m != nil {
		c.csrf = m[1]
	}
	return resp{code: r.StatusCode, body: string(b), header: r.Header}
}

func (c *client) get(path string) resp { return c.do("GET", path, nil, nil) }

// post sends a same-origin form, as a browser does, with the session's CSRF token.
func (c *client) post(path string, form url.Values) resp {
	if form == nil {
		form = url.Values{}
	}
	if c.csrf != "" && !form.Has("csrf") {
		form.Set("csrf", c.csrf)
	}
	return c.do("POST", path, form, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": c.e.srv.URL})
}

// signIn signs in by SMS code as the person with phone and returns their browser.
func (e *env) signIn(phone string) *client {
	e.t.Helper()
	c := e.client()
	before := len(e.sent.to(phone))
	if r := c.post("/console/login/code", url.Values{"phone": {phone}}); r.code != 200 {
		e.t.Fatalf("asking a code: %d", r.code)
	}
	texts := e.sent.to(phone)
	if len(texts) != before+1 {
		e.t.Fatalf("no code texted to %s: %q", hotline.MaskPhone(phone), texts)
	}
	code := regexp.MustCompile(`\d{6}`).FindString(texts[len(texts)-1])
	r := c.post("/console/login/verify", url.Values{"phone": {phone}, "code": {code}})
	if r.code != http.StatusSeeOther || r.header.Get("Location") != "/console/" {
		e.t.Fatalf("sign-in: %d %s", r.code, r.header.Get("Location"))
	}
	// The pages then follow the person's roster language; the tests read English, as if
	// each had pressed "English" in the header.
	u, _ := url.Parse(e.srv.URL + "/console/")
	c.http.Jar.SetCookies(u, []*http.Cookie{{Name: "hotline_console_lang", Value: "en", Path: "/console"}})
	c.get("/console/") // picks the CSRF token up from the page
	if c.csrf == "" {
		c.get("/console/roster") // a volunteer: the 403 page has the header's sign-out form
	}
	return c
}

func (e *env) admin() *client {
	c := e.client()
	if r := c.post("/console/login/token", url.Values{"token": {adminToken}}); r.code != http.StatusSeeOther {
		e.t.Fatalf("admin sign-in: %d", r.code)
	}
	c.get("/console/")
	return c
}
