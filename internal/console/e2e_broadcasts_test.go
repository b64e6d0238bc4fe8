package console_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/communityhotline/hotline/internal/browsertest"
	"github.com/communityhotline/hotline/internal/segment"
)

// Organizer A writes an alert for an area in both languages, watching the live counter agree
// with the server's (ñ is GSM-7, á is not), and asks for approval; organizer B, another
// person in another browser, approves it; the page follows the send until it is done, and
// every subscriber's phone gets the alert once, in their language.
func TestBrowserBroadcastComposeApproveSend(t *testing.T) {
	b := browsertest.New(t)
	s := startSite(t, map[string]string{"HOTLINE_BROADCAST_APPROVALS": "1", "HOTLINE_COST_PER_SEGMENT": "0.0079"})
	const orgA, orgB = "+15055550401", "+15055550402"
	s.addOrganizer("Ana Aragón", orgA, "en")
	s.addOrganizer("Beto Baca", orgB, "es")
	members := map[string]string{"+15055550411": "es", "+15055550412": "es", "+15055550413": "en"}
	for phone, lang := range members {
		greeting, yes := "hola", "si"
		if lang == "en" {
			greeting, yes = "hello", "yes"
		}
		for _, msg := range []string{greeting, "3", "ABQ", yes} {
			s.text(phone, msg)
		}
	}

	tab := s.signIn(t, b, orgA, "en")
	s.open(t, tab, "/console/broadcasts/new")
	browsertest.WaitText(t, tab, "fieldset.areas", "2 in Spanish · 1 in English")
	browsertest.Do(t, tab, "tick the area", chromedp.Click(chromedp.CSS(`input[name="area"]`)))

	// The counter: GSM-7 for plain text, still GSM-7 with ñ (in the GSM-7 alphabet), UCS-2
	// with á (not in it) — and always what the server's counter says of the same text.
	counter := func(step, want string) {
		t.Helper()
		enc := browsertest.Eval[string](t, tab, `document.getElementById("count-es").dataset.encoding`)
		if enc != want {
			t.Errorf("%s: the counter says %s, want %s", step, enc, want)
		}
		text := browsertest.Eval[string](t, tab, `document.getElementById("text-es").value`)
		info := segment.Count(text)
		sms := browsertest.Eval[string](t, tab, `document.getElementById("count-es").dataset.sms`)
		chars := browsertest.Eval[string](t, tab, `document.getElementById("count-es").dataset.chars`)
		if string(info.Encoding) != enc || strconv.Itoa(info.Segments) != sms || strconv.Itoa(info.Chars) != chars {
			t.Errorf("%s: the page counts %s chars, %s, %s SMS; the server %+v", step, chars, enc, sms, info)
		}
	}
	browsertest.Do(t, tab, "type the Spanish text", chromedp.SendKeys(chromedp.CSS("#text-es"), "Retenes en la I-25 hoy. Pregunte en el "))
	counter("plain text", "GSM-7")
	browsertest.Do(t, tab, "type ñ", chromedp.SendKeys(chromedp.CSS("#text-es"), "año"))
	counter("with ñ", "GSM-7")
	browsertest.Do(t, tab, "type á", chromedp.SendKeys(chromedp.CSS("#text-es"), " y llame más tarde."))
	counter("with á", "UCS-2")
	if got := browsertest.Eval[string](t, tab, `document.getElementById("count-es").textContent`); !strings.Contains(got, "UCS-2 · 1 SMS each") || !strings.Contains(got, "people: 2") {
		t.Errorf("the counter shows %q", got)
	}
	browsertest.Do(t, tab, "type the English text", chromedp.SendKeys(chromedp.CSS("#text-en"), "Checkpoints on I-25 today."))
	browsertest.Screenshots(t, tab, "console-broadcasts-compose")

	browsertest.Do(t, tab, "save and preview", chromedp.Click(chromedp.CSS(`#compose button`)))
	browsertest.WaitText(t, tab, "main", "Saved. It is not sent yet")
	page := browsertest.Eval[string](t, tab, "document.querySelector('main').innerText")
	for _, want := range []string{"Draft", "Ana Aragón", "People: 2 · 1 SMS each · UCS-2", "People: 1 · 1 SMS each · GSM-7", "People: 3"} {
		if !strings.Contains(page, want) {
			t.Errorf("the preview lacks %q:\n%s", want, page)
		}
	}
	path := browsertest.Eval[string](t, tab, "location.pathname")
	browsertest.Do(t, tab, "ask for approval", chromedp.Click(chromedp.CSS(`form[action$="/send"] button`)))
	browsertest.WaitText(t, tab, "#bc-state", "Waiting for approval")
	s.waitReceived(orgB, "") // the other organizer is asked by text

	// B, another person, approves it: it is sent.
	other := s.signIn(t, browsertest.New(t), orgB, "es")
	s.open(t, other, path)
	browsertest.WaitText(t, other, "#bc-state", "Esperando aprobación")
	browsertest.Do(t, other, "approve", chromedp.Click(chromedp.CSS(`form[action$="/approve"] button`)))
	browsertest.WaitText(t, other, "main", "Aprobada")
	browsertest.Screenshots(t, other, "console-broadcasts-progress")
	browsertest.WaitText(t, other, "#bc-state", "Terminada")
	if got := browsertest.Eval[string](t, other, `document.querySelector('[data-count="sent"]').textContent`); got != "3" {
		t.Errorf("sent: %s, want 3", got)
	}
	browsertest.Screenshots(t, other, "console-broadcasts-done")
	for phone, lang := range members {
		want := map[string]string{"es": "llame más tarde", "en": "Checkpoints on I-25"}[lang]
		s.waitReceived(phone, want)
		n := 0
		for _, m := range s.received(phone) {
			if strings.Contains(m.Body, "I-25") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("a member got the alert %d times", n)
		}
	}

	s.open(t, tab, "/console/broadcasts")
	browsertest.WaitText(t, tab, "main table", "Done")
	browsertest.Screenshots(t, tab, "console-broadcasts")
}
