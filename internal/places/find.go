package places

import (
	"strings"
	"unicode"

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
// A name that is also an ordinary word ("lea", "luna", "mora") is not a place inside a
// sentence, though "condado de Luna" is.
func (d *Directory) Find(text string) Result { return d.view.Load().find(text) }

func (x *view) find(text string) Result {
	r := x.lookup(text)
	if r.Place != nil || len(r.Choices) > 0 {
		return r
	}
	words := sentenceWords(fold.Text(text))
	if len(r.Suggestions) > 0 && len(words) < minSentenceWords && !x.fillerAround(words) {
		// A short text close to a name ("sierra blanca", "lascru") is a place misspelt or
		// one we do not have: ask, rather than take a name out of it. "vivo en gallup" is
		// a name and little words around it.
		return r
	}
	for n := min(maxSpanWords, len(words)); n >= 1; n-- {
		for i := 0; i+n <= len(words); i++ {
			span := words[i : i+n]
			hit := x.exactLookup(span)
			if hit.Place == nil && len(hit.Choices) == 0 || bareCommonWord(span) {
				continue
			}
			return hit
		}
	}
	return r
}

// commonWords are names (or aliases) of places that are also ordinary words: "la luna" is
// the moon, "lea sus derechos" is "read your rights", "cuando cruces" is "when you cross".
// Alone inside a sentence they are no place; with "condado"/"county" beside them
// ("condado de Luna") they are. Short names that are no ordinary word ("Taos") count.
var commonWords = map[string]bool{"luna": true, "lea": true, "mora": true, "union": true, "grant": true,
	"sierra": true, "socorro": true, "quay": true, "cruces": true}

// fillers are the little words around a place name in a short answer: "vivo en gallup",
// "soy de roswell", "alertas las cruces", "in hobbs".
var fillers = map[string]bool{"vivo": true, "en": true, "soy": true, "de": true, "del": true, "el": true,
	"la": true, "aqui": true, "estoy": true, "alertas": true, "alerta": true, "para": true, "i": true,
	"live": true, "in": true, "im": true, "from": true, "alerts": true, "for": true, "near": true}

// fillerAround reports whether words are one exact place name and fillers only.
func (x *view) fillerAround(words []string) bool {
	for i := range words {
		for j := i + 1; j <= len(words); j++ {
			if hit := x.exactLookup(words[i:j]); hit.Place == nil && len(hit.Choices) == 0 || bareCommonWord(words[i:j]) {
				continue
			}
			rest := 0
			for k, w := range words {
				if (k < i || k >= j) && !fillers[w] {
					rest++
				}
			}
			if rest == 0 {
				return true
			}
		}
	}
	return false
}

// articles may stand before a name without making it one: "the union", "la luna" (not
// "las" or "los", which begin names: Las Cruces, Los Lunas).
var articles = map[string]bool{"the": true, "el": true, "la": true, "in": true, "en": true}

// bareCommonWord reports whether span, articles aside, is one ordinary word that names a
// place (commonWords), with no "condado" or "county" to say it is the place.
func bareCommonWord(span []string) bool {
	var rest []string
	for _, w := range span {
		if !articles[w] {
			rest = append(rest, w)
		}
	}
	return len(rest) == 1 && commonWords[rest[0]]
}

// exactLookup is Lookup without typo tolerance, on words already folded.
func (x *view) exactLookup(toks []string) Result {
	var winBuf [maxWindows]window
	r, _ := x.exactHit(toks, windows(toks, winBuf[:0]))
	return r
}

// exactHit finds the longest window with an exact hit: "duke city" is an alias before "city"
// is a marker word, and "condado de baca" is De Baca before it is an unknown "baca".
func (x *view) exactHit(toks []string, wins []window) (Result, bool) {
	var keyBuf [4 * maxKeyRunes]byte
	best := -1
	var hit []*Place
	for k, w := range wins {
		key := appendCompact(keyBuf[:0], toks[w.i:w.j])
		if ps, ok := x.exact[string(key)]; ok && (best < 0 || w.len() > wins[best].len()) {
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
