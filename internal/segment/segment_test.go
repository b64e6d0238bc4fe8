package segment

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Every expected value below is worked out by hand from the rules: GSM-7 holds 160 septets
// in one segment and 153 per part when split, UCS-2 holds 70 UTF-16 units and 67 per part,
// and an escape pair or a surrogate pair never straddles two parts.
func TestCount(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name string
		in   string
		want Info
	}{
		{"empty sends nothing", "", Info{GSM7, 0, 0, 0}},
		{"short ASCII", "Hola", Info{GSM7, 4, 4, 1}},
		{"160 fills one segment", a(160), Info{GSM7, 160, 160, 1}},
		{"161 splits in two", a(161), Info{GSM7, 161, 161, 2}},
		{"two full parts", a(153 * 2), Info{GSM7, 306, 306, 2}},
		{"one past two full parts", a(153*2 + 1), Info{GSM7, 307, 307, 3}},

		// Spanish: é ñ ü ¿ ¡ are GSM-7, á í ó ú are not.
		{"señor éxito is GSM-7", "señor éxito", Info{GSM7, 11, 11, 1}},
		{"¡ ¿ ü are GSM-7", "¡Pingüino! ¿Qué?", Info{GSM7, 16, 16, 1}},
		{"¿Dónde está? is UCS-2", "¿Dónde está?", Info{UCS2, 12, 12, 1}},
		{"one ó makes UCS-2", "Niño, ¿qué pasó?", Info{UCS2, 16, 16, 1}},
		{"70 á fill one segment", strings.Repeat("á", 70), Info{UCS2, 70, 70, 1}},
		{"71 á split in two", strings.Repeat("á", 71), Info{UCS2, 71, 71, 2}},
		{"134 á fill two parts", strings.Repeat("á", 134), Info{UCS2, 134, 134, 2}},
		{"135 á need three", strings.Repeat("á", 135), Info{UCS2, 135, 135, 3}},
		{"capital Ç is GSM-7", "Ç", Info{GSM7, 1, 1, 1}},
		{"small ç is not", "ç", Info{UCS2, 1, 1, 1}},
		{"Greek capitals of the basic set", "ΔΦΓΛΩΠΨΣΘΞ", Info{GSM7, 10, 10, 1}},
		{"backtick is not GSM-7", "`", Info{UCS2, 1, 1, 1}},
		{"tab is not GSM-7", "a\tb", Info{UCS2, 3, 3, 1}},
		{"newline and CR are", "a\r\nb", Info{GSM7, 4, 4, 1}},
		{"decomposed é is UCS-2", "e\u0301", Info{UCS2, 2, 2, 1}},

		// Extension characters take two septets.
		{"euro counts 2", "Cuesta 5€", Info{GSM7, 9, 10, 1}},
		{"brackets and braces", "[]{}", Info{GSM7, 4, 8, 1}},
		{"form feed counts 2", "\f", Info{GSM7, 1, 2, 1}},
		{"158 a and € make 160", a(158) + "€", Info{GSM7, 159, 160, 1}},
		{"159 a and € make 161", a(159) + "€", Info{GSM7, 160, 161, 2}},
		// € on septets 152–153 fits the first part exactly; 153 more fill the second.
		{"€ ends on septet 153", a(151) + "€" + a(153), Info{GSM7, 305, 306, 2}},
		// € would take septets 153–154, so it moves to part two, which then overflows by one.
		{"€ straddles septet 153", a(152) + "€" + a(152), Info{GSM7, 305, 306, 3}},
		// Each part holds 76 braces (152 septets): 81 braces take 76 + 5.
		{"81 braces", strings.Repeat("{", 81), Info{GSM7, 81, 162, 2}},
		{"80 braces fit one", strings.Repeat("{", 80), Info{GSM7, 80, 160, 1}},
		// 306 septets would fit two parts of 153, but 76 braces per part need ⌈153/76⌉ = 3.
		{"153 braces", strings.Repeat("{", 153), Info{GSM7, 153, 306, 3}},

		// Emoji outside the BMP take a surrogate pair.
		{"one emoji counts 2", "🙂", Info{UCS2, 1, 2, 1}},
		{"ASCII and an emoji", "Hola 🙂", Info{UCS2, 6, 7, 1}},
		{"35 emoji fill one", strings.Repeat("🙂", 35), Info{UCS2, 35, 70, 1}},
		// 33 emoji (66 units) fill a part of 67; 36 take 33 + 3.
		{"36 emoji split", strings.Repeat("🙂", 36), Info{UCS2, 36, 72, 2}},
		// 134 units would fit two parts of 67, but 33 emoji per part need ⌈67/33⌉ = 3.
		{"67 emoji", strings.Repeat("🙂", 67), Info{UCS2, 67, 134, 3}},
		// Part one: 66 a; the emoji would take units 67–68, so part two: emoji + 65 a = 67;
		// part three: the last a.
		{"emoji straddles unit 67", a(66) + "🙂" + a(66), Info{UCS2, 133, 134, 3}},
		{"emoji ends on unit 67", a(65) + "🙂" + a(67), Info{UCS2, 133, 134, 2}},
		{"flag is two runes", "🇲🇽", Info{UCS2, 2, 4, 1}},
		{"BMP symbol counts 1", "☎", Info{UCS2, 1, 1, 1}},

		// Invalid UTF-8 counts as U+FFFD, one character each.
		{"invalid byte", "\xff", Info{UCS2, 1, 1, 1}},
		{"truncated sequence in ASCII", "ab\xc3", Info{UCS2, 3, 3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Count(tt.in); got != tt.want {
				t.Errorf("Count(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// Every character of the GSM 03.38 basic set and extension table, written out from the
// standard's table rather than from the code under test.
const (
	gsmBasic     = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "\f^{}\\[~]|€"
)

func TestAlphabet(t *testing.T) {
	// The basic set has 128 positions, one of them the escape, which is not a character.
	if n := utf8.RuneCountInString(gsmBasic); n != 127 {
		t.Fatalf("gsmBasic has %d characters, want 127", n)
	}
	for _, r := range gsmBasic {
		if got := Count(string(r)); got != (Info{GSM7, 1, 1, 1}) {
			t.Errorf("Count(%q) = %+v, want one septet", r, got)
		}
	}
	for _, r := range gsmExtension {
		if got := Count(string(r)); got != (Info{GSM7, 1, 2, 1}) {
			t.Errorf("Count(%q) = %+v, want two septets", r, got)
		}
	}
	// Anything else in Latin-1 and the ASCII control range is outside GSM-7.
	all := gsmBasic + gsmExtension
	for r := rune(0); r <= 0xFF; r++ {
		if strings.ContainsRune(all, r) {
			continue
		}
		if got := Count(string(r)).Encoding; got != UCS2 {
			t.Errorf("Count(%U).Encoding = %s, want UCS-2", r, got)
		}
	}
}

func TestCountDoesNotAllocate(t *testing.T) {
	for _, s := range []string{strings.Repeat("Hola, ¿cómo estás? ", 20), reply} {
		if n := testing.AllocsPerRun(100, func() { Count(s) }); n != 0 {
			t.Errorf("Count allocated %v times, want 0", n)
		}
	}
}

func TestToGSM(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"GSM-7 unchanged", "señor éxito, ¿qué tal? ¡Güey! 5€ [ok]", "señor éxito, ¿qué tal? ¡Güey! 5€ [ok]"},
		{"acute accents folded", "¿Dónde está?", "¿Donde esta?"},
		{"é ñ kept, ó folded", "Niño, ¿qué pasó?", "Niño, ¿qué paso?"},
		{"capitals", "ÁÉÍÓÚ Ñ Ü", "AÉIOU Ñ Ü"},
		{"small c cedilla", "ç Ç", "c Ç"},
		{"other accents", "À ê õ ã ń", "A e o a n"},
		{"curly quotes", "“Hola” ‘sí’ «ya»", `"Hola" 'si' "ya"`},
		{"dashes", "9–5 — ya − 1", "9-5 - ya - 1"},
		{"ellipsis", "Espera…", "Espera..."},
		{"non-breaking and thin spaces", "a\u00a0b\u2009c\u3000d", "a b c d"},
		{"tab", "a\tb", "a b"},
		{"line separator", "a\u2028b", "a\nb"},
		{"bullet", "• uno\n• dos", "- uno\n- dos"},
		{"degree sign", "25°C", "25oC"},
		{"ordinal indicators", "1º 2ª", "1o 2a"},
		{"backtick", "`ok`", "'ok'"},
		{"composes first", "e\u0301 n\u0303", "é ñ"},
		{"decomposed á folds", "a\u0301", "a"},
		{"stray combining mark", "ñ\u0301", "ñ"},
		{"emoji dropped", "Gracias 🙏🏽", "Gracias "},
		{"ZWJ sequence dropped", "👨‍👩‍👧", ""},
		{"flag dropped", "🇲🇽 México", " México"},
		{"keycap keeps digit", "1️⃣", "1"},
		{"heart with selector", "❤️", ""},
		{"invisible characters", "a\u200bb\ufeffc\x00d\x1be", "abcde"},
		{"ligature", "ﬁn", "fin"},
		{"full-width", "ＡＢＣ１", "ABC1"},
		{"fraction", "½", "1/2"},
		{"trademark", "Hotline™", "HotlineTM"},
		{"non-Latin script", "日本", "??"},
		{"invalid UTF-8", "a\xffb", "a?b"},
		{"replacement character", "\ufffd", "?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ToGSM(tt.in)
			if got != tt.want {
				t.Errorf("ToGSM(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if enc := Count(got).Encoding; enc != GSM7 {
				t.Errorf("Count(ToGSM(%q)).Encoding = %s, want GSM-7", tt.in, enc)
			}
		})
	}
}

// The fuzzer rarely produces characters far from ASCII, so check every code point directly.
func TestToGSMEveryRune(t *testing.T) {
	if testing.Short() {
		t.Skip("walks all of Unicode")
	}
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		s := string(r)
		if got := ToGSM(s); Count(got).Encoding != GSM7 {
			t.Errorf("ToGSM(%U) = %q, not GSM-7", r, got)
		}
	}
}

func TestReplacements(t *testing.T) {
	for r, rep := range replacements {
		if Count(string(r)).Encoding == GSM7 {
			t.Errorf("replacement for %q, which is GSM-7 already", r)
		}
		if Count(rep).Encoding != GSM7 {
			t.Errorf("replacement for %q is %q, which is not GSM-7", r, rep)
		}
	}
}

// reply is a typical 300-character Spanish reply, with the accents that make it UCS-2.
const reply = "Gracias por escribirnos. Si necesitas ayuda legal, llama al 555-0100 de lunes a viernes, " +
	"de 9 a 17 h. Si es una emergencia, marca 911. Para recibir información sobre tus derechos, " +
	"responde INFO. Para dejar de recibir mensajes, responde PARAR. Tu número no se comparte con nadie. " +
	"¡Cuídate mucho!"

func BenchmarkCount(b *testing.B) {
	if n := utf8.RuneCountInString(reply); n < 290 || n > 310 {
		b.Fatalf("reply has %d characters, want about 300", n)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(reply)))
	for b.Loop() {
		Count(reply)
	}
}

func BenchmarkCountASCII(b *testing.B) {
	s := ToGSM(reply)
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		Count(s)
	}
}

