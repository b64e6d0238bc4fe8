package understand

import (
	"slices"
	"strings"
)

// Meaning is what a message says, as far as the model can tell.
type Meaning struct {
	// Intent is "urgent", "rights", "policy", …, or "" when nothing is clear enough.
	Intent string
	// Slot refines the intent: an emergency's situation ("home", "detained", "checkpoint",
	// "work", "street"), a rights question's topic, a language. "" when there is none.
	Slot string
	// Confidence is the model's probability for the intent and slot, from 0 to 1.
	Confidence float64
}

// Label is "intent/slot", or the intent alone.
func (m Meaning) Label() string {
	if m.Slot == "" {
		return m.Intent
	}
	return m.Intent + "/" + m.Slot
}

// Thresholds, chosen by cross-validation on the examples (docs/understanding.md).
const (
	// minConfidence is the least probability at which a label is acted on; below it the
	// member is told they were not understood, which costs less than a wrong answer.
	minConfidence = 0.45
	// urgentAt is the share of probability on the urgent labels at which a message is read
	// as an emergency. It is lower than minConfidence on purpose: missing an emergency costs
	// far more than a volunteer paged for a question.
	urgentAt = 0.40
)

// IntentUrgent is the intent of a message about an emergency under way.
const IntentUrgent = "urgent"

// rightsTopicOf maps an emergency's situation to the rights topic that covers it, for a
// hypothetical ("si me detienen…") the model heard as an emergency.
var rightsTopicOf = map[string]string{
	"home": "home", "detained": "detained", "checkpoint": "car", "work": "work", "street": "public",
}

// Model reads messages. It is built once at start and safe for concurrent use.
type Model struct {
	feat   featurizer
	intent *linear
	lang   *linear
}

// New builds a model from examples and cue phrases.
func New(examples []Example, c Cues) *Model {
	m := &Model{feat: featurizer{cues: newCueSet(c)}}
	feats := make([][]string, len(examples))
	labels := make([]string, len(examples))
	langs := make([]string, len(examples))
	for i, e := range examples {
		feats[i], _ = m.feat.features(e.Text)
		labels[i], langs[i] = e.Label, e.Lang
	}
	m.intent = trainLinear(feats, labels)
	m.lang = trainLinear(feats, langs)
	return m
}

// Labels returns every label the model knows, sorted.
func (m *Model) Labels() []string { return slices.Clone(m.intent.labels) }

// Read returns what text means. Rules that are clearer than examples apply on top of the
// model: a hypothetical with no sign of an emergency now is a question, never an emergency;
// an event ("se llevaron a…") with no hypothetical is an emergency whatever else it says.
func (m *Model) Read(text string) Meaning {
	fs, cue := m.feat.features(text)
	x := m.intent.intern(fs, false)
	if len(x) == 0 {
		return Meaning{}
	}
	p := make([]float64, len(m.intent.labels))
	m.intent.probs(x, p)
	urgent, bestUrgent, best := 0.0, -1, -1
	for c, l := range m.intent.labels {
		if strings.HasPrefix(l, IntentUrgent+"/") {
			urgent += p[c]
			if bestUrgent < 0 || p[c] > p[bestUrgent] {
				bestUrgent = c
			}
		} else if best < 0 || p[c] > p[best] {
			best = c
		}
	}
	hypothetical := cue.hyp && !cue.now && !cue.event
	switch {
	case bestUrgent >= 0 && !hypothetical && (urgent >= urgentAt || cue.event && !cue.hyp):
		return Meaning{Intent: IntentUrgent, Slot: Slot(m.intent.labels[bestUrgent]), Confidence: urgent}
	case bestUrgent >= 0 && hypothetical && urgent > p[best]:
		// "¿Qué hago si la migra toca la puerta?" reads like an emergency but asks about
		// one: answer the rights for that situation.
		return Meaning{Intent: "rights", Slot: rightsTopicOf[Slot(m.intent.labels[bestUrgent])], Confidence: urgent}
	case best >= 0 && p[best] >= minConfidence:
		l := m.intent.labels[best]
		return Meaning{Intent: Intent(l), Slot: Slot(l), Confidence: p[best]}
	}
	return Meaning{}
}

// Language returns the language text is most likely written in and its probability, or ""
// when the text has no word the model knows.
func (m *Model) Language(text string) (string, float64) {
	fs, _ := m.feat.features(text)
	x := m.lang.intern(fs, false)
	if len(x) == 0 {
		return "", 0
	}
	p := make([]float64, len(m.lang.labels))
	m.lang.probs(x, p)
	best := 0
	for c := range p {
		if p[c] > p[best] {
			best = c
		}
	}
	return m.lang.labels[best], p[best]
}
