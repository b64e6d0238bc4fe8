// Package places is the hotline's directory of New Mexico counties and cities: the local
// immigration policy of each, whether the federal "sanctuary jurisdictions" lists named it,
// and the source and review date behind every statement.
//
// The facts live in a TOML file (flows/data/places.toml) rather than in Go, because they
// change with county commissions and court cases, and the organizers who follow those changes
// do not write Go. Parse validates that file strictly and names the entry at fault, so a bad
// edit fails `hotline check` instead of reaching a member.
//
// Members name places the way they speak and type on a phone: "condado de doña ana", "ABQ",
// "las cruses", "Santa Fe NM". Lookup turns that into one place, a short list to choose from,
// or suggestions. It runs on the request path, so everything it compares against is folded
// and indexed once, at Parse time.
//
// The package is pure: it parses bytes or reads one file from an fs.FS and does no other I/O.
// A *Directory is never modified after Parse, so one value may be shared by all requests.
package places

import (
	"strings"
	"sync/atomic"
)

// Kind says what sort of jurisdiction a Place is. It matters for policy: a city council
// can adopt a policy, while a census-designated place has no government of its own and is
// governed by its county.
type Kind string

// The kinds a Place may have.
const (
	// KindCounty is one of New Mexico's 33 counties.
	KindCounty Kind = "county"
	// KindCity is an incorporated municipality: a city, town or village.
	KindCity Kind = "city"
	// KindPlace is a census-designated place (South Valley, Chaparral): a community with a
	// name but no city government.
	KindPlace Kind = "place"
)

// Place is one county, city or census-designated place. Values returned by a Directory are
// shared; callers must treat them as read-only.
type Place struct {
	// ID is a stable slug ("dona-ana-county", "las-cruces"); saved conversations refer to it.
	ID string
	// Name is the display name with its accents and without "County" ("Doña Ana").
	Name string
	Kind Kind
	// County is the ID of the county a city or place lies in; empty for a county.
	County string
	// Aliases are other names people type ("ABQ", "Duke City").
	Aliases []string
	// Facts are what organizers may correct on a running hotline (overlay.go).
	Facts

	labels *Labels
}

// Labels are the words the file itself gives for naming counties and approximate dates, so
// that no member-facing word lives in Go code.
type Labels struct {
	CountyEN string `toml:"county_en"` // "{name} County"
	CountyES string `toml:"county_es"` // "Condado de {name}"
	ApproxEN string `toml:"approx_en"` // "approx."
	ApproxES string `toml:"approx_es"` // "aprox."
}

// IsCounty reports whether p is a county.
func (p *Place) IsCounty() bool { return p.Kind == KindCounty }

// Policy returns the policy text in lang ("es", "es-MX", ... for Spanish; anything else
// gives English, the language every entry is guaranteed to have).
func (p *Place) Policy(lang string) string {
	if isSpanish(lang) && p.PolicyES != "" {
		return p.PolicyES
	}
	return p.PolicyEN
}

// Label returns the name to show a member: "Doña Ana County" or "Condado de Doña Ana" for a
// county, so that the city and the county of Santa Fe never read the same, and Name otherwise.
func (p *Place) Label(lang string) string {
	if !p.IsCounty() || p.labels == nil {
		return p.Name
	}
	pattern := p.labels.CountyEN
	if isSpanish(lang) {
		pattern = p.labels.CountyES
	}
	return strings.ReplaceAll(pattern, "{name}", p.Name)
}

// PolicyDateLabel returns PolicyDate for display, marked "(approx.)" or "(aprox.)" when the
// source gives it only approximately, so an estimate is never shown as an exact date.
func (p *Place) PolicyDateLabel(lang string) string {
	if p.PolicyDate == "" || !p.PolicyDateApprox {
		return p.PolicyDate
	}
	approx := ""
	if p.labels != nil {
		approx = p.labels.ApproxEN
		if isSpanish(lang) {
			approx = p.labels.ApproxES
		}
	}
	return p.PolicyDate + " (" + approx + ")"
}

