package actions

import (
	"slices"
	"strconv"
	"strings"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/fold"
	"github.com/communityhotline/hotline/internal/places"
)

// MaxAreas bounds how many areas one member follows; more would be a sign of a mistake or
// of abuse, and every area costs a set entry.
const MaxAreas = 10

// Data keys the place actions keep between messages. They live in State.Data, which is
// cleared when the conversation returns home.
const (
	keyChoices = "choices" // place IDs offered as a numbered list, comma-separated
	keyPending = "pending" // place IDs chosen for alerts, not yet confirmed
)

// Places returns the actions that look up places and manage alert areas. dir is the policy
// data; zips is the imported ZIP table (possibly empty).
func Places(dir *places.Directory, zips *places.ZipTable) map[string]flow.Action {
	p := placeActions{dir: dir, zips: zips}
	suggestions := []string{"Suggestions"}
	return map[string]flow.Action{
		// lookup_place reads the member's text as a county, city or ZIP (or, after a
		// "which one?" list, as its number) and sets the policy answer's template data.
		// A text that names nothing is "unknown", with at most one place suggested (a yes
		// takes it: with = { choice = "1" } reads the member's yes as that choice), or
		// "suggestions", several places offered as a numbered list.
		"lookup_place": {Results: []string{"found", "ambiguous", "unknown", "unknown_zip", "suggestions"}, Run: p.lookup,
			Vars: map[string][]string{"found": PlaceVars, "unknown": suggestions, "unknown_zip": suggestions}},
		// add_area does the same for alert sign-up, adding the place to the pending areas.
		"add_area": {Results: []string{"found", "ambiguous", "unknown", "unknown_zip", "suggestions", "full"}, Run: p.addArea,
			Vars: map[string][]string{"found": {"Pending", "Name"}, "unknown": suggestions, "unknown_zip": suggestions}},
		// subscribe confirms the pending areas (after the member's YES).
		"subscribe": {Results: []string{"done", "nothing"}, Run: p.subscribe,
			Vars: map[string][]string{"done": {"Areas"}}},
		// alert_areas lists the member's areas, numbered, for showing or removing one.
		"alert_areas": {Results: []string{"none", "some"}, Run: p.listAreas,
			Vars: map[string][]string{"some": {"Areas"}}},
		// remove_area removes the area whose number the member sent.
		"remove_area": {Results: []string{"removed", "unknown"}, Run: p.removeArea,
			Vars: map[string][]string{"removed": {"Removed", "Areas"}}},
		// find_place tells whether a sentence names a place or a ZIP ("¿Santa Fe coopera con
		// ICE?", "mi zip es 87102"), so a question in the member's words goes straight to it.
		"find_place": {Results: []string{"found", "none"}, Run: p.findPlace},
		// state_law sets the state-law line every place shares, with its source.
		"state_law": {Run: p.stateLaw, Vars: map[string][]string{"": {"Law", "Source", "Checked"}}},
	}
}

type placeActions struct {
	dir  *places.Directory
	zips *places.ZipTable
}

// resolve finds what the member's text names: a number from the last list, a ZIP, or a
// place name. A node's with = { choice = "1" } stands for the number (a "yes" to "did you
// mean: Las Cruces?", whose one suggestion is choice 1).
func (p placeActions) resolve(c *flow.Context) places.Result {
	text := fold.Text(c.Input)
	if pick := c.With["choice"]; pick != "" {
		text = pick
	}
	if choices := c.State.Data[keyChoices]; choices != "" {
		if n, err := strconv.Atoi(text); err == nil {
			ids := strings.Split(choices, ",")
			if n >= 1 && n <= len(ids) {
				if pl, ok := p.dir.Get(ids[n-1]); ok {
					return places.Result{Place: pl}
				}
			}
		}
	}
	if zip := zipIn(text); zip != "" {
		e, ok := p.zips.Get(zip)
		if !ok {
			return places.Result{}
		}
		if pl, ok := p.dir.Get(e.City); ok {
			return places.Result{Place: pl}
		}
		pl, _ := p.dir.Get(e.County)
		return places.Result{Place: pl}
	}
	return p.dir.Find(c.Input)
}

