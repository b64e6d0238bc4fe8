package places

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/communityhotline/hotline/internal/fold"
)

// Problem is one thing wrong with the places file, named by entry so that an organizer can
// find it: `place "taos-county"`, `state`, `lists.dhs`.
type Problem struct {
	Entry string
	Msg   string
}

func (p Problem) String() string { return p.Entry + ": " + p.Msg }

// ValidationError is returned by Parse when the file is well-formed TOML but its content is
// wrong. It lists every problem, not only the first, so one run of `hotline check` shows an
// organizer everything to fix.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "places: %d problem(s):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Load reads and parses the places file at path in fsys.
func Load(fsys fs.FS, path string) (*Directory, error) {
	data, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("places: %w", err)
	}
	d, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// The TOML shapes. They differ from the exported types only where the file needs something
// Go zero values cannot express: `verified` must be written out, never defaulted.
type rawFile struct {
	State rawState `toml:"state"`
	Lists struct {
		DHS     rawList `toml:"dhs"`
		DOJ     rawList `toml:"doj"`
		EO14287 rawList `toml:"eo14287"`
	} `toml:"lists"`
	Place  []rawPlace `toml:"place"`
	Labels Labels     `toml:"labels"`
}

type rawLaw struct {
	Name      string `toml:"name"`
	Signed    string `toml:"signed"`
	Effective string `toml:"effective"`
	EN        string `toml:"en"`
	ES        string `toml:"es"`
	Source    string `toml:"source"`
	SourceURL string `toml:"source_url"`
	Checked   string `toml:"checked"`
}

type rawState struct {
	rawLaw
	Also []rawLaw `toml:"also"`
}

type rawList struct {
	Name             string `toml:"name"`
	Date             string `toml:"date"`
	Removed          string `toml:"removed"`
	EN               string `toml:"en"`
	ES               string `toml:"es"`
	Source           string `toml:"source"`
	SourceURL        string `toml:"source_url"`
	EntriesSource    string `toml:"entries_source"`
	EntriesSourceURL string `toml:"entries_source_url"`
	Checked          string `toml:"checked"`
}

type rawPlace struct {
	ID               string   `toml:"id"`
	Name             string   `toml:"name"`
	Kind             string   `toml:"kind"`
	County           string   `toml:"county"`
	Aliases          []string `toml:"aliases"`
	DHSList          bool     `toml:"dhs_list"`
	DOJList          bool     `toml:"doj_list"`
	PolicyEN         string   `toml:"policy_en"`
	PolicyES         string   `toml:"policy_es"`
	PolicyDate       string   `toml:"policy_date"`
	PolicyDateApprox bool     `toml:"policy_date_approx"`
	Source           string   `toml:"source"`
	SourceURL        string   `toml:"source_url"`
	Verified         *bool    `toml:"verified"`
	Checked          string   `toml:"checked"`
}

// Parse parses and validates a places file. A TOML syntax error is returned as the decoder
// reports it (with its line); content problems come back together as a *ValidationError.
func Parse(data []byte) (*Directory, error) {
	var raw rawFile
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw)
	if err != nil {
		return nil, fmt.Errorf("places: %w", err)
	}
	var v validator
	// A misspelt field name would otherwise be dropped in silence, and with it, say, a policy.
	for _, k := range md.Undecoded() {
		v.add("file", "unknown field %q (misspelled?)", k.String())
	}

	d := &Directory{}
	d.State = v.law("state", raw.State.rawLaw)
	for i, l := range raw.State.Also {
		d.StateAlso = append(d.StateAlso, v.law(fmt.Sprintf("state.also[%d]", i), l))
	}
	d.Lists.DHS = v.list("lists.dhs", raw.Lists.DHS)
	d.Lists.DOJ = v.list("lists.doj", raw.Lists.DOJ)
	d.Lists.EO14287 = v.list("lists.eo14287", raw.Lists.EO14287)

	if len(raw.Place) == 0 {
		v.add("file", "no [[place]] entries")
	}
	labels := raw.Labels
	for field, val := range map[string]string{"county_en": labels.CountyEN, "county_es": labels.CountyES, "approx_en": labels.ApproxEN, "approx_es": labels.ApproxES} {
		v.required("labels", field, val)
		if strings.HasPrefix(field, "county") && val != "" && !strings.Contains(val, "{name}") {
			v.add("labels", "%s must contain {name}", field)
		}
	}
	d.labels = &labels
	d.raw = raw.Place
	x := v.view(raw.Place, d.labels)
	if len(v.problems) > 0 {
		return nil, &ValidationError{Problems: v.problems}
	}
	d.shipped = x
	d.view.Store(x)
	return d, nil
}

