package actions

import (
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/places"
)

func TestFitLinks(t *testing.T) {
	a, b, c := strings.Repeat("a", 10), strings.Repeat("b", 30), strings.Repeat("c", 5)
	tests := []struct {
		name  string
		links []string
		max   int
		want  []string
	}{
		{"all fit, one a line", []string{a, b, c}, 10 + 1 + 30 + 1 + 5, []string{a, b, c}},
		{"the least specific dropped first", []string{a, b, c}, 10 + 1 + 30, []string{a, b}},
		{"a long one passed over for a later one that fits", []string{a, b, c}, 20, []string{a, c}},
		{"none fit", []string{a, b}, 9, nil},
		{"nothing to fit", nil, 100, nil},
	}
	for _, tt := range tests {
		if got := FitLinks(tt.links, tt.max); !slices.Equal(got, tt.want) {
			t.Errorf("%s: FitLinks = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestSourceLinks: the links behind a policy answer are the place's own, its county's for a
// city, the federal lists' and the state law's, most specific first, each once; the state
// law's answer has the law's.
func TestSourceLinks(t *testing.T) {
	dir, err := places.Load(os.DirFS("../../flows"), "data/places.toml")
	if err != nil {
		t.Fatal(err)
	}
	common := []string{dir.Lists.DHS.EntriesSourceURL, dir.Lists.DHS.SourceURL, dir.Lists.DOJ.EntriesSourceURL, dir.Lists.DOJ.SourceURL, dir.State.SourceURL}
	for _, pl := range dir.Places() {
		want := []string{pl.SourceURL}
		if county := dir.CountyOf(pl); county != pl {
			want = append(want, county.SourceURL)
		}
		want = append(want, common...)
		got := SourceLinks(dir, nil, PlaceCite(pl.ID))
		var dedup []string // a city citing its county's article has it once
		for _, u := range want {
			if u != "" && !slices.Contains(dedup, u) {
				dedup = append(dedup, u)
			}
		}
		if !slices.Equal(got, dedup) {
			t.Errorf("%s: links %q, want %q", pl.ID, got, dedup)
		}
	}
	if got := SourceLinks(dir, nil, LawCite); !slices.Equal(got, []string{dir.State.SourceURL}) {
		t.Errorf("state law: links %q", got)
	}
	for _, cite := range []string{"", PlaceCite("atlantis"), "rights:home"} {
		if got := SourceLinks(dir, nil, cite); got != nil {
			t.Errorf("%q: links %q, want none", cite, got)
		}
	}
}

// TestAnyAnswerCanCite: a node whose answer no action cites (a rights topic, later) cites
// with the cite action, and SOURCE right after it lists the links; only right after it.
func TestAnyAnswerCanCite(t *testing.T) {
	dir, err := places.Load(os.DirFS("../../flows"), "data/places.toml")
	if err != nil {
		t.Fatal(err)
	}
	set, err := flow.Load(fstest.MapFS{
		"keywords.toml": {Data: []byte(`
[settings]
home = "main/menu"
welcome = "main/menu"
choose_language = "main/menu"
not_understood = "nu"
languages = ["en"]
[[keyword]]
words = ["source"]
go = "sources"
`)},
		"main.toml": {Data: []byte(`start = "menu"
[menu]
say = ["menu"]
menu = [{ label = "opt", go = "answer" }, { label = "opt", go = "other" }]
[answer]
do = "cite"
with = { ref = "law" }
say = ["answer"]
[other]
say = ["other"]
`)},
		"sources.toml": {Data: []byte(`start = "cite"
[cite]
do = "sources"
with = { max_chars = "400" }
results = { none = "nothing" }
say = ["sources"]
[nothing]
say = ["none"]
`)},
	}, Sources(dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	step := func(st flow.State, text string) flow.Result {
		return set.Step(st, flow.Input{Text: text, Now: time.Unix(1764150000, 0)}, flow.Options{})
	}
	res := step(step(flow.State{Lang: "en"}, "1").State, "source")
	if len(res.Replies) != 1 || res.Replies[0].ID != "sources" || res.Replies[0].Data["Links"] != dir.State.SourceURL {
		t.Errorf("SOURCE after the citing answer: %+v", res.Replies)
	}
	res = step(step(step(flow.State{Lang: "en"}, "1").State, "2").State, "source")
	if len(res.Replies) != 1 || res.Replies[0].ID != "none" {
		t.Errorf("SOURCE after another answer: %+v", res.Replies)
	}
}
