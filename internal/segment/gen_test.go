package segment_test

import (
	"math/rand/v2"
	"strings"

	"github.com/communityhotline/hotline/internal/segment"
)

// Pools of characters the generated strings are made of: what organizers type and paste.
var (
	poolASCII     = []string{"a", "b", "Z", "0", "9", " ", ".", ",", "!", "?", "@", "$", "_", "\"", "'", "-", "\n", "\r\n"}
	poolGSMExtra  = []string{"ñ", "Ñ", "é", "É", "ü", "¿", "¡", "à", "è", "ù", "ì", "ò", "Ç", "ß", "Δ", "£", "¥", "§", "¤"}
	poolExtension = []string{"^", "{", "}", "\\", "[", "~", "]", "|", "€", "\f"}
	poolSpanish   = []string{"á", "í", "ó", "ú", "Á", "Í", "Ó", "Ú", "ç", "ê", "ã", "e\u0301", "n\u0303", "a\u0301"}
	poolTypog     = []string{"“", "”", "‘", "’", "«", "»", "–", "—", "…", "•", "°", "º", "ª", "\u00a0", "\u2009", "\t", "`", "½", "™", "ﬁ", "Ａ", "\u2028"}
	poolEmoji     = []string{"🙂", "🙏🏽", "👨‍👩‍👧", "🇲🇽", "1️⃣", "❤️", "☎", "✅", "⭐", "⏰", "🚨", "\u200b", "\ufeff"}
	poolOther     = []string{"日", "本", "ж", "ب", "\ufffd", "\x00", "\x1b", "\x7f", "ń"}
)

// mode is a recipe for strings: a filler pool most characters come from, and spices, each
// taken one time in ten.
type mode struct {
	name   string
	filler []string
	spices [][]string
}

var modes = []mode{
	{"plain GSM-7", poolASCII, [][]string{poolGSMExtra}},
	{"GSM-7 with extension characters", poolASCII, [][]string{poolExtension, poolGSMExtra}},
	{"only extension characters", poolExtension, nil},
	{"Spanish with accents", poolASCII, [][]string{poolSpanish, poolGSMExtra}},
	{"pasted from a word processor", poolASCII, [][]string{poolTypog, poolSpanish}},
	{"with emoji", poolASCII, [][]string{poolEmoji}},
	{"only emoji", poolEmoji, nil},
	{"everything", poolASCII, [][]string{poolGSMExtra, poolExtension, poolSpanish, poolTypog, poolEmoji, poolOther}},
}

// boundaries are lengths, in the units of the encoding, around which the count changes: one
// segment's 70 and 160, whole parts of 67 and 153, and a unit either side.
var boundaries = []int{0, 1, 2, 65, 66, 67, 68, 69, 70, 71, 72, 133, 134, 135, 136, 152, 153, 154, 159, 160, 161, 162,
	200, 201, 202, 203, 305, 306, 307, 308, 458, 459, 460, 461, 611, 612, 613}

// generate returns strings of every mode, each grown until its length in units reaches a
// boundary (or just passes it, when the last character took two units), so that most sit
// right where a segment begins or ends.
func generate(r *rand.Rand) []string {
	pick := func(p []string) string { return p[r.IntN(len(p))] }
	var out []string
	for _, m := range modes {
		for _, target := range boundaries {
			var b strings.Builder
			for segment.Count(b.String()).Units < target {
				p := m.filler
				if len(m.spices) > 0 && r.IntN(10) == 0 {
					p = m.spices[r.IntN(len(m.spices))]
				}
				b.WriteString(pick(p))
			}
			out = append(out, b.String())
		}
	}
	return out
}

// edgeCases are strings written by hand where an escape pair or a surrogate pair falls on
// the end of a part, the cases a port would most likely get wrong.
func edgeCases() []string {
	a := func(n int) string { return strings.Repeat("a", n) }
	var out []string
	for k := 148; k <= 162; k++ {
		out = append(out, a(k)+"€"+a(153), a(k)+"{"+a(10), a(k)+"€")
	}
	for k := 62; k <= 72; k++ {
		out = append(out, a(k)+"🙂"+a(67), a(k)+"🙂", "á"+a(k)+"🙏🏽"+a(66))
	}
	for n := 33; n <= 37; n++ {
		out = append(out, strings.Repeat("🙂", n), strings.Repeat("🙂", 2*n), strings.Repeat("{", 2*n+10))
	}
	return out
}
