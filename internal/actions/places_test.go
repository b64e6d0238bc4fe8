package actions

import (
	"strings"
	"testing"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/locale"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/segment"
	"github.com/communityhotline/hotline/locales"
)

func TestDateWords(t *testing.T) {
	tests := []struct {
		date, lang, want string
	}{
		{"2026-12-06", "es", "diciembre de 2026"},
		{"2026-12-06", "en", "December 2026"},
		{"2026-01-31", "es", "enero de 2026"},
		{"2026-01-31", "en", "January 2026"},
		{"2025-09", "es", "septiembre de 2025"},
		{"2025-09", "en", "September 2025"},
		{"2026-05-20", "es-MX", "mayo de 2026"},
		{"2026-05-20", "es_US", "mayo de 2026"},
		{"2026-05-20", "fr", "May 2026"},  // any other language reads English, as a policy does
		{"2026-05-20", "est", "May 2026"}, // "est" is not Spanish
		// What is not a date of the data files is shown as it is, never guessed at.
		{"2014", "es", "2014"},
		{"", "en", ""},
		{"2026-13-01", "en", "2026-13-01"},
		{"2026-00", "es", "2026-00"},
		{"2026-+1-01", "en", "2026-+1-01"},
		{"2026/12/06", "en", "2026/12/06"},
		{"2026-12-6x", "en", "2026-12-6x"},
		{"abcd-12", "es", "abcd-12"},
	}
	for _, tt := range tests {
		if got := dateWords(tt.date, tt.lang); got != tt.want {
			t.Errorf("dateWords(%q, %q) = %q, want %q", tt.date, tt.lang, got, tt.want)
		}
	}
}

// maxPolicySegments is what a policy answer may cost, in each language, sent as the hotline
// sends it by default (Unicode: one á makes the whole SMS UCS-2).
const maxPolicySegments = MaxPolicySegments

// shipped loads what the hotline ships: the places file and the message catalog, so that the
// tests below render exactly what a member would get.
func shipped(t *testing.T) (placeActions, *locale.Catalog) {
	t.Helper()
	dir, err := places.Load(flows.FS, "data/places.toml")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locale.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	return placeActions{dir: dir}, cat
}

func TestEveryPolicyAnswerFitsItsBudget(t *testing.T) {
	p, cat := shipped(t)
	if len(cat.Languages()) < 2 {
		t.Fatalf("languages = %v, want Spanish and English", cat.Languages())
	}
	worst := map[string]int{}
	for _, lang := range cat.Languages() {
		for _, pl := range p.dir.Places() {
			vars := map[string]string{}
			p.describe(vars, pl, lang)
			text, err := cat.Text(lang, "policy_answer", vars)
			if err != nil {
				t.Fatalf("%s %s: %v", pl.ID, lang, err)
			}
			info := segment.Count(text)
			worst[lang] = max(worst[lang], info.Segments)
			if info.Segments > maxPolicySegments {
				t.Errorf("%s in %s: %d segments (%s, %d characters), want at most %d:\n%s",
					pl.ID, lang, info.Segments, info.Encoding, info.Chars, maxPolicySegments, text)
			}
			if info.Encoding != segment.GSM7 {
				t.Errorf("%s in %s: %s, want GSM-7:\n%s", pl.ID, lang, info.Encoding, text)
			}
			// The answer names the place, gives its policy and points to the sources; the
			// date a member reads is in words, never 2026-12-06.
			for _, want := range []string{pl.Label(lang), pl.Policy(lang), dateWords(pl.Checked, lang)} {
				if !strings.Contains(text, want) {
					t.Errorf("%s in %s: answer lacks %q:\n%s", pl.ID, lang, want, text)
				}
			}
			if strings.Contains(text, pl.Checked) {
				t.Errorf("%s in %s: answer shows the date %s as digits:\n%s", pl.ID, lang, pl.Checked, text)
			}
		}
	}
	t.Logf("worst policy answer, in segments: %v", worst)
}

func TestStateLawAnswerFitsItsBudget(t *testing.T) {
	p, cat := shipped(t)
	for _, lang := range cat.Languages() {
		c := &flow.Context{State: &flow.State{Lang: lang}, Vars: map[string]string{}}
		p.stateLaw(c)
		text, err := cat.Text(lang, "policy_state_law", c.Vars)
		if err != nil {
			t.Fatalf("%s: %v", lang, err)
		}
		info := segment.Count(text)
		t.Logf("state law in %s: %d segments (%s)", lang, info.Segments, info.Encoding)
		if info.Segments > maxPolicySegments {
			t.Errorf("state law in %s: %d segments (%s, %d characters), want at most %d:\n%s",
				lang, info.Segments, info.Encoding, info.Chars, maxPolicySegments, text)
		}
		if !strings.Contains(text, "HB 9") || !strings.Contains(text, p.dir.State.Text(lang)) {
			t.Errorf("state law in %s does not give HB 9's text:\n%s", lang, text)
		}
	}
}
