package understand

import (
	"slices"
	"sync"

	"github.com/kljensen/snowball/english"

	"github.com/kljensen/snowball/spanish"

	"github.com/communityhotline/hotline/internal/fold"
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
	// Pressing is set when the words say something is happening or has happened to the
	// writer or someone close ("ahorita", "se llevaron", "socorro"), as opposed to a
	// description of something seen.
	Pressing bool
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
	minConfidence = 0.35
	// urgentAt is the share of probability on the urgent labels at which a message is read
	// as an emergency. It is lower than minConfidence on purpose: missing an emergency costs
	// far more than a volunteer paged for a question.
	urgentAt = 0.30
	// urgentLead: the emergency must also be nearly as probable as the likeliest other
	// intent, so a question spread thin over many labels is not an emergency by default.
	urgentLead = 0.8
	// With a "now" cue.
	urgentAtNow   = 0.20
	urgentLeadNow = 0.3
	// A message of fewWords words or fewer, with no cue, needs urgentAtFewWords.
	fewWords         = 2
	urgentAtFewWords = 0.6
	// clearlyElse: a plea ("urgente", "socorro") with a request the model is this sure of
	// ("es urgente saber si Santa Fe coopera") is that request; minSituation: an unsure
	// plea still names the situation the model sees at least this much of.
	clearlyElse  = 0.7
	minSituation = 0.15
)

// IntentUrgent is the intent of a message about an emergency under way; SituationDetained is
// its situation when a person has been taken.
const (
	IntentUrgent      = "urgent"
	SituationDetained = "detained"
)

// rightsTopicOf maps an emergency's situation to the rights topic that covers it, for a
// hypothetical ("si me detienen…") the model heard as an emergency.
var rightsTopicOf = map[string]string{
	"home": "home", "detained": "detained", "checkpoint": "car", "work": "work", "street": "public",
}

// pleaLike are the intents a plea is read as when its words are all it has ("necesito ayuda
// urgente" is near "I need a person"): with a distress cue, the emergency wins over them.
var pleaLike = map[string]bool{"person": true, "help": true, "other": true}

// situationOf maps a rights topic to the emergency it is about, for a rights question asked
// while it happens.
var situationOf = map[string]string{
	"home": "home", "detained": "detained", "car": "checkpoint", "work": "work", "public": "street",
}

// Model reads messages. It is built once at start and safe for concurrent use.
type Model struct {
	feat   featurizer
	intent *linear
	lang   *linear
}

// New builds a model from examples and cue phrases.
func New(examples []Example, c Cues) *Model {
	return build(examples, c, nil)
}

// build is New with some feature kinds turned off, to measure what each is worth.
func build(examples []Example, c Cues, off map[rune]bool) *Model {
	m := &Model{feat: featurizer{cues: newCueSet(c), off: off, stems: map[string]stemPair{}}}
	for _, e := range examples {
		for _, t := range tokens(e.Text) {
			if _, ok := m.feat.stems[t]; !ok {
				m.feat.stems[t] = stemPair{spanish.Stem(t, true), english.Stem(t, true)}
			}
		}
	}
	feats := make([][]string, len(examples))
	labels := make([]string, len(examples))
	langs := make([]string, len(examples))
	for i, e := range examples {
		labels[i], langs[i] = e.Label, e.Lang
	}
	// Building the model is most of a start; the work splits over the cores without
	// changing the result (each half writes its own entries; the stems are only read now).
	var wg sync.WaitGroup
	half := len(examples) / 2
	for _, part := range [][2]int{{0, half}, {half, len(examples)}} {
		wg.Go(func() {
			for i := part[0]; i < part[1]; i++ {
				feats[i], _ = m.feat.features(examples[i].Text)
			}
		})
	}
	wg.Wait()
	wg.Go(func() { m.lang = trainLinear(wordsOnly(feats), langs, langEpochs) })
	m.intent = trainLinear(feats, labels, epochs)
	wg.Wait()
	return m
}

