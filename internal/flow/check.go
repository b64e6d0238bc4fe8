package flow

import (
	"fmt"
	"maps"
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
// a node no path reaches, a loop of `next` that never waits, a menu too long for a keypad,
// a message that some way into its node would render without a variable an action sets,
// an action outcome that leaves the member with no reply.
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
	probs = append(probs, s.checkStepVars(cat)...)
	probs = append(probs, s.checkSilentOutcomes()...)
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
	for _, t := range []string{n.Other, n.Next, n.ReplyAs} {
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

// varSet is a set of template variable names.
type varSet map[string]bool

// outcomes are every outcome action a may return.
func outcomes(a Action) []string {
	if len(a.Results) == 0 {
		return []string{""}
	}
	return a.Results
}

// canRepeat reports whether a reply can make node n ask its question again: a capture that
// got an empty message, or a menu or keywords that matched nothing with no other.
func (n *Node) canRepeat() bool {
	return n.Capture != "" || (n.Waits() && n.Other == "" && n.ReplyAs == "")
}

// stepStarts are the nodes a message can enter first, with no variables set yet: where a
// keyword, a reply to a waiting node or the engine itself leads, and, with repeats, every
// node whose question a reply it does not understand asks again.
func (s *Set) stepStarts(repeats bool) []string {
	starts := []string{s.settings.Home, s.settings.Welcome, s.settings.ChooseLanguage}
	for _, k := range s.keywords {
		starts = append(starts, k.Go)
	}
	for _, kind := range sortedKeys(s.providerRoutes) {
		starts = append(starts, s.providerRoutes[kind])
	}
	for _, id := range s.NodeIDs() {
		n := s.nodes[id]
		if !n.Waits() {
			continue
		}
		for _, o := range n.Menu {
			starts = append(starts, o.Go)
		}
		for _, k := range n.Keywords {
			starts = append(starts, k.Go)
		}
		if n.Other != "" {
			starts = append(starts, n.Other)
		}
		if repeats && n.canRepeat() {
			starts = append(starts, id)
		}
	}
	return starts
}

// saidVars are the variables set when node n says its messages, having been entered with
// have: what it came with, and what its own action sets on every outcome it does not route
// elsewhere.
func (s *Set) saidVars(n *Node, have varSet) varSet {
	out := maps.Clone(have)
	if out == nil {
		out = varSet{} // a node reached only by being asked again has no way in of its own
	}
	act, ok := s.actions[n.Do]
	if n.Do == "" || !ok {
		return out
	}
	var common varSet
	for _, o := range outcomes(act) {
		if _, routed := n.Results[o]; routed {
			continue
		}
		set := varSet{}
		for _, v := range act.Vars[o] {
			set[v] = true
		}
		if common == nil {
			common = set
		} else {
			for v := range common {
				if !set[v] {
					delete(common, v)
				}
			}
		}
	}
	for v := range common {
		out[v] = true
	}
	return out
}

// entryVars computes, for every node a message can reach, the action variables set on every
// way into it within one message (a must-analysis: the intersection over its ways in).
func (s *Set) entryVars(repeats bool) map[string]varSet {
	in := map[string]varSet{}
	var queue []string
	meet := func(id string, vs varSet) {
		if _, ok := s.nodes[id]; !ok {
			return
		}
		cur, seen := in[id]
		if !seen {
			in[id] = maps.Clone(vs)
			queue = append(queue, id)
			return
		}
		changed := false
		for v := range cur {
			if !vs[v] {
				delete(cur, v)
				changed = true
			}
		}
		if changed {
			queue = append(queue, id)
		}
	}
	for _, id := range s.stepStarts(repeats) {
		meet(id, varSet{})
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		n, have := s.nodes[id], in[id]
		if act, ok := s.actions[n.Do]; n.Do != "" && ok {
			for _, o := range outcomes(act) {
				to, routed := n.Results[o]
				if !routed {
					continue
				}
				after := maps.Clone(have)
				for _, v := range act.Vars[o] {
					after[v] = true
				}
				meet(to, after)
			}
		}
		if !n.Waits() && n.Next != "" {
			meet(n.Next, s.saidVars(n, have))
		}
	}
	return in
}

// checkStepVars finds a message that some way into its node would render without a
// variable an action sets, which fails the member's reply ("a template variable has no
// value"). Those variables are not stored: they last for the message whose step ran the
// action. So a node may use one only if every way into it within that message sets it —
// `results` from the action, `next` after it — and a node whose question is asked again
// after a reply it did not understand gets only what its own action sets.
func (s *Set) checkStepVars(cat Catalog) Problems {
	setBy := map[string]string{} // variable → an action that sets it, for reports
	for _, name := range sortedKeys(s.actions) {
		act := s.actions[name]
		for _, o := range outcomes(act) {
			for _, v := range act.Vars[o] {
				if _, ok := setBy[v]; !ok {
					setBy[v] = name
				}
			}
		}
	}
	if len(setBy) == 0 {
		return nil
	}
	uses := func(id string) []string {
		for _, lang := range cat.Languages() {
			if vars, err := cat.Vars(lang, id); err == nil && cat.Has(lang, id) {
				return vars // every language uses the same ones (checkMessages)
			}
		}
		return nil
	}
	all, once := s.entryVars(true), s.entryVars(false)
	var probs Problems
	for _, id := range s.NodeIDs() {
		n := s.nodes[id]
		add := func(msg string) { probs = append(probs, Problem{File: n.File, Node: local(id), Msg: msg}) }
		for _, o := range n.Menu {
			for _, v := range uses(o.Label) {
				if act, ok := setBy[v]; ok {
					add(fmt.Sprintf("menu label %q uses {{.%s}} (from do = %q): labels are shown without the step's data", o.Label, v, act))
				}
			}
		}
		have, reached := all[id]
		if !reached || len(n.Say) == 0 {
			continue // unreachable nodes are reported as such
		}
		avail := s.saidVars(n, have)
		first := s.saidVars(n, once[id])
		for _, m := range n.Say {
			for _, v := range uses(m) {
				act, fromAction := setBy[v]
				if !fromAction || avail[v] {
					continue
				}
				if first[v] {
					add(fmt.Sprintf("message %q uses {{.%s}}, which do = %q sets in an earlier node; a reply this node does not understand asks its question again without it. Let this node run that action itself (a repeated node runs its do again), or send such replies elsewhere with other", m, v, act))
				} else {
					add(fmt.Sprintf("message %q uses {{.%s}}, which not every way into this node sets (do = %q sets it, for the message that ran it only)", m, v, act))
				}
			}
		}
	}
	return probs
}

// checkSilentOutcomes finds a node whose action can end with an outcome it does not route
// while the node itself says nothing, waits for nothing and goes nowhere: the member would
// get no reply at all.
func (s *Set) checkSilentOutcomes() Problems {
	var probs Problems
	for _, id := range s.NodeIDs() {
		n := s.nodes[id]
		act, ok := s.actions[n.Do]
		if n.Do == "" || !ok || len(n.Say) > 0 || n.Waits() || n.Next != "" {
			continue
		}
		for _, o := range outcomes(act) {
			if _, routed := n.Results[o]; routed {
				continue
			}
			what := fmt.Sprintf("outcome %q", o)
			if o == "" {
				what = "its outcome"
			}
			probs = append(probs, Problem{File: n.File, Node: local(id), Msg: fmt.Sprintf(
				"do = %q can end with %s, which results does not route, and the node then says nothing: the member would get no reply", n.Do, what)})
		}
	}
	return probs
}