// view validates every place and builds their index: the one code that checks the shipped
// file and every correction laid over it.
func (v *validator) view(raws []rawPlace, labels *Labels) *view {
	x := &view{
		byID:        make(map[string]*Place, len(raws)),
		exact:       make(map[string][]*Place, 2*len(raws)),
		countyNames: make(map[string]*Place),
	}
	for i, r := range raws {
		p := v.place(i, r)
		if p.ID == "" {
			continue
		}
		if _, dup := x.byID[p.ID]; dup {
			v.add(entryName(i, r), "duplicate id")
			continue
		}
		p.labels = labels
		x.byID[p.ID] = p
		x.places = append(x.places, p)
		if p.IsCounty() {
			x.counties = append(x.counties, p)
		}
	}
	v.references(x)
	x.index()
	return x
}

// Warnings reports what is allowed but deserves an organizer's attention: entries not
// reviewed in the year before now, and texts long enough to cost several SMS segments.
// `hotline check` prints them; they do not stop the hotline.
func (d *Directory) Warnings(now time.Time) []Problem {
	var out []Problem
	stale := func(entry, checked string) {
		t, err := time.Parse(time.DateOnly, checked)
		if err == nil && now.Sub(t) > 365*24*time.Hour {
			out = append(out, Problem{entry, fmt.Sprintf("last checked %s, over a year ago", checked)})
		}
	}
	long := func(entry, field, text string) {
		if n := utf8.RuneCountInString(text); n > maxTextRunes {
			out = append(out, Problem{entry, fmt.Sprintf("%s is %d characters; keep it under %d for SMS", field, n, maxTextRunes)})
		}
	}
	laws := append([]Law{d.State}, d.StateAlso...)
	for i := range laws {
		entry := "state"
		if i > 0 {
			entry = fmt.Sprintf("state.also[%d]", i-1)
		}
		stale(entry, laws[i].Checked)
		long(entry, "en", laws[i].EN)
		long(entry, "es", laws[i].ES)
	}
	for _, l := range []struct {
		entry string
		list  *List
	}{{"lists.dhs", &d.Lists.DHS}, {"lists.doj", &d.Lists.DOJ}, {"lists.eo14287", &d.Lists.EO14287}} {
		stale(l.entry, l.list.Checked)
		long(l.entry, "en", l.list.EN)
		long(l.entry, "es", l.list.ES)
	}
	for _, p := range d.view.Load().places {
		entry := fmt.Sprintf("place %q", p.ID)
		stale(entry, p.Checked)
		long(entry, "policy_en", p.PolicyEN)
		long(entry, "policy_es", p.PolicyES)
	}
	return out
}

// maxTextRunes is the length beyond which a text is flagged. A policy is one part of the
// policy answer, which must fit four segments in all (the tests of internal/actions render it
// for every place); 400 characters would leave no room for the rest even in GSM-7, and would
// be six segments in UCS-2.
const maxTextRunes = 400

// maxKeyRunes bounds the folded length of a name or alias, so that typo matching can work in
// fixed-size buffers on the stack.
const maxKeyRunes = 48

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

type validator struct {
	problems []Problem
}

func (v *validator) add(entry, format string, args ...any) {
	v.problems = append(v.problems, Problem{entry, fmt.Sprintf(format, args...)})
}

func entryName(i int, r rawPlace) string {
	if r.ID != "" {
		return fmt.Sprintf("place %q", r.ID)
	}
	if r.Name != "" {
		return fmt.Sprintf("place #%d (%q)", i+1, r.Name)
	}
	return fmt.Sprintf("place #%d", i+1)
}

