package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/effects"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/staff"
)

const vol2Phone = "+15055550223"

// openCase opens a member's case (or report) as their message's job would.
func (e *env) openCase(member, from, msg string, oc actions.OpenCase) {
	e.t.Helper()
	job := effects.Job{Member: member, Msg: msg, From: from, Lang: "es", Effects: []flow.Effect{oc}}
	if _, err := e.cases.HandleJob(context.Background(), job, e.sent); err != nil {
		e.t.Fatal(err)
	}
}

// secondVolunteer adds Beto, who speaks Spanish too, and signs him in.
func (e *env) secondVolunteer() *client {
	e.t.Helper()
	dir := staff.NewDirectory(staff.DirectoryConfig{Store: e.store, Keys: e.keys, Languages: []string{"es", "en"}, Roster: e.roster})
	if _, err := dir.AddVolunteer(context.Background(), audit.Admin(audit.ViaCLI), "Beto Volunteer", vol2Phone, []string{"es"}); err != nil {
		e.t.Fatal(err)
	}
	return e.signIn(vol2Phone)
}

// TestCasesListUrgentFirst: an urgent case comes before an older one; no words in the list.
func TestCasesListUrgentFirst(t *testing.T) {
	e := newEnv(t)
	e.openCase("member-2", "+15055550988", "SMm2", actions.OpenCase{Kind: "person", Urgent: true, Situation: "home", Text: "vinieron a la casa"})
	c := e.signIn(volPhone)
	r := c.get("/console/cases")
	first, second := strings.Index(r.body, "Member #2"), strings.Index(r.body, "Member #1")
	if r.code != 200 || first < 0 || second < 0 || first > second {
		t.Fatalf("cases list (%d): urgent #2 at %d, #1 at %d", r.code, first, second)
	}
	for _, words := range []string{"ayuda por favor", "vinieron a la casa", memberPhone, e.memberID} {
		if strings.Contains(r.body, words) {
			t.Errorf("the list shows %q", words)
		}
	}
	if !strings.Contains(r.body, "Urgent") || !strings.Contains(r.body, "Waiting for someone") {
		t.Error("the list does not say urgent and waiting in words")
	}
}

// TestClaimRaceReplyAndClose: two volunteers claim one case, one wins and the other is told;
// only the holder replies (from the hotline's sender, to the member); the transcript and
// lines.json show the reply as the volunteer's and the member as "Member #1"; close ends it.
func TestClaimRaceReplyAndClose(t *testing.T) {
	e := newEnv(t)
	vero, beto := e.signIn(volPhone), e.secondVolunteer()
	if r := vero.post("/console/cases/1/claim", nil); r.code != http.StatusSeeOther || r.header.Get("Location") != "/console/cases/1?note=case_done_claim" {
		t.Fatalf("Vero's claim: %d %q", r.code, r.header.Get("Location"))
	}
	r := beto.post("/console/cases/1/claim", nil)
	if r.header.Get("Location") != "/console/cases?note=case_taken" {
		t.Fatalf("Beto's claim: %d %q", r.code, r.header.Get("Location"))
	}
	if got := beto.get("/console/cases?note=case_taken"); !strings.Contains(got.body, "Another volunteer already has it.") {
		t.Error("Beto is not told another volunteer has it")
	}
	if got := beto.get("/console/cases/1"); got.code != http.StatusForbidden || strings.Contains(got.body, "ayuda por favor") {
		t.Errorf("Beto reading Vero's case: %d", got.code)
	}
	if got := beto.get("/console/cases/1/lines.json?after=0"); got.code != http.StatusForbidden || strings.Contains(got.body, "ayuda") {
		t.Errorf("Beto's lines.json of Vero's case: %d %s", got.code, got.body)
	}
	before := len(e.sent.to(memberPhone))
	if r := beto.post("/console/cases/1/reply", url.Values{"text": {"soy Beto"}}); r.header.Get("Location") != "/console/cases?note=case_no_case" {
		t.Errorf("Beto's reply: %q", r.header.Get("Location"))
	}
	if r := vero.post("/console/cases/1/reply", url.Values{"text": {"Hola, soy Vero"}}); r.header.Get("Location") != "/console/cases/1?note=case_done_reply" {
		t.Errorf("Vero's reply: %q", r.header.Get("Location"))
	}
	got := e.sent.to(memberPhone)[before:]
	if len(got) != 1 || got[0] != "Hola, soy Vero" {
		t.Errorf("the member received %q", got)
	}
	page := vero.get("/console/cases/1")
	for _, want := range []string{"Member #1", "ayuda por favor", "Vero Volunteer", "Hola, soy Vero", `name="text"`, "/console/static/cases.js"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("Vero's case page lacks %q", want)
		}
	}
	if strings.Contains(page.body, memberPhone[2:]) || strings.Contains(page.body, e.memberID) {
		t.Error("the case page shows the member's number or id")
	}
	var lj struct {
		Status string
		Next   int
		Lines  []struct{ Who, Text string }
	}
	raw := vero.get("/console/cases/1/lines.json?after=1")
	if err := json.Unmarshal([]byte(raw.body), &lj); err != nil {
		t.Fatal(err, raw.body)
	}
	if lj.Status != "claimed" || lj.Next != 2 || len(lj.Lines) != 1 || lj.Lines[0].Who != "Vero Volunteer" || lj.Lines[0].Text != "Hola, soy Vero" {
		t.Errorf("lines.json after=1: %+v", lj)
	}
	if all := vero.get("/console/cases/1/lines.json?after=0"); !strings.Contains(all.body, `"who":"Member #1"`) || strings.Contains(all.body, e.memberID) {
		t.Errorf("lines.json after=0: %s", all.body)
	}
	org := e.signIn(orgPhone)
	if p := org.get("/console/cases/1"); p.code != 200 || !strings.Contains(p.body, "Hola, soy Vero") || strings.Contains(p.body, `name="text"`) {
		t.Errorf("an organizer reads the case, without a reply box: %d", p.code)
	}
	if r := org.post("/console/cases/1/close", nil); r.code != http.StatusForbidden {
		t.Errorf("an organizer closing: %d, want 403", r.code)
	}
	if r := vero.post("/console/cases/1/close", nil); r.header.Get("Location") != "/console/cases/1?note=case_done_close" {
		t.Errorf("Vero closing: %q", r.header.Get("Location"))
	}
	if c, _ := e.store.Case(context.Background(), 1); c.Status != hotline.CaseClosed {
		t.Errorf("case status %q after close", c.Status)
	}
	if p := vero.get("/console/cases/1"); strings.Contains(p.body, "ayuda por favor") {
		t.Error("a closed case still shows the member's words")
	}
	entries, _ := e.store.Audit(context.Background(), 20)
	var claims, closes int
	for _, en := range entries {
		if en.Object == "case 1" && en.Via == "console" {
			claims += map[bool]int{true: 1}[en.Action == "case.claim"]
			closes += map[bool]int{true: 1}[en.Action == "case.close"]
		}
	}
	if claims != 1 || closes != 1 {
		t.Errorf("audit: %d claims, %d closes by console, want 1 and 1", claims, closes)
	}
}