// offer handles the outcomes that are not a single place: a numbered choice between the
// places a name fits, several places close to a text that named none (numbered too), or at
// most one such place, suggested by name.
func (p placeActions) offer(c *flow.Context, r places.Result) string {
	if len(r.Choices) > 0 {
		p.choose(c, r.Choices)
		return "ambiguous"
	}
	if len(r.Suggestions) > 1 {
		p.choose(c, r.Suggestions)
		return "suggestions"
	}
	// The one suggestion, if any, is remembered as choice 1, for a yes (or a 1) to take.
	setData(c.State, keyChoices, strings.Join(ids(r.Suggestions), ","))
	c.Vars["Suggestions"] = labels(r.Suggestions, c.State.Lang)
	if zipIn(fold.Text(c.Input)) != "" {
		// A ZIP we do not know is still clearly a ZIP: say so, rather than "not understood".
		return "unknown_zip"
	}
	return "unknown"
}

// zipIn returns the ZIP code in a text ("87102", "mi zip es 87102"), or "".
func zipIn(folded string) string {
	for _, w := range fold.Words(folded) {
		if places.IsZip(w) {
			return w
		}
	}
	return ""
}

func (p placeActions) findPlace(c *flow.Context) string {
	if zipIn(fold.Text(c.Input)) != "" {
		return "found"
	}
	if r := p.dir.Find(c.Input); r.Place != nil || len(r.Choices) > 0 {
		return "found"
	}
	return "none"
}

func (p placeActions) lookup(c *flow.Context) string {
	r := p.resolve(c)
	if r.Place == nil {
		return p.offer(c, r)
	}
	setData(c.State, keyChoices, "")
	p.describe(c.Vars, r.Place, c.State.Lang)
	c.Cite = PlaceCite(r.Place.ID)
	return "found"
}

// describe sets the template data of a policy answer: the place, whether the federal lists
// named it, its policy (whose text carries its date) with source and the month it was checked
// (in words: a member reads "diciembre de 2026" more easily than 2026-12-06), and for a city
// its county's status too.
func (p placeActions) describe(vars map[string]string, pl *places.Place, lang string) {
	vars["Name"] = pl.Label(lang)
	vars["DHS"] = flag(pl.DHSList)
	vars["DOJ"] = flag(pl.DOJList)
	vars["Policy"] = pl.Policy(lang)
	vars["Source"] = pl.Source
	vars["Checked"] = dateWords(pl.Checked, lang)
	vars["CountyName"], vars["CountyDHS"], vars["CountyVerified"] = "", "", ""
	if county := p.dir.CountyOf(pl); county != nil && county != pl {
		vars["CountyName"] = county.Label(lang)
		vars["CountyDHS"] = flag(county.DHSList)
		vars["CountyVerified"] = flag(county.Verified)
	}
}

func (p placeActions) stateLaw(c *flow.Context) string {
	c.Cite = LawCite
	law := p.dir.State
	c.Vars["Law"] = law.Text(c.State.Lang)
	c.Vars["Source"] = law.Source
	c.Vars["Checked"] = dateWords(law.Checked, c.State.Lang)
	return ""
}

