package content

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/escalation"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/locale"
	"github.com/communityhotline/hotline/internal/organizer"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/render"
	"github.com/communityhotline/hotline/internal/segment"
	"github.com/communityhotline/hotline/internal/staff"
)

// BaseVars are the variables the renderer gives every message (cmd/hotline sets them from
// the configuration): they need no sample data.
var BaseVars = []string{"Program", "Contact", "Minutes"}

// Audience says who reads a message, which decides whether its length may fail the check.
type Audience string

// The audiences.
const (
	// ForMember is a reply or notice to a member, who may pay for every segment: held to
	// the segment budget.
	ForMember Audience = "member"
	// ForStaff is a message to a volunteer or an organizer: its length is reported only.
	ForStaff Audience = "staff"
	// ForDraft becomes an alert draft, which an organizer reviews (the preview shows what it
	// costs) before any member gets it: its length is reported only.
	ForDraft Audience = "draft"
)

// AudienceOf returns who reads message id.
func AudienceOf(id string) Audience {
	switch {
	case slices.Contains(organizer.MessageIDs, id), slices.Contains(escalation.StaffMessageIDs, id), slices.Contains(staff.LinkMessageIDs, id),
		strings.HasPrefix(id, escalation.LangNameID("")): // named in volunteers' messages
		return ForStaff
	case slices.Contains(escalation.DraftMessageIDs, id):
		return ForDraft
	}
	return ForMember
}

// Sample is one way a message is rendered: its data (besides BaseVars) and the numbered
// options that come with it.
type Sample struct {
	Data    map[string]string
	Options []flow.Choice
	// From says whose data it is, for reports ("Albuquerque", "10 areas").
	From string
	// Variant marks data made up to render a branch that the real data does not reach (a
	// flag such as {{if .DOJ}} turned the other way): it must render, but it is not a real
	// message, so it does not count towards the longest.
	Variant bool
}

// Samples returns the data message id is rendered with in lang: real data, from where the
// code that renders it takes it (every place in the directory for a policy answer, the
// longest list of areas a member can follow, the caps on free text), each with the options
// it is shown with, and every flag its template tests turned both ways. A message that
// uses a variable this file does not know how to fill is an error: say where its data
// comes from in producers below. A channel's variant ("policy_answer_voice") is rendered
// where its message is, so it gets the message's data and menus.
func (c Content) Samples(id, lang string) ([]Sample, error) {
	from, _ := render.BaseID(id)
	vars, err := c.Catalog.Vars(lang, id)
	if err != nil {
		return nil, err
	}
	conds, err := c.Catalog.Conditions(lang, id)
	if err != nil {
		return nil, err
	}
	var samples []Sample
	if produce, ok := producers[from]; ok {
		samples = produce(sampler{c: c, lang: lang})
	} else {
		for _, v := range vars {
			if !slices.Contains(BaseVars, v) {
				return nil, fmt.Errorf("message %q uses {{.%s}}, and internal/content/samples.go does not say where its data comes from", id, v)
			}
		}
		samples = []Sample{{}}
	}
	// Options from the flows: a node's menu goes with its last message.
	if menus := c.menusOf(from); len(menus) > 0 {
		var withMenus []Sample
		for _, s := range samples {
			if len(s.Options) > 0 {
				withMenus = append(withMenus, s)
				continue
			}
			for _, m := range menus {
				s.Options = m
				withMenus = append(withMenus, s)
			}
		}
		samples = withMenus
	}
	return withFlagsFlipped(samples, conds), nil
}

// menusOf returns the menus that follow message id in the flows.
func (c Content) menusOf(id string) [][]flow.Choice {
	var menus [][]flow.Choice
	for _, nid := range c.Flows.NodeIDs() {
		n, _ := c.Flows.Node(nid)
		if len(n.Menu) == 0 || len(n.Say) == 0 || n.Say[len(n.Say)-1] != id {
			continue
		}
		opts := make([]flow.Choice, len(n.Menu))
		for i, o := range n.Menu {
			opts[i] = flow.Choice{Number: i + 1, Label: o.Label}
		}
		if !slices.ContainsFunc(menus, func(m []flow.Choice) bool { return slices.Equal(m, opts) }) {
			menus = append(menus, opts)
		}
	}
	return menus
}

