package places

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// The facts below are copied from the project's domain notes (the reviewed source of every
// fact the hotline states), so that the shipped data file is checked against them, not
// against itself.
var (
	// The 33 counties, spelled as in the notes.
	allCounties = []string{
		"Bernalillo", "Catron", "Chaves", "Cibola", "Colfax", "Curry", "De Baca", "Doña Ana", "Eddy",
		"Grant", "Guadalupe", "Harding", "Hidalgo", "Lea", "Lincoln", "Los Alamos", "Luna", "McKinley",
		"Mora", "Otero", "Quay", "Rio Arriba", "Roosevelt", "San Juan", "San Miguel", "Sandoval",
		"Santa Fe", "Sierra", "Socorro", "Taos", "Torrance", "Union", "Valencia",
	}
	// The 23 counties on the DHS list of 2025-05-29 (per ACLU of New Mexico).
	dhsCounties = []string{
		"Bernalillo", "Chaves", "Colfax", "De Baca", "Doña Ana", "Eddy", "Grant", "Hidalgo", "Lincoln",
		"Los Alamos", "Luna", "McKinley", "Otero", "Quay", "Rio Arriba", "Roosevelt", "San Juan",
		"San Miguel", "Sandoval", "Santa Fe", "Sierra", "Socorro", "Taos",
	}
	// The 20 largest places (2020 census) and the county each lies in.
	largestPlaces = map[string]string{
		"Albuquerque": "Bernalillo", "Las Cruces": "Doña Ana", "Rio Rancho": "Sandoval",
		"Santa Fe": "Santa Fe", "Roswell": "Chaves", "Farmington": "San Juan", "Hobbs": "Lea",
		"Clovis": "Curry", "South Valley": "Bernalillo", "Carlsbad": "Eddy", "Alamogordo": "Otero",
		"Gallup": "McKinley", "Los Lunas": "Valencia", "Sunland Park": "Doña Ana",
		"Chaparral": "Doña Ana", "Deming": "Luna", "Los Alamos": "Los Alamos",
		"Las Vegas": "San Miguel", "Artesia": "Eddy", "Portales": "Roosevelt",
	}
)

// mustLoad loads the shipped data file, so that every test of the lookup also tests the data
// organizers will deploy.
func mustLoad(tb testing.TB) *Directory {
	tb.Helper()
	d, err := Load(os.DirFS("../../flows"), "data/places.toml")
	if err != nil {
		tb.Fatalf("load shipped places file: %v", err)
	}
	return d
}