// TestCasesCrossSitePostChangesNothing: a claim posted from another site or without the
// token leaves the case waiting.
func TestCasesCrossSitePostChangesNothing(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(volPhone)
	if r := c.do("POST", "/console/cases/1/claim", url.Values{"csrf": {c.csrf}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); r.code != http.StatusForbidden {
		t.Errorf("cross-site claim: %d", r.code)
	}
	if r := c.post("/console/cases/1/claim", url.Values{"csrf": {"forged"}}); r.code != http.StatusForbidden {
		t.Errorf("forged token: %d", r.code)
	}
	if k, _ := e.store.Case(context.Background(), 1); k.Status != hotline.CaseOpen {
		t.Errorf("a refused claim changed the case: %s", k.Status)
	}
}

// TestReportVerdict: a report is claimed before its verdict; FALSE keeps the note in the
// audit log and sends no member anything; an organizer may read but not judge.
func TestReportVerdict(t *testing.T) {
	e := newEnv(t)
	e.openCase("member-3", "+15055550989", "SMm3", actions.OpenCase{Kind: "report",
		Report: map[string]string{"what": "retén de tránsito", "where": "Central y 4", "when": "ahorita"}})
	c := e.signIn(volPhone)
	list := c.get("/console/reports")
	if !strings.Contains(list.body, "Report #2") || strings.Contains(list.body, "Member #1") {
		t.Errorf("reports list: %d", list.code)
	}
	if r := c.get("/console/cases/2"); r.header.Get("Location") != "/console/reports/2" {
		t.Errorf("a report under /cases: %d %q", r.code, r.header.Get("Location"))
	}
	if p := c.get("/console/reports/2"); !strings.Contains(p.body, "retén de tránsito") || !strings.Contains(p.body, "Central y 4") {
		t.Error("the report page lacks its fields")
	}
	if r := c.post("/console/reports/2/verdict", url.Values{"verdict": {"false"}, "note": {"nadie lo vio"}}); r.header.Get("Location") != "/console/reports/2?note=case_claim_first" {
		t.Errorf("verdict before claim: %q", r.header.Get("Location"))
	}
	org := e.signIn(orgPhone)
	if r := org.post("/console/reports/2/claim", nil); r.code != http.StatusForbidden {
		t.Errorf("an organizer claiming a report: %d", r.code)
	}
	c.post("/console/reports/2/claim", nil)
	sentBefore := len(e.sent.sent)
	if r := c.post("/console/reports/2/verdict", url.Values{"verdict": {"false"}, "note": {"  nadie  lo vio "}}); r.header.Get("Location") != "/console/reports/2?note=case_done_false" {
		t.Errorf("false: %q", r.header.Get("Location"))
	}
	if n := len(e.sent.sent) - sentBefore; n != 0 {
		t.Errorf("marking false sent %d messages", n)
	}
	if p := c.get("/console/reports/2"); !strings.Contains(p.body, "Marked false.") || strings.Contains(p.body, "retén") {
		t.Error("a closed false report: no verdict shown, or its words still shown")
	}
	entries, _ := e.store.Audit(context.Background(), 20)
	found := false
	for _, en := range entries {
		found = found || (en.Action == "report.false" && en.Object == "report 2" && en.Via == "console" && en.Detail == "with a note (in the report)")
		if strings.Contains(en.Detail, "nadie") {
			t.Errorf("the volunteer's note is in the audit log in clear: %+v", en)
		}
	}
	if !found {
		t.Errorf("no report.false entry with the note: %+v", entries)
	}
}

// A request nobody took is closed by an organizer's decision, not a timer: the member is told
// no volunteer was free; a volunteer cannot do it, and a case someone holds is theirs.
func TestOrganizerClosesAnUnclaimedRequest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	vol := e.signIn(volPhone)
	if r := vol.post("/console/cases/1/close-unclaimed", nil); r.code != http.StatusForbidden {
		t.Errorf("a volunteer closing an unclaimed request: %d, want 403", r.code)
	}
	e.openCase("member-2", "+15055550988", "SMm2", actions.OpenCase{Kind: "person", Text: "necesito ayuda"})
	vol.post("/console/cases/2/claim", nil)

	org := e.signIn(orgPhone)
	if r := org.get("/console/cases/1"); !strings.Contains(r.body, "/console/cases/1/close-unclaimed") {
		t.Error("the organizer is not offered to close the waiting request")
	}
	if r := org.post("/console/cases/1/close-unclaimed", nil); r.header.Get("Location") != "/console/cases?note=case_done_close" {
		t.Fatalf("closing: %d %q", r.code, r.header.Get("Location"))
	}
	if c, _ := e.store.Case(ctx, 1); c.Status != hotline.CaseClosed {
		t.Errorf("case 1 is %s", c.Status)
	}
	if got := e.sent.to(memberPhone); len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "case_closed_unclaimed") {
		t.Errorf("the member was told %q", got)
	}
	if r := org.post("/console/cases/2/close-unclaimed", nil); r.header.Get("Location") != "/console/cases?note=case_taken" {
		t.Errorf("closing a claimed case: %q", r.header.Get("Location"))
	}
	if c, _ := e.store.Case(ctx, 2); c.Status != hotline.CaseClaimed {
		t.Errorf("case 2, claimed, is now %s", c.Status)
	}
	entries, _ := e.store.Audit(ctx, 20)
	found := false
	for _, en := range entries {
		if en.Action == "case.close" && en.Object == "case 1" {
			found = en.Actor == "organizer:"+e.orgID && en.Via == "console" && en.Detail == "unclaimed"
		}
	}
	if !found {
		t.Errorf("no audit entry of the organizer closing case 1: %+v", entries)
	}
}

