package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/communityhotline/hotline/internal/browsertest"
)

// A member texts asking for a person; a volunteer signed in on the cases page sees the case
// without reloading, claims it and answers; the member's phone gets the answer from the
// hotline's number; the member's next text, and the volunteer's own SMS reply, appear in the
// page by themselves: one conversation.
func TestBrowserCases(t *testing.T) {
	b := browsertest.New(t)
	s := startSite(t, nil)
	const volPhone, member = "+15055550402", "+15055550499"
	s.addVolunteer("Vera Vigil", volPhone, []string{"es", "en"}, true)

	tab := s.signIn(t, b, volPhone, "en")
	s.open(t, tab, "/console/cases")
	browsertest.WaitText(t, tab, "main", "No open cases.")

	s.text(member, "persona")
	start := time.Now()
	browsertest.WaitText(t, tab, "#case-list", "Member #1")
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("the new case took %s to appear", waited)
	}
	browsertest.Screenshots(t, tab, "console-cases")

	s.open(t, tab, "/console/cases/1")
	browsertest.Do(t, tab, "claim case 1", chromedp.Submit(chromedp.CSS(`form[action$="/claim"] button`)))
	browsertest.WaitText(t, tab, "main", "You have it now")

	browsertest.Do(t, tab, "answer the member",
		chromedp.SendKeys(chromedp.CSS("#text"), "Hola, soy Vera. ¿Cómo te ayudo?"),
		chromedp.Submit(chromedp.CSS("#text")))
	browsertest.WaitText(t, tab, "main", "Sent.")
	if m := s.waitReceived(member, "Hola, soy Vera"); m.From != hotlineNumber {
		t.Errorf("the answer came from %q, not the hotline number", m.From)
	}

	// No reload from here: a mark on the window would be lost with one.
	browsertest.Eval[bool](t, tab, "window.stillHere = true")
	s.text(member, "Necesito un abogado")
	start = time.Now()
	browsertest.WaitText(t, tab, "#lines", "Necesito un abogado")
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("the member's answer took %s to appear", waited)
	}
	s.text(volPhone, "#1 Te mando la lista por aquí")
	browsertest.WaitText(t, tab, "#lines", "Te mando la lista por aquí")
	s.waitReceived(member, "Te mando la lista por aquí")
	if !browsertest.Eval[bool](t, tab, "window.stillHere === true") {
		t.Error("the page reloaded to show new lines")
	}
	body := browsertest.Eval[string](t, tab, "document.body.innerText")
	if strings.Contains(body, member) || strings.Contains(body, member[2:]) {
		t.Error("the case page shows the member's number")
	}
	browsertest.Screenshots(t, tab, "console-case")
}
