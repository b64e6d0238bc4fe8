package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/staff"
)

// routes lists every console route with a request that reaches it.
var routes = []struct{ method, path string }{
	{"GET", "/console/"}, {"GET", "/console/login"}, {"POST", "/console/login/code"}, {"POST", "/console/login/verify"},
	{"POST", "/console/login/token"}, {"POST", "/console/lang"}, {"POST", "/console/logout"},
	{"GET", "/console/roster"}, {"POST", "/console/roster/organizers"}, {"POST", "/console/roster/volunteers"},
	{"GET", "/console/roster/volunteers/x/remove"}, {"POST", "/console/roster/volunteers/x/remove"},
	{"POST", "/console/roster/volunteers/x/oncall"}, {"POST", "/console/roster/volunteers/x/whatsapp/unlink"},
	{"GET", "/console/audit"}, {"GET", "/console/static/console.css"},
	{"GET", "/console/nowhere"},
	// cases and reports ("x": no such case; the case's own page shows its words, tested in cases_test.go)
	{"GET", "/console/cases"}, {"GET", "/console/cases/list.json"}, {"GET", "/console/cases/x"}, {"GET", "/console/cases/x/lines.json"},
	{"POST", "/console/cases/x/claim"}, {"POST", "/console/cases/x/reply"}, {"POST", "/console/cases/x/close"}, {"POST", "/console/cases/x/close-unclaimed"},
	{"GET", "/console/reports"}, {"GET", "/console/reports/list.json"}, {"GET", "/console/reports/x"},
	{"POST", "/console/reports/x/claim"}, {"POST", "/console/reports/x/verdict"}, {"GET", "/console/static/cases.js"},
	// broadcasts
	{"GET", "/console/broadcasts"}, {"GET", "/console/broadcasts/new"}, {"POST", "/console/broadcasts"},
	{"GET", "/console/broadcasts/x"}, {"GET", "/console/broadcasts/x/progress.json"}, {"POST", "/console/broadcasts/x/send"},
	{"GET", "/console/static/segment.js"},
	{"GET", "/console/simulator"}, {"POST", "/console/simulator/send"}, {"POST", "/console/simulator/lang"},
	{"POST", "/console/simulator/restart"},
	// policy page
	{"GET", "/console/policy"}, {"GET", "/console/policy/luna-county"}, {"POST", "/console/policy/luna-county"},
	{"POST", "/console/policy/luna-county/checked"}, {"GET", "/console/policy/export"}, {"GET", "/console/static/segment.js"},
}

// TestSecurityHeadersOnEveryResponse: signed in or not, allowed or not, every response.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	e := newEnv(t)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
		"X-Frame-Options":         "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
	}
	for name, c := range map[string]*client{"anonymous": e.client(), "organizer": e.signIn(orgPhone), "volunteer": e.signIn(volPhone)} {
		for _, r := range routes {
			var got resp
			if r.method == "GET" {
				got = c.get(r.path)
			} else {
				got = c.post(r.path, url.Values{"phone": {"+15055550000"}})
			}
			for h, v := range want {
				if got.header.Get(h) != v {
					t.Errorf("%s %s %s (%d): %s = %q, want %q", name, r.method, r.path, got.code, h, got.header.Get(h), v)
				}
			}
		}
	}
}

func TestWithoutSessionGoesToSignIn(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for _, r := range routes {
		if strings.Contains(r.path, "login") || strings.Contains(r.path, "static") || r.path == "/console/lang" || r.path == "/console/nowhere" {
			continue
		}
		got := c.do(r.method, r.path, url.Values{}, nil)
		if got.code != http.StatusSeeOther || got.header.Get("Location") != "/console/login" {
			t.Errorf("%s %s without a session: %d → %q", r.method, r.path, got.code, got.header.Get("Location"))
		}
	}
}

