package places

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/fold"
)

// maxSentenceWords bounds the words Find reads; a place is named early in a message.
const maxSentenceWords = 40

// minSentenceWords is the fewest words of a text read as a sentence that may name a place
// inside it; a shorter one is taken whole.
const minSentenceWords = 4

// maxSpanWords is the longest run of words Find tries as a place name with its marker words
// ("condado de santa fe", "city of las cruces nm").
const maxSpanWords = 6

// Find finds the place a member names, alone or inside a sentence: "las cruces por favor",
// "¿el condado de Santa Fe coopera con ICE?", "3 las cruces". The whole text is tried first,
// with Lookup's typo tolerance; inside a sentence only exact names count (with their marker
// words and aliases), the longest first, so a stray word near a name is never read as one.
// A bare word of four letters or fewer inside a sentence is not a place ("lea", "luna",
// "mora" are ordinary Spanish), though "condado de Luna" is.
func (d *Directory) Find(text string) Result {
	r := d.Lookup(text)
	if r.Place != nil || len(r.Choices) > 0 {
		return r
	}
	words := sentenceWords(fold.Text(text))
	if len(r.Suggestions) > 0 && len(words) < minSentenceWords {
		// A short text close to a name ("sierra blanca", "lascru") is a place misspelt or
		// one we do not have: ask, rather than take a name out of it.
		return r
	}
	for n := min(maxSpanWords, len(words)); n >= 1; n-- {
		for i := 0; i+n <= len(words); i++ {
			span := words[i : i+n]
			if n == 1 && utf8.RuneCountInString(span[0]) <= 4 {
				continue
			}
			hit := d.exactLookup(span)
			if hit.Place == nil && len(hit.Choices) == 0 || shortName(hit) && !hasMarker(span) {
				continue
			}
			return hit
		}
	}
	return r
}

// shortName reports whether what r found has a name of four letters or fewer ("la luna"
// is the moon; "condado de Luna" is the county).
func shortName(r Result) bool {
	ps := r.Choices
	if r.Place != nil {
		ps = []*Place{r.Place}
	}
	for _, p := range ps {
		if utf8.RuneCountInString(compactKey(fold.Text(p.Name))) > 4 {
			return false
		}
	}
	return true
}

// markerWords say a county or a city follows or precedes.
var markerWords = map[string]bool{"condado": true, "county": true, "ciudad": true, "city": true, "town": true, "village": true}

func hasMarker(words []string) bool {
	for _, w := range words {
		if markerWords[w] {
			return true
		}
	}
	return false
}

// exactLookup is Lookup without typo tolerance, on words already folded.
func (d *Directory) exactLookup(toks []string) Result {
	var winBuf [maxWindows]window
	r, _ := d.exactHit(toks, windows(toks, winBuf[:0]))
	return r
}

// exactHit finds the longest window with an exact hit: "duke city" is an alias before "city"
// is a marker word, and "condado de baca" is De Baca before it is an unknown "baca".
func (d *Directory) exactHit(toks []string, wins []window) (Result, bool) {
	var keyBuf [4 * maxKeyRunes]byte
	best := -1
	var hit []*Place
	for k, w := range wins {
		key := appendCompact(keyBuf[:0], toks[w.i:w.j])
		if ps, ok := d.exact[string(key)]; ok && (best < 0 || w.len() > wins[best].len()) {
			best, hit = k, ps
		}
	}
	if best < 0 {
		return Result{}, false
	}
	return resolve(hit, wins[best]), true
}

// sentenceWords splits folded text into words of letters; digits end a word and are
// dropped ("3 las cruces", "87102 albuquerque").
func sentenceWords(s string) []string {
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	if len(words) > maxSentenceWords {
		words = words[:maxSentenceWords]
	}
	return words
}