func TestShippedFile(t *testing.T) {
	d := mustLoad(t)

	t.Run("exactly the 33 counties", func(t *testing.T) {
		var got []string
		for _, c := range d.Counties() {
			got = append(got, c.Name)
		}
		if !slices.Equal(got, allCounties) {
			t.Errorf("counties = %q\nwant %q", got, allCounties)
		}
	})

	t.Run("exactly the 20 largest places with their counties", func(t *testing.T) {
		n := 0
		for _, p := range d.Places() {
			if p.IsCounty() {
				continue
			}
			n++
			want, ok := largestPlaces[p.Name]
			if !ok {
				t.Errorf("unexpected place %q", p.Name)
				continue
			}
			c := d.CountyOf(p)
			if c == nil || !c.IsCounty() || c.Name != want {
				t.Errorf("CountyOf(%q) = %v, want %s County", p.Name, c, want)
			}
		}
		if n != len(largestPlaces) {
			t.Errorf("%d cities and places, want %d", n, len(largestPlaces))
		}
	})

	t.Run("DHS list: the 23 counties, Albuquerque and Santa Fe", func(t *testing.T) {
		var counties, cities []string
		for _, p := range d.Places() {
			switch {
			case p.DHSList && p.IsCounty():
				counties = append(counties, p.Name)
			case p.DHSList:
				cities = append(cities, p.ID)
			}
		}
		if !slices.Equal(counties, dhsCounties) {
			t.Errorf("DHS counties = %q\nwant %q", counties, dhsCounties)
		}
		if want := []string{"albuquerque", "santa-fe"}; !slices.Equal(cities, want) {
			t.Errorf("DHS cities = %q, want %q", cities, want)
		}
	})

	t.Run("DOJ list: only the City of Albuquerque", func(t *testing.T) {
		var got []string
		for _, p := range d.Places() {
			if p.DOJList {
				got = append(got, p.ID)
			}
		}
		if want := []string{"albuquerque"}; !slices.Equal(got, want) {
			t.Errorf("DOJ entries = %q, want %q", got, want)
		}
	})

	t.Run("every entry complete", func(t *testing.T) {
		for _, p := range d.Places() {
			if p.PolicyEN == "" || p.PolicyES == "" {
				t.Errorf("%s: policy missing in a language", p.ID)
			}
			if p.Verified && (p.Source == "" || !strings.HasPrefix(p.SourceURL, "https://")) {
				t.Errorf("%s: verified without a source", p.ID)
			}
			if p.Checked == "" {
				t.Errorf("%s: no checked date", p.ID)
			}
			if p.Source != "" && len(p.Source) > 30 {
				t.Errorf("%s: source label %q too long for SMS", p.ID, p.Source)
			}
		}
	})

	t.Run("unverified entries say so", func(t *testing.T) {
		for _, p := range d.Places() {
			if p.Verified {
				continue
			}
			if !strings.Contains(p.PolicyEN, "No local policy confirmed") && !strings.Contains(p.PolicyEN, "No city policy confirmed") &&
				!strings.Contains(p.PolicyEN, "not a city") && !strings.Contains(p.PolicyEN, "not a separate city") {
				t.Errorf("%s: unverified policy_en does not say so: %q", p.ID, p.PolicyEN)
			}
			if !strings.Contains(p.PolicyES, "No hemos confirmado una norma") && !strings.Contains(p.PolicyES, "no es una ciudad") {
				t.Errorf("%s: unverified policy_es does not say so: %q", p.ID, p.PolicyES)
			}
		}
	})

	t.Run("verified policies are the ones in the notes", func(t *testing.T) {
		var got []string
		for _, p := range d.Places() {
			if p.Verified {
				got = append(got, p.ID)
			}
		}
		want := []string{
			"bernalillo-county", "dona-ana-county", "otero-county", "rio-arriba-county", "san-juan-county",
			"santa-fe-county", "taos-county", "torrance-county",
			"albuquerque", "las-cruces", "santa-fe", "farmington",
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("verified = %q\nwant %q", got, want)
		}
	})

	t.Run("policy dates as the notes give them", func(t *testing.T) {
		for id, want := range map[string]string{
			"bernalillo-county": "2025-11",
			"santa-fe-county":   "2025-02 (approx.)",
			"dona-ana-county":   "2014-09-09",
			"otero-county":      "2019-02-14",
			"torrance-county":   "2026-02-04",
			"las-cruces":        "2025-10-06",
			"albuquerque":       "2025-07-21",
			"santa-fe":          "2017-02-22",
			"taos-county":       "2025-01",
			"rio-arriba-county": "",
		} {
			p, _ := d.Get(id)
			if got := p.PolicyDateLabel("en"); got != want {
				t.Errorf("%s: policy date %q, want %q", id, got, want)
			}
		}
	})

	// The review of 2026-12 (domain notes, "Updates 2026-12"): what the texts must say, and
	// what they must no longer claim.
	t.Run("review of 2026-12", func(t *testing.T) {
		get := func(id string) *Place {
			p, ok := d.Get(id)
			if !ok {
				t.Fatalf("no place %q", id)
			}
			return p
		}
		// Detention in Otero, Torrance and Cibola may go on: no text may read as if a centre
		// had closed.
		for _, id := range []string{"otero-county", "torrance-county", "cibola-county"} {
			p := get(id)
			if !strings.Contains(p.PolicyEN, "detention may go on") || !strings.Contains(p.PolicyES, "puede que sigan deteniendo") {
				t.Errorf("%s does not say detention may go on:\n%s\n%s", id, p.PolicyEN, p.PolicyES)
			}
			for _, closed := range []string{"closed", "cerr"} {
				if strings.Contains(p.PolicyEN+p.PolicyES, closed) {
					t.Errorf("%s reads as if a centre closed (%q)", id, closed)
				}
			}
		}
		if p := get("otero-county"); !strings.Contains(p.PolicyEN, "not a sanctuary county") || !strings.Contains(p.PolicyEN, "February 14, 2019") {
			t.Errorf("Otero lacks its 2019 resolution: %q", p.PolicyEN)
		}
		if p := get("torrance-county"); !strings.Contains(p.PolicyEN, "March 31, 2026") || !strings.Contains(p.PolicyES, "31 de marzo de 2026") {
			t.Errorf("Torrance lacks its contract extension: %q", p.PolicyEN)
		}
		if p := get("bernalillo-county"); !strings.Contains(p.PolicyEN, "Safer Community Places") || !strings.Contains(p.PolicyEN, "I-9") ||
			!strings.Contains(p.Source, "KKOB") {
			t.Errorf("Bernalillo lacks the 2025 ordinance or its source: %+v", p)
		}
		if p := get("albuquerque"); strings.Contains(p.Source, "Hobbs") || !strings.Contains(p.PolicyEN, "2025") ||
			strings.Contains(p.PolicyEN, "judge") || strings.Contains(p.PolicyES, "juez") {
			t.Errorf("Albuquerque must cite the 2025 reaffirmations and claim no judge's warrant: %+v", p)
		}
		if p := get("santa-fe"); strings.Contains(p.PolicyEN, "refused") || strings.Contains(p.PolicyEN, "property") ||
			strings.Contains(p.PolicyES, "propiedad") || !strings.Contains(p.PolicyEN, "1999-6") || !strings.Contains(p.PolicyEN, "2017-19") {
			t.Errorf("Santa Fe must give the adopted resolutions only: %q / %q", p.PolicyEN, p.PolicyES)
		}
		if p := get("las-cruces"); strings.Contains(p.PolicyEN, "warrant") || strings.Contains(p.PolicyEN, "property") ||
			strings.Contains(p.PolicyES, "juez") || strings.Contains(p.PolicyES, "propiedad") {
			t.Errorf("Las Cruces must not claim a warrant to enter city property: %q / %q", p.PolicyEN, p.PolicyES)
		}
		if p := get("taos-county"); !strings.Contains(p.Source, "Daily Yonder") || !strings.Contains(p.PolicyEN, "sheriff") ||
			!strings.Contains(p.PolicyEN, "January 2025") || !strings.Contains(p.PolicyES, "enero de 2025") {
			t.Errorf("Taos must give the sheriff's January 2025 statement with its source: %+v", p)
		}
		if p := get("dona-ana-county"); !strings.Contains(p.PolicyEN, "September 9, 2014") || !strings.Contains(p.PolicyES, "9 de septiembre de 2014") {
			t.Errorf("Dona Ana lacks the vote's date: %q / %q", p.PolicyEN, p.PolicyES)
		}
		for _, p := range d.Places() {
			if (p.Checked == "2026-12-06") != slices.Contains([]string{"bernalillo-county", "cibola-county", "dona-ana-county",
				"otero-county", "taos-county", "torrance-county", "albuquerque", "las-cruces", "santa-fe"}, p.ID) {
				t.Errorf("%s: checked %s; only the entries re-checked in 2026-12 carry 2026-12-06", p.ID, p.Checked)
			}
		}
	})

	t.Run("state law and lists", func(t *testing.T) {
		if d.State.Signed != "2026-02-05" || d.State.Effective != "2026-05-20" || !strings.Contains(d.State.Name, "HB 9") {
			t.Errorf("state = %+v", d.State)
		}
		l := d.Lists
		if l.DHS.Date != "2025-05-29" || l.DHS.Removed != "2025-06-01" || l.DOJ.Date != "2025-08-05" ||
			l.EO14287.Date != "2025-04-28" {
			t.Errorf("lists = %+v", l)
		}
	})

	t.Run("texts fit SMS", func(t *testing.T) {
		if w := d.Warnings(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)); len(w) > 0 {
			t.Errorf("warnings: %v", w)
		}
	})
}

