package understand

import (
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
		want := e.Label
		get(want).Support++
		if got[i] != "" {
			get(got[i]).Predicted++
		}
		if got[i] == want {
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