// wordsOnly keeps the whole words of each feature set: a language is told by its words,
// while letter trigrams and stems, shared by cognates ("policia", "police"), blur it.
func wordsOnly(feats [][]string) [][]string {
	out := make([][]string, len(feats))
	for i, fs := range feats {
		for _, f := range fs {
			if f[0] == kindWord {
				out[i] = append(out[i], f)
			}
		}
	}
	return out
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
	words := len(fold.Words(text))
	p := make([]float64, len(m.intent.labels))
	m.intent.probs(x, p)
	hypothetical := cue.hyp && !cue.now && !cue.event
	if hypothetical {
		// "¿Qué hago si la migra toca la puerta?" reads like an emergency but asks about
		// one: what the model gave the emergency goes to the rights for its situation.
		for c, l := range m.intent.labels {
			if Intent(l) == IntentUrgent {
				if to := slices.Index(m.intent.labels, "rights/"+rightsTopicOf[Slot(l)]); to >= 0 {
					p[to] += p[c]
				}
				p[c] = 0
			}
		}
	}
	// Probability is summed by intent: a rights question spread over several topics is
	// still clearly a rights question.
	mass := map[string]float64{}
	for c, l := range m.intent.labels {
		mass[Intent(l)] += p[c]
	}
	best := ""
	for _, l := range m.intent.labels {
		in := Intent(l)
		if in != IntentUrgent && (best == "" || mass[in] > mass[best]) {
			best = in
		}
	}
	urgent := mass[IntentUrgent]
	bestUrgent := m.bestSlot(IntentUrgent, p)
	switch {
	case bestUrgent >= 0 && (cue.event || !hypothetical && m.urgentEnough(urgent, mass[best], cue.now, words)):
		situation := Slot(m.intent.labels[bestUrgent])
		if cue.taken {
			situation = SituationDetained
		}
		return Meaning{Intent: IntentUrgent, Slot: situation, Confidence: urgent, Pressing: cue.pressing()}
	case cue.distress && !hypothetical && (mass[best] < clearlyElse || pleaLike[best]):
		// "Ayúdenme por favor es urgente": an emergency, its situation unknown unless the
		// model sees one.
		situation := ""
		if bestUrgent >= 0 && p[bestUrgent] >= minSituation {
			situation = Slot(m.intent.labels[bestUrgent])
		}
		return Meaning{Intent: IntentUrgent, Slot: situation, Confidence: max(urgent, 1-mass[best]), Pressing: true}
	case best == "rights" && cue.now && situationOf[m.slotOf(best, p)] != "":
		// "Agents at my job right now, do I have to show papers?" asks about rights while
		// it happens: an emergency in the situation the topic names.
		return Meaning{Intent: IntentUrgent, Slot: situationOf[m.slotOf(best, p)], Confidence: mass[best], Pressing: true}
	case best != "" && mass[best] >= minConfidence:
		return Meaning{Intent: best, Slot: m.slotOf(best, p), Confidence: mass[best]}
	}
	return Meaning{}
}

// urgentEnough reports whether an emergency's probability is enough to act on, next to the
// likeliest other intent's. "Now" words ("ahorita", "right now") lower the bar: something is
// happening.
func (m *Model) urgentEnough(urgent, other float64, now bool, words int) bool {
	at, lead := urgentAt, urgentLead
	switch {
	case words <= fewWords:
		// One or two words ("casa", "ahorita") say too little to page everyone on: the
		// danger words that do ("ICE", "la migra") are exact keywords.
		at = urgentAtFewWords
	case now:
		at, lead = urgentAtNow, urgentLeadNow
	}
	return urgent >= at && urgent >= lead*other
}

// slotOf chooses the slot of a message of intent. The intent alone (a label with no slot,
// "¿cuáles son mis derechos?") takes most of the probability whenever its words appear, so
// the slots are weighed among themselves: the leading slot is answered when the slots
// together are more than noise and it leads them clearly. "Quiero saber mis derechos si me
// paran en el carro" is a rights question about a car. For rights, what the model gave an
// emergency's situation counts for the matching topic.
func (m *Model) slotOf(intent string, p []float64) string {
	by := map[string]float64{}
	total := 0.0
	for c, l := range m.intent.labels {
		slot := Slot(l)
		switch {
		case Intent(l) == intent && slot != "":
		case intent == "rights" && Intent(l) == IntentUrgent:
			slot = rightsTopicOf[slot]
		default:
			continue
		}
		by[slot] += p[c]
		total += p[c]
	}
	best := ""
	for slot, v := range by {
		if best == "" || v > by[best] || v == by[best] && slot < best {
			best = slot
		}
	}
	_, hasAlone := slices.BinarySearch(m.intent.labels, intent)
	if best == "" || hasAlone && (total < minSlotMass || by[best] < slotLead*total) {
		return ""
	}
	return best
}

// A slot is answered when the slots hold at least minSlotMass of the probability and the
// leading one holds slotLead of theirs.
const (
	minSlotMass = 0.04
	slotLead    = 0.4
)

// bestSlot returns the most probable label of intent with a slot, or -1.
func (m *Model) bestSlot(intent string, p []float64) int {
	best := -1
	for c, l := range m.intent.labels {
		if Intent(l) == intent && Slot(l) != "" && (best < 0 || p[c] > p[best]) {
			best = c
		}
	}
	return best
}

// Language returns the language text is most likely written in and its probability, or ""
// when the text has no word the model knows.
func (m *Model) Language(text string) (string, float64) {
	fs, _ := m.feat.features(text)
	x := m.lang.intern(wordsOnly([][]string{fs})[0], false)
	if len(x) == 0 {
		return "", 0
	}
	return m.lang.best(x)
}