func TestPlaceHelpers(t *testing.T) {
	d := mustLoad(t)
	county, _ := d.Get("dona-ana-county")
	city, _ := d.Get("las-cruces")
	tests := []struct {
		name, got, want string
	}{
		{"county label en", county.Label("en"), "Doña Ana County"},
		{"county label es", county.Label("es"), "Condado de Doña Ana"},
		{"city label es", city.Label("es-MX"), "Las Cruces"},
		{"policy es", city.Policy("es"), city.PolicyES},
		{"policy es_US", city.Policy("es_US"), city.PolicyES},
		{"policy en", city.Policy("en"), city.PolicyEN},
		{"policy unknown lang falls back to en", city.Policy("fr"), city.PolicyEN},
		{"policy est is not es", city.Policy("est"), city.PolicyEN},
		{"state es", d.State.Text("es"), d.State.ES},
		{"list en", d.Lists.DOJ.Text("en"), d.Lists.DOJ.EN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	sf, _ := d.Get("santa-fe-county")
	if got := sf.PolicyDateLabel("es"); got != "2025-02 (aprox.)" {
		t.Errorf("approximate date in Spanish = %q", got)
	}
	if d.CountyOf(county) != county || d.CountyOf(nil) != nil || d.CountyOf(city) != county {
		t.Error("CountyOf")
	}
	if _, ok := d.Get("gotham"); ok {
		t.Error("Get of an unknown id succeeded")
	}
}

// validFile is the smallest file Parse accepts; the parse tests break it one way at a time.
const validFile = `
[labels]
county_en = "{name} County"
county_es = "Condado de {name}"
approx_en = "approx."
approx_es = "aprox."

[state]
name = "HB 9"
signed = "2026-02-05"
effective = "2026-05-20"
en = "State law."
es = "Ley estatal."
source = "Src"
source_url = "https://example.org/hb9"
checked = "2026-11-26"

[lists.dhs]
name = "DHS list"
date = "2025-05-29"
removed = "2025-06-01"
en = "DHS list."
es = "Lista del DHS."
source = "Src"
source_url = "https://example.org/dhs"
checked = "2026-11-26"

[lists.doj]
name = "DOJ list"
date = "2025-08-05"
en = "DOJ list."
es = "Lista del DOJ."
source = "Src"
source_url = "https://example.org/doj"
checked = "2026-11-26"

[lists.eo14287]
name = "EO 14287"
date = "2025-04-28"
en = "Order."
es = "Orden."
source = "Src"
source_url = "https://example.org/eo"
checked = "2026-11-26"

[[place]]
id = "santa-fe-county"
name = "Santa Fe"
kind = "county"
policy_en = "Policy."
policy_es = "Política."
policy_date = "2025-02"
policy_date_approx = true
source = "Src"
source_url = "https://example.org/sfc"
verified = true
checked = "2026-11-26"

[[place]]
id = "santa-fe"
name = "Santa Fe"
kind = "city"
county = "santa-fe-county"
policy_en = "Not verified."
policy_es = "No verificado."
verified = false
checked = "2026-11-26"
`

func TestParse(t *testing.T) {
	if _, err := Parse([]byte(validFile)); err != nil {
		t.Fatalf("valid file: %v", err)
	}

	const extraCity = `
[[place]]
id = "rio-rancho"
name = "Rio Rancho"
kind = "city"
county = "%s"
policy_en = "x"
policy_es = "x"
verified = false
checked = "2026-11-26"
`
	tests := []struct {
		name    string
		edit    func(string) string
		wantErr []string // substrings of the error, each naming the entry
	}{
		{"duplicate id", func(s string) string {
			return s + strings.Replace(extraCity, `"rio-rancho"`, `"santa-fe"`, 1)
		}, []string{`place "santa-fe": duplicate id`}},
		{"missing county", func(s string) string {
			return s + strings.Replace(extraCity, "%s", "sandoval-county", 1)
		}, []string{`place "rio-rancho": county "sandoval-county" does not exist`}},
		{"county is a city", func(s string) string {
			return s + strings.Replace(extraCity, "%s", "santa-fe", 1)
		}, []string{`place "rio-rancho": county "santa-fe" is a city, not a county`}},
		{"city without county", func(s string) string {
			return strings.Replace(s, `county = "santa-fe-county"`, "", 1)
		}, []string{`place "santa-fe": county is missing`}},
		{"county with county", func(s string) string {
			return strings.Replace(s, `kind = "county"`, "kind = \"county\"\ncounty = \"x\"", 1)
		}, []string{`place "santa-fe-county": a county has no county field`}},
		{"missing spanish policy", func(s string) string {
			return strings.Replace(s, `policy_es = "No verificado."`, "", 1)
		}, []string{`place "santa-fe": policy_es is missing`}},
		{"malformed checked date", func(s string) string {
			return replaceLast(s, `checked = "2026-11-26"`, `checked = "26/11/2026"`)
		}, []string{`place "santa-fe": checked "26/11/2026" is not a date YYYY-MM-DD`}},
		{"malformed policy date", func(s string) string {
			return strings.Replace(s, `policy_date = "2025-02"`, `policy_date = "Feb 2025"`, 1)
		}, []string{`place "santa-fe-county": policy_date "Feb 2025" is not a date`}},
		{"month 13", func(s string) string {
			return strings.Replace(s, `policy_date = "2025-02"`, `policy_date = "2025-13"`, 1)
		}, []string{`place "santa-fe-county": policy_date "2025-13"`}},
		{"empty name", func(s string) string {
			return strings.Replace(s, `name = "Santa Fe"`+"\nkind = \"city\"", `name = " "`+"\nkind = \"city\"", 1)
		}, []string{`place "santa-fe": name is missing`}},
		{"unknown kind", func(s string) string {
			return strings.Replace(s, `kind = "city"`, `kind = "town"`, 1)
		}, []string{`place "santa-fe": unknown kind "town"`}},
		{"verified without source", func(s string) string {
			return strings.Replace(s, "verified = false", "verified = true", 1)
		}, []string{`place "santa-fe": verified = true needs source and source_url`}},
		{"verified missing", func(s string) string {
			return strings.Replace(s, "verified = false", "", 1)
		}, []string{`place "santa-fe": verified is missing`}},
		{"approx without date", func(s string) string {
			return strings.Replace(s, `policy_date = "2025-02"`, "", 1)
		}, []string{`place "santa-fe-county": policy_date_approx is set but policy_date is empty`}},
		{"bad url", func(s string) string {
			return strings.Replace(s, "https://example.org/sfc", "example.org/sfc", 1)
		}, []string{`place "santa-fe-county": source_url "example.org/sfc" is not a full http(s) address`}},
		{"misspelt field", func(s string) string {
			return strings.Replace(s, "policy_es = \"Política.\"", "policy_es = \"Política.\"\npolcy_es = \"x\"", 1)
		}, []string{`unknown field "place.polcy_es"`}},
		{"bad id", func(s string) string {
			return strings.Replace(s, `id = "santa-fe"`, `id = "Santa Fe"`, 1)
		}, []string{`place "Santa Fe": id "Santa Fe" must be lowercase`}},
		{"short alias", func(s string) string {
			return strings.Replace(s, `kind = "city"`, "kind = \"city\"\naliases = [\"SF\"]", 1)
		}, []string{`place "santa-fe": alias "SF" is shorter than 3 letters`}},
		{"alias with digits", func(s string) string {
			return strings.Replace(s, `kind = "city"`, "kind = \"city\"\naliases = [\"87501\"]", 1)
		}, []string{`place "santa-fe": alias "87501" contains digits`}},
		{"same name same kind", func(s string) string {
			return s + strings.Replace(strings.Replace(extraCity, "%s", "santa-fe-county", 1), `"Rio Rancho"`, `"SANTA FE"`, 1)
		}, []string{`place "rio-rancho": same name as place "santa-fe" of the same kind`}},
		{"state checked missing", func(s string) string {
			return strings.Replace(s, "source_url = \"https://example.org/hb9\"\nchecked = \"2026-11-26\"", "source_url = \"https://example.org/hb9\"", 1)
		}, []string{`state: checked is missing`}},
		{"list date malformed", func(s string) string {
			return strings.Replace(s, `date = "2025-08-05"`, `date = "2025-8-5"`, 1)
		}, []string{`lists.doj: date "2025-8-5" is not a date YYYY-MM-DD`}},
		{"several problems at once", func(s string) string {
			s = strings.Replace(s, `kind = "city"`, `kind = "town"`, 1)
			return strings.Replace(s, `policy_en = "Policy."`, "", 1)
		}, []string{`unknown kind "town"`, `place "santa-fe-county": policy_en is missing`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.edit(validFile)))
			if err == nil {
				t.Fatal("Parse succeeded, want an error")
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not mention %q:\n%v", want, err)
				}
			}
		})
	}

	t.Run("TOML syntax error names the line", func(t *testing.T) {
		_, err := Parse([]byte("[[place]]\nid = \"x\nname = 1\n"))
		if err == nil || !strings.Contains(err.Error(), "line") {
			t.Errorf("err = %v, want a syntax error with its line", err)
		}
	})
	t.Run("wrong type", func(t *testing.T) {
		_, err := Parse([]byte(strings.Replace(validFile, `checked = "2026-11-26"`, `checked = 2026-11-26`, 1)))
		if err == nil {
			t.Error("an unquoted date was accepted")
		}
	})
	t.Run("empty file", func(t *testing.T) {
		_, err := Parse(nil)
		if err == nil || !strings.Contains(err.Error(), "no [[place]] entries") {
			t.Errorf("err = %v", err)
		}
	})
}

