package places

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/fold"
)

// Result is what Lookup found for a member's text. At most one of Place and Choices is set;
// Suggestions is set only when neither is.
type Result struct {
	// Place is the one place the text names.
	Place *Place
	// Choices are the places the text could mean ("santa fe": the city and the county), in
	// the order to offer them: cities and places first, then counties, each by name.
	Choices []*Place
	// Suggestions are up to three places close to an unknown text, best first, for a
	// "did you mean" reply. They are not matches and must not be acted on unconfirmed.
	Suggestions []*Place
	// Corrected is true when Place or Choices come from typo tolerance ("las cruses"), so
	// the hotline can confirm before acting.
	Corrected bool
}

// Lookup finds the place a member means. It forgives case, accents, Unicode form, words like
// "county", "condado de", "city of", "ciudad de", a trailing "NM" or "Nuevo México", a leading
// article, the aliases in the file, and small typos: up to one edit (a transposition counts
// as one) in names of 5 to 7 letters and two in longer ones. Shorter names must be exact, and
// text with digits never matches, so replies like "1", "si", "no" or "hola" are never read as
// places; nor is text over maxQueryBytes. "County"/"condado" picks the county of an ambiguous name and "city of"/"ciudad de"
// the city. Lookup allocates nothing on an exact, unambiguous hit beyond folding the text.
func (d *Directory) Lookup(query string) Result { return d.view.Load().lookup(query) }

func (x *view) lookup(query string) Result {
	if len(query) > maxQueryBytes {
		return Result{}
	}
	var tokBuf [maxTokens]string
	toks, ok := tokenize(fold.Text(query), tokBuf[:0])
	if !ok || len(toks) == 0 {
		return Result{}
	}
	var winBuf [maxWindows]window
	wins := windows(toks, winBuf[:0])

	if r, ok := x.exactHit(toks, wins); ok {
		return r
	}

	// Typo tolerance: the smallest edit distance over every window and key, within a limit
	// that grows with the length of the text. Places tied at that distance are all offered.
	var candBuf [8]*Place
	cands := candBuf[:0]
	var flags window
	bestDist := math.MaxInt
	var qBuf [maxKeyRunes]rune
	for _, w := range wins {
		q, ok := appendRunes(qBuf[:0], toks[w.i:w.j])
		if !ok {
			continue
		}
		limit := typoLimit(len(q))
		if limit == 0 {
			continue
		}
		for _, k := range x.keys {
			if absDiff(len(k.runes), len(q)) > limit {
				continue
			}
			dist := osa(q, k.runes, min(limit, bestDist))
			switch {
			case dist > limit || dist > bestDist:
				continue
			case dist < bestDist:
				bestDist, cands, flags = dist, cands[:0], w
			default:
				flags.county, flags.city = flags.county || w.county, flags.city || w.city
			}
			if !slices.Contains(cands, k.place) {
				cands = append(cands, k.place)
			}
		}
	}
	if len(cands) > 0 {
		r := resolve(cands, flags)
		r.Corrected = r.Place != nil || r.Choices != nil
		return r
	}
	return Result{Suggestions: x.suggest(toks, wins)}
}

// MatchCountyName maps a county name as other data spells it ("Dona Ana", "DeBaca",
// "Mckinley", "Santa Fe County") to its county. It folds case, accents and spacing and drops
// a trailing "County", and nothing more: an importer must report a name it cannot match
// rather than guess, so there is no typo tolerance and aliases are not used.
func (d *Directory) MatchCountyName(name string) (*Place, bool) {
	return d.view.Load().matchCountyName(name)
}

func (x *view) matchCountyName(name string) (*Place, bool) {
	var tokBuf [maxTokens]string
	toks, ok := tokenize(fold.Text(name), tokBuf[:0])
	if !ok {
		return nil, false
	}
	if n := len(toks); n > 1 && toks[n-1] == "county" {
		toks = toks[:n-1]
	}
	var keyBuf [4 * maxKeyRunes]byte
	p, ok := x.countyNames[string(appendCompact(keyBuf[:0], toks))]
	return p, ok
}

const (
	// maxQueryBytes bounds the text Lookup reads. The longest place name with every marker
	// word is under 80 bytes; a longer message is a sentence, and folding a long text is the
	// only cost of Lookup that grows with its input.
	maxQueryBytes = 256
	// maxTokens bounds the words of a query; longer text is a sentence, not a place name.
	maxTokens = 12
	// maxWindows bounds the word ranges tried after stripping marker words.
	maxWindows = 24
	// MaxSuggestions is how many places a "did you mean" reply offers.
	MaxSuggestions = 3
)

