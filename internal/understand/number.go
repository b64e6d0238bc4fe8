package understand

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/communityhotline/hotline/internal/fold"
)

// numberWords are the ways members write a menu number, in both languages.
var numberWords = map[string]int{
	"uno": 1, "una": 1, "one": 1, "primero": 1, "primera": 1, "first": 1,
	"dos": 2, "two": 2, "segundo": 2, "segunda": 2, "second": 2,
	"tres": 3, "three": 3, "tercero": 3, "tercera": 3, "tercer": 3, "third": 3,
	"cuatro": 4, "four": 4, "cuarto": 4, "cuarta": 4, "fourth": 4,
	"cinco": 5, "five": 5, "quinto": 5, "quinta": 5, "fifth": 5,
	"seis": 6, "six": 6, "sexto": 6, "sexta": 6, "sixth": 6,
	"siete": 7, "seven": 7, "ocho": 8, "eight": 8, "nueve": 9, "nine": 9,
}

// fillers are words around a number that do not change it: "la 2", "opción dos",
// "number 3 please", "#4".
var fillers = map[string]bool{
	"el": true, "la": true, "lo": true, "opcion": true, "option": true, "numero": true, "number": true,
	"num": true, "the": true, "por": true, "favor": true, "porfa": true, "please": true,
	"pls": true, "plz": true, "quiero": true, "i": true, "want": true, "elijo": true, "choose": true,
	"es": true, "is": true, "de": true,
}

// Number reads a message that is only a menu number, written as a digit ("2", "2."), a
// keycap emoji ("2️⃣"), a word ("dos", "two", "segundo"), or with filler words ("la 2",
// "opción dos", "number 3 please"). rest is the text after a leading number that is followed
// by more words ("3 las cruces"), for the node the number leads to; ok is false when the
// message is not a number.
func Number(text string) (n int, rest string, ok bool) {
	text = strings.NewReplacer("\u20e3", "", "\ufe0f", "", "#", " ").Replace(text)
	words := fold.Words(text)
	if len(words) == 0 {
		return 0, "", false
	}
	if v, err := strconv.Atoi(words[0]); err == nil && len(words) > 1 && v >= 1 && v <= 9 && hasLetter(words[1:]) && !allFillers(words[1:]) {
		// "3 las cruces": the number, and what it is about.
		_, after, _ := strings.Cut(strings.TrimSpace(text), strings.Fields(strings.TrimSpace(text))[0])
		return v, strings.TrimSpace(after), true
	}
	found := 0
	for _, w := range words {
		if fillers[w] {
			continue
		}
		v, err := strconv.Atoi(w)
		if err != nil {
			var isWord bool
			v, isWord = numberWords[w]
			if !isWord {
				return 0, "", false
			}
		}
		if found != 0 || v < 1 || v > 9 {
			return 0, "", false
		}
		found = v
	}
	return found, "", found != 0
}

func hasLetter(words []string) bool {
	for _, w := range words {
		for _, r := range w {
			if unicode.IsLetter(r) {
				return true
			}
		}
	}
	return false
}

func allFillers(words []string) bool {
	for _, w := range words {
		if !fillers[w] {
			return false
		}
	}
	return true
}
