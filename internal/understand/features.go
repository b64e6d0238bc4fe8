package understand

import (
	"strings"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"github.com/kljensen/snowball/spanish"

	"github.com/communityhotline/hotline/internal/fold"
)

// Feature names carry a one-letter kind, so a word and a stem that spell the same never
// collide: w word, s Spanish stem, e English stem, b two words in a row, g letters inside a
// word (which survive typos and missing accents), c a cue, q a question mark.
const (
	kindWord   = 'w'
	kindStemES = 's'
	kindStemEN = 'e'
	kindBigram = 'b'
	kindGram   = 'g'
	kindCue    = 'c'
)

// maxTokens bounds the words whose features are read from one message, so the cost of
// reading stays flat whatever a member sends; cues are looked for in up to maxCueTokens
// words, since a voice-to-text paragraph may say "se lo llevaron" at its end.
const (
	maxTokens    = 60
	maxCueTokens = 320
)

// tokens folds text and normalizes what varies without changing meaning: letters repeated
// for emphasis ("ayudaaaa"), any ZIP code, any other number.
func tokens(text string) []string {
	words := fold.Words(text)
	if len(words) > maxCueTokens {
		words = words[:maxCueTokens]
	}
	for i, w := range words {
		words[i] = normalize(w)
	}
	return words
}

func normalize(w string) string {
	digits := true
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			digits = false
			break
		}
	}
	if digits {
		if len(w) == 5 {
			return "#zip"
		}
		return "#n"
	}
	// Collapse a letter written three or more times in a row: "porfaaaa", "heeelp".
	var b strings.Builder
	run, last := 0, rune(-1)
	changed := false
	for _, r := range w {
		if r == last {
			run++
		} else {
			run, last = 1, r
		}
		if run >= 3 {
			changed = true
			continue
		}
		b.WriteRune(r)
	}
	if !changed {
		return w
	}
	s := b.String()
	// "aaa" kept two letters; one is what was meant far more often ("holaa" → "hola").
	if n := len(s); n >= 2 && s[n-1] == s[n-2] {
		s = s[:n-1]
	}
	return s
}

// cueSet holds cue phrases, folded and padded with spaces so a phrase only matches whole
// words.
type cueSet struct {
	hyp, event, now, taken, distress []string
}

func newCueSet(c Cues) cueSet {
	pad := func(list []string) []string {
		out := make([]string, 0, len(list))
		for _, p := range list {
			if f := strings.Join(tokens(p), " "); f != "" {
				out = append(out, " "+f+" ")
			}
		}
		return out
	}
	return cueSet{hyp: pad(c.Hypothetical), event: pad(c.Event), now: pad(c.Now), taken: pad(c.Taken), distress: pad(c.Distress)}
}

// cues are the cue kinds present in a message.
type cues struct{ hyp, event, now, taken, distress, question bool }

// pressing reports whether the cues say something is happening to the writer now.
func (c cues) pressing() bool { return c.event || c.now || c.distress }

func (cs cueSet) find(padded string, raw string) cues {
	// first is where the earliest phrase of list stands in the text, or -1.
	first := func(list []string) int {
		at := -1
		for _, p := range list {
			if i := strings.Index(padded, p); i >= 0 && (at < 0 || i < at) {
				at = i
			}
		}
		return at
	}
	hyp, event := first(cs.hyp), first(cs.event)
	// An event told after a hypothetical is what the hypothetical supposes ("what do I do
	// if ICE is at my door?"); one told before it has happened ("me pararon en el retén,
	// ¿qué hago si me piden papeles?").
	if hyp >= 0 && event > hyp {
		event = -1
	}
	return cues{hyp: hyp >= 0, event: event >= 0, now: first(cs.now) >= 0, taken: first(cs.taken) >= 0,
		distress: first(cs.distress) >= 0, question: strings.ContainsAny(raw, "?¿")}
}

// featurizer turns a message into feature names. It is safe for concurrent use.
type featurizer struct {
	cues cueSet
	// off turns feature kinds off, to measure what each is worth (docs/understanding.md).
	off map[rune]bool
	// stems caches the stems of the examples' words, filled while the model is built and
	// only read after: stemming is most of the cost of reading a message.
	stems map[string]stemPair
}

type stemPair struct{ es, en string }

func (f featurizer) stem(w string) stemPair {
	if p, ok := f.stems[w]; ok {
		return p
	}
	return stemPair{spanish.Stem(w, true), english.Stem(w, true)}
}

// features returns the message's features (with repeats; the model counts each once) and
// its cues.
func (f featurizer) features(text string) ([]string, cues) {
	toks := tokens(text)
	out := make([]string, 0, min(len(toks), maxTokens)*8+4)
	for i, t := range toks[:min(len(toks), maxTokens)] {
		out = append(out, string(kindWord)+t)
		if utf8.RuneCountInString(t) >= 3 && t[0] != '#' {
			if !f.off[kindStemES] {
				st := f.stem(t)
				if st.es != t {
					out = append(out, string(kindStemES)+st.es)
				}
				if st.en != t {
					out = append(out, string(kindStemEN)+st.en)
				}
			}
			if !f.off[kindGram] {
				out = appendGrams(out, t)
			}
		}
		if i > 0 && !f.off[kindBigram] {
			out = append(out, string(kindBigram)+toks[i-1]+" "+t)
		}
	}
	padded := " " + strings.Join(toks, " ") + " "
	c := f.cues.find(padded, text)
	// Taken cues are not features: they only choose the situation of an emergency, and as
	// words they are too common ("the meeting is being held…").
	for _, cue := range []struct {
		on   bool
		name string
	}{{c.hyp, "hyp"}, {c.event, "event"}, {c.now, "now"}, {c.question, "q"}} {
		if cue.on {
			out = append(out, string(kindCue)+cue.name)
		}
	}
	return out, c
}

// appendGrams adds the word's letter trigrams, with ^ and $ marking its ends.
func appendGrams(out []string, w string) []string {
	r := []rune("^" + w + "$")
	for i := 0; i+3 <= len(r); i++ {
		out = append(out, string(kindGram)+string(r[i:i+3]))
	}
	return out
}
