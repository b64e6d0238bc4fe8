package understand

import (
	"math"
	"math/rand/v2"
	"slices"
)

// linear is a multinomial logistic regression over binary features: a weight per feature
// and label, trained by stochastic gradient descent in a fixed order, so the same examples
// always give the same model. It was chosen over naive Bayes by cross-validation on the
// examples (docs/understanding.md): the features overlap (a word, its stem and its letter
// trigrams), which naive Bayes counts several times over.
type linear struct {
	labels []string
	index  map[string]int32
	w      []float32 // feature-major: w[f*len(labels)+c]
	bias   []float32
}

// Training settings. More epochs add start time for no gain measured on the examples; the
// language, an easier question, needs fewer.
const (
	epochs       = 6
	langEpochs   = 6
	learningRate = 1.0
	l2           = 1e-5
)

// trainLinear builds a model from feature sets and their labels.
func trainLinear(feats [][]string, labels []string, epochs int) *linear {
	m := &linear{index: map[string]int32{}}
	labelIdx := map[string]int{}
	for _, l := range labels {
		if _, ok := labelIdx[l]; !ok {
			labelIdx[l] = 0
			m.labels = append(m.labels, l)
		}
	}
	slices.Sort(m.labels)
	for i, l := range m.labels {
		labelIdx[l] = i
	}
	C := len(m.labels)
	xs := make([][]int32, len(feats))
	for i, fs := range feats {
		xs[i] = m.intern(fs, true)
	}
	m.w = make([]float32, len(m.index)*C)
	m.bias = make([]float32, C)
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	rng := rand.New(rand.NewPCG(1, 2))
	p := make([]float64, C)
	for e := 0; e < epochs; e++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		lr := learningRate / (1 + float64(e))
		for _, i := range order {
			x, y := xs[i], labelIdx[labels[i]]
			m.probs(x, p)
			// Each feature's share of the step shrinks with the message's length, so a long
			// message does not outweigh a short one.
			scale := lr / math.Sqrt(float64(len(x)+1))
			for c := 0; c < C; c++ {
				g := p[c]
				if c == y {
					g -= 1
				}
				if g == 0 {
					continue
				}
				step := float32(scale * g)
				m.bias[c] -= step
				for _, f := range x {
					k := int(f)*C + c
					m.w[k] -= step + float32(l2)*m.w[k]
				}
			}
		}
	}
	return m
}

// intern maps feature names to indexes, each once; with add, unknown names get new ones,
// otherwise they are dropped.
func (m *linear) intern(fs []string, add bool) []int32 {
	out := make([]int32, 0, len(fs))
	for _, f := range fs {
		i, ok := m.index[f]
		if !ok {
			if !add {
				continue
			}
			i = int32(len(m.index))
			m.index[f] = i
		}
		if !slices.Contains(out, i) {
			out = append(out, i)
		}
	}
	return out
}

// probs writes into p the probability of each label given features x.
func (m *linear) probs(x []int32, p []float64) {
	C := len(m.labels)
	for c := range C {
		p[c] = float64(m.bias[c])
	}
	for _, f := range x {
		row := m.w[int(f)*C : int(f)*C+C]
		for c, v := range row {
			p[c] += float64(v)
		}
	}
	maxv := math.Inf(-1)
	for _, v := range p {
		maxv = max(maxv, v)
	}
	sum := 0.0
	for c, v := range p {
		p[c] = math.Exp(v - maxv)
		sum += p[c]
	}
	for c := range p {
		p[c] /= sum
	}
}

// best returns the most probable label for features x and its probability.
func (m *linear) best(x []int32) (string, float64) {
	p := make([]float64, len(m.labels))
	m.probs(x, p)
	top := 0
	for c := range p {
		if p[c] > p[top] {
			top = c
		}
	}
	return m.labels[top], p[top]
}
