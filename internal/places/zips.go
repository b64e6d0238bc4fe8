package places

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
)

// ZipEntry is what a ZIP code tells the hotline: the county it lies in and, where the
// imported table names one the directory knows, a city.
type ZipEntry struct {
	County string // a county ID
	City   string // a city or place ID, or ""
}

// ZipTable is the ZIP → county table the hotline answers from. It is swapped whole when a
// new import is loaded, so a lookup never sees half a table. The zero value is empty.
type ZipTable struct {
	m atomic.Pointer[map[string]ZipEntry]
}

// Replace swaps in a new table.
func (t *ZipTable) Replace(m map[string]ZipEntry) { t.m.Store(&m) }

// Get returns the entry of a five-digit ZIP code.
func (t *ZipTable) Get(zip string) (ZipEntry, bool) {
	m := t.m.Load()
	if m == nil {
		return ZipEntry{}, false
	}
	e, ok := (*m)[zip]
	return e, ok
}

// Len is the number of ZIP codes in the table.
func (t *ZipTable) Len() int {
	if m := t.m.Load(); m != nil {
		return len(*m)
	}
	return 0
}

// IsZip reports whether s is a five-digit ZIP code (ZIP+4 is not accepted: members send five).
func IsZip(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i := 0; i < 5; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Rejected is a CSV row the import could not use, with why.
type Rejected struct {
	Line   int
	Row    string
	Reason string
}

// ParseZipCSV reads a CSV with a header naming the columns zipcode and county (city is
// optional) and maps each row to the directory's entries. County spellings are normalized
// ("Dona Ana" → Doña Ana, "DeBaca" → De Baca) but never guessed: a row whose county is
// unknown is rejected and reported, since a wrong county would give a member the wrong
// policy. A city is kept only when the directory knows it and it lies in that county.
func (d *Directory) ParseZipCSV(r io.Reader) (map[string]ZipEntry, []Rejected, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	zipCol, okZ := col["zipcode"]
	countyCol, okC := col["county"]
	if !okZ || !okC {
		return nil, nil, errors.New(`the header must name the columns "zipcode" and "county"`)
	}
	cityCol, hasCity := col["city"]
	out := map[string]ZipEntry{}
	var rejected []Rejected
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", line, err)
		}
		field := func(i int) string {
			if i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		reject := func(reason string) {
			rejected = append(rejected, Rejected{Line: line, Row: strings.Join(rec, ","), Reason: reason})
		}
		zip := field(zipCol)
		if !IsZip(zip) {
			reject("not a five-digit ZIP code")
			continue
		}
		county, ok := d.MatchCountyName(field(countyCol))
		if !ok {
			reject(fmt.Sprintf("unknown county %q", field(countyCol)))
			continue
		}
		if prev, dup := out[zip]; dup && prev.County != county.ID {
			reject(fmt.Sprintf("ZIP listed again with another county (kept %s)", prev.County))
			continue
		}
		e := ZipEntry{County: county.ID}
		if hasCity {
			if res := d.Lookup(field(cityCol)); res.Place != nil && !res.Corrected && !res.Place.IsCounty() && res.Place.County == county.ID {
				e.City = res.Place.ID
			}
		}
		out[zip] = e
	}
	return out, rejected, nil
}