func TestVolunteerIsRefusedOrganizerPages(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(volPhone)
	for _, p := range []string{"/console/roster", "/console/audit", "/console/roster/volunteers/" + e.volID + "/remove"} {
		if r := c.get(p); r.code != http.StatusForbidden {
			t.Errorf("volunteer GET %s: %d, want 403", p, r.code)
		}
	}
	r := c.post("/console/roster/volunteers/"+e.volID+"/oncall", url.Values{"on": {"1"}})
	if r.code != http.StatusForbidden {
		t.Errorf("volunteer toggling on call: %d", r.code)
	}
	if v, _ := e.store.Volunteer(context.Background(), e.volID); v.OnCall {
		t.Error("a volunteer's refused POST changed the roster")
	}
	if r := c.get("/console/"); r.code != http.StatusSeeOther || r.header.Get("Location") != "/console/cases" {
		t.Errorf("volunteer home: %d %q", r.code, r.header.Get("Location"))
	}
}

// TestCrossSitePostChangesNothing: a form posted from another site, or without the session's
// token, is refused and the roster stays as it was.
func TestCrossSitePostChangesNothing(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(orgPhone)
	form := url.Values{"csrf": {c.csrf}, "on": {"1"}}
	path := "/console/roster/volunteers/" + e.volID + "/oncall"
	for name, hdr := range map[string]map[string]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site"},
		"Origin elsewhere":          {"Origin": "https://evil.example"},
	} {
		if r := c.do("POST", path, form, hdr); r.code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, r.code)
		}
	}
	if r := c.post(path, url.Values{"csrf": {"forged"}, "on": {"1"}}); r.code != http.StatusForbidden {
		t.Errorf("wrong CSRF token: %d", r.code)
	}
	noToken := url.Values{"on": {"1"}}
	if r := c.do("POST", path, noToken, map[string]string{"Sec-Fetch-Site": "same-origin"}); r.code != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", r.code)
	}
	if v, _ := e.store.Volunteer(context.Background(), e.volID); v.OnCall {
		t.Fatal("a refused POST put the volunteer on call")
	}
	if r := c.post(path, url.Values{"on": {"1"}}); r.code != http.StatusSeeOther {
		t.Fatalf("the same POST from the console: %d", r.code)
	}
	if v, _ := e.store.Volunteer(context.Background(), e.volID); !v.OnCall {
		t.Error("the console's own POST did not put the volunteer on call")
	}
}