// withFlagsFlipped adds, for every tested variable whose values are flags ("1" or ""), a
// variant of each sample with the flag turned the other way, so both branches render even
// where no real data takes one of them.
func withFlagsFlipped(samples []Sample, conds []locale.Condition) []Sample {
	var tested []string
	for _, c := range conds {
		tested = append(tested, c.Vars...)
	}
	slices.Sort(tested)
	out := samples
	for _, v := range slices.Compact(tested) {
		isFlag := true
		for _, s := range samples {
			if val, ok := s.Data[v]; !ok || (val != "" && val != "1") {
				isFlag = false
				break
			}
		}
		if !isFlag {
			continue
		}
		for _, s := range samples {
			flipped := maps.Clone(s.Data)
			flipped[v] = flagOf(s.Data[v] == "")
			out = append(out, Sample{Data: flipped, Options: s.Options, From: s.From + ", " + v + " flipped", Variant: true})
		}
	}
	return out
}

// producers fill the messages whose data is not only BaseVars, each from where the code that
// renders it takes its data. Keep them in step with that code.
var producers = map[string]func(g sampler) []Sample{
	// internal/actions (flows/policy.toml, flows/alerts.toml)
	"policy_answer":       sampler.placeAnswers,
	"policy_state_law":    sampler.stateLaw,
	"policy_unknown":      sampler.suggestion,
	"alerts_unknown":      sampler.suggestion,
	"policy_suggest":      sampler.suggestionList,
	"alerts_suggest":      sampler.suggestionList,
	"policy_choose":       sampler.ambiguous,
	"alerts_choose":       sampler.ambiguous,
	"alerts_confirm":      func(g sampler) []Sample { return g.areaLists("Pending", actions.MaxAreas) },
	"alerts_subscribed":   func(g sampler) []Sample { return g.areaLists("Areas", actions.MaxAreas) },
	"alerts_manage":       func(g sampler) []Sample { return g.areaLists("Areas", actions.MaxAreas) },
	"alerts_remove_which": sampler.areaChoices,
	"alerts_removed":      sampler.removed,
	"sources":             sampler.sources,

	// internal/render: a menu option, spoken
	"voice_option": func(g sampler) []Sample {
		return []Sample{{Data: map[string]string{"Label": "leyes y policía de su condado", "Number": "9"}, From: "the longest menu label"}}
	},

	// the voice line's edge: the whisper to the volunteer who answers, and a call nobody
	// answered, both naming the case the call opened
	"voice_whisper":   func(g sampler) []Sample { return g.caseNumber() },
	"voice_no_answer": func(g sampler) []Sample { return g.caseNumber() },
	"voice_case_open": func(g sampler) []Sample { return g.caseNumber() },

	// internal/escalation, to members
	"case_joined": sampler.volunteerJoined,
	// an emergency's advice, and the same with nobody on call to find
	"urgent_safety":     sampler.nobodyOrNot,
	"urgent_home":       sampler.nobodyOrNot,
	"urgent_detained":   sampler.nobodyOrNot,
	"urgent_checkpoint": sampler.nobodyOrNot,
	"urgent_work":       sampler.nobodyOrNot,
	"urgent_street":     sampler.nobodyOrNot,
	// to volunteers and organizers
	"report_alert":         sampler.reportAlert,
	"vol_page":             sampler.page,
	"vol_on":               sampler.onCall,
	"vol_cases":            sampler.cases,
	"vol_from_member":      sampler.fromMember,
	"vol_verified":         func(g sampler) []Sample { return g.caseNumber("ID") },
	"org_report_draft":     sampler.reportDraft,
	"org_case_unclaimed":   sampler.unclaimed,
	"org_case_urgent":      sampler.urgent,
	"vol_claimed":          sampler.claimed,
	"vol_taken":            func(g sampler) []Sample { return g.caseNumber() },
	"vol_no_case":          func(g sampler) []Sample { return g.caseNumber() },
	"vol_closed":           func(g sampler) []Sample { return g.caseNumber() },
	"vol_false":            func(g sampler) []Sample { return g.caseNumber() },
	"vol_verified_no_area": func(g sampler) []Sample { return g.caseNumber() },
	"org_report_no_area":   func(g sampler) []Sample { return g.caseNumber() },
	"vol_claimed_report":   func(g sampler) []Sample { return g.caseNumber() },
	"vol_claim_first":      func(g sampler) []Sample { return g.caseNumber() },
	"vol_report_no_relay":  func(g sampler) []Sample { return g.caseNumber() },
	"vol_member_left":      func(g sampler) []Sample { return g.caseNumber() },
	"vol_member_menu":      func(g sampler) []Sample { return g.caseNumber() },
	"vol_caller_no_texts":  func(g sampler) []Sample { return g.caseNumber() },

	// internal/organizer
	"org_area_unknown":       sampler.orgAreaUnknown,
	"org_ask_en":             sampler.orgArea,
	"org_preview":            sampler.orgPreview,
	"org_sending":            func(g sampler) []Sample { return g.broadcastID() },
	"org_approval_requested": func(g sampler) []Sample { return g.broadcastID() },
	"org_approved":           sampler.approved,
	"org_not_found":          func(g sampler) []Sample { return g.broadcastID() },
	"org_already_approved":   func(g sampler) []Sample { return g.broadcastID() },
	"org_canceled":           sampler.canceled,
	"org_wrong_state":        sampler.wrongState,
	"org_show":               sampler.show,
	"report_time":            sampler.reportTime,
	"org_approve_request":    sampler.approveRequest,
	"org_approved_notice":    sampler.approvedNotice,

	// internal/staff: a WhatsApp link code, 6 digits
	"wa_link_code": func(g sampler) []Sample {
		return []Sample{{Data: map[string]string{"Code": "123456"}, From: "a code"}}
	},
}

