package console_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/communityhotline/hotline/internal/browsertest"
)

// An organizer signs in with the code the hotline texts them, in Spanish, and goes through the
// overview, the roster and the activity log; a volunteer who signs in sees only their pages.
func TestBrowserSignInAndRoster(t *testing.T) {
	b := browsertest.New(t)
	s := startSite(t, nil)
	const orgPhone, volPhone = "+15055550301", "+15055550302"
	s.addOrganizer("Olivia Ortiz", orgPhone, "es")
	s.addVolunteer("Victor Vega", volPhone, []string{"es", "en"}, false)

	tab := s.signIn(t, b, orgPhone, "es")
	browsertest.WaitText(t, tab, "header .who", "Olivia Ortiz")
	if code := s.received(orgPhone)[0]; code.From != hotlineNumber {
		t.Errorf("the code came from %q, not the hotline number", code.From)
	}
	browsertest.Screenshots(t, tab, "console-overview")

	s.open(t, tab, "/console/roster")
	browsertest.WaitText(t, tab, "main", "Victor Vega")
	body := browsertest.Eval[string](t, tab, "document.body.innerText")
	if strings.Contains(body, volPhone) || strings.Contains(body, orgPhone) || !strings.Contains(body, "0302") {
		t.Errorf("the roster shows phones other than by their last 4 digits:\n%s", body)
	}
	browsertest.Screenshots(t, tab, "console-roster")
	// Put the volunteer on call from the roster: the button says so in words.
	browsertest.Do(t, tab, "put Victor on call",
		chromedp.Submit(chromedp.CSS(`form[action$="/oncall"] button`)))
	browsertest.WaitText(t, tab, "main", "Victor Vega")

	s.open(t, tab, "/console/audit")
	browsertest.WaitText(t, tab, "main", "roster.oncall")
	browsertest.Screenshots(t, tab, "console-audit")

	// A volunteer sees neither the roster nor the log.
	vol := s.signIn(t, browsertest.New(t), volPhone, "en")
	s.open(t, vol, "/console/roster")
	browsertest.WaitText(t, vol, "main h1", "")
	if got := browsertest.Eval[string](t, vol, "document.querySelector('nav') ? document.querySelector('nav').innerText : ''"); strings.Contains(got, "Team") || strings.Contains(got, "Activity") {
		t.Errorf("a volunteer's menu offers %q", got)
	}
	if body := browsertest.Eval[string](t, vol, "document.body.innerText"); strings.Contains(body, "Victor Vega") && strings.Contains(body, "Olivia Ortiz") {
		t.Error("a volunteer was shown the roster")
	}
}