func (v *validator) required(entry, field, value string) {
	if strings.TrimSpace(value) == "" {
		v.add(entry, "%s is missing", field)
	}
}

// fullDate checks a YYYY-MM-DD date; optional dates may be empty.
func (v *validator) fullDate(entry, field, value string, optional bool) {
	if value == "" {
		if !optional {
			v.add(entry, "%s is missing (want YYYY-MM-DD)", field)
		}
		return
	}
	if _, err := time.Parse(time.DateOnly, value); err != nil {
		v.add(entry, "%s %q is not a date YYYY-MM-DD", field, value)
	}
}

// partialDate checks a date as precise as its source: YYYY-MM-DD, YYYY-MM or YYYY.
func (v *validator) partialDate(entry, field, value string) {
	if value == "" {
		return
	}
	for _, layout := range []string{time.DateOnly, "2006-01", "2006"} {
		if len(value) == len(layout) {
			if _, err := time.Parse(layout, value); err == nil {
				return
			}
		}
	}
	v.add(entry, "%s %q is not a date YYYY-MM-DD, YYYY-MM or YYYY", field, value)
}

// source checks a label and its URL: both or neither, and the URL a full web address.
func (v *validator) source(entry, labelField, label, urlField, address string) {
	if (label == "") != (address == "") {
		v.add(entry, "%s and %s go together: give both or neither", labelField, urlField)
	}
	if address == "" {
		return
	}
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		v.add(entry, "%s %q is not a full http(s) address", urlField, address)
	}
}

func (v *validator) law(entry string, r rawLaw) Law {
	v.required(entry, "name", r.Name)
	v.required(entry, "en", r.EN)
	v.required(entry, "es", r.ES)
	v.required(entry, "source", r.Source)
	v.fullDate(entry, "signed", r.Signed, true)
	v.fullDate(entry, "effective", r.Effective, true)
	v.fullDate(entry, "checked", r.Checked, false)
	v.source(entry, "source", r.Source, "source_url", r.SourceURL)
	return Law{
		Name: r.Name, Signed: r.Signed, Effective: r.Effective, EN: r.EN, ES: r.ES,
		Source: r.Source, SourceURL: r.SourceURL, Checked: r.Checked,
	}
}

func (v *validator) list(entry string, r rawList) List {
	v.required(entry, "name", r.Name)
	v.required(entry, "en", r.EN)
	v.required(entry, "es", r.ES)
	v.required(entry, "source", r.Source)
	v.fullDate(entry, "date", r.Date, false)
	v.fullDate(entry, "removed", r.Removed, true)
	v.fullDate(entry, "checked", r.Checked, false)
	v.source(entry, "source", r.Source, "source_url", r.SourceURL)
	v.source(entry, "entries_source", r.EntriesSource, "entries_source_url", r.EntriesSourceURL)
	return List{
		Name: r.Name, Date: r.Date, Removed: r.Removed, EN: r.EN, ES: r.ES,
		Source: r.Source, SourceURL: r.SourceURL,
		EntriesSource: r.EntriesSource, EntriesSourceURL: r.EntriesSourceURL, Checked: r.Checked,
	}
}

