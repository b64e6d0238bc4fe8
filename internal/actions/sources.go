package actions

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/sources"
)

// What an answer rests on, as actions cite it (flow.Context.Cite): short, since it is kept in
// the member's state until their next message.
const (
	citePlace   = "place:"   // + a place id: a policy answer
	citeMessage = "message:" // + a message id: a rights or urgent answer, whose sources are in sources.toml
	// LawCite cites the state-law answer.
	LawCite = "law"
)

// PlaceCite cites the policy answer about place id.
func PlaceCite(id string) string { return citePlace + id }

// MessageCite cites an answer by its message ID, whose sources flows/data/sources.toml lists.
func MessageCite(id string) string { return citeMessage + id }

// Sources returns the action that lists the links behind the member's previous answer.
func Sources(dir *places.Directory, srcs *sources.Sources) map[string]flow.Action {
	return map[string]flow.Action{
		// cite marks the node's answer as resting on with = { ref = "…" }, for SOURCE right
		// after it: a node whose answer no action cites (a rights topic) cites this way.
		"cite": {Args: []string{"ref"}, Run: func(c *flow.Context) string {
			c.Cite = c.With["ref"]
			return ""
		}},
		// sources sets {{.Links}}: the links behind the answer the member just got (what its
		// action cited), most specific first, one a line, as many as fit in
		// with = { max_chars = "…" }. "none" when the previous message got no answer that
		// cites anything. The citation is kept, so SOURCE twice answers twice.
		"sources": {Args: []string{"max_chars"}, Results: []string{"some", "none"},
			Vars: map[string][]string{"some": {"Links"}},
			Run: func(c *flow.Context) string {
				max, err := strconv.Atoi(c.With["max_chars"])
				if err != nil || max <= 0 {
					max = 0 // a flow defect: nothing fits, and the member hears "nothing to cite"
				}
				links := FitLinks(SourceLinks(dir, srcs, c.Cited), max)
				if len(links) == 0 {
					return "none"
				}
				c.Cite = c.Cited
				c.Vars["Links"] = strings.Join(links, "\n")
				return "some"
			}},
	}
}

// SourceLinks returns the links behind an answer that cited cite, most specific first,
// without repeats: for a place, its own source, its county's (for a city), where the federal
// lists' New Mexico entries were read and the lists themselves, then the state law's; for the
// state law, its own; for a rights or urgent answer (cited by its message ID), the pages
// flows/data/sources.toml gives that message, most important first. Facts without a source
// add nothing.
func SourceLinks(dir *places.Directory, srcs *sources.Sources, cite string) []string {
	var links []string
	add := func(urls ...string) {
		for _, u := range urls {
			if u != "" && !slices.Contains(links, u) {
				links = append(links, u)
			}
		}
	}
	switch {
	case strings.HasPrefix(cite, citePlace):
		pl, ok := dir.Get(strings.TrimPrefix(cite, citePlace))
		if !ok {
			return nil // a place gone from the data since the answer
		}
		add(pl.SourceURL)
		if county := dir.CountyOf(pl); county != pl {
			add(county.SourceURL)
		}
		dhs, doj := dir.Lists.DHS, dir.Lists.DOJ
		add(dhs.EntriesSourceURL, dhs.SourceURL, doj.EntriesSourceURL, doj.SourceURL, dir.State.SourceURL)
	case cite == LawCite:
		add(dir.State.SourceURL)
	case strings.HasPrefix(cite, citeMessage) && srcs != nil:
		for _, src := range srcs.For(strings.TrimPrefix(cite, citeMessage)) {
			add(src.URL)
		}
	}
	return links
}

// FitLinks keeps links, in order, while one a line they fit in max characters: a link too
// long for what is left is passed over for the later, less specific ones that still fit.
func FitLinks(links []string, max int) []string {
	var out []string
	used := 0
	for _, l := range links {
		n := utf8.RuneCountInString(l)
		if len(out) > 0 {
			n++ // the line break before it
		}
		if used+n > max {
			continue
		}
		out = append(out, l)
		used += n
	}
	return out
}
