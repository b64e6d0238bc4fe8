package understand_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/understand"
)

// FuzzRead: any text at all gets a meaning the flows can act on (a known label or none),
// a confidence between 0 and 1, and a language the model knows or none.
func FuzzRead(f *testing.F) {
	ex, c := load(f)
	m := understand.New(ex, c)
	known := map[string]bool{"": true}
	for _, l := range m.Labels() {
		known[l] = true
	}
	for _, s := range []string{"se llevaron a mi esposo", "", "\xff\xfe", "2️⃣", strings.Repeat("migra ", 500), "¿¡!?", "ICE\u200d", "Ａ１"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := m.Read(s)
		if !known[got.Label()] {
			t.Errorf("Read(%q) = %q, not a label", s, got.Label())
		}
		if got.Confidence < 0 || got.Confidence > 1.0000001 {
			t.Errorf("Read(%q) confidence %v", s, got.Confidence)
		}
		if lang, p := m.Language(s); lang != "" && lang != "es" && lang != "en" || p < 0 || p > 1.0000001 {
			t.Errorf("Language(%q) = %q, %v", s, lang, p)
		}
	})
}

// FuzzNumber: a number read is one a menu can have, and what follows it is part of the text.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"2", "dos", "2️⃣", "la 2", "3 las cruces", "opción cuatro", "#4", "0", "10", "-1", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, rest, ok := understand.Number(s)
		if !ok {
			return
		}
		if n < 1 || n > 9 {
			t.Errorf("Number(%q) = %d", s, n)
		}
		if rest != "" && (!utf8.ValidString(s) || !strings.Contains(s, rest)) {
			t.Errorf("Number(%q) rest %q is not in the text", s, rest)
		}
	})
}

func TestNumber(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		rest string
		ok   bool
	}{
		{"2", 2, "", true}, {" 2. ", 2, "", true}, {"dos", 2, "", true}, {"Two", 2, "", true},
		{"2️⃣", 2, "", true}, {"la 2", 2, "", true}, {"opción cuatro", 4, "", true}, {"#4", 4, "", true},
		{"number 3 please", 3, "", true}, {"el segundo", 2, "", true},
		{"3 las cruces", 3, "las cruces", true}, {"5 quiero reportar", 5, "quiero reportar", true},
		{"87102", 0, "", false}, {"0", 0, "", false}, {"hola", 0, "", false}, {"2 3", 0, "", false},
		{"uno dos", 0, "", false}, {"", 0, "", false}, {"las 2 de la tarde", 0, "", false},
	} {
		n, rest, ok := understand.Number(c.in)
		if n != c.n || rest != c.rest || ok != c.ok {
			t.Errorf("Number(%q) = %d, %q, %v; want %d, %q, %v", c.in, n, rest, ok, c.n, c.rest, c.ok)
		}
	}
}
