package segment

import (
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// The console's templates rely on these hooks of counter.js (its markup contract); renaming
// one in the script without the pages would leave the counter silently blank.
func TestCounterJSHooks(t *testing.T) {
	js := string(CounterJS)
	for _, hook := range []string{
		`"textarea[data-segments]"`, `"data-segments"`, // the textarea, and the id it names
		`"data-text"`, `"data-text-one"`, `"data-text-empty"`, `"data-text-cost"`, // the words
		`"data-recipients"`, `"data-cost-per-segment"`, `"data-gsm"`, `"data-newlines"`,
		`"data-chars"`, `"data-encoding"`, `"data-units"`, `"data-sms"`, `"data-cost"`, // results
		`"input"`, `window.hotlineSegments`,
		// The placeholders the locales' texts use.
		"chars:", "encoding:", "units:", "segments:", "values.cost", "values.recipients", "values.total_segments",
	} {
		if !strings.Contains(js, hook) {
			t.Errorf("counter.js lacks %s", hook)
		}
	}
	// The segment sizes must be Count's.
	for _, c := range []string{"GSM_SINGLE = 160", "GSM_PART = 153", "UCS2_SINGLE = 70", "UCS2_PART = 67"} {
		if !strings.Contains(js, c) {
			t.Errorf("counter.js lacks %q", c)
		}
	}
}

// counter.js holds no words a person reads: they come from data attributes the server
// fills from locales/, in the page's language. Every string literal in its code is a name
// (an attribute, an event, an encoding) or a transliteration of one character.
func TestCounterJSHasNoWords(t *testing.T) {
	names := map[string]bool{
		"use strict": true, "function": true, "loading": true, "DOMContentLoaded": true, "input": true,
		"lf": true, "GSM-7": true, "UCS-2": true, "textarea[data-segments]": true, "NFC": true, "NFKD": true,
		"(c)": true, "(R)": true,
		// The GSM 03.38 basic set beyond ASCII, in the standard's order.
		strings.Map(func(r rune) rune {
			if r < 0x80 {
				return -1
			}
			return r
		}, gsmBasic): true,
	}
	var code []string
	for _, line := range strings.Split(string(CounterJS), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "//") {
			code = append(code, line)
		}
	}
	literals := regexp.MustCompile(`"(?:[^"\\]|\\.)*"`).FindAllString(strings.Join(code, "\n"), -1)
	if len(literals) < 20 {
		t.Fatalf("found %d string literals in counter.js; the extraction is broken", len(literals))
	}
	for _, lit := range literals {
		s := lit[1 : len(lit)-1]
		letters := 0
		for _, r := range regexp.MustCompile(`\\u[0-9A-Fa-f]{4}|\\.`).ReplaceAllString(s, "") {
			if unicode.IsLetter(r) {
				letters++
			}
		}
		if letters > 1 && !names[s] && !strings.HasPrefix(s, "data-") {
			t.Errorf("counter.js has the literal %s: words belong in locales/, passed by data attributes", lit)
		}
	}
}
