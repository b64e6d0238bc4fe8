package console_test

import (
	"context"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/locale"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/policyedit"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/segment"
	"github.com/communityhotline/hotline/locales"
)

// newPolicy is the policy service over the shipped places data, as internal/app builds it:
// the directory it returns is the one members' lookups read.
func newPolicy(t *testing.T, store *redisstore.Store, rec audit.Recorder, now func() time.Time) (*policyedit.Service, *places.Directory) {
	t.Helper()
	shipped, err := fs.ReadFile(flows.FS, "data/places.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := places.Parse(shipped)
	if err != nil {
		t.Fatal(err)
	}
	svc := policyedit.New(policyedit.Config{Places: dir, Shipped: shipped, Texts: catalog(t), Store: store, Audit: rec,
		StaleAfter: 60 * 24 * time.Hour, Now: now})
	if err := svc.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc, dir
}

func catalog(t *testing.T) *locale.Catalog {
	t.Helper()
	cat, err := locale.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// memberAnswer is the policy answer a member who asks about id gets, in lang: the message
// lookup_place sends, rendered over the directory members read.
func (e *env) memberAnswer(id, lang string) string {
	e.t.Helper()
	pl, ok := e.places.Get(id)
	if !ok {
		e.t.Fatalf("no place %s", id)
	}
	text, err := catalog(e.t).Text(lang, "policy_answer", actions.PlaceAnswer(e.places, pl, lang))
	if err != nil {
		e.t.Fatal(err)
	}
	return text
}

// policyEnv is a console whose clock is after the shipped file's checked dates (2026-11-26
// and 2026-12-06), as it is in service: a correction made before an entry's shipped check
// would give way to the file.
func policyEnv(t *testing.T) *env {
	e := newEnv(t)
	e.now = time.Date(2027, 1, 15, 15, 0, 0, 0, time.UTC)
	return e
}

// A correction of Luna County with its source, as an organizer types it.
const (
	lunaEN = "Resolution of March 2026: the county jail holds no one for ICE without a judge's order."
	lunaES = "Resoluciones de marzo de 2026: la carcel del condado no detiene a nadie para ICE sin orden de un juez."
)

func lunaForm() url.Values {
	return url.Values{"policy_en": {lunaEN}, "policy_es": {lunaES}, "policy_date": {"2026-03"}, "source": {"Deming Headlight 2026"},
		"source_url": {"https://www.demingheadlight.com/"}, "verified": {"1"}, "dhs_list": {"1"}}
}

func TestPolicyListFlagsStaleAndFilters(t *testing.T) {
	e := newEnv(t)
	e.now = time.Date(2027, 2, 1, 12, 0, 0, 0, time.UTC) // entries checked 2026-11-26 are stale, 2026-12-06 not
	c := e.signIn(orgPhone)
	all := c.get("/console/policy")
	if all.code != 200 {
		t.Fatalf("list: %d", all.code)
	}
	entries, _ := e.policy.Entries(context.Background())
	stale := 0
	for _, en := range entries {
		if !strings.Contains(all.body, `href="/console/policy/`+en.ID+`"`) {
			t.Errorf("the list lacks %s", en.ID)
		}
		if en.Stale {
			stale++
		}
	}
	if stale == 0 || stale == len(entries) {
		t.Fatalf("%d of %d stale: the test's clock no longer splits the shipped dates", stale, len(entries))
	}
	for _, want := range []string{"No local policy confirmed", "✔ Local policy", "Was on the DHS list (May 2025, since taken down)", "Not on the DOJ list",
		"⚠ Needs checking: not checked in the last 60 days", "2026-11-26", `<a href="/console/policy" aria-current="page">Policies</a>`} {
		if !strings.Contains(all.body, want) {
			t.Errorf("the list lacks %q", want)
		}
	}
	onlyStale := c.get("/console/policy?show=stale")
	if n := strings.Count(onlyStale.body, "⚠ Needs checking"); n != stale {
		t.Errorf("?show=stale flags %d entries, want %d", n, stale)
	}
	if strings.Contains(onlyStale.body, "2026-12-06") {
		t.Error("?show=stale lists an entry checked 57 days ago")
	}
	if r := c.get("/console/policy?show=edited"); !strings.Contains(r.body, "No place to show.") {
		t.Error("?show=edited lists entries before any edit")
	}
	if r := c.post("/console/policy/luna-county", lunaForm()); r.code != http.StatusSeeOther {
		t.Fatalf("edit: %d", r.code)
	}
	edited := c.get("/console/policy?show=edited")
	if strings.Count(edited.body, `<td><a href="/console/policy/`) != 1 || !strings.Contains(edited.body, "Changed by Olga Organizer on 2027-02-01") {
		t.Errorf("?show=edited after one edit:\n%s", edited.body)
	}
	// Luna was just checked: no longer stale.
	if strings.Contains(c.get("/console/policy?show=stale").body, `/console/policy/luna-county"`) {
		t.Error("an entry corrected today is still listed as stale")
	}
}

// TestPolicyEditRefused: an edit without a source address or a date, or over the SMS budget,
// is refused in the organizer's language, the form keeps what they typed, nothing is stored.
func TestPolicyEditRefused(t *testing.T) {
	e := policyEnv(t)
	ctx := context.Background()
	before := e.memberAnswer("luna-county", "es")
	mod := func(k, v string) url.Values { f := lunaForm(); f.Set(k, v); return f }
	tests := []struct {
		name   string
		form   url.Values
		en, es string
	}{
		{"no source address", mod("source_url", ""), "Write the web address of the source that says this.",
			"Escribe la dirección web de la fuente que dice esto."},
		{"not an address", mod("source_url", "demingheadlight.com"), "must be a full address that starts with https://",
			"debe ser completa y empezar con https://"},
		{"no date", mod("policy_date", ""), "Write the date of the policy, as the source gives it.",
			"Escribe la fecha de la norma, como la da la fuente."},
		{"too long", mod("policy_en", strings.Repeat("The county jail holds no one for ICE. ", 14)),
			"The answer in English about Luna would take 5 messages. At most 4 are allowed",
			"La respuesta en inglés sobre Luna ocuparía 5 mensajes. Se permiten 4 como máximo"},
		{"accent", mod("policy_es", "Resolución de marzo de 2026."), "The answer in Spanish about Luna has letters that make each message shorter: &#39;ó&#39;",
			"La respuesta en español sobre Luna tiene letras que hacen cada mensaje más corto: &#39;ó&#39;"},
	}
	// One organizer's browser in English, one in Spanish (the header's switch).
	browsers := map[string]*client{"en": e.signIn(orgPhone), "es": e.signIn(orgPhone)}
	browsers["es"].post("/console/lang", url.Values{"lang": {"es"}, "back": {"/console/policy"}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for lang, want := range map[string]string{"en": tt.en, "es": tt.es} {
				r := browsers[lang].post("/console/policy/luna-county", maps.Clone(tt.form))
				if r.code != http.StatusUnprocessableEntity {
					t.Fatalf("%s: %d, want 422", lang, r.code)
				}
				if !strings.Contains(r.body, want) || !strings.Contains(r.body, `role="alert"`) {
					t.Errorf("%s: the page does not say %q:\n%s", lang, want, r.body)
				}
				// What they typed is kept for them to fix.
				if !strings.Contains(r.body, "Deming Headlight 2026") {
					t.Errorf("%s: the form lost what was typed", lang)
				}
			}
		})
	}
	if ch, _ := e.policy.Changes(ctx, 10); len(ch) != 0 {
		t.Errorf("refused edits were logged: %+v", ch)
	}
	if got := e.memberAnswer("luna-county", "es"); got != before {
		t.Errorf("a refused edit changed the answer:\n%s", got)
	}
	if entries, _ := e.store.Audit(ctx, 50); hasAction(entries, "policy.edit") {
		t.Error("a refused edit was audited")
	}
}

func hasAction(entries []audit.Entry, action string) bool {
	for _, en := range entries {
		if en.Action == action {
			return true
		}
	}
	return false
}

// TestPolicyEditAnswersMembersAndIsLogged: an accepted edit is what the next member who asks
// gets, with a change log line (who, when, old → new) and one audit entry, from the service.
func TestPolicyEditAnswersMembersAndIsLogged(t *testing.T) {
	e := policyEnv(t)
	ctx := context.Background()
	c := e.signIn(orgPhone)
	page := c.get("/console/policy/luna-county")
	for _, want := range []string{"No hemos confirmado una norma local", `name="source_url" type="url"`, "required",
		`data-segments="count-en"`, `data-segments="count-es"`, `<script src="/console/static/segment.js" defer></script>`,
		"must fit in 4 text messages", "No changes made here yet.", "Mark checked today"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the entry page lacks %q", want)
		}
	}
	if strings.Contains(e.memberAnswer("luna-county", "en"), lunaEN) {
		t.Fatal("the member already gets the new text")
	}
	r := c.post("/console/policy/luna-county", lunaForm())
	if r.code != http.StatusSeeOther || r.header.Get("Location") != "/console/policy/luna-county?note=policy_saved" {
		t.Fatalf("edit: %d %q\n%s", r.code, r.header.Get("Location"), r.body)
	}
	if got := e.memberAnswer("luna-county", "es"); !strings.Contains(got, lunaES) || strings.Contains(got, "No hemos confirmado") {
		t.Errorf("a member asking about Luna now gets:\n%s", got)
	}
	if got := e.memberAnswer("luna-county", "en"); !strings.Contains(got, lunaEN) {
		t.Errorf("a member asking in English gets:\n%s", got)
	}
	after := c.get("/console/policy/luna-county?note=policy_saved")
	for _, want := range []string{"Saved. Members get the new text now.", "Changed by Olga Organizer on 2027-01-15",
		`<a href="https://www.demingheadlight.com/" rel="noreferrer noopener" target="_blank">Deming Headlight 2026</a>`,
		"Jan 15 2027, 15:00</time> · Olga Organizer",
		"Text in English: <del>No local policy confirmed; state law applies.</del> → <ins>" + strings.ReplaceAll(lunaEN, "'", "&#39;") + "</ins>",
		"The source backs the text: <del>no</del> → <ins>yes</ins>", "Last checked: <del>2026-11-26</del> → <ins>2027-01-15</ins>"} {
		if !strings.Contains(after.body, want) {
			t.Errorf("after the edit the entry page lacks %q\n%s", want, after.body)
		}
	}
	entries, _ := e.store.Audit(ctx, 50)
	n := 0
	for _, en := range entries {
		if en.Action == "policy.edit" {
			n++
			if en.Object != "policy luna-county" || en.Via != "console" || en.ActorName != "Olga Organizer" || !strings.HasPrefix(en.Actor, "organizer:") {
				t.Errorf("audit entry %+v", en)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d policy.edit audit entries, want 1", n)
	}
	ch, _ := e.policy.Changes(ctx, 10)
	if len(ch) != 1 || ch[0].Role != "organizer" || ch[0].Via != "console" {
		t.Errorf("change log %+v", ch)
	}

	// Marking it checked changes only the checked date, and says so.
	e.now = e.now.Add(24 * time.Hour)
	c = e.signIn(orgPhone) // the session ended after 12 idle hours
	if r := c.post("/console/policy/luna-county/checked", nil); r.header.Get("Location") != "/console/policy/luna-county?note=policy_checked" {
		t.Fatalf("mark checked: %d %q", r.code, r.header.Get("Location"))
	}
	if p, _ := e.places.Get("luna-county"); p.Checked != "2027-01-16" || p.PolicyEN != lunaEN {
		t.Errorf("after mark checked: %+v", p.Facts)
	}
	if r := c.get("/console/policy/luna-county"); !strings.Contains(r.body, "Last checked: <del>2027-01-15</del> → <ins>2027-01-16</ins>") {
		t.Error("the change log lacks the re-check")
	}
	if r := c.get("/console/policy/atlantis"); r.code != http.StatusNotFound {
		t.Errorf("an unknown place: %d", r.code)
	}
}

// TestPolicyExport: the download is places.toml with the edit in it, and the places loader
// reads it back with the same entries.
func TestPolicyExport(t *testing.T) {
	e := policyEnv(t)
	c := e.signIn(orgPhone)
	if r := c.post("/console/policy/luna-county", lunaForm()); r.code != http.StatusSeeOther {
		t.Fatalf("edit: %d", r.code)
	}
	r := c.get("/console/policy/export")
	if r.code != 200 || r.header.Get("Content-Disposition") != `attachment; filename="places.toml"` {
		t.Fatalf("export: %d %q", r.code, r.header.Get("Content-Disposition"))
	}
	got, err := places.Parse([]byte(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if err := places.SameEntries(e.places, got); err != nil {
		t.Error(err)
	}
	if p, _ := got.Get("luna-county"); p.PolicyES != lunaES || p.SourceURL != "https://www.demingheadlight.com/" || p.Checked != "2027-01-15" {
		t.Errorf("luna-county reads back as %+v", p.Facts)
	}
	if !strings.HasPrefix(r.body, "# places.toml:") {
		t.Error("the export lost the file's comments")
	}
}

// TestPolicyOrganizersOnly: a volunteer gets 403 on every policy page and changes nothing.
func TestPolicyOrganizersOnly(t *testing.T) {
	e := policyEnv(t)
	c := e.signIn(volPhone)
	for _, p := range []string{"/console/policy", "/console/policy/luna-county", "/console/policy/export"} {
		if r := c.get(p); r.code != http.StatusForbidden {
			t.Errorf("volunteer GET %s: %d, want 403", p, r.code)
		}
	}
	for _, p := range []string{"/console/policy/luna-county", "/console/policy/luna-county/checked"} {
		if r := c.post(p, lunaForm()); r.code != http.StatusForbidden {
			t.Errorf("volunteer POST %s: %d, want 403", p, r.code)
		}
	}
	if strings.Contains(c.get("/console/policy").body, `href="/console/policy"`) {
		t.Error("a volunteer's header links to the policy page")
	}
	if ch, _ := e.policy.Changes(context.Background(), 10); len(ch) != 0 {
		t.Errorf("a volunteer's POST changed the policy: %+v", ch)
	}
}

// TestPolicyCrossSitePostChangesNothing: an edit posted from another site, or without the
// session's token, is refused and members get what they got.
func TestPolicyCrossSitePostChangesNothing(t *testing.T) {
	e := policyEnv(t)
	c := e.signIn(orgPhone)
	before := e.memberAnswer("luna-county", "en")
	form := lunaForm()
	form.Set("csrf", c.csrf)
	for name, hdr := range map[string]map[string]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site"},
		"Origin elsewhere":          {"Origin": "https://evil.example"},
	} {
		for _, p := range []string{"/console/policy/luna-county", "/console/policy/luna-county/checked"} {
			if r := c.do("POST", p, form, hdr); r.code != http.StatusForbidden {
				t.Errorf("%s %s: %d, want 403", name, p, r.code)
			}
		}
	}
	noToken := lunaForm()
	if r := c.do("POST", "/console/policy/luna-county", noToken, map[string]string{"Sec-Fetch-Site": "same-origin"}); r.code != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", r.code)
	}
	if got := e.memberAnswer("luna-county", "en"); got != before {
		t.Errorf("a refused POST changed the answer:\n%s", got)
	}
	if ch, _ := e.policy.Changes(context.Background(), 10); len(ch) != 0 {
		t.Errorf("a refused POST was logged: %+v", ch)
	}
}

// TestSegmentCounterServed: the counter the policy and broadcast forms load is the segment
// package's, as a script the CSP allows.
func TestSegmentCounterServed(t *testing.T) {
	e := newEnv(t)
	r := e.client().get("/console/static/segment.js")
	if r.code != 200 || r.body != string(segment.CounterJS) || !strings.HasPrefix(r.header.Get("Content-Type"), "text/javascript") {
		t.Errorf("segment.js: %d %q, %d bytes", r.code, r.header.Get("Content-Type"), len(r.body))
	}
}
