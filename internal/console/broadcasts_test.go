package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/segment"
)

// secondOrgPhone is an organizer other than the env's, who may approve what Olga writes.
const secondOrgPhone = "+15055550112"

// bcEnv is the console env with subscribers in Bernalillo County (3 in Spanish, 2 in
// English) and one in Santa Fe County (Spanish), and a second organizer, Bruno.
type bcEnv struct {
	*env
	members []string // member ids, which no page or JSON may show
}

func newBcEnv(t *testing.T) *bcEnv {
	t.Helper()
	e := &bcEnv{env: newEnv(t)}
	ctx := context.Background()
	add := func(phone, area, lang string) {
		id := e.keys.MemberID(hotline.SMS, phone)
		if err := e.store.SyncSubscriptions(ctx, id, hotline.Subscription{}, hotline.Subscription{Areas: []string{area}, Lang: lang}); err != nil {
			t.Fatal(err)
		}
		e.members = append(e.members, id)
	}
	add("+15055551001", "bernalillo-county", "es")
	add("+15055551002", "bernalillo-county", "es")
	add("+15055551003", "bernalillo-county", "es")
	add("+15055551004", "bernalillo-county", "en")
	add("+15055551005", "bernalillo-county", "en")
	add("+15055551006", "santa-fe-county", "es")
	if _, err := e.dir.AddOrganizer(ctx, audit.Admin(audit.ViaCLI), "Bruno Boss", secondOrgPhone, "es"); err != nil {
		t.Fatal(err)
	}
	return e
}

// create posts the compose form and returns the new broadcast's id.
func (e *bcEnv) create(c *client, form url.Values) string {
	e.t.Helper()
	r := c.post("/console/broadcasts", form)
	m := regexp.MustCompile(`^/console/broadcasts/([^/?]+)\?note=bc_created$`).FindStringSubmatch(r.header.Get("Location"))
	if r.code != http.StatusSeeOther || m == nil {
		e.t.Fatalf("creating: %d %q\n%s", r.code, r.header.Get("Location"), r.body)
	}
	return m[1]
}