func TestSignInByCode(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	page := c.get("/console/login")
	for _, want := range []string{`type="tel"`, `autocomplete="tel"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	onRoster := c.post("/console/login/code", url.Values{"phone": {"(505) 555-0111"}})
	if !strings.Contains(onRoster.body, `autocomplete="one-time-code"`) {
		t.Error("code step lacks autocomplete=one-time-code")
	}
	if len(e.sent.to(orgPhone)) != 1 {
		t.Fatalf("texts to the organizer: %q", e.sent.to(orgPhone))
	}
	if got := e.sent.to(orgPhone)[0]; !strings.Contains(got, "Test Hotline: your code") {
		t.Errorf("code text %q is not the English message (the organizer's language)", got)
	}
	off := e.client().post("/console/login/code", url.Values{"phone": {"+15055550333"}})
	if off.code != onRoster.code || strings.ReplaceAll(off.body, "5055550333", "N") != strings.ReplaceAll(onRoster.body, "5055550111", "N") {
		t.Errorf("a number on no roster got another page (%d vs %d):\n%s\n%s", off.code, onRoster.code, off.body, onRoster.body)
	}
	if got := e.sent.to("+15055550333"); len(got) != 0 {
		t.Errorf("a number on no roster was texted %q", got)
	}
	// Five wrong codes end the code: the right one is then refused.
	for i := range 5 {
		r := c.post("/console/login/verify", url.Values{"phone": {orgPhone}, "code": {"00000" + string(rune('0'+i))}})
		if r.code != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i+1, r.code)
		}
	}
	code := e.sent.to(orgPhone)[0]
	code = code[strings.Index(code, "is ")+3 : strings.Index(code, "is ")+9]
	if r := c.post("/console/login/verify", url.Values{"phone": {orgPhone}, "code": {code}}); r.code != http.StatusUnauthorized {
		t.Errorf("the right code after 5 wrong ones: %d, want refused", r.code)
	}
	if r := c.get("/console/"); r.code != http.StatusSeeOther {
		t.Errorf("signed in after the code was locked: %d", r.code)
	}
}

func TestSignInRateLimitedPerNumber(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		if r := e.client().post("/console/login/code", url.Values{"phone": {volPhone}}); r.code != 200 {
			t.Fatalf("request %d: %d", i+1, r.code)
		}
	}
	if r := e.client().post("/console/login/code", url.Values{"phone": {volPhone}}); r.code != http.StatusTooManyRequests {
		t.Errorf("a fourth code in 15 minutes: %d, want 429", r.code)
	}
	if n := len(e.sent.to(volPhone)); n != 3 {
		t.Errorf("%d codes texted, want 3", n)
	}
}

func TestSessionCookieSignOutAndExpiry(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	c.post("/console/login/code", url.Values{"phone": {orgPhone}})
	body := e.sent.to(orgPhone)[0]
	code := body[strings.Index(body, "is ")+3 : strings.Index(body, "is ")+9]
	r := c.post("/console/login/verify", url.Values{"phone": {orgPhone}, "code": {code}})
	ck := r.header.Get("Set-Cookie")
	for _, want := range []string{"hotline_console=", "Path=/console", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(ck, want) {
			t.Errorf("session cookie %q lacks %s", ck, want)
		}
	}
	if r := c.get("/console/"); r.code != 200 {
		t.Fatalf("overview: %d", r.code)
	}
	e.now = e.now.Add(12*time.Hour + time.Minute)
	if r := c.get("/console/"); r.code != http.StatusSeeOther {
		t.Errorf("after 12 h idle: %d, want a redirect to sign in", r.code)
	}
	c = e.signIn(orgPhone)
	if r := c.post("/console/logout", nil); r.code != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", r.code)
	}
	if r := c.get("/console/"); r.code != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", r.code)
	}
	entries, _ := e.store.Audit(context.Background(), 10)
	var actions []string
	for _, en := range entries {
		if strings.HasPrefix(en.Action, "sign") { // not the roster set up before
			actions = append(actions, en.Action)
		}
	}
	if strings.Join(actions, ",") != "signout,signin,signin" {
		t.Errorf("audit %v, want signout, signin, signin", actions)
	}
}

func TestAdminToken(t *testing.T) {
	e := newEnv(t)
	if r := e.client().post("/console/login/token", url.Values{"token": {"nope"}}); r.code != http.StatusUnauthorized {
		t.Errorf("wrong admin token: %d", r.code)
	}
	c := e.admin()
	if r := c.get("/console/audit"); r.code != 200 || !strings.Contains(r.body, "signin") {
		t.Errorf("admin's audit page: %d", r.code)
	}
}

func TestOverview(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(orgPhone)
	r := c.get("/console/")
	for _, want := range []string{"Received: 41", "Sent: 58", "Waiting to be sent: 3", "Member #1", "bernalillo-county",
		"2 places not checked in the last 60 days"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	es := c.post("/console/lang", url.Values{"lang": {"es"}, "back": {"/console/"}})
	if es.code != http.StatusSeeOther || es.header.Get("Location") != "/console/" {
		t.Fatalf("language switch: %d %q", es.code, es.header.Get("Location"))
	}
	if r := c.get("/console/"); !strings.Contains(r.body, "Recibidos: 41") || !strings.Contains(r.body, `lang="es"`) {
		t.Error("the language switch did not turn the page to Spanish")
	}
	if r := c.post("/console/lang", url.Values{"lang": {"en"}, "back": {"//evil.example/"}}); r.header.Get("Location") != "/console/" {
		t.Errorf("the switch sent the browser to %q", r.header.Get("Location"))
	}
	if r := e.client().do("GET", "/console/login", nil, map[string]string{"Accept-Language": "es-MX,es;q=0.9"}); !strings.Contains(r.body, "Tu número de teléfono") {
		t.Error("a Spanish browser did not get Spanish")
	}
}

func TestRosterAddToggleRemove(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.signIn(orgPhone)
	r := c.get("/console/roster")
	if !strings.Contains(r.body, "Vero Volunteer") || !strings.Contains(r.body, hotline.MaskPhone(volPhone)) || strings.Contains(r.body, volPhone) {
		t.Fatalf("roster page does not list the volunteer masked:\n%s", r.body)
	}
	if r := c.post("/console/roster/volunteers", url.Values{"name": {"Nico"}, "phone": {"505 555 0444"}, "langs": {"en", "es"}}); r.header.Get("Location") != "/console/roster?note=roster_added" {
		t.Fatalf("add volunteer: %d %q", r.code, r.header.Get("Location"))
	}
	// Who the organizers are is the administrator's to decide: an organizer who could add one
	// could add a second phone of their own and approve their own alerts.
	if r := c.post("/console/roster/organizers", url.Values{"name": {"Otto"}, "phone": {"+15055550555"}, "lang": {"es"}}); r.code != http.StatusForbidden {
		t.Errorf("an organizer adding an organizer: %d, want 403", r.code)
	}
	for _, method := range []string{"GET", "POST"} {
		form := url.Values(nil)
		if method == "POST" {
			form = url.Values{"csrf": {c.csrf}}
		}
		if r := c.do(method, "/console/roster/organizers/"+e.orgID+"/remove", form, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": e.srv.URL}); r.code != http.StatusForbidden {
			t.Errorf("an organizer removing an organizer (%s): %d, want 403", method, r.code)
		}
	}
	if orgs, _ := e.store.Organizers(ctx); len(orgs) != 1 {
		t.Fatalf("%d organizers after an organizer tried to add and remove one", len(orgs))
	}
	if strings.Contains(c.get("/console/roster").body, `action="/console/roster/organizers"`) {
		t.Error("an organizer is offered the form to add organizers")
	}
	admin := e.admin()
	if r := admin.post("/console/roster/organizers", url.Values{"name": {"Otto"}, "phone": {orgPhone}, "lang": {"es"}}); r.header.Get("Location") != "/console/roster?note=roster_invalid" {
		t.Errorf("adding a phone twice: %q", r.header.Get("Location"))
	}
	if r := admin.post("/console/roster/organizers", url.Values{"name": {"Otto"}, "phone": {"+15055550555"}, "lang": {"es"}}); r.header.Get("Location") != "/console/roster?note=roster_added" {
		t.Errorf("the administrator adding an organizer: %d %q", r.code, r.header.Get("Location"))
	}
	vols, _ := e.store.Volunteers(ctx)
	if len(vols) != 2 {
		t.Fatalf("%d volunteers after adding one", len(vols))
	}
	// On call: the volunteer is paged for the waiting case, as texting ON does.
	c.post("/console/roster/volunteers/"+e.volID+"/oncall", url.Values{"on": {"1"}})
	if got := e.sent.to(volPhone); len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "vol_page 1") {
		t.Errorf("coming on call from the console paged %q", got)
	}
	if r := c.get("/console/roster/volunteers/" + e.volID + "/remove"); r.code != 200 || !strings.Contains(r.body, "Remove Vero Volunteer") {
		t.Errorf("confirm step: %d", r.code)
	}
	if v, _ := e.store.Volunteer(ctx, e.volID); v.ID == "" {
		t.Fatal("the confirm step removed the volunteer")
	}
	volunteer := e.signIn(volPhone)
	if r := c.post("/console/roster/volunteers/"+e.volID+"/remove", nil); r.header.Get("Location") != "/console/roster?note=roster_removed" {
		t.Fatalf("remove: %d %q", r.code, r.header.Get("Location"))
	}
	if r := volunteer.get("/console/roster"); r.code != http.StatusSeeOther {
		t.Errorf("a removed volunteer's session still answers: %d", r.code)
	}
	entries, _ := e.store.Audit(ctx, 20)
	seen := map[string]bool{}
	for _, en := range entries {
		if en.Via == "cli" {
			continue // the roster the test set up
		}
		seen[en.Action] = true
		if en.Via != "console" || en.ActorName == "" {
			t.Errorf("audit entry %+v", en)
		}
	}
	for _, a := range []string{"roster.add", "roster.remove", "roster.oncall", "signin"} {
		if !seen[a] {
			t.Errorf("no %s in the audit log", a)
		}
	}
}

// TestRosterWhatsAppLink: the roster page says who has linked their WhatsApp; an organizer
// unlinks a volunteer's (audited), only the administrator an organizer's, and a volunteer
// neither.
func TestRosterWhatsAppLink(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.signIn(orgPhone)
	if strings.Contains(c.get("/console/roster").body, "WhatsApp: linked") {
		t.Fatal("the roster shows a link nobody made")
	}
	if err := e.store.SetVolunteerWhatsApp(ctx, e.volID, "wa-vero"); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetOrganizerWhatsApp(ctx, e.orgID, "wa-olga"); err != nil {
		t.Fatal(err)
	}
	page := c.get("/console/roster").body
	if strings.Count(page, "WhatsApp: linked") != 2 || strings.Contains(page, "wa-vero") {
		t.Fatalf("the roster page does not show both links, or shows an id:\n%s", page)
	}
	if strings.Contains(page, "/console/roster/organizers/"+e.orgID+"/whatsapp/unlink") {
		t.Error("an organizer is offered to unlink an organizer's WhatsApp")
	}
	if r := c.post("/console/roster/organizers/"+e.orgID+"/whatsapp/unlink", nil); r.code != http.StatusForbidden {
		t.Errorf("an organizer unlinking an organizer: %d, want 403", r.code)
	}
	if r := e.signIn(volPhone).post("/console/roster/volunteers/"+e.volID+"/whatsapp/unlink", nil); r.code != http.StatusForbidden {
		t.Errorf("a volunteer unlinking: %d, want 403", r.code)
	}
	if r := c.post("/console/roster/volunteers/"+e.volID+"/whatsapp/unlink", nil); r.header.Get("Location") != "/console/roster?note=roster_wa_unlinked" {
		t.Fatalf("unlinking: %d %q", r.code, r.header.Get("Location"))
	}
	if v, _ := e.store.Volunteer(ctx, e.volID); v.WhatsAppID != "" {
		t.Error("the volunteer is still linked")
	}
	if r := c.post("/console/roster/strangers/"+e.volID+"/whatsapp/unlink", nil); r.header.Get("Location") != "/console/roster?note=roster_not_found" {
		t.Errorf("unlinking a kind that is none: %d %q", r.code, r.header.Get("Location"))
	}
	if r := e.admin().post("/console/roster/organizers/"+e.orgID+"/whatsapp/unlink", nil); r.header.Get("Location") != "/console/roster?note=roster_wa_unlinked" {
		t.Errorf("the administrator unlinking an organizer: %d %q", r.code, r.header.Get("Location"))
	}
	if o, _ := e.store.Organizer(ctx, e.orgID); o.WhatsAppID != "" {
		t.Error("the organizer is still linked")
	}
	entries, _ := e.store.Audit(ctx, 20)
	unlinks := 0
	for _, en := range entries {
		if en.Action == "roster.whatsapp" && en.Via == "console" && strings.Contains(en.Detail, "unlinked WhatsApp") {
			unlinks++
		}
	}
	if unlinks != 2 {
		t.Errorf("%d unlinks in the audit log, want 2: %+v", unlinks, entries)
	}
}

// TestNoMemberNumberOrIDOnAnyPage: with a member's case open, no page shows their number or id.
func TestNoMemberNumberOrIDOnAnyPage(t *testing.T) {
	e := newEnv(t)
	secrets := []string{memberPhone, memberPhone[2:], e.memberID, "ayuda por favor", orgPhone, volPhone}
	for _, c := range []*client{e.signIn(orgPhone), e.admin(), e.signIn(volPhone), e.client()} {
		for _, r := range routes {
			if r.method != "GET" {
				continue
			}
			got := c.get(strings.ReplaceAll(r.path, "/x/", "/"+e.volID+"/"))
			for _, s := range secrets {
				if strings.Contains(got.body, s) {
					t.Errorf("GET %s shows %q", r.path, s)
				}
			}
		}
	}
}

// Behind a proxy the limits count the client the proxy names, not the proxy: one stranger
// using up 20 attempts does not lock everyone out. An IPv6 client counts by its /64.
func TestSignInLimitsCountTheClientBehindTheProxy(t *testing.T) {
	e := newEnv(t)
	n := 0
	from := func(addr string) resp {
		n++ // a number of its own each time: the per-number limit is not what is tested
		return e.client().do("POST", "/console/login/code", url.Values{"phone": {fmt.Sprintf("+1505556%04d", n)}},
			map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": e.srv.URL, "Fly-Client-IP": addr})
	}
	for i := range staff.TriesPerAddress {
		if r := from("203.0.113.5"); r.code != http.StatusOK {
			t.Fatalf("attempt %d: %d", i+1, r.code)
		}
	}
	if r := from("203.0.113.5"); r.code != http.StatusTooManyRequests {
		t.Errorf("attempt %d from one client: %d, want 429", staff.TriesPerAddress+1, r.code)
	}
	if r := from("203.0.113.6"); r.code != http.StatusOK {
		t.Errorf("another client behind the same proxy: %d", r.code)
	}
	for i := range staff.TriesPerAddress {
		from(fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}
	if r := from("2001:db8:1:2:ffff::1"); r.code != http.StatusTooManyRequests {
		t.Errorf("a new address in a /64 that used up its attempts: %d, want 429", r.code)
	}
}

// A request body far larger than any console form is refused unread; "/console" without
// its slash is sent to the overview with the console's headers; the language switch never
// leads out of the console.
func TestBodyLimitRedirectsAndTheLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	big := url.Values{"phone": {strings.Repeat("5", 100<<10)}}
	if r := c.post("/console/login/code", big); r.code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 100 KiB form: %d, want 413", r.code)
	}
	r := c.get("/console")
	if r.code != http.StatusMovedPermanently || r.header.Get("Location") != "/console/" || r.header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("/console: %d to %q, headers %v", r.code, r.header.Get("Location"), r.header)
	}
	for back, want := range map[string]string{
		"/console/roster": "/console/roster", "/console/../evil": "/console/", "/console/..//evil.example": "/console/",
		"//evil.example/": "/console/", "https://evil.example/": "/console/", "/console/\\evil": "/console/",
	} {
		if r := c.post("/console/lang", url.Values{"lang": {"es"}, "back": {back}}); r.header.Get("Location") != want {
			t.Errorf("back %q led to %q, want %q", back, r.header.Get("Location"), want)
		}
	}
}

// The console speaks the person's own language (their roster entry's, as their texts do)
// until they press the other in the header.
func TestConsoleFollowsThePersonsLanguage(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	// Vero's roster language is Spanish; her browser asks for English.
	before := len(e.sent.to(volPhone))
	c.post("/console/login/code", url.Values{"phone": {volPhone}})
	texts := e.sent.to(volPhone)
	if len(texts) != before+1 {
		t.Fatalf("no code: %q", texts)
	}
	code := regexp.MustCompile(`\d{6}`).FindString(texts[len(texts)-1])
	c.post("/console/login/verify", url.Values{"phone": {volPhone}, "code": {code}})
	if r := c.get("/console/cases"); !strings.Contains(r.body, `<html lang="es">`) {
		t.Errorf("a Spanish-speaking volunteer got the console in another language:\n%.300s", r.body)
	}
	c.post("/console/lang", url.Values{"lang": {"en"}, "back": {"/console/cases"}})
	if r := c.get("/console/cases"); !strings.Contains(r.body, `<html lang="en">`) {
		t.Error("the header's switch did not win over the roster's language")
	}
}