// Law is a New Mexico state law, summarized in one or two SMS-sized sentences per language.
type Law struct {
	Name      string // "HB 9, Immigrant Safety Act"
	Signed    string // YYYY-MM-DD, or empty
	Effective string // YYYY-MM-DD, or empty
	EN, ES    string
	Source    string // short label
	SourceURL string
	Checked   string // YYYY-MM-DD
}

// Text returns the summary in lang, as Place.Policy does.
func (l *Law) Text(lang string) string {
	if isSpanish(lang) && l.ES != "" {
		return l.ES
	}
	return l.EN
}

// List is a federal list of "sanctuary jurisdictions", or the order that created them.
type List struct {
	Name string // short label: "DHS list"
	// Date is the day the list was published (for an executive order, the day it was signed).
	Date string
	// Removed is the day the list was taken down; empty while it stands.
	Removed string
	EN, ES  string
	// Source and SourceURL report the list itself; EntriesSource and EntriesSourceURL, when
	// set, are where its New Mexico entries were read.
	Source           string
	SourceURL        string
	EntriesSource    string
	EntriesSourceURL string
	Checked          string
}

// Text returns the one-line description in lang, as Place.Policy does.
func (l *List) Text(lang string) string {
	if isSpanish(lang) && l.ES != "" {
		return l.ES
	}
	return l.EN
}

// Lists holds the federal lists the Place flags refer to.
type Lists struct {
	DHS     List // the DHS list of 2025-05-29 (Place.DHSList)
	DOJ     List // the DOJ list of 2025-08-05 (Place.DOJList)
	EO14287 List // Executive Order 14287, which ordered the lists
}

// Directory is the parsed, validated places file with its lookup index. Build one with Parse
// or Load; it is safe for concurrent use.
//
// Its places are the shipped file's, or the shipped file's with organizers' corrections laid
// over them (Overlay). A correction replaces the places as a whole, through one atomic
// pointer: a reader never waits on a lock and never sees half of one, and the *Place values
// it got stay as they were (a new correction makes new values).
type Directory struct {
	// State is the state-law line every place shares; StateAlso are further laws.
	State     Law
	StateAlso []Law
	Lists     Lists

	labels *Labels
	// raw is the shipped file's places, in file order, which an overlay starts from.
	raw []rawPlace
	// shipped is the view of the file as parsed; view is the one in force.
	shipped *view
	view    atomic.Pointer[view]
}

// view is one generation of the places with their lookup index. It is never modified once
// built, so the *Place values in it are read-only.
type view struct {
	places   []*Place // file order
	counties []*Place // file order
	byID     map[string]*Place
	// exact maps a compact key (folded, letters and digits only) of every name and alias to
	// the places that bear it; more than one place means the name is ambiguous (Santa Fe).
	exact map[string][]*Place
	// keys lists the same keys as runes, for typo-tolerant matching.
	keys []indexKey
	// countyNames maps the compact name of each county, without aliases, for importers.
	countyNames map[string]*Place
}

type indexKey struct {
	runes []rune
	place *Place
}

// Get returns the place with the given id.
func (d *Directory) Get(id string) (*Place, bool) {
	p, ok := d.view.Load().byID[id]
	return p, ok
}

// Shipped returns the place with the given id as the shipped file has it, without any
// correction laid over it.
func (d *Directory) Shipped(id string) (*Place, bool) {
	p, ok := d.shipped.byID[id]
	return p, ok
}

// Places returns every place in file order. The slice is a copy; the places are shared.
func (d *Directory) Places() []*Place {
	return append([]*Place(nil), d.view.Load().places...)
}

// Counties returns the counties in file order. The slice is a copy; the places are shared.
func (d *Directory) Counties() []*Place {
	return append([]*Place(nil), d.view.Load().counties...)
}

// CountyOf returns the county p lies in: p itself when p is a county, nil when p is nil.
// Parse guarantees that every city and place has a county, so the result is otherwise non-nil.
func (d *Directory) CountyOf(p *Place) *Place {
	if p == nil || p.IsCounty() {
		return p
	}
	return d.view.Load().byID[p.County]
}

func isSpanish(lang string) bool {
	return len(lang) >= 2 && strings.EqualFold(lang[:2], "es") && (len(lang) == 2 || lang[2] == '-' || lang[2] == '_')
}
