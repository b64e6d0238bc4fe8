package console_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/communityhotline/hotline/internal/browsertest"
)

// An organizer corrects Luna County's entry in the browser, both texts with a source link and
// a date; the next member who texts the hotline about Luna gets the new text (issue 13: "a
// policy edit answers the next SMS lookup"). On the way, the live counter warns of an accent
// and the server refuses it, in the organizer's language.
func TestBrowserPolicyEditAnswersTheNextText(t *testing.T) {
	b := browsertest.New(t)
	s := startSite(t, nil)
	const orgPhone = "+15055550401"
	s.addOrganizer("Olivia Ortiz", orgPhone, "en")
	const (
		newEN = "Resolution of March 2026: the county jail holds no one for ICE without a judge's order."
		newES = "Resoluciones de marzo de 2026: la carcel del condado no detiene a nadie para ICE sin orden de un juez."
	)
	askLuna := func(member string) string {
		s.text(member, "hola")
		s.text(member, "2")
		return strings.Join(s.text(member, "condado de luna"), "\n")
	}
	if before := askLuna("+15055550402"); !strings.Contains(before, "Condado de Luna") || strings.Contains(before, newES) {
		t.Fatalf("before the edit a member gets:\n%s", before)
	}

	tab := s.signIn(t, b, orgPhone, "en")
	s.open(t, tab, "/console/policy")
	browsertest.WaitText(t, tab, "main", "No local policy confirmed")
	browsertest.WaitText(t, tab, "main", "Luna")
	browsertest.Screenshots(t, tab, "console-policy")

	s.open(t, tab, "/console/policy/luna-county")
	browsertest.WaitText(t, tab, "main h1", "Luna")
	if rel := browsertest.Eval[string](t, tab, `(document.querySelector("dl.facts a[href^='http']") || {rel: "none"}).rel`); rel != "none" && rel != "noreferrer noopener" {
		t.Errorf("the source link's rel is %q", rel)
	}
	// The counter counts as the server does: an accent turns the Spanish text to UCS-2.
	// fill replaces a field's value as pasting would, so the counter hears an input event.
	fill := func(sel, v string) {
		t.Helper()
		js, _ := json.Marshal([]string{sel, v})
		browsertest.Eval[bool](t, tab, `(([sel, v]) => { const f = document.querySelector(sel); f.value = v;
			f.dispatchEvent(new Event("input", {bubbles: true})); return true })(`+string(js)+`)`)
	}
	fill("#policy_es", "")
	browsertest.Do(t, tab, "type the Spanish text with an accent", chromedp.SendKeys(chromedp.CSS("#policy_es"), "Resolución de marzo de 2026."))
	browsertest.WaitText(t, tab, "#count-es", "UCS-2")
	fill("#policy_en", newEN)
	fill("#source", "Deming Headlight 2026")
	fill("#source_url", "https://www.demingheadlight.com/")
	fill("#policy_date", "2026-03")
	browsertest.Do(t, tab, "mark the text backed by its source and save",
		chromedp.Click(chromedp.CSS(`input[name="verified"]`)),
		chromedp.Click(chromedp.CSS(`form.edit button`)))
	browsertest.WaitText(t, tab, `[role="alert"]`, "The answer in Spanish about Luna has letters that make each message shorter")
	if got := askLuna("+15055550403"); strings.Contains(got, "Resoluci") {
		t.Fatalf("a refused edit reached a member:\n%s", got)
	}

	// Without the accent it is saved, and the page says so.
	fill("#policy_es", newES)
	browsertest.WaitText(t, tab, "#count-es", "GSM-7")
	browsertest.Do(t, tab, "save", chromedp.Click(chromedp.CSS(`form.edit button`)))
	browsertest.WaitText(t, tab, ".note", "Saved. Members get the new text now.")
	browsertest.WaitText(t, tab, "ul.log", "Olivia Ortiz")
	browsertest.WaitText(t, tab, "ul.log", "Web address of the source")
	browsertest.Screenshots(t, tab, "console-policy-entry")

	// The next member who asks gets the new text, in Spanish.
	after := askLuna("+15055550404")
	if !strings.Contains(after, newES) || strings.Contains(after, "No hemos confirmado") {
		t.Errorf("after the edit a member gets:\n%s", after)
	}
	// The change log and the audit entry name the organizer, once.
	entries, err := s.App.Store().Audit(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Action == "policy.edit" && e.ActorName == "Olivia Ortiz" && e.Via == "console" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d policy.edit audit entries by Olivia from the console, want 1", n)
	}
}