func (v *validator) place(i int, r rawPlace) *Place {
	entry := entryName(i, r)
	switch {
	case r.ID == "":
		v.add(entry, "id is missing")
	case !idPattern.MatchString(r.ID):
		v.add(entry, "id %q must be lowercase letters and digits joined by '-'", r.ID)
		r.ID = "" // keep a bad id out of the references check, which would only repeat it
	}
	if strings.TrimSpace(r.Name) == "" {
		v.add(entry, "name is missing")
	} else {
		v.key(entry, "name", r.Name)
	}
	switch Kind(r.Kind) {
	case KindCounty:
		if r.County != "" {
			v.add(entry, "a county has no county field (got %q)", r.County)
		}
	case KindCity, KindPlace:
		if r.County == "" {
			v.add(entry, "county is missing: give the id of the county this %s lies in", r.Kind)
		}
	case "":
		v.add(entry, "kind is missing (county, city or place)")
	default:
		v.add(entry, "unknown kind %q (want county, city or place)", r.Kind)
	}
	for _, a := range r.Aliases {
		v.key(entry, "alias", a)
	}
	v.required(entry, "policy_en", r.PolicyEN)
	v.required(entry, "policy_es", r.PolicyES)
	// A text goes into one SMS answer and one line of this file: a line break or another
	// control character would break both.
	for _, f := range [][2]string{{"policy_en", r.PolicyEN}, {"policy_es", r.PolicyES}, {"source", r.Source}, {"source_url", r.SourceURL}, {"policy_date", r.PolicyDate}} {
		if strings.ContainsFunc(f[1], unicode.IsControl) {
			v.add(entry, "%s has a line break or another control character: write it on one line", f[0])
		}
	}
	v.partialDate(entry, "policy_date", r.PolicyDate)
	if r.PolicyDateApprox && r.PolicyDate == "" {
		v.add(entry, "policy_date_approx is set but policy_date is empty")
	}
	v.source(entry, "source", r.Source, "source_url", r.SourceURL)
	verified := false
	if r.Verified == nil {
		v.add(entry, "verified is missing: write verified = true only when source backs the policy text")
	} else {
		verified = *r.Verified
	}
	if verified && (r.Source == "" || r.SourceURL == "") {
		v.add(entry, "verified = true needs source and source_url")
	}
	v.fullDate(entry, "checked", r.Checked, false)
	return &Place{
		ID: r.ID, Name: strings.TrimSpace(r.Name), Kind: Kind(r.Kind), County: r.County,
		Aliases: r.Aliases,
		Facts: Facts{DHSList: r.DHSList, DOJList: r.DOJList, PolicyEN: r.PolicyEN, PolicyES: r.PolicyES,
			PolicyDate: r.PolicyDate, PolicyDateApprox: r.PolicyDateApprox,
			Source: r.Source, SourceURL: r.SourceURL, Verified: verified, Checked: r.Checked},
	}
}

// key checks that a name or alias can be found by Lookup: Lookup ignores queries with digits
// and never matches fewer than three letters (so that "si" or "no" cannot be a place).
func (v *validator) key(entry, field, s string) {
	k := compactKey(fold.Text(s))
	n := utf8.RuneCountInString(k)
	switch {
	case strings.ContainsAny(k, "0123456789"):
		v.add(entry, "%s %q contains digits; people would never find it", field, s)
	case n < 3:
		v.add(entry, "%s %q is shorter than 3 letters; it would catch replies like \"si\"", field, s)
	case n > maxKeyRunes:
		v.add(entry, "%s %q is longer than %d letters", field, s, maxKeyRunes)
	}
}

// references checks what needs every entry read first: that each city's county exists and
// is a county, and that no two entries of the same kind share a name (two entries of
// different kinds may: Santa Fe city and county are told apart by asking).
func (v *validator) references(d *view) {
	type nameKind struct {
		name string
		kind Kind
	}
	seen := make(map[nameKind]string)
	for _, p := range d.places {
		entry := fmt.Sprintf("place %q", p.ID)
		if p.Kind != KindCounty && p.County != "" {
			c, ok := d.byID[p.County]
			switch {
			case !ok:
				v.add(entry, "county %q does not exist", p.County)
			case !c.IsCounty():
				v.add(entry, "county %q is a %s, not a county", p.County, c.Kind)
			}
		}
		nk := nameKind{compactKey(fold.Text(p.Name)), p.Kind}
		if other, dup := seen[nk]; dup && nk.name != "" {
			v.add(entry, "same name as place %q of the same kind", other)
		} else {
			seen[nk] = p.ID
		}
	}
}

// index folds every name and alias once, so that Lookup compares against ready-made keys.
func (d *view) index() {
	for _, p := range d.places {
		seen := make(map[string]bool)
		for _, s := range append([]string{p.Name}, p.Aliases...) {
			k := compactKey(fold.Text(s))
			if seen[k] {
				continue
			}
			seen[k] = true
			d.exact[k] = append(d.exact[k], p)
			d.keys = append(d.keys, indexKey{runes: []rune(k), place: p})
		}
		if p.IsCounty() {
			d.countyNames[compactKey(fold.Text(p.Name))] = p
		}
	}
}