// Free text is sampled at its cap, the longest it can be.
const (
	// maxName is the longest volunteer or organizer name the admin API takes.
	maxName = 100
	// largeCount stands for a count that grows with the hotline (recipients, case numbers).
	largeCount = 100000
)

type sampler struct {
	c    Content
	lang string
}

func (g sampler) dir() *places.Directory { return g.c.Places }

// labels returns every place's name in the sampler's language, longest first.
func (g sampler) labels() []string {
	var out []string
	for _, p := range g.dir().Places() {
		out = append(out, p.Label(g.lang))
	}
	slices.SortStableFunc(out, func(a, b string) int { return cmp.Compare(utf8.RuneCountInString(b), utf8.RuneCountInString(a)) })
	return out
}

func (g sampler) placeAnswers() []Sample {
	var out []Sample
	for _, p := range g.dir().Places() {
		out = append(out, Sample{Data: actions.PlaceAnswer(g.dir(), p, g.lang), From: p.Label(g.lang)})
	}
	return out
}

// sources are the links behind every answer that cites something (every place, the state
// law), chosen as the sources action chooses them for each node that runs it.
func (g sampler) sources() []Sample {
	var out []Sample
	for _, id := range g.c.Flows.NodeIDs() {
		n, _ := g.c.Flows.Node(id)
		if n.Do != "sources" {
			continue
		}
		max, _ := strconv.Atoi(n.With["max_chars"])
		cites := map[string]string{actions.LawCite: "the state law"}
		for _, p := range g.dir().Places() {
			cites[actions.PlaceCite(p.ID)] = p.Label(g.lang)
		}
		for _, id := range g.c.Sources.Messages() {
			cites[actions.MessageCite(id)] = id
		}
		for _, cite := range slices.Sorted(maps.Keys(cites)) {
			if links := actions.FitLinks(actions.SourceLinks(g.dir(), g.c.Sources, cite), max); len(links) > 0 {
				out = append(out, Sample{Data: map[string]string{"Links": strings.Join(links, "\n")}, From: cites[cite]})
			}
		}
	}
	return out
}