// typoLimit is the number of edits tolerated in a text of n letters. Names of four letters
// or fewer must be exact: at one edit "otro" would be Otero and "lena" both Lea and Luna.
func typoLimit(n int) int {
	switch {
	case n <= 4:
		return 0
	case n <= 7:
		return 1
	default:
		return 2
	}
}

// suggestLimit is the looser distance for suggestions, which are only offered, never used.
// It is -1 (none) below four letters so that "si" or "ok" suggest nothing.
func suggestLimit(n int) int {
	switch {
	case n < 4:
		return -1
	case n == 4:
		return 1
	case n <= 6:
		return 2
	default:
		return n/3 + 1
	}
}

// A window is the range toks[i:j] left after stripping marker words, with what they said:
// county is set by "county", "condado"...; city by "city of", "ciudad de"...
type window struct {
	i, j         int
	county, city bool
}

func (w window) len() int { return w.j - w.i }

// affix is a run of folded words stripped from the start or end of a query.
type affix struct {
	words        []string
	county, city bool
}

var leadingAffixes = []affix{
	{words: []string{"the"}},
	{words: []string{"el"}},
	{words: []string{"la"}},
	{words: []string{"in"}},
	{words: []string{"en"}},
	{words: []string{"county", "of"}, county: true},
	{words: []string{"condado", "de"}, county: true},
	{words: []string{"condado", "del"}, county: true},
	{words: []string{"condado"}, county: true},
	{words: []string{"city", "of"}, city: true},
	{words: []string{"town", "of"}, city: true},
	{words: []string{"village", "of"}, city: true},
	{words: []string{"ciudad", "de"}, city: true},
	{words: []string{"ciudad"}, city: true},
}

var trailingAffixes = []affix{
	{words: []string{"nm"}},
	{words: []string{"n", "m"}}, // "N.M." splits into two words
	{words: []string{"new", "mexico"}},
	{words: []string{"nuevo", "mexico"}},
	{words: []string{"in", "new", "mexico"}},
	{words: []string{"en", "nuevo", "mexico"}},
	{words: []string{"de", "nuevo", "mexico"}},
	{words: []string{"county"}, county: true},
	{words: []string{"co"}, county: true},
	{words: []string{"cnty"}, county: true},
	{words: []string{"condado"}, county: true},
	{words: []string{"city"}, city: true},
}

// windows lists every word range reachable by stripping affixes, whole query first. Every
// range is kept, not only the shortest, because a marker word may belong to the name.
func windows(toks []string, buf []window) []window {
	buf = append(buf, window{i: 0, j: len(toks)})
	for k := 0; k < len(buf); k++ {
		w := buf[k]
		for _, a := range leadingAffixes {
			if n := len(a.words); w.len() > n && slices.Equal(toks[w.i:w.i+n], a.words) {
				buf = addWindow(buf, window{w.i + n, w.j, w.county || a.county, w.city || a.city})
			}
		}
		for _, a := range trailingAffixes {
			if n := len(a.words); w.len() > n && slices.Equal(toks[w.j-n:w.j], a.words) {
				buf = addWindow(buf, window{w.i, w.j - n, w.county || a.county, w.city || a.city})
			}
		}
	}
	return buf
}

func addWindow(buf []window, w window) []window {
	for k := range buf {
		if buf[k].i == w.i && buf[k].j == w.j {
			buf[k].county = buf[k].county || w.county
			buf[k].city = buf[k].city || w.city
			return buf
		}
	}
	if len(buf) == cap(buf) {
		return buf // a query this long is not a place name; stay within the stack buffer
	}
	return append(buf, w)
}

// resolve turns the places a window matched into a Result, using the window's marker words
// to choose between a county and a city of the same name. When the markers rule out every
// candidate ("albuquerque county"), the candidates become suggestions: the member said
// something we cannot square with our list, so we ask instead of guessing.
func resolve(cands []*Place, w window) Result {
	keep := func(p *Place) bool {
		switch {
		case w.county && !w.city:
			return p.IsCounty()
		case w.city && !w.county:
			return !p.IsCounty()
		}
		return true
	}
	var one *Place
	n := 0
	for _, p := range cands {
		if keep(p) {
			one = p
			n++
		}
	}
	switch n {
	case 0:
		s := sortPlaces(slices.Clone(cands))
		return Result{Suggestions: s[:min(len(s), MaxSuggestions)]}
	case 1:
		return Result{Place: one}
	}
	choices := make([]*Place, 0, n)
	for _, p := range cands {
		if keep(p) {
			choices = append(choices, p)
		}
	}
	return Result{Choices: sortPlaces(choices)}
}