func (e *bcEnv) get(id string) hotline.Broadcast {
	e.t.Helper()
	b, err := e.bcs.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// bernalillo is a form for Bernalillo County in both languages, with the CRLF a form posts
// (a new one each time: posting adds the CSRF token to it).
func bernalillo() url.Values {
	return url.Values{"area": {"bernalillo-county"}, "text_es": {"Hay retenes en la I-25.\r\nNo abra la puerta."},
		"text_en": {"Checkpoints on I-25.\r\nDo not open the door."}}
}

func TestBroadcastsRefusedToVolunteers(t *testing.T) {
	e := newBcEnv(t)
	id := e.create(e.signIn(orgPhone), bernalillo())
	c := e.signIn(volPhone)
	for _, p := range []string{"/console/broadcasts", "/console/broadcasts/new", "/console/broadcasts/" + id, "/console/broadcasts/" + id + "/progress.json"} {
		if r := c.get(p); r.code != http.StatusForbidden || strings.Contains(r.body, "I-25") {
			t.Errorf("volunteer GET %s: %d", p, r.code)
		}
	}
	if r := c.post("/console/broadcasts", bernalillo()); r.code != http.StatusForbidden {
		t.Errorf("volunteer composing: %d", r.code)
	}
	if r := c.post("/console/broadcasts/"+id+"/discard", nil); r.code != http.StatusForbidden {
		t.Errorf("volunteer discarding: %d", r.code)
	}
	if bcs, _ := e.bcs.List(context.Background()); len(bcs) != 1 || bcs[0].Status != hotline.Draft {
		t.Errorf("a volunteer's refused POSTs changed the broadcasts: %+v", bcs)
	}
}

func TestBroadcastComposeForm(t *testing.T) {
	e := newBcEnv(t)
	c := e.signIn(orgPhone)
	r := c.get("/console/broadcasts/new")
	for _, want := range []string{
		`value="bernalillo-county"`, "Bernalillo County — 3 in Spanish · 2 in English", "Santa Fe County — 1 in Spanish · 0 in English",
		"Everyone</strong> — 4 in Spanish · 2 in English", `name="text_es"`, `name="text_en"`, `data-segments="count-es"`,
		`data-newlines="lf"`, `data-cost-per-segment="0.0079"`, `data-text="{chars} characters`, `src="/console/static/segment.js"`,
		`src="/console/static/broadcasts.js"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("compose form lacks %q", want)
		}
	}
	if strings.Contains(r.body, "data-gsm") {
		t.Error("data-gsm without HOTLINE_SMS_ENCODING=gsm")
	}
	js := c.get("/console/static/segment.js")
	if js.body != string(segment.CounterJS) || !strings.Contains(js.header.Get("Content-Type"), "javascript") {
		t.Errorf("segment.js is not internal/segment's counter (%q)", js.header.Get("Content-Type"))
	}
}

func TestBroadcastComposeMistakes(t *testing.T) {
	e := newBcEnv(t)
	c := e.signIn(orgPhone)
	cases := []struct {
		name      string
		form      url.Values
		en, es    string
		keepsText string
	}{
		{"no area", url.Values{"text_es": {"Hola"}}, "Choose who gets it", "Elige quién la recibe", "Hola"},
		{"everyone and an area", url.Values{"everyone": {"1"}, "area": {"santa-fe-county"}, "text_es": {"Hola"}, "text_en": {"Hi"}},
			"Choose one or the other", "Elige una cosa o la otra", "Hi"},
		{"no text", url.Values{"area": {"santa-fe-county"}}, "Write the alert.", "Escribe la alerta.", ""},
		{"English readers, no English", url.Values{"area": {"bernalillo-county"}, "text_es": {"Hola"}},
			"Write the text in English too", "Escribe también el texto en inglés", "Hola"},
		{"too long", url.Values{"area": {"santa-fe-county"}, "text_es": {strings.Repeat("a", 1601)}},
			"The text in Spanish is too long", "El texto en español es muy largo", ""},
	}
	for _, tc := range cases {
		r := c.post("/console/broadcasts", tc.form)
		if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, tc.en) {
			t.Errorf("%s: %d, page lacks %q", tc.name, r.code, tc.en)
		}
		if tc.keepsText != "" && !strings.Contains(r.body, ">"+tc.keepsText+"</textarea>") {
			t.Errorf("%s: the form lost what was typed", tc.name)
		}
	}
	c.post("/console/lang", url.Values{"lang": {"es"}, "back": {"/console/broadcasts/new"}})
	for _, tc := range cases {
		if r := c.post("/console/broadcasts", tc.form); !strings.Contains(r.body, tc.es) {
			t.Errorf("%s in Spanish: page lacks %q", tc.name, tc.es)
		}
	}
	if bcs, _ := e.bcs.List(context.Background()); len(bcs) != 0 {
		t.Errorf("a form with a mistake stored %d broadcasts", len(bcs))
	}
}

// TestBroadcastAskApproveSendCancel: Olga writes and asks; she may not approve her own; Bruno
// approves, which sends it; each action is in the audit log once, through the console.
func TestBroadcastAskApproveSendCancel(t *testing.T) {
	e := newBcEnv(t)
	ctx := context.Background()
	olga := e.signIn(orgPhone)
	id := e.create(olga, bernalillo())
	b := e.get(id)
	if b.Text["es"] != "Hay retenes en la I-25.\nNo abra la puerta." {
		t.Errorf("stored text %q: CRLF not turned into LF", b.Text["es"])
	}
	page := olga.get("/console/broadcasts/" + id + "?note=bc_created")
	for _, want := range []string{"Saved. It is not sent yet", "<strong>Draft</strong>", "Olga Organizer", "Bernalillo County",
		"Checkpoints on I-25.\nDo not open the door.", "People: 3 · 1 SMS each · GSM-7", "People: 2 · 1 SMS each · GSM-7",
		"People: 5", "Cost: about 0.04 USD", "Ask for approval", "Another organizer must approve it.", "Discard"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("Olga's preview lacks %q", want)
		}
	}
	if strings.Contains(page.body, "/approve") || strings.Contains(page.body, "Send now") {
		t.Error("Olga is offered to approve or send her own draft while approvals are on")
	}
	if r := olga.post("/console/broadcasts/"+id+"/approve", nil); r.header.Get("Location") != "/console/broadcasts/"+id+"?note=bc_same_actor" {
		t.Errorf("Olga approving her own: %q", r.header.Get("Location"))
	}
	if got := olga.get("/console/broadcasts/" + id + "?note=bc_same_actor"); !strings.Contains(got.body, "you cannot approve it") {
		t.Error("no clear note when the creator approves")
	}
	if b := e.get(id); b.ApprovedBy != "" || b.Status != hotline.Draft {
		t.Fatalf("after the creator's approval: %s by %q", b.Status, b.ApprovedBy)
	}
	if r := olga.post("/console/broadcasts/"+id+"/send", nil); r.header.Get("Location") != "/console/broadcasts/"+id+"?note=bc_asked" {
		t.Fatalf("asking for approval: %q", r.header.Get("Location"))
	}
	bruno := e.signIn(secondOrgPhone)
	page = bruno.get("/console/broadcasts/" + id)
	for _, want := range []string{"Waiting for approval", "Asked to send it", "/approve", "Discard"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("Bruno's page lacks %q", want)
		}
	}
	if r := bruno.post("/console/broadcasts/"+id+"/approve", nil); r.header.Get("Location") != "/console/broadcasts/"+id+"?note=bc_approved_sending" {
		t.Fatalf("Bruno approving: %q", r.header.Get("Location"))
	}
	if b := e.get(id); b.Status != hotline.Sending || b.Counts.Queued != 5 {
		t.Fatalf("after Bruno's approval: %s, %d queued", b.Status, b.Counts.Queued)
	}
	page = bruno.get("/console/broadcasts/" + id)
	for _, want := range []string{"Sending", "Approved by", "Bruno Boss", `data-poll="/console/broadcasts/` + id + `/progress.json"`,
		`<progress max="5" value="0"`, `data-count="queued">5<`, "Refresh", "Stop sending"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the sending page lacks %q", want)
		}
	}
	pj := bruno.get("/console/broadcasts/" + id + "/progress.json")
	var prog map[string]any
	if err := json.Unmarshal([]byte(pj.body), &prog); err != nil || pj.header.Get("Content-Type") != "application/json" {
		t.Fatalf("progress.json %q: %v", pj.body, err)
	}
	if prog["total"] != 5.0 || prog["queued"] != 5.0 || prog["done"] != false || prog["status"] != "sending" {
		t.Errorf("progress %v", prog)
	}
	for _, m := range e.members {
		if strings.Contains(pj.body, m) || strings.Contains(page.body, m) {
			t.Error("a member id on the sending page or its JSON")
		}
	}
	for _, s := range []string{"I-25", "+1505"} {
		if strings.Contains(pj.body, s) {
			t.Errorf("progress.json holds %q", s)
		}
	}
	if r := olga.post("/console/broadcasts/"+id+"/cancel", nil); r.header.Get("Location") != "/console/broadcasts/"+id+"?note=bc_cancelled" {
		t.Fatalf("cancelling: %q", r.header.Get("Location"))
	}
	if b := e.get(id); b.Status != hotline.Canceled {
		t.Errorf("after cancel: %s", b.Status)
	}
	if r := olga.post("/console/broadcasts/"+id+"/send", nil); r.header.Get("Location") != "/console/broadcasts/"+id+"?note=bc_wrong_state" {
		t.Errorf("sending a cancelled one: %q", r.header.Get("Location"))
	}
	entries, _ := e.store.Audit(ctx, 50)
	count := map[string]int{}
	for _, en := range entries {
		if strings.HasPrefix(en.Action, "broadcast.") {
			count[en.Action+" "+en.ActorName+" "+en.Via]++
		}
	}
	want := map[string]int{"broadcast.create Olga Organizer console": 1, "broadcast.send Olga Organizer console": 1,
		"broadcast.approve Bruno Boss console": 1, "broadcast.send Bruno Boss console": 1, "broadcast.cancel Olga Organizer console": 1}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("audit: %d × %q, want %d (all: %v)", count[k], k, n, count)
		}
	}
	if len(count) != len(want) {
		t.Errorf("audit has other broadcast entries: %v", count)
	}
}

// TestBroadcastApprovedFirstThenSent: an approval given before anyone asked only marks it
// approved; then anyone, its creator too, can send it.
func TestBroadcastApprovedFirstThenSent(t *testing.T) {
	e := newBcEnv(t)
	olga, bruno := e.signIn(orgPhone), e.signIn(secondOrgPhone)
	id := e.create(olga, url.Values{"area": {"santa-fe-county"}, "text_es": {"Reunión mañana."}})
	if r := bruno.post("/console/broadcasts/"+id+"/approve", nil); r.header.Get("Location") != "/console/broadcasts/"+id+"?note=bc_approved" {
		t.Fatalf("approving a draft: %q", r.header.Get("Location"))
	}
	page := olga.get("/console/broadcasts/" + id)
	if !strings.Contains(page.body, "Approved, not sent yet") || !strings.Contains(page.body, "Send now") || strings.Contains(page.body, "Ask for approval") {
		t.Error("an approved draft's page does not offer to send it")
	}
	if r := olga.post("/console/broadcasts/"+id+"/send", nil); r.header.Get("Location") != "/console/broadcasts/"+id+"?note=bc_sent" {
		t.Fatalf("sending: %q", r.header.Get("Location"))
	}
	if b := e.get(id); b.Status != hotline.Sending {
		t.Errorf("status %s after sending", b.Status)
	}
}

func TestBroadcastDiscardAndList(t *testing.T) {
	e := newBcEnv(t)
	olga := e.signIn(orgPhone)
	id := e.create(olga, bernalillo())
	// A verified report's draft, as escalation makes it.
	rep, _, err := e.bcs.Create(context.Background(), audit.Volunteer(e.volID, "Vero Volunteer", audit.ViaSMS),
		broadcast.Draft{Text: map[string]string{"es": "Reporte verificado"}, Areas: []string{"santa-fe-county"}, Report: 7})
	if err != nil {
		t.Fatal(err)
	}
	if r := olga.post("/console/broadcasts/"+id+"/discard", nil); r.header.Get("Location") != "/console/broadcasts/"+id+"?note=bc_discarded" {
		t.Fatalf("discarding: %q", r.header.Get("Location"))
	}
	if b := e.get(id); b.Status != hotline.Canceled {
		t.Errorf("after discard: %s", b.Status)
	}
	list := olga.get("/console/broadcasts")
	for _, want := range []string{"Cancelled", "Draft", "From report #7", "Vero Volunteer", "Bernalillo County", "Santa Fe County",
		`href="/console/broadcasts/` + id + `"`, `href="/console/broadcasts/new"`} {
		if !strings.Contains(list.body, want) {
			t.Errorf("the list lacks %q", want)
		}
	}
	if page := olga.get("/console/broadcasts/" + rep.ID); !strings.Contains(page.body, `<a href="/console/reports/7">From report #7</a>`) {
		t.Error("a report's draft does not link its report")
	}
	if r := olga.get("/console/broadcasts/nope"); r.code != http.StatusNotFound {
		t.Errorf("an unknown broadcast: %d", r.code)
	}
}

func TestBroadcastCrossSitePostChangesNothing(t *testing.T) {
	e := newBcEnv(t)
	olga := e.signIn(orgPhone)
	id := e.create(olga, bernalillo())
	form := url.Values{"csrf": {olga.csrf}}
	for _, action := range []string{"send", "discard"} {
		if r := olga.do("POST", "/console/broadcasts/"+id+"/"+action, form, map[string]string{"Sec-Fetch-Site": "cross-site"}); r.code != http.StatusForbidden {
			t.Errorf("cross-site %s: %d", action, r.code)
		}
		if r := olga.post("/console/broadcasts/"+id+"/"+action, url.Values{"csrf": {"forged"}}); r.code != http.StatusForbidden {
			t.Errorf("%s with a forged token: %d", action, r.code)
		}
	}
	if r := olga.do("POST", "/console/broadcasts", bernalillo(), map[string]string{"Origin": "https://evil.example"}); r.code != http.StatusForbidden {
		t.Errorf("cross-site compose: %d", r.code)
	}
	bcs, _ := e.bcs.List(context.Background())
	if len(bcs) != 1 || bcs[0].Status != hotline.Draft || bcs[0].RequestedBy != "" {
		t.Errorf("refused POSTs changed the broadcasts: %+v", bcs)
	}
}