func (g sampler) stateLaw() []Sample {
	return []Sample{{Data: actions.StateLawAnswer(g.dir(), g.lang), From: "state law"}}
}

// suggestion is what a lookup that found nothing suggests by name: nothing, or one place
// (the longest name); several are offered as a numbered list (suggestionList).
func (g sampler) suggestion() []Sample {
	return []Sample{
		{Data: map[string]string{"Suggestions": ""}, From: "no suggestion"},
		{Data: map[string]string{"Suggestions": g.labels()[0]}, From: "1 suggestion"},
	}
}

// suggestionList is the most places a lookup suggests, with the longest names, numbered.
func (g sampler) suggestionList() []Sample {
	names := g.labels()[:places.MaxSuggestions]
	opts := make([]flow.Choice, len(names))
	for i, n := range names {
		opts[i] = flow.Choice{Number: i + 1, Text: n}
	}
	return []Sample{{Options: opts, From: fmt.Sprintf("%d suggestions", len(names))}}
}

// ambiguous are the real "which one?" lists: every name the directory gives to several places.
func (g sampler) ambiguous() []Sample {
	var out []Sample
	seen := map[string]bool{}
	for _, p := range g.dir().Places() {
		r := g.dir().Lookup(p.Name)
		if len(r.Choices) < 2 || seen[p.Name] {
			continue
		}
		seen[p.Name] = true
		out = append(out, Sample{Options: choicesOf(r.Choices, g.lang), From: p.Name})
	}
	return out
}

// areaLists are lists of areas as the alert actions join them: one area, and the longest
// list of n a member can have.
func (g sampler) areaLists(v string, n int) []Sample {
	names := g.labels()
	short := names[len(names)-1]
	return []Sample{
		{Data: map[string]string{v: short}, From: "1 area"},
		{Data: map[string]string{v: strings.Join(names[:n], ", ")}, From: fmt.Sprintf("%d areas", n)},
	}
}

// areaChoices are a member's areas offered for removal, numbered.
func (g sampler) areaChoices() []Sample {
	names := g.labels()[:actions.MaxAreas]
	opts := make([]flow.Choice, len(names))
	for i, n := range names {
		opts[i] = flow.Choice{Number: i + 1, Text: n}
	}
	return []Sample{{Options: opts, From: fmt.Sprintf("%d areas", len(names))}}
}

// removed is an area removed, with none or the most areas left.
func (g sampler) removed() []Sample {
	names := g.labels()
	return []Sample{
		{Data: map[string]string{"Removed": names[0], "Areas": ""}, From: "none left"},
		{Data: map[string]string{"Removed": names[0], "Areas": strings.Join(names[1:actions.MaxAreas], ", ")}, From: fmt.Sprintf("%d left", actions.MaxAreas-1)},
	}
}

// volunteerJoined: HOTLINE_VOLUNTEER_NAMES=generic says "a volunteer"; first says the first
// name from the roster, which may be a whole name of maxName characters.
func (g sampler) volunteerJoined() []Sample {
	return []Sample{
		{Data: map[string]string{"Volunteer": ""}, From: "generic"},
		{Data: map[string]string{"Volunteer": strings.Repeat("n", maxName)}, From: "first name, at its cap"},
	}
}

// reportAlert is a verified report: what and when as the member wrote them, at the capture's
// cap, for the longest area name.
// reportAlert is a draft as escalation's draftTexts writes it: the reporter's words quoted
// at their cap, with and without a place.
func (g sampler) reportAlert() []Sample {
	text := strings.Repeat("t", escalation.MaxQuote) + "…"
	return []Sample{
		{Data: map[string]string{"Area": g.labels()[0], "What": text, "Where": text, "Time": g.time()}, From: "words quoted at their cap"},
		{Data: map[string]string{"Area": g.labels()[0], "What": text, "Where": "", "Time": g.time()}, From: "no place given"},
	}
}