// sortPlaces orders places for a menu: cities and places before counties, then by name. A
// member who types a bare "Santa Fe" more often means the city.
func sortPlaces(ps []*Place) []*Place {
	slices.SortFunc(ps, comparePlaces)
	return ps
}

func comparePlaces(a, b *Place) int {
	return cmp.Or(
		cmp.Compare(kindRank(a), kindRank(b)),
		strings.Compare(a.Name, b.Name),
		strings.Compare(a.ID, b.ID),
	)
}

func kindRank(p *Place) int {
	if p.IsCounty() {
		return 1
	}
	return 0
}

// suggest scores every place against an unknown text: by edit distance within the looser
// suggestion limit, by the text being the start of a name ("albu"), and by a single word of
// a longer text being a name ("bernalillo contry").
func (x *view) suggest(toks []string, wins []window) []*Place {
	scores := make(map[*Place]int)
	note := func(p *Place, s int) {
		if old, ok := scores[p]; !ok || s < old {
			scores[p] = s
		}
	}
	var qBuf [maxKeyRunes]rune
	for _, w := range wins {
		q, ok := appendRunes(qBuf[:0], toks[w.i:w.j])
		if !ok {
			continue
		}
		limit := suggestLimit(len(q))
		if limit < 0 {
			continue
		}
		for _, k := range x.keys {
			if len(k.runes) > len(q) && slices.Equal(k.runes[:len(q)], q) {
				note(k.place, 1)
			}
			if dist := osa(q, k.runes, limit); dist <= limit {
				note(k.place, dist)
			}
		}
	}
	if len(toks) > 1 {
		for _, t := range toks {
			q, ok := appendRunes(qBuf[:0], []string{t})
			if !ok || len(q) < 5 {
				continue
			}
			limit := typoLimit(len(q))
			for _, k := range x.keys {
				if dist := osa(q, k.runes, limit); dist <= limit {
					note(k.place, dist+1)
				}
			}
		}
	}
	if len(scores) == 0 {
		return nil
	}
	out := make([]*Place, 0, len(scores))
	for p := range scores {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Place) int {
		return cmp.Or(cmp.Compare(scores[a], scores[b]), comparePlaces(a, b))
	})
	return out[:min(len(out), MaxSuggestions)]
}

// tokenize splits folded text into words of letters. It reports false for text with a digit
// (a menu choice, a ZIP code, a time: never a place name here) or too many words.
func tokenize(s string, buf []string) ([]string, bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += size
			continue
		}
		j := i
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if !isWordRune(r) {
				break
			}
			if unicode.IsDigit(r) {
				return nil, false
			}
			j += size
		}
		if len(buf) == cap(buf) {
			return nil, false
		}
		buf = append(buf, s[i:j])
		i = j
	}
	return buf, true
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// compactKey keeps only the letters and digits of folded text, so that spacing and inner
// punctuation never matter: "De Baca" and "DeBaca", "Mc Kinley" and "McKinley" are one key.
func compactKey(folded string) string {
	var b strings.Builder
	for _, r := range folded {
		if isWordRune(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func appendCompact(buf []byte, toks []string) []byte {
	for _, t := range toks {
		buf = append(buf, t...)
	}
	return buf
}

// appendRunes decodes toks into buf, reporting false if they do not fit: a text longer than
// any key cannot be within a few edits of one.
func appendRunes(buf []rune, toks []string) ([]rune, bool) {
	for _, t := range toks {
		for _, r := range t {
			if len(buf) == cap(buf) {
				return buf, false
			}
			buf = append(buf, r)
		}
	}
	return buf, true
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}

// osa returns the optimal string alignment distance between a and b (Levenshtein with
// adjacent transpositions, the commonest phone typo), or limit+1 once it must exceed limit.
// Both must be at most maxKeyRunes long; the rows live on the stack.
func osa(a, b []rune, limit int) int {
	if absDiff(len(a), len(b)) > limit {
		return limit + 1
	}
	if len(a) > maxKeyRunes || len(b) > maxKeyRunes {
		return limit + 1
	}
	var rows [3][maxKeyRunes + 1]int
	prev2, prev, cur := rows[0][:len(b)+1], rows[1][:len(b)+1], rows[2][:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		// Once every cell of a row exceeds the limit, every later cell does too: a cell draws
		// on this row, or through a transposition on the row before, whose cells were then
		// all at least the limit (a cell is at most one more than the cell above it).
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit+1)
}
