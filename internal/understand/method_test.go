package understand

import (
	"math"
	"testing"

	"github.com/communityhotline/hotline/flows"
)

// These tests keep the method honest: each choice in docs/understanding.md ("a linear model
// over words, stems, word pairs and letter trigrams") must still beat the alternatives on
// the examples, or the choice is due for another look.

func loadInternal(t *testing.T) ([]Example, Cues) {
	t.Helper()
	ex, err := LoadExamples(flows.FS, "data/intents")
	if err != nil {
		t.Fatal(err)
	}
	c, err := LoadCues(flows.FS, "data/intents")
	if err != nil {
		t.Fatal(err)
	}
	return ex, c
}

// argmax reads with the linear model alone: no cues, thresholds or abstention, so that it
// compares like for like with the naive Bayes baseline.
func argmax(m *Model) func(string) string {
	return func(text string) string {
		fs, _ := m.feat.features(text)
		label, _ := m.intent.best(m.intent.intern(fs, false))
		return label
	}
}

// naiveBayes is a multinomial naive Bayes over the same features (each counted once per
// message, additive smoothing 0.1): the usual baseline for short texts.
func naiveBayes(train []Example, c Cues) func(string) string {
	f := featurizer{cues: newCueSet(c)}
	count := map[string]map[string]float64{}
	total := map[string]float64{}
	vocab := map[string]bool{}
	for _, e := range train {
		fs, _ := f.features(e.Text)
		if count[e.Label] == nil {
			count[e.Label] = map[string]float64{}
		}
		seen := map[string]bool{}
		for _, x := range fs {
			if !seen[x] {
				seen[x] = true
				count[e.Label][x]++
				total[e.Label]++
				vocab[x] = true
			}
		}
	}
	v := float64(len(vocab))
	return func(text string) string {
		fs, _ := f.features(text)
		best, bestScore := "", math.Inf(-1)
		for l, cnt := range count {
			s := 0.0
			for _, x := range fs {
				if vocab[x] {
					s += math.Log((cnt[x] + 0.1) / (total[l] + 0.1*v))
				}
			}
			if s > bestScore || s == bestScore && l < best {
				best, bestScore = l, s
			}
		}
		return best
	}
}

func TestLinearModelBeatsNaiveBayes(t *testing.T) {
	ex, c := loadInternal(t)
	lin := crossValidate(ex, 5, func(train []Example) func(string) string { return argmax(New(train, c)) })
	nb := crossValidate(ex, 5, func(train []Example) func(string) string { return naiveBayes(train, c) })
	t.Logf("5-fold accuracy: linear %.3f, naive Bayes %.3f; false urgent: linear %.3f, naive Bayes %.3f",
		lin.Accuracy, nb.Accuracy, lin.FalseUrgent, nb.FalseUrgent)
	if lin.Accuracy < nb.Accuracy {
		t.Errorf("naive Bayes (%.3f) reads the examples better than the linear model (%.3f): reconsider the method", nb.Accuracy, lin.Accuracy)
	}
}

func TestEveryFeatureKindEarnsItsPlace(t *testing.T) {
	ex, c := loadInternal(t)
	accuracy := func(off map[rune]bool) float64 {
		return crossValidate(ex, 5, func(train []Example) func(string) string { return argmax(build(train, c, off)) }).Accuracy
	}
	all := accuracy(nil)
	for _, kind := range []struct {
		name string
		off  rune
	}{{"letter trigrams", kindGram}, {"stems", kindStemES}, {"word pairs", kindBigram}} {
		without := accuracy(map[rune]bool{kind.off: true})
		t.Logf("5-fold accuracy with every kind %.3f, without %s %.3f", all, kind.name, without)
		// A kind worth less than half a point is not worth its cost in time and memory.
		if without > all-0.005 && kind.off == kindGram {
			t.Errorf("letter trigrams add %.3f: less than they cost", all-without)
		}
		if without > all+0.01 {
			t.Errorf("the model reads better without %s (%.3f against %.3f)", kind.name, without, all)
		}
	}
}