// time is a report's time as report_time writes it in the sampler's language, at its longest.
func (g sampler) time() string {
	t, _ := g.c.Catalog.Text(g.lang, "report_time", g.reportTime()[0].Data)
	return t
}

func (g sampler) reportTime() []Sample {
	months, _ := g.c.Catalog.Text(g.lang, "months_short", nil)
	hours, _ := g.c.Catalog.Text(g.lang, "clock_hours", nil)
	return []Sample{{Data: escalation.ReportTimeData(time.Date(2024, 12, 26, 22, 55, 0, 0, time.UTC), time.UTC, months, hours), From: "a late December evening"}}
}

// draftTexts are both texts of the longest report draft, as organizers are shown them.
func (g sampler) draftTexts(d map[string]string) {
	for _, lang := range []string{"es", "en"} {
		text := strings.Repeat("t", escalation.MaxQuote) + "…"
		t, _ := g.c.Catalog.Text(lang, "report_alert", map[string]string{"Area": g.labels()[0], "What": text, "Where": text,
			"Time": sampler{c: g.c, lang: lang}.time()})
		d["Text"+strings.ToUpper(lang)] = t
	}
}

// nobodyOrNot is an emergency's advice as escalation leaves it: with the promise of a
// volunteer, and without it when nobody is on call (case_nobody follows).
func (g sampler) nobodyOrNot() []Sample {
	return []Sample{{Data: map[string]string{"Nobody": ""}, From: "volunteers on call"},
		{Data: map[string]string{"Nobody": "1"}, From: "nobody on call"}}
}

func (g sampler) caseNumber(more ...string) []Sample {
	d := map[string]string{"N": strconv.Itoa(largeCount)}
	for _, v := range more {
		d[v] = hotline.NewID()
	}
	return []Sample{{Data: d, From: "case " + d["N"]}}
}

func (g sampler) broadcastID() []Sample {
	return []Sample{{Data: map[string]string{"ID": hotline.NewID()}, From: "an alert id"}}
}

// page is a page as escalation's caseData builds it: an ordinary request with no area or
// words, and an urgent report with the longest area and the words quoted at their cap.
func (g sampler) page() []Sample {
	n := strconv.Itoa(largeCount)
	return []Sample{
		{Data: map[string]string{"N": n, "Urgent": "", "Situation": "", "Lang": g.langName(), "Area": "", "Report": "", "Text": "", "Call": ""}, From: "a request"},
		{Data: map[string]string{"N": n, "Urgent": "1", "Situation": g.situation(), "Lang": g.langName(), "Area": "", "Report": "", "Text": "", "Call": "1"},
			From: "an emergency by phone"},
		{Data: map[string]string{"N": n, "Urgent": "1", "Situation": "", "Lang": g.langName(), "Area": g.labels()[0], "Report": "1",
			"Text": strings.Repeat("t", escalation.MaxPageText) + "…"}, From: "an urgent report"},
		{Data: map[string]string{"N": n, "Urgent": "1", "Situation": g.situation(), "Lang": g.langName(), "Area": g.labels()[0], "Report": "",
			"Text": strings.Repeat("t", escalation.MaxPageText) + "…"}, From: "an emergency, its situation named"},
	}
}

// situation is the longest label of an emergency's situation in the sampler's language, as
// a page names it.
func (g sampler) situation() string {
	longest := ""
	for _, sit := range actions.Situations {
		if t, err := g.c.Catalog.Text(g.lang, "urgent_situation_"+sit, nil); err == nil && len(t) > len(longest) {
			longest = t
		}
	}
	return longest
}

// langNames are the configured languages' names in the sampler's language, as escalation
// shows them to volunteers, longest first.
func (g sampler) langNames() []string {
	var names []string
	for _, code := range g.c.Flows.Settings().Languages {
		name, err := g.c.Catalog.Text(g.lang, escalation.LangNameID(code), nil)
		if err != nil {
			name = code // reported by the flow check: the message is missing
		}
		names = append(names, name)
	}
	slices.SortStableFunc(names, func(a, b string) int { return cmp.Compare(utf8.RuneCountInString(b), utf8.RuneCountInString(a)) })
	return names
}

