// Package fold reduces what a member typed to a canonical form for matching keywords,
// menu choices and place names: "AYÚDA", "ayuda", " Ayuda. " and an NFD-encoded "ayúda"
// all fold to "ayuda".
package fold

import (
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Text folds s for comparison: Unicode-normalized, case-folded, accents removed (ñ becomes n),
// runs of white space collapsed to one space, and punctuation and symbols trimmed from both
// ends. Inner punctuation is kept so that "stop, please" stays a sentence, not the word "stop".
func Text(s string) string {
	if isPlainLower(s) {
		return strings.Join(strings.Fields(trimPunct(s)), " ")
	}
	// A transformer holds state, so a chain serves one call at a time: pooled, since
	// building one costs more than folding a message (transform.String resets it first).
	t := chains.Get().(transform.Transformer)
	out, _, err := transform.String(t, s)
	chains.Put(t)
	if err != nil {
		// Only invalid UTF-8 fails here; fall back to a lowercase copy rather than lose the input.
		out = strings.ToLower(strings.ToValidUTF8(s, ""))
	}
	return strings.Join(strings.Fields(trimPunct(out)), " ")
}

var chains = sync.Pool{New: func() any {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), cases.Fold(), norm.NFC)
}}

// Words returns the folded words of s, with punctuation around each word removed:
// "¡La migra está aquí!" gives [la migra esta aqui].
func Words(s string) []string {
	fields := strings.Fields(Text(s))
	words := fields[:0]
	for _, f := range fields {
		if w := trimPunct(f); w != "" {
			words = append(words, w)
		}
	}
	return words
}

func trimPunct(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r) || unicode.IsControl(r) ||
			unicode.Is(unicode.Cf, r) // zero-width joiners and similar
	})
}

// isPlainLower reports whether s is lowercase ASCII already, the common case of a menu digit
// or a typed keyword, which needs no Unicode work.
func isPlainLower(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
