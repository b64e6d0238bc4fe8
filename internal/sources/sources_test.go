package sources

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/locale"
	"github.com/communityhotline/hotline/locales"
)

// The shipped file, against the shipped messages: what a member asking FUENTE would get.
func TestShippedSources(t *testing.T) {
	s, err := Load(flows.FS, File)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locale.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range s.Check(cat) {
		t.Error(err)
	}
	// Every rights topic and urgent reply has a source with an address.
	for _, id := range []string{"rights_home", "rights_public", "rights_car", "rights_work", "rights_detained", "rights_redcard",
		"urgent_safety", "urgent_home", "urgent_detained", "urgent_checkpoint", "urgent_work", "urgent_street"} {
		srcs := s.For(id)
		if !slices.ContainsFunc(srcs, func(src Source) bool { return strings.HasPrefix(src.URL, "https://") }) {
			t.Errorf("%s: no source with an https address: %v", id, srcs)
		}
	}
	// Only the addresses the project's notes give: ACLU, ILRC and NMILC pages.
	for _, id := range s.Messages() {
		for _, src := range s.For(id) {
			if src.URL == "" {
				continue
			}
			ok := false
			for _, site := range []string{"https://www.ilrc.org/", "https://aclum.org/", "https://www.aclumaine.org/", "https://acluva.org/", "https://nmilc.org/"} {
				ok = ok || strings.HasPrefix(src.URL, site)
			}
			if !ok {
				t.Errorf("source %s: %s is not one of the sites the notes give", src.ID, src.URL)
			}
		}
	}
}

const validFile = `
without_facts = ["rights_intro"]

[source.a]
name = "Org A, page"
url = "https://example.org/a"
checked = "2026-12-06"

[source.law]
name = "A statute"
url = ""
checked = "2026-12-06"

[messages]
rights_home = ["a", "law"]
`

func TestParse(t *testing.T) {
	s, err := Parse([]byte(validFile))
	if err != nil {
		t.Fatal(err)
	}
	got := s.For("rights_home")
	if len(got) != 2 || got[0].ID != "a" || got[0].URL != "https://example.org/a" || got[1].Name != "A statute" || got[1].URL != "" {
		t.Errorf("For(rights_home) = %+v", got)
	}
	if s.For("rights_car") != nil {
		t.Errorf("a message not listed has sources")
	}
	if src, ok := s.Source("a"); !ok || src.Checked != "2026-12-06" {
		t.Errorf("Source(a) = %+v, %v", src, ok)
	}

	for _, tt := range []struct {
		name, from, to, want string
	}{
		{"undefined source", `["a", "law"]`, `["a", "nope"]`, `source "nope" is not defined`},
		{"listed twice", `["a", "law"]`, `["a", "a"]`, `listed twice`},
		{"no source", `["a", "law"]`, `[]`, `lists no source`},
		{"no address at all", `["a", "law"]`, `["law"]`, `no source with an address`},
		{"bad url", `url = "https://example.org/a"`, `url = "example.org/a"`, `not a full http(s) address`},
		{"url left out", `url = "https://example.org/a"`, ``, `url is missing`},
		{"bad date", `checked = "2026-12-06"`, `checked = "06/12/2026"`, `not a date`},
		{"no name", `name = "Org A, page"`, `name = ""`, `name is missing`},
		{"misspelt field", `checked = "2026-12-06"`, `checked = "2026-12-06"` + "\nadress = \"x\"", `unknown field`},
		{"bad id", `[source.a]`, `[source.A-1]`, `lowercase`},
		{"both lists", `without_facts = ["rights_intro"]`, `without_facts = ["rights_home"]`, `take it out of one list`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(strings.Replace(validFile, tt.from, tt.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// fakeCatalog is a message catalog with the given IDs in both languages, and extra ones in
// English only.
type fakeCatalog struct{ both, enOnly []string }

func (c fakeCatalog) Languages() []string { return []string{"en", "es"} }
func (c fakeCatalog) IDs(lang string) []string {
	if lang == "en" {
		return append(slices.Clone(c.both), c.enOnly...)
	}
	return c.both
}
func (c fakeCatalog) Has(lang, id string) bool { return slices.Contains(c.IDs(lang), id) }

func TestCheck(t *testing.T) {
	s, err := Parse([]byte(validFile))
	if err != nil {
		t.Fatal(err)
	}
	if errs := s.Check(fakeCatalog{both: []string{"rights_home", "rights_intro", "welcome"}}); len(errs) != 0 {
		t.Errorf("a complete catalog: %v", errs)
	}
	if errs := s.Check(fakeCatalog{both: []string{"rights_home", "rights_home_voice", "rights_intro"}}); len(errs) != 0 {
		t.Errorf("a channel's variant of a message with sources: %v", errs)
	}
	for _, tt := range []struct {
		name string
		cat  fakeCatalog
		want string
	}{
		{"message with sources missing", fakeCatalog{both: []string{"rights_intro"}}, `"rights_home" is not in the en messages`},
		{"message missing in one language", fakeCatalog{both: []string{"rights_intro"}, enOnly: []string{"rights_home"}}, `"rights_home" is not in the es messages`},
		{"message without facts missing", fakeCatalog{both: []string{"rights_home"}}, `"rights_intro" is not in`},
		{"rights message without a source", fakeCatalog{both: []string{"rights_home", "rights_intro", "rights_car"}}, `"rights_car" has no source`},
		{"urgent message without a source", fakeCatalog{both: []string{"rights_home", "rights_intro"}, enOnly: []string{"urgent_home"}}, `"urgent_home" has no source`},
		{"variant of no message", fakeCatalog{both: []string{"rights_home", "rights_intro", "rights_hom_voice"}}, `"rights_hom_voice" has no source`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var msgs []string
			for _, err := range s.Check(tt.cat) {
				msgs = append(msgs, err.Error())
			}
			if !strings.Contains(strings.Join(msgs, "\n"), tt.want) {
				t.Errorf("Check = %q, want one mentioning %q", msgs, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load(fstest.MapFS{File: {Data: []byte(validFile)}}, File); err != nil {
		t.Errorf("Load: %v", err)
	}
	if _, err := Load(fstest.MapFS{}, File); err == nil {
		t.Error("Load of a missing file succeeded")
	}
	_, err := Load(fstest.MapFS{File: {Data: []byte("[messages]\nrights_home = [\"x\"]\n")}}, File)
	if err == nil || !strings.Contains(err.Error(), File) {
		t.Errorf("Load of a bad file = %v, want an error naming %s", err, File)
	}
}