// langName is the longest name a case's language has for a volunteer.
func (g sampler) langName() string { return g.langNames()[0] }

func (g sampler) onCall() []Sample {
	return []Sample{{Data: map[string]string{"Langs": strings.Join(g.langNames(), ", ")}, From: "every language"}}
}

func (g sampler) cases() []Sample {
	var list []string
	for i := range 5 {
		list = append(list, "#"+strconv.Itoa(largeCount+i))
	}
	five := strings.Join(list, ", ")
	return []Sample{
		{Data: map[string]string{"Cases": "", "Waiting": ""}, From: "none"},
		{Data: map[string]string{"Cases": five, "Waiting": ""}, From: "5 cases"},
		{Data: map[string]string{"Cases": "", "Waiting": five}, From: "none held, 5 waiting"},
		{Data: map[string]string{"Cases": five, "Waiting": five}, From: "5 held, 5 waiting"},
	}
}

// claimed is a volunteer's claim, holding no other case or some.
func (g sampler) claimed() []Sample {
	n := strconv.Itoa(largeCount)
	return []Sample{
		{Data: map[string]string{"N": n, "Others": ""}, From: "the only case"},
		{Data: map[string]string{"N": n, "Others": "1"}, From: "with other cases"},
	}
}

// fromMember is a member's message relayed to the volunteer, at the relay's cap.
func (g sampler) fromMember() []Sample {
	return []Sample{{Data: map[string]string{"N": strconv.Itoa(largeCount), "Text": strings.Repeat("t", 3*flow.MaxCapture)}, From: "a relay at its cap"}}
}

func (g sampler) reportDraft() []Sample {
	d := map[string]string{"N": strconv.Itoa(largeCount), "ID": hotline.NewID(), "Area": g.labels()[0]}
	g.draftTexts(d)
	return []Sample{{Data: d, From: "the longest area and report"}}
}

func (g sampler) unclaimed() []Sample {
	n := strconv.Itoa(largeCount)
	return []Sample{
		{Data: map[string]string{"N": n, "Urgent": "", "Minutes": "1"}, From: "after 1 minute"},
		{Data: map[string]string{"N": n, "Urgent": "", "Minutes": "10"}, From: "after 10 minutes"},
		{Data: map[string]string{"N": n, "Urgent": "1", "Minutes": strconv.Itoa(largeCount)}, From: "urgent, long unclaimed"},
	}
}

func (g sampler) urgent() []Sample {
	n := strconv.Itoa(largeCount)
	return []Sample{
		{Data: map[string]string{"N": n, "Paged": "0", "Nobody": "1"}, From: "nobody on call"},
		{Data: map[string]string{"N": n, "Paged": "1", "Nobody": ""}, From: "one paged"},
		{Data: map[string]string{"N": n, "Paged": strconv.Itoa(largeCount), "Nobody": ""}, From: "many paged"},
	}
}

// orgAreaUnknown are the suggestions for an area an organizer typed: none, or the most
// places with the longest names, numbered as internal/organizer numbers them.
func (g sampler) orgAreaUnknown() []Sample {
	names := g.labels()[:places.MaxSuggestions]
	return []Sample{
		{Data: map[string]string{"Suggestions": ""}, From: "no suggestion"},
		{Data: map[string]string{"Suggestions": organizer.NumberedList(names)}, From: fmt.Sprintf("%d suggestions", len(names))},
	}
}

// orgArea is an alert's area: every subscriber ("") or the longest area name.
func (g sampler) orgArea() []Sample {
	return []Sample{
		{Data: map[string]string{"Areas": ""}, From: "every subscriber"},
		{Data: map[string]string{"Areas": g.labels()[0]}, From: "the longest area"},
	}
}

