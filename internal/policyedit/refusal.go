package policyedit

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/segment"
)

// Reason is why a correction was refused: a stable code, so that a page can say it in the
// organizer's language (the console keeps a message per reason) while the CLI and the logs
// use the English sentence of the Problem.
type Reason string

// The reasons a correction is refused.
const (
	// NoSourceURL: the source address is missing.
	NoSourceURL Reason = "no_source_url"
	// BadSourceURL: the source address is not a full http(s) address.
	BadSourceURL Reason = "bad_source_url"
	// NoSourceLabel: the source's short name is missing (it goes with the address).
	NoSourceLabel Reason = "no_source_label"
	// NoPolicyDate: the policy's as-of date is missing.
	NoPolicyDate Reason = "no_policy_date"
	// BadPolicyDate: the as-of date is not YYYY-MM-DD, YYYY-MM or YYYY.
	BadPolicyDate Reason = "bad_policy_date"
	// FuturePolicyDate: the as-of date is after today: a typo, or a policy not yet in force
	// that members would be told is.
	FuturePolicyDate Reason = "future_policy_date"
	// NoPolicyText: the policy text of a language (Problem.Lang) is empty.
	NoPolicyText Reason = "no_policy_text"
	// LineBreak: a field (Problem.Field) has a line break or another control character.
	LineBreak Reason = "line_break"
	// NotGSM: the answer about Problem.Place in Problem.Lang has characters GSM-7 lacks
	// (Problem.Chars), which would send it as UCS-2.
	NotGSM Reason = "not_gsm7"
	// TooLong: the answer about Problem.Place in Problem.Lang takes Problem.Segments SMS
	// segments, more than actions.MaxPolicySegments.
	TooLong Reason = "too_long"
	// Other: a rule of the places file with no reason of its own; Problem.Msg says it.
	Other Reason = "other"
)

// Problem is one reason a correction was refused, with what a page needs to say it.
type Problem struct {
	Reason Reason
	// Msg is the problem in an English sentence an organizer can act on.
	Msg string
	// Lang is the language of the text at fault ("es", "en"), for the text reasons.
	Lang string
	// Place is the id of the entry whose answer breaks the SMS budget: the entry corrected,
	// or for a county one of its cities, whose answer names the county's status.
	Place string
	// Field is the places file's name of the field at fault, for LineBreak.
	Field string
	// Chars are the characters outside GSM-7, quoted, for NotGSM.
	Chars string
	// Segments is what the answer would take, for TooLong.
	Segments int
}

func (p Problem) String() string { return p.Msg }

// checkChange holds ch to what a correction needs before the places rules run: a source
// with its address, an as-of date in a form the file takes, a text in both languages, and
// every field on one line. today is the date it is where the hotline is (YYYY-MM-DD).
func checkChange(ch Change, today string) []Problem {
	var probs []Problem
	add := func(p Problem) { probs = append(probs, p) }
	switch u, err := url.Parse(strings.TrimSpace(ch.SourceURL)); {
	case strings.TrimSpace(ch.SourceURL) == "":
		add(Problem{Reason: NoSourceURL, Msg: "give the address (URL) of the source that says this"})
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		add(Problem{Reason: BadSourceURL, Msg: fmt.Sprintf("the source address %q is not a full web address (https://...)", ch.SourceURL)})
	}
	if strings.TrimSpace(ch.Source) == "" {
		add(Problem{Reason: NoSourceLabel, Msg: "give the source a short name (source and source_url go together)"})
	}
	switch {
	case strings.TrimSpace(ch.PolicyDate) == "":
		add(Problem{Reason: NoPolicyDate, Msg: "give the date of the policy as the source gives it (YYYY-MM-DD, YYYY-MM or YYYY)"})
	case !partialDate(ch.PolicyDate):
		add(Problem{Reason: BadPolicyDate, Msg: fmt.Sprintf("policy_date %q is not a date YYYY-MM-DD, YYYY-MM or YYYY", ch.PolicyDate)})
	case ch.PolicyDate > today[:len(ch.PolicyDate)]:
		// "2027" > "2026", "2026-12" > "2026-11": a partial date compares by its own length.
		add(Problem{Reason: FuturePolicyDate, Msg: fmt.Sprintf("policy_date %s is after today (%s)", ch.PolicyDate, today)})
	}
	for _, t := range []struct{ lang, text string }{{"en", ch.PolicyEN}, {"es", ch.PolicyES}} {
		if strings.TrimSpace(t.text) == "" {
			add(Problem{Reason: NoPolicyText, Lang: t.lang, Msg: fmt.Sprintf("policy_%s is missing", t.lang)})
		}
	}
	for _, f := range [][2]string{{"policy_en", ch.PolicyEN}, {"policy_es", ch.PolicyES}, {"source", ch.Source}, {"source_url", ch.SourceURL}, {"policy_date", ch.PolicyDate}} {
		if strings.ContainsFunc(f[1], unicode.IsControl) {
			add(Problem{Reason: LineBreak, Field: f[0], Msg: f[0] + " has a line break or another control character: write it on one line"})
		}
	}
	return probs
}

// partialDate reports whether s is a date as precise as its source: YYYY-MM-DD, YYYY-MM or
// YYYY (the places file's rule for policy_date).
func partialDate(s string) bool {
	for _, layout := range []string{time.DateOnly, "2006-01", "2006"} {
		if len(s) == len(layout) {
			if _, err := time.Parse(layout, s); err == nil {
				return true
			}
		}
	}
	return false
}

// budget renders the policy answer about pl in every language, as lookup_place makes it,
// and reports each way it breaks the SMS budget, with a reason. actions.CheckPolicyAnswer is
// the rule (the tests hold the shipped file to it); this says which rule, for the page.
func budget(dir *places.Directory, pl *places.Place, texts actions.Texts) []Problem {
	var probs []Problem
	for _, lang := range texts.Languages() {
		text, err := texts.Text(lang, "policy_answer", actions.PlaceAnswer(dir, pl, lang))
		if err != nil {
			continue // CheckPolicyAnswer reports it
		}
		info := segment.Count(text)
		if info.Encoding != segment.GSM7 {
			probs = append(probs, Problem{Reason: NotGSM, Lang: lang, Place: pl.ID, Chars: outsideGSM(text),
				Msg: fmt.Sprintf("%s: the %s answer has a character outside GSM-7 (%s), which makes it UCS-2", pl.ID, lang, outsideGSM(text))})
		}
		if info.Segments > actions.MaxPolicySegments {
			probs = append(probs, Problem{Reason: TooLong, Lang: lang, Place: pl.ID, Segments: info.Segments,
				Msg: fmt.Sprintf("%s: the %s answer takes %d SMS segments; at most %d are allowed", pl.ID, lang, info.Segments, actions.MaxPolicySegments)})
		}
	}
	return probs
}

// outsideGSM lists the characters of s that GSM-7 lacks, quoted, for an organizer to find.
func outsideGSM(s string) string {
	seen := map[rune]bool{}
	var out []string
	for _, r := range s {
		if seen[r] || segment.Count(string(r)).Encoding == segment.GSM7 {
			continue
		}
		seen[r] = true
		out = append(out, fmt.Sprintf("%q", r))
	}
	return strings.Join(out, " ")
}
