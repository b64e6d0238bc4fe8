// Package content loads the hotline's data — flows, messages and the place directory — and
// checks them against each other, so the server, `hotline check` and the tests all load the
// same way and a defect stops them all alike.
package content

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/BurntSushi/toml"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/escalation"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/locale"
	"github.com/communityhotline/hotline/internal/organizer"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/sources"
	"github.com/communityhotline/hotline/internal/staff"
)

// PlacesFile is the policy data, inside the flows folder.
const PlacesFile = "data/places.toml"

// GoMessageIDs are the messages Go code renders itself (not named by a flow); Load makes sure
// they exist in every language.
var GoMessageIDs = slices.Concat([]string{"error_generic", "error_kept", "rate_limited", "media_unsupported", "voice_option"}, organizer.MessageIDs, escalation.MessageIDs, staff.LinkMessageIDs, VoiceMessageIDs)

// VoiceMessageIDs are the messages only the voice line says (locales/channels.<lang>.toml):
// its renderer's spoken menu option, and what the call's edge says around the flows (the
// language question, hints, hold, the whisper to the volunteer who answers, limits, goodbye).
var VoiceMessageIDs = []string{
	"voice_option", "voice_language_prompt", "voice_repeat_hint", "voice_menu_hint", "voice_danger_hint", "voice_no_input",
	"voice_goodbye", "voice_error", "voice_hold", "voice_whisper", "voice_no_answer", "voice_case_open", "voice_text_consent",
	"voice_text_ok", "voice_limit", "voice_unavailable_anonymous",
}

// KnownVars are the template variables the Go code supplies to messages: the renderer's
// base data, what the place, alert and case actions set, and what the organizer and
// volunteer commands render with. `hotline check` rejects a message using any other.
var KnownVars = []string{
	// every message (cmd/hotline's renderer)
	"Program", "Contact", "Minutes",
	// a menu option spoken by the voice renderer (internal/render), a call's case
	"Label", "Number", "Case",
	// places and alerts (internal/actions)
	"Name", "DHS", "DOJ", "Policy", "Source", "Checked", "CountyName", "CountyDHS", "CountyVerified",
	"Suggestions", "Pending", "Areas", "Removed", "Law", "Links",
	// organizers (internal/organizer)
	"ID", "RecipientsES", "RecipientsEN", "SegmentsES", "SegmentsEN", "Cost", "Approvals", "Text",
	"TextES", "TextEN", "Reach", "Status", "StatusName", "Open", "Approve", "Sent",
	// report drafts (internal/escalation)
	"Where", "Time", "Day", "Month", "Clock",
	// cases and volunteers (internal/escalation)
	"N", "Urgent", "Situation", "Lang", "Area", "Report", "Langs", "Volunteer", "Cases", "What", "When", "Paged", "Nobody",
	"Waiting", "Others", "Call",
	// staff linking their WhatsApp (internal/staff)
	"Code",
	// data the flows keep between messages (internal/actions)
	"choices", "pending", "area",
}

// AllowancesFile lists the member messages allowed more SMS segments than the budget, in the
// locales folder. It is optional.
const AllowancesFile = "segments.toml"

// Content is the loaded, cross-checked data.
type Content struct {
	// Sources are where the rights and urgent answers come from (flows/data/sources.toml).
	Sources *sources.Sources
	Flows   *flow.Set
	Catalog *locale.Catalog
	Places  *places.Directory
	// Allowances are the member messages that may take more segments than
	// HOTLINE_SEGMENT_BUDGET, and how many (AllowancesFile).
	Allowances map[string]int
}

// Load reads flows (with data/places.toml) from flowsFS and messages from localesFS, and
// checks every reference between them. zips is the ZIP table the place actions read; the
// caller keeps it filled.
func Load(flowsFS, localesFS fs.FS, zips *places.ZipTable) (Content, error) {
	dir, err := places.Load(flowsFS, PlacesFile)
	if err != nil {
		return Content{}, fmt.Errorf("flows/%s: %w", PlacesFile, err)
	}
	srcs, err := sources.Load(flowsFS, sources.File)
	if err != nil {
		return Content{}, fmt.Errorf("flows/%s: %w", sources.File, err)
	}
	set, err := flow.Load(flowsFS, actions.All(dir, zips, srcs))
	if err != nil {
		return Content{}, fmt.Errorf("flows:\n%w", err)
	}
	cat, err := locale.Load(localesFS)
	if err != nil {
		return Content{}, fmt.Errorf("locales: %w", err)
	}
	if errs := srcs.Check(cat); len(errs) > 0 {
		return Content{}, fmt.Errorf("flows/%s:\n%w", sources.File, errors.Join(errs...))
	}
	if err := checkCites(set, dir, srcs); err != nil {
		return Content{}, err
	}
	goIDs := slices.Clone(GoMessageIDs)
	for _, lang := range set.Settings().Languages {
		goIDs = append(goIDs, escalation.LangNameID(lang))
	}
	if probs := set.Check(cat, goIDs, KnownVars); len(probs) > 0 {
		return Content{}, fmt.Errorf("flows and messages:\n%w", probs)
	}
	// A menu option is chosen by its label's words too ("hablar con alguien"), as members
	// read them.
	set.UseLabels(cat.Languages(), func(lang, id string) (string, bool) {
		t, err := cat.Text(lang, id, nil)
		return t, err == nil
	})
	allow, err := loadAllowances(localesFS, cat)
	if err != nil {
		return Content{}, fmt.Errorf("locales/%s: %w", AllowancesFile, err)
	}
	return Content{Flows: set, Catalog: cat, Places: dir, Allowances: allow, Sources: srcs}, nil
}

// loadAllowances reads AllowancesFile, if there is one: message ID = segments.
func loadAllowances(fsys fs.FS, cat *locale.Catalog) (map[string]int, error) {
	data, err := fs.ReadFile(fsys, AllowancesFile)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]int{}, nil
	}
	if err != nil {
		return nil, err
	}
	allow := map[string]int{}
	if _, err := toml.Decode(string(data), &allow); err != nil {
		return nil, err
	}
	for id, n := range allow {
		switch {
		case !slices.ContainsFunc(cat.Languages(), func(lang string) bool { return cat.Has(lang, id) }):
			return nil, fmt.Errorf("%q is not a message", id)
		case AudienceOf(id) != ForMember:
			return nil, fmt.Errorf("%q is not a member message: only those have a budget", id)
		case n < 1:
			return nil, fmt.Errorf("%s = %d: a message takes at least one segment", id, n)
		}
	}
	return allow, nil
}

// checkCites makes sure every node that cites its answer (do = "cite") names something
// SOURCE can list links for: a typo would leave the member with "nothing to cite".
func checkCites(set *flow.Set, dir *places.Directory, srcs *sources.Sources) error {
	var errs []error
	for _, id := range set.NodeIDs() {
		n, _ := set.Node(id)
		if n.Do != "cite" {
			continue
		}
		if len(actions.SourceLinks(dir, srcs, n.With["ref"])) == 0 {
			errs = append(errs, fmt.Errorf("%s: node %q cites %q, which has no source with an address in flows/%s or %s",
				n.File, id, n.With["ref"], sources.File, PlacesFile))
		}
	}
	return errors.Join(errs...)
}
