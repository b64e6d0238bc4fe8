package places

import (
	"encoding/csv"
	"os"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/communityhotline/hotline/internal/fold"
	"github.com/communityhotline/hotline/internal/shareddata"
)

// stripAccents writes a name the way many phones and members do, without accents.
func stripAccents(s string) string {
	out, _, _ := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn))), s)
	return out
}

// wantOne fails unless r is exactly the place with id.
func wantOne(t *testing.T, query string, r Result, id string) {
	t.Helper()
	if r.Place == nil || r.Place.ID != id || r.Choices != nil {
		t.Errorf("Lookup(%q) = %s, want %s", query, describe(r), id)
	}
}

// wantAmong fails unless r is the place with id, or choices that include it: a bare "Santa Fe"
// rightly asks which one.
func wantAmong(t *testing.T, query string, r Result, id string) {
	t.Helper()
	if r.Place != nil && r.Place.ID == id {
		return
	}
	for _, c := range r.Choices {
		if c.ID == id {
			return
		}
	}
	t.Errorf("Lookup(%q) = %s, want %s or choices with it", query, describe(r), id)
}

func describe(r Result) string {
	ids := func(ps []*Place) string {
		var s []string
		for _, p := range ps {
			s = append(s, p.ID)
		}
		return "[" + strings.Join(s, " ") + "]"
	}
	var b strings.Builder
	if r.Place != nil {
		b.WriteString("place " + r.Place.ID)
	}
	if r.Choices != nil {
		b.WriteString("choices " + ids(r.Choices))
	}
	if r.Suggestions != nil {
		b.WriteString("suggestions " + ids(r.Suggestions))
	}
	if b.Len() == 0 {
		return "nothing"
	}
	return b.String()
}

func TestLookupEveryCounty(t *testing.T) {
	d := mustLoad(t)
	for _, c := range d.Counties() {
		t.Run(c.ID, func(t *testing.T) {
			for _, q := range []string{
				c.Name + " County",
				"condado de " + c.Name,
				"El Condado de " + c.Name,
				strings.ToUpper(c.Name + " county"),
				stripAccents(c.Name) + " county",
				c.Name + " Co.",
				c.Name + " County, NM",
				c.Label("es"),
			} {
				wantOne(t, q, d.Lookup(q), c.ID)
			}
			for _, q := range []string{c.Name, strings.ToUpper(c.Name), stripAccents(c.Name), norm.NFD.String(c.Name)} {
				wantAmong(t, q, d.Lookup(q), c.ID)
			}
		})
	}
}

