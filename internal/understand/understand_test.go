package understand_test

import (
	"os"
	"strings"
	"testing"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/fold"
	"github.com/communityhotline/hotline/internal/understand"
)

// IntentsDir is where the examples live inside the flows folder.
const intentsDir = "data/intents"

func load(t testing.TB) ([]understand.Example, understand.Cues) {
	t.Helper()
	ex, err := understand.LoadExamples(flows.FS, intentsDir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := understand.LoadCues(flows.FS, intentsDir)
	if err != nil {
		t.Fatal(err)
	}
	return ex, c
}

// TestCrossValidation holds the shipped examples to the floors `hotline check` enforces.
func TestCrossValidation(t *testing.T) {
	ex, c := load(t)
	r := understand.CrossValidate(ex, c, 5)
	for _, line := range understand.DefaultFloors.Below(r) {
		t.Error(line)
	}
	for _, s := range r.Intents {
		t.Logf("%-20s P %.2f R %.2f (%d)", s.Label, s.Precision, s.Recall, s.Support)
	}
	t.Logf("accuracy %.3f urgent recall %.3f false urgent %.3f n=%d", r.Accuracy, r.Urgent, r.FalseUrgent, r.N)
}

// unseen drops the held-out messages that are, folded, an example the model learned from
// ("si", "gracias", and some longer ones two writers happened to share): they would measure
// memory, not understanding.
func unseen(held, learned []understand.Example) []understand.Example {
	known := map[string]bool{}
	for _, e := range learned {
		known[fold.Text(e.Text)] = true
	}
	var out []understand.Example
	for _, e := range held {
		if !known[fold.Text(e.Text)] {
			out = append(out, e)
		}
	}
	return out
}

func loadHeldOut(t testing.TB, file string) []understand.Example {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []understand.Example
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("%s line %d: want label, lang, text", file, i+1)
		}
		out = append(out, understand.Example{Label: f[0], Lang: f[1], Text: f[2]})
	}
	return out
}

// TestHeldOut measures the model on messages written apart from its examples, by someone
// who never saw them (testdata/heldout.tsv), against the goals: emergencies recalled at
// 0.95 or more, at most 0.10 of other messages treated as emergencies, and most messages
// understood.
func TestHeldOut(t *testing.T) {
	ex, c := load(t)
	m := understand.New(ex, c)
	// Two sets, each written by a session that never saw the examples; the second was
	// written at the end of the work and scored once, untuned.
	for _, file := range []string{"testdata/heldout.tsv", "testdata/heldout2.tsv"} {
		t.Run(file, func(t *testing.T) {
			held := unseen(loadHeldOut(t, file), ex)
			r := understand.Evaluate(m, held)
			if r.Urgent < 0.95 {
				t.Errorf("emergencies recalled %.3f, want 0.95 or more", r.Urgent)
			}
			if r.FalseUrgent > 0.10 {
				t.Errorf("%.3f of other messages read as emergencies, want 0.10 at most", r.FalseUrgent)
			}
			if r.Accuracy < 0.80 {
				t.Errorf("accuracy %.3f, want 0.80 or more", r.Accuracy)
			}
			for _, s := range r.Labels {
				t.Logf("%-20s P %.2f R %.2f (%d)", s.Label, s.Precision, s.Recall, s.Support)
			}
			t.Logf("accuracy %.3f urgent recall %.3f false urgent %.3f n=%d", r.Accuracy, r.Urgent, r.FalseUrgent, r.N)
			if os.Getenv("SHOW_MISSES") != "" {
				for _, e := range held {
					if got := m.Read(e.Text).Label(); got != e.Label {
						t.Logf("MISS %-18s got %-18s %s", e.Label, got, e.Text)
					}
				}
			}
		})
	}
}

func BenchmarkRead(b *testing.B) {
	ex, c := load(b)
	m := understand.New(ex, c)
	msgs := []string{
		"se llevaron a mi esposo",
		"can ICE come into a church?",
		"hola buenas tardes quisiera saber si en el condado de doña ana la policia le avisa a la migra cuando detienen a alguien porque mi primo tiene miedo de manejar",
		"2",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Read(msgs[i%len(msgs)])
	}
}

func BenchmarkNew(b *testing.B) {
	ex, c := load(b)
	for b.Loop() {
		understand.New(ex, c)
	}
}