// A report found true becomes an alert draft for its area, never sent by itself: the report's
// page links to the draft, and the draft names its report.
func TestVerifiedReportLinksToItsDraft(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.openCase("member-4", "+15055550987", "SMm4", actions.OpenCase{Kind: "report", Area: "santa-fe-county",
		Report: map[string]string{"what": "agentes en la tienda", "where": "Cerrillos Rd", "when": "hace rato"}})
	c := e.signIn(volPhone)
	c.post("/console/reports/2/claim", nil)
	r := c.post("/console/reports/2/verdict", url.Values{"verdict": {"verified"}, "note": {"lo confirmó una vecina"}})
	if r.header.Get("Location") != "/console/reports/2?note=case_done_verified" {
		t.Fatalf("verify: %d %q", r.code, r.header.Get("Location"))
	}
	bcs, err := e.bcs.List(ctx)
	if err != nil || len(bcs) != 1 {
		t.Fatalf("drafts after a verified report: %d, %v", len(bcs), err)
	}
	draft := bcs[0]
	if draft.Report != 2 || draft.Status != hotline.Draft || !slices.Contains(draft.Areas, "santa-fe-county") {
		t.Errorf("the draft: report %d, status %s, areas %v", draft.Report, draft.Status, draft.Areas)
	}
	if p := c.get("/console/reports/2"); !strings.Contains(p.body, `href="/console/broadcasts/`+draft.ID+`"`) {
		t.Errorf("the verified report does not link to its draft %s", draft.ID)
	}
	org := e.signIn(orgPhone)
	if p := org.get("/console/broadcasts/" + draft.ID); !strings.Contains(p.body, `href="/console/reports/2"`) {
		t.Error("the draft does not link back to its report")
	}
}