func TestLookupEveryCity(t *testing.T) {
	d := mustLoad(t)
	for _, p := range d.Places() {
		if p.IsCounty() {
			continue
		}
		t.Run(p.ID, func(t *testing.T) {
			for _, q := range []string{p.Name, strings.ToLower(p.Name), p.Name + ", NM", p.Name + " New Mexico"} {
				wantAmong(t, q, d.Lookup(q), p.ID)
			}
			for _, q := range []string{"city of " + p.Name, "ciudad de " + p.Name} {
				wantOne(t, q, d.Lookup(q), p.ID)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	d := mustLoad(t)
	tests := []struct {
		name, query string
		place       string   // the one place expected, or ""
		choices     []string // the choices expected, in order
		corrected   bool
	}{
		{name: "alias ABQ", query: "ABQ", place: "albuquerque"},
		{name: "alias abq lower with period", query: "abq.", place: "albuquerque"},
		{name: "alias Burque", query: "burque", place: "albuquerque"},
		{name: "alias Duke City keeps its city word", query: "Duke City", place: "albuquerque"},
		{name: "alias Spanish spelling", query: "Alburquerque", place: "albuquerque"},
		{name: "typo las cruses", query: "las cruses", place: "las-cruces", corrected: true},
		{name: "typo bernalilo", query: "bernalilo", place: "bernalillo-county", corrected: true},
		{name: "typo bernalilo county", query: "Bernalilo County", place: "bernalillo-county", corrected: true},
		{name: "typo transposition", query: "Albuqeurque", place: "albuquerque", corrected: true},
		{name: "typo chavez", query: "chavez", place: "chaves-county", corrected: true},
		{name: "dona ana", query: "dona ana", place: "dona-ana-county"},
		{name: "doña ana", query: "doña ana", place: "dona-ana-county"},
		{name: "DONA ANA COUNTY", query: "DONA ANA COUNTY", place: "dona-ana-county"},
		{name: "NFD doña ana", query: "Dona\u0303 Ana", place: "dona-ana-county"},
		{name: "Doña-Ana with hyphen", query: "Doña-Ana", place: "dona-ana-county"},
		{name: "DeBaca run together", query: "DeBaca", place: "de-baca-county"},
		{name: "condado de Baca", query: "condado de Baca", place: "de-baca-county"},
		{name: "Mc Kinley split", query: "Mc Kinley county", place: "mckinley-county"},
		{name: "santa fe is ambiguous", query: "santa fe", choices: []string{"santa-fe", "santa-fe-county"}},
		{name: "Santa Fe, NM still ambiguous", query: "Santa Fe, N.M.", choices: []string{"santa-fe", "santa-fe-county"}},
		{name: "santa fe county", query: "santa fe county", place: "santa-fe-county"},
		{name: "condado de santa fe", query: "condado de santa fe", place: "santa-fe-county"},
		{name: "city of santa fe", query: "city of santa fe", place: "santa-fe"},
		{name: "ciudad de santa fe", query: "ciudad de Santa Fé", place: "santa-fe"},
		{name: "la ciudad de santa fe", query: "la ciudad de santa fe", place: "santa-fe"},
		{name: "santa fe city", query: "Santa Fe City", place: "santa-fe"},
		{name: "los alamos is ambiguous", query: "los alamos", choices: []string{"los-alamos", "los-alamos-county"}},
		{name: "town of los alamos", query: "town of Los Álamos", place: "los-alamos"},
		{name: "las vegas only one in NM", query: "Las Vegas NM", place: "las-vegas"},
		{name: "leading article", query: "el South Valley", place: "south-valley"},
		{name: "en albuquerque", query: "en Albuquerque", place: "albuquerque"},
		{name: "nuevo mexico suffix", query: "Las Cruces, Nuevo México", place: "las-cruces"},
		{name: "río arriba accent", query: "Río Arriba", place: "rio-arriba-county"},
		{name: "typo in ambiguous name", query: "santa fee", choices: []string{"santa-fe", "santa-fe-county"}, corrected: true},
		{name: "typo with county marker", query: "santa fee county", place: "santa-fe-county", corrected: true},
		{name: "lea exact short name", query: "Lea", place: "lea-county"},
		{name: "lea county", query: "lea co", place: "lea-county"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := d.Lookup(tt.query)
			if tt.place != "" {
				wantOne(t, tt.query, r, tt.place)
			}
			if tt.choices != nil {
				var got []string
				for _, c := range r.Choices {
					got = append(got, c.ID)
				}
				if r.Place != nil || strings.Join(got, " ") != strings.Join(tt.choices, " ") {
					t.Errorf("Lookup(%q) = %s, want choices %v", tt.query, describe(r), tt.choices)
				}
			}
			if r.Corrected != tt.corrected {
				t.Errorf("Lookup(%q).Corrected = %v, want %v", tt.query, r.Corrected, tt.corrected)
			}
			if r.Suggestions != nil {
				t.Errorf("Lookup(%q) has suggestions with a match: %s", tt.query, describe(r))
			}
		})
	}
}

// Replies a member sends in other steps of a conversation must never be read as a place.
func TestLookupNoMatch(t *testing.T) {
	d := mustLoad(t)
	for _, q := range []string{
		"", " ", "1", "2", "10", "si", "sí", "no", "hola", "hi", "ok", "yes", "help", "ayuda", "menu", "menú",
		"stop", "alto", "gracias", "thanks", "otro", "otra", "info", "english", "español", "espanol",
		"reporte", "derechos", "hello", "salir", "cancel", "county", "condado", "condado de", "city of",
		"NM", "New Mexico", "nuevo méxico", "87102", "santa fe 87501", "👋", "?!", "lena", "lunes",
	} {
		r := d.Lookup(q)
		if r.Place != nil || r.Choices != nil {
			t.Errorf("Lookup(%q) = %s, want no match", q, describe(r))
		}
	}
	// The shortest replies must not even suggest a place.
	for _, q := range []string{"1", "si", "no", "hola", "ok", "yes", "hi", "menu", "help", "ayuda", "gracias"} {
		if r := d.Lookup(q); r.Suggestions != nil {
			t.Errorf("Lookup(%q) suggests %s", q, describe(r))
		}
	}
}

func TestLookupSuggestions(t *testing.T) {
	d := mustLoad(t)
	tests := []struct {
		query string
		want  string // a suggestion expected first; "" for none
	}{
		{"gotham", ""},
		{"albukerke", "albuquerque"},
		{"albu", "albuquerque"},
		{"bernalillo contry", "bernalillo-county"},
		{"taso", "taos-county"},
		{"albuquerque county", "albuquerque"}, // the marker contradicts the only match: ask
		{"city of bernalillo", "bernalillo-county"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := d.Lookup(tt.query)
			if r.Place != nil || r.Choices != nil {
				t.Fatalf("Lookup(%q) = %s, want no match", tt.query, describe(r))
			}
			if len(r.Suggestions) > MaxSuggestions {
				t.Errorf("%d suggestions", len(r.Suggestions))
			}
			if tt.want == "" {
				if r.Suggestions != nil {
					t.Errorf("Lookup(%q) = %s, want nothing", tt.query, describe(r))
				}
				return
			}
			if len(r.Suggestions) == 0 || r.Suggestions[0].ID != tt.want {
				t.Errorf("Lookup(%q) = %s, want %s first", tt.query, describe(r), tt.want)
			}
		})
	}
}

func TestMatchCountyName(t *testing.T) {
	d := mustLoad(t)
	tests := []struct {
		name, want string
	}{
		{"Dona Ana", "dona-ana-county"},
		{"Doña Ana", "dona-ana-county"},
		{"DONA ANA", "dona-ana-county"},
		{"DeBaca", "de-baca-county"},
		{"De Baca", "de-baca-county"},
		{"McKinley", "mckinley-county"},
		{"Mckinley", "mckinley-county"},
		{"Santa Fe County", "santa-fe-county"},
		{"Santa Fe", "santa-fe-county"}, // a county column: the city is not a candidate
		{"Los Alamos", "los-alamos-county"},
		{"Bernalilo", ""},   // no typo tolerance: an importer must report it
		{"Albuquerque", ""}, // a city, not a county
		{"ABQ", ""},         // aliases are not county names
		{"Dona Ana 2", ""},  // digits never match
		{"", ""},            // nothing
		{"El Paso", ""},     // border ZIPs name Texas counties
		{"County", ""},      // the marker alone
		{"Doña Ana Co", ""}, // only the full word is dropped
		{"Mc-Kinley", "mckinley-county"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := d.MatchCountyName(tt.name)
			if tt.want == "" {
				if ok {
					t.Errorf("MatchCountyName(%q) = %s, want no match", tt.name, p.ID)
				}
				return
			}
			if !ok || p.ID != tt.want {
				t.Errorf("MatchCountyName(%q) = %v, %v, want %s", tt.name, p, ok, tt.want)
			}
		})
	}
}

// TestMatchCountyNameZipCSV maps every county spelling of the ZIP table an importer will read.
// The table is not part of the repository (shareddata.ZipCSV).
func TestMatchCountyNameZipCSV(t *testing.T) {
	f, err := os.Open(shareddata.ZipCSV(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	d := mustLoad(t)
	seen := make(map[string]bool)
	for _, row := range rows[1:] {
		name := row[1]
		if seen[name] {
			continue
		}
		seen[name] = true
		if _, ok := d.MatchCountyName(name); !ok {
			t.Errorf("ZIP table county %q not matched", name)
		}
	}
	if len(seen) != 33 {
		t.Errorf("ZIP table has %d county spellings, want 33", len(seen))
	}
}

func TestOSA(t *testing.T) {
	tests := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"lascruses", "lascruces", 2, 1},
		{"albuqeurque", "albuquerque", 2, 1}, // a transposition is one edit
		{"abc", "abc", 0, 0},
		{"abc", "", 5, 3},
		{"", "", 0, 0},
		{"gotham", "grant", 1, 2}, // capped at limit+1
		{"ca", "abc", 3, 3},       // OSA, unlike full Damerau, edits no substring twice
	}
	for _, tt := range tests {
		if got := osa([]rune(tt.a), []rune(tt.b), tt.limit); got != tt.want {
			t.Errorf("osa(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.limit, got, tt.want)
		}
	}
}

func TestLookupAllocations(t *testing.T) {
	if raceDetector {
		t.Skip("allocation counts mean nothing under -race (sync.Pool drops items at random); .ci/run runs this test without it")
	}
	d := mustLoad(t)
	// An exact, unambiguous hit is the common case on the request path: beyond folding the
	// text (the fold package's cost), it should allocate nothing.
	// AllocsPerRun counts every allocation in the process while it runs, so a test's
	// leftover goroutine (or the race detector's bookkeeping) can add one to a run: the least
	// of three measurements is Lookup's own, and a real regression shows in all three.
	least := func(f func()) float64 {
		return min(testing.AllocsPerRun(100, f), testing.AllocsPerRun(100, f), testing.AllocsPerRun(100, f))
	}
	for _, q := range []string{"las cruces", "Condado de Doña Ana", "bernalilo county"} {
		folding := least(func() { fold.Text(q) })
		if n := least(func() { d.Lookup(q) }); n > folding {
			t.Errorf("Lookup(%q) allocates %v times, folding alone %v", q, n, folding)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	d := mustLoad(b)
	for _, bc := range []struct{ name, query string }{
		{"exact", "las cruces"},
		{"exact_county_accents", "Condado de Doña Ana"},
		{"ambiguous", "Santa Fe"},
		{"typo", "bernalilo county"},
		{"unknown", "gotham city"},
		{"reply", "1"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d.Lookup(bc.query)
			}
		})
	}
}

func FuzzLookup(f *testing.F) {
	d := mustLoad(f)
	for _, s := range []string{
		"ABQ", "las cruses", "santa fe", "condado de doña ana", "Dona\u0303 Ana", "1", "si", "hola",
		"city of santa fe county", "the the the", "n m n m", "condado de", "\xff\xfe", strings.Repeat("a ", 40),
		strings.Repeat("á", 100), "los alamos county nm",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := d.Lookup(q)
		if r.Place != nil && r.Choices != nil {
			t.Fatalf("Lookup(%q) set both Place and Choices", q)
		}
		if (r.Place != nil || r.Choices != nil) && r.Suggestions != nil {
			t.Fatalf("Lookup(%q) has suggestions with a match", q)
		}
		if len(r.Choices) == 1 {
			t.Fatalf("Lookup(%q) offers a single choice", q)
		}
		if len(r.Suggestions) > MaxSuggestions {
			t.Fatalf("Lookup(%q) has %d suggestions", q, len(r.Suggestions))
		}
		d.MatchCountyName(q)
	})
}
