package console_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/communityhotline/hotline/internal/browsertest"
	"github.com/communityhotline/hotline/internal/segment"
)

// simShown is a reply as the simulator page shows it: its words and what it costs.
type simShown struct {
	Text string `json:"text"`
	Meta string `json:"meta"`
}

// An organizer tries the hotline in the simulator, in Spanish: hola, the menu, a county's
// policy; each reply shows its characters, encoding and segments as segment.Count counts them.
// The member's language switch turns the answers to English. No phone receives anything.
func TestBrowserSimulator(t *testing.T) {
	b := browsertest.New(t)
	s := startSite(t, nil)
	const orgPhone = "+15055550401"
	s.addOrganizer("Olivia Ortiz", orgPhone, "es")
	tab := s.signIn(t, b, orgPhone, "es")
	received := len(s.Fake.Messages()) // the sign-in code

	s.open(t, tab, "/console/simulator")
	browsertest.WaitText(t, tab, "main h1", "Simulador")
	// The script sends without reloading the page: a mark set now outlives the conversation.
	browsertest.Eval[bool](t, tab, "window.simStayed = true")
	// say writes text as the test member and waits for the reply that contains want (words
	// the reply before does not have).
	say := func(text, want string) {
		t.Helper()
		browsertest.Do(t, tab, "write "+text,
			chromedp.SendKeys(chromedp.CSS("#sim-text"), text),
			chromedp.KeyEvent("\r"))
		browsertest.WaitText(t, tab, "#sim-log li:last-child", want)
	}
	say("hola", "1 Sus derechos")
	say("2", "código postal")
	say("Bernalillo", "Bernalillo")
	if !browsertest.Eval[bool](t, tab, "window.simStayed === true") {
		t.Error("sending reloaded the page: the script did not post it")
	}

	shown := browsertest.Eval[[]simShown](t, tab, `Array.from(document.querySelectorAll('#sim-log .sim-reply')).map(li => ({
		text: li.querySelector('.sim-text').textContent, meta: li.querySelector('.sim-meta').textContent}))`)
	if len(shown) < 3 {
		t.Fatalf("%d replies shown for three messages", len(shown))
	}
	for _, r := range shown {
		c := segment.Count(r.Text)
		if want := fmt.Sprintf("%d caracteres · %s · cuesta %d SMS", c.Chars, c.Encoding, c.Segments); r.Meta != want {
			t.Errorf("reply %q shows %q, want %q", r.Text, r.Meta, want)
		}
	}
	// From the top of the page, with nothing focused: a page scrolled to the text box is
	// captured only in part once the screenshot widens the window.
	browsertest.Eval[bool](t, tab, "document.activeElement.blur(), window.scrollTo(0, 0), true")
	browsertest.Screenshots(t, tab, "console-simulator")

	// The member's language: the button writes "English" in the chat, as a member would.
	browsertest.Do(t, tab, "switch the test member to English",
		chromedp.Click(chromedp.CSS(`form.sim-lang button[value="en"]`)))
	browsertest.WaitText(t, tab, "#sim-log", "in English")
	say("2", "Which county or city?")
	members := browsertest.Eval[[]string](t, tab, `Array.from(document.querySelectorAll('#sim-log .sim-member .sim-text')).map(p => p.textContent)`)
	if got := strings.Join(members, "|"); got != "hola|2|Bernalillo|English|2" {
		t.Errorf("the test member wrote %q", got)
	}

	// Starting over: a new test member, the conversation empty.
	browsertest.Do(t, tab, "start over", chromedp.Click(chromedp.CSS(`form.sim-restart button`)))
	browsertest.WaitText(t, tab, "#sim-log", "Nada todavía")

	// On a call: what the line says out loud, and the keys it listens for.
	browsertest.Do(t, tab, "put the trial on a call",
		chromedp.Click(chromedp.CSS(`form.sim-channel button[value="voice"]`)))
	browsertest.WaitText(t, tab, `form.sim-channel button[aria-pressed="true"]`, "Llamada")
	say("hola", "marque 1")
	if meta := browsertest.Eval[string](t, tab, `document.querySelector('#sim-log li:last-child .sim-meta').textContent`); !strings.HasPrefix(meta, "Se dice en voz alta · teclas: 1 ") {
		t.Errorf("a call's reply shows %q, want what is said and its keys", meta)
	}
	browsertest.Eval[bool](t, tab, "document.activeElement.blur(), window.scrollTo(0, 0), true")
	browsertest.Screenshots(t, tab, "console-simulator-call")

	if got := s.Fake.Messages(); len(got) != received {
		t.Errorf("the simulator texted someone: %d messages, then %d", received, len(got))
	}
}
