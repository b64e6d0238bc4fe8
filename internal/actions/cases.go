package actions

import (
	"slices"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/places"
)

// OpenCase is the effect of a member asking for a person, writing urgent words, or finishing
// a report: the escalation package numbers the case and pages volunteers.
type OpenCase struct {
	Kind   string // "person" or "report"
	Urgent bool
	// Text is what the member wrote that opened the case.
	Text string
	// Area is a place id, when known.
	Area string
	// Report holds a report's answers: what, where, when.
	Report map[string]string
	// Situation is an emergency's situation ("home", "detained", "checkpoint", "work",
	// "street"), for the page and the reply; "" when unknown.
	Situation string
}

// LeftCase is the effect of a member leaving their case: by opting out (nothing more may
// reach them: the case closes and its volunteer is told), or by going back to the menus (a
// claimed case closes and its volunteer is told; an unclaimed request stays open, and the
// volunteer who claims it brings the member back).
type LeftCase struct {
	Case     int64
	OptedOut bool
}

// UrgentCase is the effect of a member already in a case writing danger words: the case
// becomes urgent and, while nobody has claimed it, every volunteer on call is paged.
type UrgentCase struct {
	Case      int64
	Text      string
	Situation string
}

// Situations are the situations of an emergency the flows name (flows/person.toml); each
// has a reply to the member (urgent_<situation>) and a label for pages
// (urgent_situation_<situation>).
var Situations = []string{"home", "detained", "checkpoint", "work", "street"}

// UrgentReply is the message with the rights for an emergency's situation: the generic one
// when the situation is not known.
func UrgentReply(situation string) string {
	if slices.Contains(Situations, situation) {
		return "urgent_" + situation
	}
	return "urgent_safety"
}

// EraseMember is the effect of BORRAR/DELETE confirmed: everything about the member goes,
// everywhere.
type EraseMember struct{}

// Cases returns the actions that open cases. dir resolves a report's area.
func Cases(dir *places.Directory) map[string]flow.Action {
	return map[string]flow.Action{
		// leave_case takes the member out of their conversation with a volunteer (MENU or
		// BORRAR while in it): their messages go to the menus again, and the case closes.
		"leave_case": {Run: func(c *flow.Context) string {
			if c.State.Case != 0 {
				c.Effects = append(c.Effects, LeftCase{Case: c.State.Case})
				c.State.Case = 0
			}
			return ""
		}},
		// open_case opens a case of the kind in `with` (kind = "person" or "report",
		// urgent = "1" for an emergency, situation = its situation when known). A member already in a case stays in it; danger
		// words make that case urgent.
		"open_case": {Args: []string{"kind"}, Results: []string{"opened", "already_open"}, Run: func(c *flow.Context) string {
			if c.State.Case != 0 {
				if c.With["urgent"] == "1" {
					c.Effects = append(c.Effects, UrgentCase{Case: c.State.Case, Text: c.Input, Situation: c.With["situation"]})
				}
				return "already_open"
			}
			oc := OpenCase{Kind: c.With["kind"], Urgent: c.With["urgent"] == "1", Text: c.Input, Situation: c.With["situation"]}
			if oc.Urgent {
				// SOURCE right after the rights for an emergency lists where they come from.
				c.Cite = MessageCite(UrgentReply(oc.Situation))
			}
			if oc.Kind == "person" && !oc.Urgent {
				// Asked for with a keyword or a menu number ("PERSONA", "4"), which tells a
				// volunteer nothing; danger words, by contrast, are the message.
				oc.Text = ""
			}
			if len(c.State.Areas) > 0 {
				oc.Area = c.State.Areas[0]
			}
			if oc.Kind == "report" {
				oc.Area = c.State.Data["area"]
				oc.Report = map[string]string{"what": c.State.Data["what"], "where": c.State.Data["where"], "when": c.State.Data["when"]}
				oc.Text = c.State.Data["what"]
			}
			c.Effects = append(c.Effects, oc)
			return "opened"
		}},
		// erase_member empties the member's state (the engine then drops them from every
		// alert list) and asks for the rest to be deleted.
		"erase_member": {Run: func(c *flow.Context) string {
			*c.State = flow.State{Lang: c.State.Lang}
			c.Effects = append(c.Effects, EraseMember{})
			return ""
		}},
		// report_area reads the area of a report; anything not a known place is kept as
		// free text in "where", so the member is never stuck.
		"report_area": {Run: func(c *flow.Context) string {
			r := dir.Find(c.Input)
			if r.Place != nil {
				setData(c.State, "area", r.Place.ID)
				c.Vars["Name"] = r.Place.Label(c.State.Lang)
			}
			return ""
		}},
	}
}
