// Package whatsapp carries out WhatsApp's rules for the messages the hotline sends outside a
// reply. A business may write a member freely only within 24 hours of the member's last
// message (the customer service window); past it, only a template Meta approved. So an
// alert to a member outside the window goes as the alert template, its text the template's
// variable; a volunteer's reply goes as "a message waits for you, reply to read it" and
// is held until the member writes again; and with no template configured, nothing goes
// (Twilio would refuse free text with 63016), and the skip is counted.
//
// The decision (Decide) is pure. The rest wraps the parts that send and answer: a Sender
// that decides for every message to one member, an Answerer that records each WhatsApp
// message's time and gives the member what was held, and what a status callback reports.
package whatsapp

import (
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/hotline"
)

// Window is WhatsApp's customer service window: how long after a member's last message the
// business may write them freely.
const Window = 24 * time.Hour

// OpenFor is how long after a member's last message the hotline takes the window for open:
// an hour short of Window, because a message decided at 23h59 can reach Meta after 24h (it
// waits its turn, a retry backs off, clocks differ), and a template is always allowed.
const OpenFor = Window - time.Hour

// Purpose is what a message outside a reply is for, which picks its template.
type Purpose string

// The purposes with a template each (one per language): an alert, whose one variable is
// the alert's text, and a message that waits for the member (a volunteer's reply), whose
// template says so and has no variables.
const (
	Alert Purpose = "alert"
	Reply Purpose = "reply"
)

// Templates are the approved templates' Content SIDs ("HX…") by purpose and language.
type Templates map[Purpose]map[string]string

// Action is how a message is to go.
type Action int

// The three ways a message to a member can go.
const (
	// FreeText: as written, the member is inside the window (or not on WhatsApp).
	FreeText Action = iota
	// Template: as the approved template Decision.ContentSid.
	Template
	// Skip: not at all; outside the window with no template for it.
	Skip
)

func (a Action) String() string {
	switch a {
	case FreeText:
		return "free text"
	case Template:
		return "template"
	case Skip:
		return "skip"
	}
	return "unknown"
}

// Decision is how one message goes.
type Decision struct {
	Action Action
	// ContentSid is the template, with Template.
	ContentSid string
}

// Decide says how a message for purpose, to a member on channel ch who speaks lang and last
// wrote at lastInbound (zero: not known to have written), goes at now. A member not on
// WhatsApp gets free text. On WhatsApp, a member who wrote within OpenFor gets free text
// (a clock slightly behind, a last message a moment "in the future", counts as inside);
// any other gets the purpose's template in their language, or nothing when there is none:
// another language's template would speak to them in a language they did not choose.
func Decide(lastInbound, now time.Time, ch hotline.Channel, p Purpose, lang string, t Templates) Decision {
	if ch != hotline.WhatsApp {
		return Decision{Action: FreeText}
	}
	if !lastInbound.IsZero() && now.Sub(lastInbound) <= OpenFor {
		return Decision{Action: FreeText}
	}
	if sid := t[p][lang]; sid != "" {
		return Decision{Action: Template, ContentSid: sid}
	}
	return Decision{Action: Skip}
}

// LastInbound is when a member last wrote, as far as the hotline knows: the later of their
// state's Active (Unix seconds, 0 when not kept, as for a member at home) and the time the
// WhatsApp record kept (zero when none).
func LastInbound(active int64, recorded time.Time) time.Time {
	var fromState time.Time
	if active > 0 {
		fromState = time.Unix(active, 0)
	}
	if recorded.After(fromState) {
		return recorded
	}
	return fromState
}

// MaxVariable is the most characters of an alert put in the alert template's variable.
// WhatsApp refuses a template whose text and variables pass 1,024 characters (Twilio
// 63021), and the template's own words take some: 900 leaves them 124.
const MaxVariable = 900

// AlertVariables is the alert template's ContentVariables for an alert's text: {"1": text}
// with the text on one line (WhatsApp refuses a variable with a line break, a tab or more
// than four spaces in a row), cut to MaxVariable characters at a word, with "…" when cut.
// An empty text becomes "…": Twilio refuses an empty variable (21656).
func AlertVariables(text string) string {
	v := flatten(text)
	if utf8.RuneCountInString(v) > MaxVariable {
		cut := []rune(v)[:MaxVariable-1]
		if i := lastSpace(cut); i > MaxVariable/2 {
			cut = cut[:i]
		}
		v = strings.TrimRightFunc(string(cut), unicode.IsSpace) + "…"
	}
	if v == "" {
		v = "…"
	}
	b, _ := json.Marshal(map[string]string{"1": v}) // a map of strings always encodes
	return string(b)
}

// flatten puts text on one line: every run of white space (line breaks included) becomes one
// space, and the ends are trimmed.
func flatten(text string) string {
	return strings.Join(strings.Fields(text), " ")
}

// lastSpace is the index of the last space in r, -1 if none.
func lastSpace(r []rune) int {
	for i := len(r) - 1; i >= 0; i-- {
		if r[i] == ' ' {
			return i
		}
	}
	return -1
}