// orgPreview is a preview for every subscriber, with large counts and the most segments an
// alert of broadcast.MaxText characters can take.
func (g sampler) orgPreview() []Sample {
	var out []Sample
	for _, a := range g.orgArea() {
		d := a.Data
		big := strconv.Itoa(largeCount)
		most := strconv.Itoa(segment.Count(strings.Repeat("á", broadcast.MaxText)).Segments) // UCS-2
		d["ID"], d["RecipientsES"], d["RecipientsEN"], d["SegmentsES"], d["SegmentsEN"] = hotline.NewID(), big, big, most, most
		d["Cost"], d["Approvals"] = "1234.56", ""
		out = append(out, Sample{Data: d, From: a.From})
	}
	return out
}

// approveRequest is the request organizer.notices sends: a report's draft, as most are, and
// an alert an organizer wrote at the longest.
func (g sampler) approveRequest() []Sample {
	var out []Sample
	for _, a := range g.orgArea() {
		d := a.Data
		d["Name"], d["ID"], d["Reach"] = strings.Repeat("n", maxName), hotline.NewID(), strconv.Itoa(largeCount)
		g.draftTexts(d)
		out = append(out, Sample{Data: d, From: a.From + ", a report's draft"})
		long := maps.Clone(d)
		long["TextES"], long["TextEN"] = strings.Repeat("t", broadcast.MaxText), strings.Repeat("t", broadcast.MaxText)
		out = append(out, Sample{Data: long, From: a.From + ", the longest alert"})
	}
	return out
}

func (g sampler) approvedNotice() []Sample {
	var out []Sample
	for _, sent := range []string{"1", ""} {
		out = append(out, Sample{Data: map[string]string{"Name": strings.Repeat("n", maxName), "ID": hotline.NewID(), "Sent": sent}, From: "the longest name, sent " + strconv.Quote(sent)})
	}
	return out
}

func (g sampler) approved() []Sample {
	return []Sample{
		{Data: map[string]string{"ID": hotline.NewID(), "Sent": "1"}, From: "sent at once"},
		{Data: map[string]string{"ID": hotline.NewID(), "Sent": ""}, From: "approved before anyone asked to send"},
	}
}

func (g sampler) canceled() []Sample {
	return []Sample{{Data: map[string]string{"ID": ""}, From: "the draft being written"}, {Data: map[string]string{"ID": hotline.NewID()}, From: "an alert by its id"}}
}

// statusNames are the names of a broadcast's statuses in the sampler's language.
func (g sampler) statusNames() []string {
	var out []string
	for _, st := range []hotline.BroadcastStatus{hotline.Draft, hotline.AwaitingApproval, hotline.Sending, hotline.Done, hotline.Canceled} {
		t, _ := g.c.Catalog.Text(g.lang, "org_status_"+string(st), nil)
		out = append(out, t)
	}
	return out
}

func (g sampler) wrongState() []Sample {
	var out []Sample
	for _, name := range g.statusNames() {
		out = append(out, Sample{Data: map[string]string{"ID": hotline.NewID(), "StatusName": name}, From: name})
	}
	return out
}

// show is VER/SHOW as organizer.show fills it: a report's draft, for the longest areas.
func (g sampler) show() []Sample {
	var out []Sample
	for _, a := range g.orgArea() {
		d := a.Data
		big := strconv.Itoa(largeCount)
		d["ID"], d["RecipientsES"], d["RecipientsEN"], d["Cost"], d["Status"] = hotline.NewID(), big, big, "1234.56", string(hotline.AwaitingApproval)
		d["StatusName"], d["Open"], d["Approve"], d["Reach"] = g.statusNames()[1], "1", "1", big
		g.draftTexts(d)
		out = append(out, Sample{Data: d, From: a.From + ", a report's draft"})
	}
	return out
}

func choicesOf(ps []*places.Place, lang string) []flow.Choice {
	out := make([]flow.Choice, len(ps))
	for i, p := range ps {
		out[i] = flow.Choice{Number: i + 1, Text: p.Label(lang)}
	}
	return out
}

func flagOf(b bool) string {
	if b {
		return "1"
	}
	return ""
}
