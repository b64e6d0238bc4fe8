package actions

import (
	"fmt"

	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/segment"
)

// MaxPolicySegments is what a policy answer may cost in each language, sent as the hotline
// sends it by default (Unicode): the limit flows/data/places.toml's header sets.
const MaxPolicySegments = 4

// Texts renders a message in a language (*locale.Catalog does).
type Texts interface {
	Languages() []string
	Text(lang, id string, data map[string]string) (string, error)
}

// CheckPolicyAnswer renders the policy answer about pl in every language, exactly as
// lookup_place makes it, and reports each way it breaks the rules of the places file: more
// than MaxPolicySegments segments, or a character outside GSM-7 (an á, í, ó, ú, a curly
// quote, a dash), which would send the whole answer as UCS-2 at 67 characters a segment.
// The tests hold the shipped file to it, and a correction made while the hotline runs is
// refused by it.
func CheckPolicyAnswer(dir *places.Directory, pl *places.Place, texts Texts) []string {
	var out []string
	for _, lang := range texts.Languages() {
		text, err := texts.Text(lang, "policy_answer", PlaceAnswer(dir, pl, lang))
		if err != nil {
			out = append(out, fmt.Sprintf("%s: the %s answer does not render: %v", pl.ID, lang, err))
			continue
		}
		info := segment.Count(text)
		if info.Encoding != segment.GSM7 {
			out = append(out, fmt.Sprintf("%s: the %s answer has a character outside GSM-7 (%s), which makes it UCS-2: write the Spanish without á, í, ó, ú, and use straight quotes and plain dashes",
				pl.ID, lang, outsideGSM(text)))
		}
		if info.Segments > MaxPolicySegments {
			out = append(out, fmt.Sprintf("%s: the %s answer takes %d SMS segments (%d characters, %s); at most %d are allowed: shorten the %s text",
				pl.ID, lang, info.Segments, info.Chars, info.Encoding, MaxPolicySegments, lang))
		}
	}
	return out
}

// outsideGSM lists the characters of s that GSM-7 lacks, quoted, for an organizer to find.
func outsideGSM(s string) string {
	seen := map[rune]bool{}
	out := ""
	for _, r := range s {
		if seen[r] || segment.Count(string(r)).Encoding == segment.GSM7 {
			continue
		}
		seen[r] = true
		if out != "" {
			out += " "
		}
		out += fmt.Sprintf("%q", r)
	}
	return out
}
