package understand

import (
	"fmt"
	"slices"
)

// Score is one label's precision and recall, with the counts behind them.
type Score struct {
	Label                   string
	Precision, Recall       float64
	Support, Predicted, Hit int
}

// Report is how well a model read messages whose labels were known.
type Report struct {
	// Labels are scored by intent and slot ("rights/car"): a member asking about a car who
	// gets the rights at home was not understood.
	Labels []Score
	// Intents are scored by intent alone: a rights question about a car read as one about
	// home still reached the rights.
	Intents []Score
	// Urgent is the share of emergencies read as emergencies; FalseUrgent the share of other
	// messages read as emergencies (each pages every volunteer on call).
	Urgent, FalseUrgent float64
	// Accuracy is the share of messages whose label was read exactly.
	Accuracy float64
	N        int
}

// Evaluate reads each example with m and scores the result against its label.
func Evaluate(m *Model, examples []Example) Report {
	got := make([]string, len(examples))
	for i, e := range examples {
		got[i] = m.Read(e.Text).Label()
	}
	return score(examples, got)
}

// CrossValidate splits the examples into k folds, builds a model from all but one fold and
// reads that fold with it, for every fold: an honest measure of how the model does on
// messages it has not seen. Folds are taken by position within each label, so every fold
// holds every label and the result is the same on every run.
func CrossValidate(examples []Example, c Cues, k int) Report {
	return crossValidate(examples, k, func(train []Example) func(string) string {
		m := New(train, c)
		return func(text string) string { return m.Read(text).Label() }
	})
}

// crossValidate scores any reader built from the training folds (the model, a variant of
// it, a baseline).
func crossValidate(examples []Example, k int, build func(train []Example) func(string) string) Report {
	fold := make([]int, len(examples))
	seen := map[string]int{}
	for i, e := range examples {
		key := e.Label + "\x00" + e.Lang
		fold[i] = seen[key] % k
		seen[key]++
	}
	got := make([]string, len(examples))
	for f := 0; f < k; f++ {
		var train []Example
		for i, e := range examples {
			if fold[i] != f {
				train = append(train, e)
			}
		}
		read := build(train)
		for i, e := range examples {
			if fold[i] == f {
				got[i] = read(e.Text)
			}
		}
	}
	return score(examples, got)
}

func score(examples []Example, got []string) Report {
	r := scoreLabels(examples, got, func(l string) string { return l })
	r.Intents = scoreLabels(examples, got, Intent).Labels
	return r
}

func scoreLabels(examples []Example, got []string, key func(string) string) Report {
	r := Report{N: len(examples)}
	by := map[string]*Score{}
	get := func(l string) *Score {
		s, ok := by[l]
		if !ok {
			s = &Score{Label: l}
			by[l] = s
		}
		return s
	}
	urgent, urgentHit, other, otherUrgent, hits := 0, 0, 0, 0, 0
	for i, e := range examples {
		want, have := key(e.Label), key(got[i])
		get(want).Support++
		if have != "" {
			get(have).Predicted++
		}
		if have == want {
			get(want).Hit++
			hits++
		}
		gotUrgent := Intent(got[i]) == IntentUrgent
		if Intent(want) == IntentUrgent {
			urgent++
			if gotUrgent {
				urgentHit++
			}
		} else {
			other++
			if gotUrgent {
				otherUrgent++
			}
		}
	}
	for _, s := range by {
		if s.Predicted > 0 {
			s.Precision = float64(s.Hit) / float64(s.Predicted)
		}
		if s.Support > 0 {
			s.Recall = float64(s.Hit) / float64(s.Support)
		}
		r.Labels = append(r.Labels, *s)
	}
	slices.SortFunc(r.Labels, func(a, b Score) int {
		if a.Label < b.Label {
			return -1
		}
		if a.Label > b.Label {
			return 1
		}
		return 0
	})
	if urgent > 0 {
		r.Urgent = float64(urgentHit) / float64(urgent)
	}
	if other > 0 {
		r.FalseUrgent = float64(otherUrgent) / float64(other)
	}
	if len(examples) > 0 {
		r.Accuracy = float64(hits) / float64(len(examples))
	}
	return r
}

// Floors are the least the model must score in cross-validation on its own examples, by
// intent, before the hotline starts (`hotline check` and the tests enforce them). They sit
// a little under what the shipped examples reach (docs/understanding.md has the figures), so
// an edit that makes the model worse is caught, while the examples — written by different
// hands, some deliberately close to another intent — can grow.
//   - Precision 0.70: of the messages sent to an intent, at most three in ten meant another;
//     most of those still get a useful answer (a rights topic next to the one asked about).
//   - Recall 0.65: a message the model misses is told "not understood" and shown the menu,
//     which costs a member a message, not a wrong answer.
//   - Emergencies: recall 0.92 and at most 0.05 of other messages read as emergencies. The
//     goal measured on messages the model never saw is 0.95 and 0.10 (the held-out test).
//   - "help" at precision 0.60: a message wrongly read as help gets the help text, which says
//     what the hotline does and how to reach a person — the least harmful wrong answer, and
//     help is where every vague message ("no entiendo", "como funciona") goes.
//   - "other" and "place" lead nowhere by themselves (a place name is taken by the node that
//     asked for it, by name, not by the model), so only their precision counts, at 0.50.
type Floors struct {
	Precision, Recall float64
	UrgentRecall      float64
	FalseUrgent       float64
	OtherPrecision    float64
	Unrouted          []string // the intents that lead nowhere by themselves
	// PrecisionFor holds the intents whose wrong reading costs less, with their own floor.
	PrecisionFor map[string]float64
}

// DefaultFloors are the floors the shipped examples are held to.
var DefaultFloors = Floors{Precision: 0.70, Recall: 0.65, UrgentRecall: 0.92, FalseUrgent: 0.05, OtherPrecision: 0.50, Unrouted: []string{"other", "place"},
	PrecisionFor: map[string]float64{"help": 0.60}}

// Below lists what in r falls below the floors, one line each; none means it passes.
func (f Floors) Below(r Report) []string {
	var out []string
	for _, s := range r.Intents {
		p, rec := f.Precision, f.Recall
		if slices.Contains(f.Unrouted, s.Label) {
			p, rec = f.OtherPrecision, 0
		}
		if v, ok := f.PrecisionFor[s.Label]; ok {
			p = v
		}
		if s.Precision < p {
			out = append(out, fmt.Sprintf("intent %s: precision %.2f is below %.2f", s.Label, s.Precision, p))
		}
		if s.Recall < rec {
			out = append(out, fmt.Sprintf("intent %s: recall %.2f is below %.2f", s.Label, s.Recall, rec))
		}
	}
	if r.Urgent < f.UrgentRecall {
		out = append(out, fmt.Sprintf("emergencies: recall %.2f is below %.2f", r.Urgent, f.UrgentRecall))
	}
	if r.FalseUrgent > f.FalseUrgent {
		out = append(out, fmt.Sprintf("emergencies: %.2f of other messages read as emergencies, over %.2f", r.FalseUrgent, f.FalseUrgent))
	}
	return out
}
