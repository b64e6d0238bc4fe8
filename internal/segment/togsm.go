package segment

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ToGSM rewrites s so that it can be sent in GSM-7, replacing each character GSM-7 lacks with
// its closest GSM-7 form. It exists for organizations that prefer "esta" over "está" when the
// accent would triple the cost of a broadcast; it is never applied without that choice,
// because it changes what members read.
//
// Characters already in GSM-7 are kept, including é, ñ, ü, ¿ and ¡, so Spanish loses only
// the accents GSM-7 cannot carry (á í ó ú and capitals other than É). In order:
//
//   - s is first composed (NFC), so that an "e" followed by a combining accent becomes the
//     GSM-7 "é" instead of losing its accent.
//   - Typographic punctuation becomes its plain form: curly quotes and « » become ' and ",
//     dashes become -, … becomes ..., bullets become -. The degree sign becomes "o", because
//     Spanish texts often write it for the ordinal sign (1° for 1º), which folds to "o" too.
//   - Spaces of any kind become a plain space, tabs too; line and paragraph separators
//     become a newline.
//   - Emoji, their modifiers and joiners, flags, and invisible format and control characters
//     are dropped: no GSM-7 character stands for them, and "?" in their place reads as a
//     question. The spaces around a dropped emoji stay.
//   - Anything else is decomposed (NFKD) and its marks dropped, which turns á into a, ç into
//     c, ª into a, ﬁ into fi and full-width letters into ASCII. A character that still has no
//     GSM-7 form, such as one from a non-Latin script, becomes "?", so the reader sees that
//     something was there. Invalid UTF-8 bytes become "?" as well.
//
// The result is always GSM-7: Count(ToGSM(s)).Encoding == GSM7. ToGSM(ToGSM(s)) == ToGSM(s).
func ToGSM(s string) string {
	if isGSM(s) {
		return s
	}
	s = norm.NFC.String(s)
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = appendGSM(b, r, true)
	}
	return string(b)
}

// isGSM reports whether every character of s is in GSM-7.
func isGSM(s string) bool {
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if gsmSeptets(r) == 0 {
			return false
		}
		i += size
	}
	return true
}

// appendGSM appends the GSM-7 form of r to b. If decompose is false, r is the result of a
// decomposition already, and a character without a GSM-7 form becomes "?" at once.
func appendGSM(b []byte, r rune, decompose bool) []byte {
	if gsmSeptets(r) > 0 {
		return utf8.AppendRune(b, r)
	}
	if rep, ok := replacements[r]; ok {
		return append(b, rep...)
	}
	switch {
	case unicode.Is(unicode.Zs, r):
		return append(b, ' ')
	case dropped(r):
		return b
	case !decompose:
		return append(b, '?')
	}
	var buf [utf8.UTFMax]byte
	d := norm.NFKD.Bytes(utf8.AppendRune(buf[:0], r))
	for len(d) > 0 {
		dr, size := utf8.DecodeRune(d)
		d = d[size:]
		b = appendGSM(b, dr, false)
	}
	return b
}

// dropped reports whether r is left out of a GSM-7 message entirely: emoji and the
// characters that only modify or join them, and characters that take no room on the screen.
func dropped(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF, // emoji, regional indicators (flags), skin tones, cards
		r >= 0x2600 && r <= 0x27BF, // miscellaneous symbols and dingbats: ☀ ☎ ✅ ❤
		r >= 0x2B00 && r <= 0x2BFF, // ⭐ ⬆ and other arrows and shapes used as emoji
		r >= 0x2300 && r <= 0x23FF: // ⌚ ⏰ ⏳
		return true
	}
	// Mn and Me cover variation selectors (U+FE0F) and the keycap in 1️⃣; Cf covers the
	// zero-width joiner, the byte order mark and the tag characters of subdivision flags.
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Cc)
}

// replacements maps characters that neither GSM-7 nor decomposition handles well to the
// GSM-7 text a reader expects in their place. Every value is GSM-7, which a test checks.
var replacements = map[rune]string{
	// Quotes. Word processors and phones curl them; « » are the Spanish quotation marks.
	'‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'", '´': "'", '`': "'", '‹': "'", '›': "'",
	'“': `"`, '”': `"`, '„': `"`, '‟': `"`, '″': `"`, '«': `"`, '»': `"`,
	// Dashes and hyphens, including the minus sign. U+2011 decomposes to U+2010, which
	// GSM-7 lacks too, so both are listed.
	'‐': "-", '‑': "-", '‒': "-", '–': "-", '—': "-", '―': "-", '−': "-",
	// Bullets start list items; a hyphen does the same job.
	'•': "-", '‣': "-", '◦': "-", '∙': "-", '⁃': "-",
	'·': ".",
	'…': "...",
	'°': "o",
	'⁄': "/", // the fraction slash, which NFKD produces for ½
	'×': "x",
	'©': "(c)",
	'®': "(R)",
	'→': "->",
	'←': "<-",
	// Tabs and other white space; a line separator ends a line.
	'\t': " ", '\v': " ", 0x85: "\n", 0x2028: "\n", 0x2029: "\n",
}