func replaceLast(s, old, new string) string {
	i := strings.LastIndex(s, old)
	return s[:i] + new + s[i+len(old):]
}

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{"p.toml": {Data: []byte(strings.Replace(validFile, `kind = "city"`, `kind = "x"`, 1))}}
	_, err := Load(fsys, "p.toml")
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.HasPrefix(err.Error(), "p.toml: ") {
		t.Errorf("Load error = %v, want a *ValidationError prefixed with the path", err)
	}
	if _, err := Load(fsys, "missing.toml"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want fs.ErrNotExist", err)
	}
}

func TestWarnings(t *testing.T) {
	long := strings.Repeat("palabra ", 55)
	d, err := Parse([]byte(strings.Replace(validFile, `policy_es = "No verificado."`, `policy_es = "`+long+`"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	var got []string
	for _, w := range d.Warnings(now) {
		got = append(got, w.String())
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{
		`place "santa-fe": policy_es is 440 characters`,
		`place "santa-fe-county": last checked 2026-11-26, over a year ago`,
		`state: last checked`,
		`lists.dhs: last checked`,
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings lack %q:\n%s", want, joined)
		}
	}
	if w := d.Warnings(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); len(w) != 1 {
		t.Errorf("a month after checking, want only the length warning, got %v", w)
	}
}
