package flow

import (
	"fmt"
	"slices"
	"strings"
)

// Catalog is what the checks need to know about the locales.
type Catalog interface {
	Languages() []string
	Has(lang, id string) bool
	Vars(lang, id string) ([]string, error)
	IDs(lang string) []string
	File(lang string) string
}

// maxMenu is the most options a menu may have: one keypad digit each, so that the same
// flows can run on a voice line.
const maxMenu = 9

// Check reports every defect an organizer could make that loading alone does not catch:
// a message ID missing in a language, template variables that differ between languages,
// a node no path reaches, a loop of `next` that never waits, a menu too long for a keypad.
// extraIDs are message IDs the Go code renders itself; they must exist too. knownVars are
// the template variables the Go code supplies; a message using any other (a typo such as
// {{.Contacto}}) is reported, since it would fail when a member reaches it. Variables a
// flow captures are known too.
func (s *Set) Check(cat Catalog, extraIDs, knownVars []string) Problems {
	var probs Problems
	probs = append(probs, s.checkMessages(cat, extraIDs)...)
	if knownVars != nil {
		probs = append(probs, s.checkVars(cat, knownVars)...)
	}
	probs = append(probs, s.checkReachable()...)
	probs = append(probs, s.checkLoops()...)
	for _, id := range s.NodeIDs() {
		n := s.nodes[id]
		if len(n.Menu) > maxMenu {
			probs = append(probs, Problem{File: n.File, Node: local(id), Msg: fmt.Sprintf("menu has %d options; at most %d fit a keypad", len(n.Menu), maxMenu)})
		}
		if len(n.Menu) > 0 && len(n.Say) == 0 {
			probs = append(probs, Problem{File: n.File, Node: local(id), Msg: "a menu needs say: the question its options answer"})
		}
	}
	for _, lang := range s.settings.Languages {
		if !slices.Contains(cat.Languages(), lang) {
			probs = append(probs, Problem{File: KeywordsFile, Msg: fmt.Sprintf("language %q has no message file", lang)})
		}
	}
	return probs
}

func (s *Set) checkMessages(cat Catalog, extraIDs []string) Problems {
	var probs Problems
	langs := cat.Languages()
	used := map[string]string{} // message ID → first node that uses it, for reports
	where := map[string]*Node{}
	for _, id := range s.NodeIDs() {
		n := s.nodes[id]
		ids := append([]string(nil), n.Say...)
		for _, o := range n.Menu {
			ids = append(ids, o.Label)
		}
		for _, m := range ids {
			if _, ok := used[m]; !ok {
				used[m], where[m] = id, n
			}
		}
	}
	for _, m := range append([]string{s.settings.NotUnderstood}, extraIDs...) {
		if _, ok := used[m]; !ok {
			used[m] = ""
		}
	}
	for _, m := range sortedKeys(used) {
		for _, lang := range langs {
			if !cat.Has(lang, m) {
				p := Problem{File: KeywordsFile, Msg: fmt.Sprintf("message %q is missing in %s", m, cat.File(lang))}
				if n := where[m]; n != nil {
					p.File, p.Node = n.File, local(n.ID)
				}
				probs = append(probs, p)
			}
		}
	}
	// Every language must have every message of every other, with the same variables, so
	// that a member never meets an untranslated or half-filled sentence.
	all := map[string]bool{}
	for _, lang := range langs {
		for _, m := range cat.IDs(lang) {
			all[m] = true
		}
	}
	for _, m := range sortedKeys(all) {
		var first []string
		firstLang := ""
		for _, lang := range langs {
			if !cat.Has(lang, m) {
				if _, reported := used[m]; !reported {
					probs = append(probs, Problem{File: cat.File(lang), Msg: fmt.Sprintf("message %q is missing (other languages have it)", m)})
				}
				continue
			}
			vars, err := cat.Vars(lang, m)
			if err != nil {
				probs = append(probs, Problem{File: cat.File(lang), Msg: err.Error()})
				continue
			}
			if firstLang == "" {
				first, firstLang = vars, lang
			} else if !slices.Equal(first, vars) {
				probs = append(probs, Problem{File: cat.File(lang), Msg: fmt.Sprintf("message %q uses variables %v, but in %s it uses %v", m, vars, firstLang, first)})
			}
		}
	}
	return probs
}

func (s *Set) checkVars(cat Catalog, knownVars []string) Problems {
	known := map[string]bool{}
	for _, v := range knownVars {
		known[v] = true
	}
	for _, n := range s.nodes {
		if n.Capture != "" {
			known[n.Capture] = true
		}
	}
	var probs Problems
	for _, lang := range cat.Languages() {
		for _, id := range cat.IDs(lang) {
			vars, err := cat.Vars(lang, id)
			if err != nil {
				continue // reported by checkMessages
			}
			for _, v := range vars {
				if !known[v] {
					probs = append(probs, Problem{File: cat.File(lang), Msg: fmt.Sprintf("message %q uses {{.%s}}, which nothing provides (known: %s)", id, v, strings.Join(sortedKeys(known), ", "))})
				}
			}
		}
	}
	return probs
}

func (n *Node) edges() []string {
	var to []string
	for _, o := range n.Menu {
		to = append(to, o.Go)
	}
	for _, k := range n.Keywords {
		to = append(to, k.Go)
	}
	for _, t := range []string{n.Other, n.Next} {
		if t != "" {
			to = append(to, t)
		}
	}
	for _, res := range sortedKeys(n.Results) {
		to = append(to, n.Results[res])
	}
	return to
}

func (s *Set) checkReachable() Problems {
	seen := map[string]bool{}
	queue := []string{s.settings.Home, s.settings.Welcome, s.settings.ChooseLanguage}
	for _, k := range s.keywords {
		queue = append(queue, k.Go)
	}
	for _, to := range s.providerRoutes {
		queue = append(queue, to)
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		n, ok := s.nodes[id]
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		queue = append(queue, n.edges()...)
	}
	var probs Problems
	for _, id := range s.NodeIDs() {
		if !seen[id] {
			n := s.nodes[id]
			probs = append(probs, Problem{File: n.File, Node: local(id), Msg: "no menu, keyword, next or result leads here"})
		}
	}
	return probs
}

// checkLoops finds cycles a single message could run around forever: edges taken without
// waiting for the member are `results` (always) and `next` (from a node that does not wait).
func (s *Set) checkLoops() Problems {
	const (
		unvisited = iota
		visiting
		done
	)
	color := map[string]int{}
	var probs Problems
	var visit func(id string, path []string)
	visit = func(id string, path []string) {
		n, ok := s.nodes[id]
		if !ok {
			return
		}
		switch color[id] {
		case visiting:
			i := slices.Index(path, id)
			cycle := append(append([]string(nil), path[i:]...), id)
			probs = append(probs, Problem{File: n.File, Node: local(id), Msg: "next/results loop that never waits for a reply: " + strings.Join(cycle, " → ")})
			return
		case done:
			return
		}
		color[id] = visiting
		var to []string
		for _, res := range sortedKeys(n.Results) {
			to = append(to, n.Results[res])
		}
		if !n.Waits() && n.Next != "" {
			to = append(to, n.Next)
		}
		for _, t := range to {
			visit(t, append(path, id))
		}
		color[id] = done
	}
	for _, id := range s.NodeIDs() {
		visit(id, nil)
	}
	return probs
}