func FuzzCount(f *testing.F) {
	for _, s := range []string{
		"", "Hola", "¿Dónde está?", "Niño, ¿qué pasó?", "señor éxito", "5€", "🙂", "🇲🇽",
		"👨‍👩‍👧", "1️⃣", "e\u0301", "\xff", "ab\xc3", "\x00\x1b\t", "ﬁ½™", "日本",
		strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152),
		strings.Repeat("a", 66) + "🙂" + strings.Repeat("a", 66),
		strings.Repeat("{", 153), reply,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		info := Count(s)
		if want := utf8.RuneCountInString(s); info.Chars != want {
			t.Errorf("Chars = %d, want %d", info.Chars, want)
		}
		if info.Units < info.Chars || info.Units > 2*info.Chars {
			t.Errorf("Units = %d for %d characters", info.Units, info.Chars)
		}
		if s == "" {
			if info.Segments != 0 {
				t.Errorf("Segments = %d for the empty string, want 0", info.Segments)
			}
		} else {
			// A split can waste at most one unit per part, so ⌈Units/part⌉ ≤ Segments ≤ ⌈Units/(part-1)⌉.
			single, part := gsmSingle, gsmPart
			if info.Encoding == UCS2 {
				single, part = ucs2Single, ucs2Part
			}
			switch {
			case info.Units <= single && info.Segments != 1:
				t.Errorf("Segments = %d for %d units, want 1", info.Segments, info.Units)
			case info.Units > single && (info.Segments < ceilDiv(info.Units, part) || info.Segments > ceilDiv(info.Units, part-1)):
				t.Errorf("Segments = %d for %d %s units", info.Segments, info.Units, info.Encoding)
			}
		}

		g := ToGSM(s)
		if enc := Count(g).Encoding; enc != GSM7 {
			t.Fatalf("Count(ToGSM(%q)) = %q, encoding %s", s, g, enc)
		}
		if again := ToGSM(g); again != g {
			t.Errorf("ToGSM not idempotent: %q then %q", g, again)
		}
		if info.Encoding == GSM7 && g != s {
			t.Errorf("ToGSM changed GSM-7 text %q to %q", s, g)
		}
	})
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