// monthNames are the months in each language the policy answer speaks; any other language
// gets English, as places.Place.Policy does.
var monthNames = map[string][12]string{
	"es": {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

// dateWords writes a date from the data files ("2026-12-06", or "2026-12") as its month and
// year in words: "diciembre de 2026", "December 2026". The day is left out on purpose: the
// month is all a member needs to judge how fresh a fact is, and it is shorter. A bare year
// stays as it is; anything else (a date the places file would have rejected) is returned
// unchanged rather than guessed at.
func dateWords(date, lang string) string {
	n := len(date)
	if (n != len("2006-01") && n != len("2006-01-02")) || date[4] != '-' || !isDigits(date[:4]) || !isDigits(date[5:7]) ||
		(n == len("2006-01-02") && (date[7] != '-' || !isDigits(date[8:]))) {
		return date
	}
	m, _ := strconv.Atoi(date[5:7])
	if m < 1 || m > 12 {
		return date
	}
	if spanish(lang) {
		return monthNames["es"][m-1] + " de " + date[:4]
	}
	return monthNames["en"][m-1] + " " + date[:4]
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// spanish reports whether lang is Spanish ("es", "es-MX", "es_US"), as the places package
// reads it.
func spanish(lang string) bool {
	return len(lang) >= 2 && strings.EqualFold(lang[:2], "es") && (len(lang) == 2 || lang[2] == '-' || lang[2] == '_')
}

func (p placeActions) addArea(c *flow.Context) string {
	r := p.resolve(c)
	if r.Place == nil {
		return p.offer(c, r)
	}
	setData(c.State, keyChoices, "")
	pending := split(c.State.Data[keyPending])
	if !slices.Contains(pending, r.Place.ID) && !slices.Contains(c.State.Areas, r.Place.ID) {
		if len(pending)+len(c.State.Areas) >= MaxAreas {
			return "full"
		}
		pending = append(pending, r.Place.ID)
	}
	setData(c.State, keyPending, strings.Join(pending, ","))
	c.Vars["Pending"] = p.labelsOf(pending, c.State.Lang)
	c.Vars["Name"] = r.Place.Label(c.State.Lang)
	return "found"
}

func (p placeActions) subscribe(c *flow.Context) string {
	pending := split(c.State.Data[keyPending])
	if len(pending) == 0 {
		return "nothing"
	}
	for _, id := range pending {
		if !slices.Contains(c.State.Areas, id) {
			c.State.Areas = append(c.State.Areas, id)
		}
	}
	setData(c.State, keyPending, "")
	c.Vars["Areas"] = p.labelsOf(c.State.Areas, c.State.Lang)
	return "done"
}

func (p placeActions) listAreas(c *flow.Context) string {
	if len(c.State.Areas) == 0 {
		return "none"
	}
	c.Choices = make([]flow.Choice, len(c.State.Areas))
	for i, id := range c.State.Areas {
		c.Choices[i] = flow.Choice{Number: i + 1, Text: p.labelOf(id, c.State.Lang)}
	}
	c.Vars["Areas"] = p.labelsOf(c.State.Areas, c.State.Lang)
	return "some"
}

func (p placeActions) removeArea(c *flow.Context) string {
	n := p.areaIndex(c.State.Areas, c.Input)
	if n < 1 {
		return "unknown"
	}
	id := c.State.Areas[n-1]
	c.State.Areas = slices.Delete(slices.Clone(c.State.Areas), n-1, n)
	c.Vars["Removed"] = p.labelOf(id, c.State.Lang)
	c.Vars["Areas"] = p.labelsOf(c.State.Areas, c.State.Lang)
	return "removed"
}

// areaIndex finds which of areas (numbered from 1) the member's text means: its number in
// the list, or its name ("santa fe" is the one Santa Fe they follow); 0 for none.
func (p placeActions) areaIndex(areas []string, text string) int {
	if n, err := strconv.Atoi(fold.Text(text)); err == nil {
		if n >= 1 && n <= len(areas) {
			return n
		}
		return 0
	}
	r := p.dir.Lookup(text)
	found := 0
	for _, pl := range append(r.Choices, r.Place) {
		if i := slices.Index(areas, placeID(pl)); i >= 0 {
			if found != 0 {
				return 0 // both the city and the county they follow: the number tells them apart
			}
			found = i + 1
		}
	}
	return found
}

func placeID(pl *places.Place) string {
	if pl == nil {
		return ""
	}
	return pl.ID
}

func (p placeActions) labelOf(id, lang string) string {
	if pl, ok := p.dir.Get(id); ok {
		return pl.Label(lang)
	}
	return id // an area removed from the data file still shows, by its id
}

func (p placeActions) labelsOf(ids []string, lang string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = p.labelOf(id, lang)
	}
	return strings.Join(names, ", ")
}

// choose offers ps as numbered options, their ids remembered for the member's number.
func (p placeActions) choose(c *flow.Context, ps []*places.Place) {
	c.Choices = make([]flow.Choice, len(ps))
	for i, pl := range ps {
		c.Choices[i] = flow.Choice{Number: i + 1, Text: pl.Label(c.State.Lang)}
	}
	setData(c.State, keyChoices, strings.Join(ids(ps), ","))
}

func ids(ps []*places.Place) []string {
	out := make([]string, len(ps))
	for i, pl := range ps {
		out[i] = pl.ID
	}
	return out
}

func labels(ps []*places.Place, lang string) string {
	names := make([]string, len(ps))
	for i, pl := range ps {
		names[i] = pl.Label(lang)
	}
	return strings.Join(names, ", ")
}

func setData(st *flow.State, key, val string) {
	if val == "" {
		delete(st.Data, key)
		return
	}
	if st.Data == nil {
		st.Data = map[string]string{}
	}
	st.Data[key] = val
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// flag is a template truth value: "1" or "" ({{if .DHS}}).
func flag(b bool) string {
	if b {
		return "1"
	}
	return ""
}
