// Package flow holds the conversation flows declared in flows/*.toml and the pure Step that
// moves a member through them. It does no I/O beyond reading its definitions: state comes
// in, state and replies go out, so every path can be tested as a table without Redis.
package flow

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/communityhotline/hotline/internal/fold"
	"github.com/communityhotline/hotline/internal/understand"
)

// IntentsDir is the folder of labeled examples inside the flows folder.
const IntentsDir = "data/intents"

// KeywordsFile is the file of global keywords, language-detection words and settings.
const KeywordsFile = "keywords.toml"

// Node is one step of a conversation. Its fields are the whole vocabulary an organizer
// writes flows in; docs/design.md explains each.
type Node struct {
	// ID is "flow/node".
	ID string
	// File is where the node was declared, for error reports.
	File string

	Say      []string
	Menu     []Option
	Keywords []KeywordRoute
	Other    string
	Capture  string
	Next     string
	Do       string
	With     map[string]string
	Results  map[string]string
	// ReplyAs names a waiting node whose menu, keywords and other read the member's next
	// message, as if that node had just been said: a rights answer keeps the topic menu
	// open without sending its list again.
	ReplyAs string
}

// ReplyAsOrSelf is the node whose menu and keywords read the replies to n: its reply_as, or
// n itself.
func (n *Node) ReplyAsOrSelf() string {
	if n == nil {
		return ""
	}
	if n.ReplyAs != "" {
		return n.ReplyAs
	}
	return n.ID
}

// Waits reports whether the node stops and waits for the member's next message.
func (n *Node) Waits() bool {
	return len(n.Menu) > 0 || len(n.Keywords) > 0 || n.Other != "" || n.Capture != "" || n.ReplyAs != ""
}

// Option is one numbered menu choice. Its number is its position, from 1.
type Option struct {
	Label string `toml:"label"`
	Go    string `toml:"go"`
}

// KeywordRoute sends a member who typed one of Words, or whose message means one of
// Intents, to Go.
type KeywordRoute struct {
	Words []string `toml:"words"`
	// Intents are labels of flows/data/intents ("yes", "rights/car"); an intent without a
	// slot ("urgent") matches every slot of it.
	Intents []string `toml:"intents"`
	// Confidence is how sure the model must be (0 to 1) before Intents lead here; 0 takes
	// whatever the model reads (it reads nothing below 0.35). What cannot be undone (erasing,
	// subscribing) asks for more, and then a hedged reading ("yes but wait") is refused.
	Confidence float64 `toml:"confidence"`
	Go         string  `toml:"go"`

	folded []string
}

// GlobalKeyword is a keyword that works from any node.
type GlobalKeyword struct {
	Words []string `toml:"words"`
	// Intents are labels of flows/data/intents that lead here from any node, when the
	// member's message means one of them and matched no exact word: "necesito hablar con
	// alguien" is the intent person, as PERSONA is its word.
	Intents []string `toml:"intents"`
	// Confidence is how sure the model must be (0 to 1) before Intents lead here; 0 means
	// the engine's default. An opt-out asks for more than a question does.
	Confidence float64 `toml:"confidence"`
	Go         string  `toml:"go"`
	// Anywhere makes the keyword match as a whole word inside a longer message, not only as
	// the whole message ("la migra está aquí"). It does not apply while a node captures text.
	Anywhere bool `toml:"anywhere"`
	// Urgent marks words that signal danger: they apply even to a first contact, before
	// the language is known, and open an urgent case.
	Urgent bool `toml:"urgent"`
	// When is "" (the member has not opted out and is not in a conversation with a
	// volunteer), "opted_out" (only then: an opted-out member hears nothing but the answer to
	// an opt-in word) or "in_case" (only while the member's messages go to a volunteer: the
	// few words that take them out of it, besides an opt-out).
	When string `toml:"when"`

	folded []string
}

// The values of GlobalKeyword.When besides "".
const (
	whenOptedOut = "opted_out"
	whenInCase   = "in_case"
)

// Settings name the nodes the engine itself needs.
type Settings struct {
	// Home is where a member waits when a conversation ends: the main menu.
	Home string `toml:"home"`
	// Welcome greets a first contact whose language was recognised.
	Welcome string `toml:"welcome"`
	// ChooseLanguage asks a first contact whose language was not recognised to choose.
	ChooseLanguage string `toml:"choose_language"`
	// NotUnderstood is the message said before repeating a node's question when a reply
	// matched nothing and the node has no `other`.
	NotUnderstood string `toml:"not_understood"`
	// Languages are the languages members can choose; the first is used for replies to a
	// member who has not chosen yet (those messages are bilingual).
	Languages []string `toml:"languages"`
}

// Set is every flow, loaded and resolved.
type Set struct {
	nodes    map[string]*Node
	starts   map[string]string // flow → its start node ID
	keywords []GlobalKeyword
	detect   map[string]map[string]bool // language → folded words that mark it
	settings Settings
	actions  map[string]Action
	// model reads free text (intents); nil when the flows have no examples.
	model *understand.Model
	// labels are the menu labels as members see them, folded, by language and message ID,
	// so the text of an option ("hablar con alguien") chooses it like its number.
	labels map[string]map[string]string
	// providerRoutes map a keyword the provider recognised itself (Twilio's OptOutType:
	// "stop", "start", "help") to the node that handles it, so the hotline's records agree
	// with the provider's block list even when the member's word is one we do not list.
	providerRoutes map[string]string
}

// Node returns the node with the given "flow/node" ID.
func (s *Set) Node(id string) (*Node, bool) {
	n, ok := s.nodes[id]
	return n, ok
}

// NodeIDs returns every node ID, sorted.
func (s *Set) NodeIDs() []string {
	ids := make([]string, 0, len(s.nodes))
	for id := range s.nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Settings returns the engine settings from keywords.toml.
func (s *Set) Settings() Settings { return s.settings }

// Problem is one defect in the flow definitions, located by file and node.
type Problem struct {
	File, Node, Msg string
}

func (p Problem) String() string {
	switch {
	case p.Node != "":
		return fmt.Sprintf("%s: node %q: %s", p.File, p.Node, p.Msg)
	case p.File != "":
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	}
	return p.Msg
}

// Problems is a list of defects; as an error it reports them all, one per line.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// rawNode is a node as written in TOML, before references are resolved.
type rawNode struct {
	Say      []string          `toml:"say"`
	Menu     []Option          `toml:"menu"`
	Keywords []KeywordRoute    `toml:"keywords"`
	Other    string            `toml:"other"`
	Capture  string            `toml:"capture"`
	Next     string            `toml:"next"`
	Do       string            `toml:"do"`
	With     map[string]string `toml:"with"`
	Results  map[string]string `toml:"results"`
	ReplyAs  string            `toml:"reply_as"`
}

type keywordsFile struct {
	Settings Settings            `toml:"settings"`
	Keyword  []GlobalKeyword     `toml:"keyword"`
	Detect   map[string][]string `toml:"detect"`
	Provider map[string]string   `toml:"provider"`
}

// Load reads every flow in fsys (*.toml beside keywords.toml) and resolves references.
// actions are the Go actions nodes may name in `do`. Structural defects are returned
// together as Problems; messages are checked separately by CheckMessages.
func Load(fsys fs.FS, actions map[string]Action) (*Set, error) {
	s := &Set{
		nodes:   map[string]*Node{},
		starts:  map[string]string{},
		detect:  map[string]map[string]bool{},
		actions: actions,
	}
	var probs Problems
	names, err := fs.Glob(fsys, "*.toml")
	if err != nil {
		return nil, fmt.Errorf("listing flows: %w", err)
	}
	raws := map[string]map[string]rawNode{}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		if name == KeywordsFile {
			probs = append(probs, s.loadKeywords(name, data)...)
			continue
		}
		flowName := strings.TrimSuffix(path.Base(name), ".toml")
		nodes, start, ps := parseFlow(name, data)
		probs = append(probs, ps...)
		raws[flowName] = nodes
		s.starts[flowName] = flowName + "/" + start
		for id, rn := range nodes {
			s.nodes[flowName+"/"+id] = &Node{ID: flowName + "/" + id, File: name, Say: rn.Say, Menu: rn.Menu,
				Keywords: rn.Keywords, Other: rn.Other, Capture: rn.Capture, Next: rn.Next, Do: rn.Do,
				With: rn.With, Results: rn.Results, ReplyAs: rn.ReplyAs}
		}
	}
	if len(raws) == 0 {
		probs = append(probs, Problem{Msg: "no flow files (*.toml) found"})
	}
	if !slices.Contains(names, KeywordsFile) {
		probs = append(probs, Problem{File: KeywordsFile, Msg: "missing"})
	}
	probs = append(probs, s.resolve()...)
	m, ps := loadModel(fsys)
	s.model = m
	probs = append(probs, ps...)
	probs = append(probs, s.checkIntents()...)
	if len(probs) > 0 {
		return nil, probs
	}
	return s, nil
}

// Model returns the model that reads free text, or nil when the flows have no examples.
func (s *Set) Model() *understand.Model { return s.model }

// checkIntents reports an intent named by a keyword that no example teaches: it could never
// match.
func (s *Set) checkIntents() Problems {
	var probs Problems
	known := map[string]bool{}
	if s.model != nil {
		for _, l := range s.model.Labels() {
			known[l], known[understand.Intent(l)] = true, true
		}
	}
	check := func(file, node string, intents []string) {
		for _, in := range intents {
			if !known[in] {
				probs = append(probs, Problem{File: file, Node: node, Msg: fmt.Sprintf(
					"intent %q has no examples in flows/%s", in, IntentsDir)})
			}
		}
	}
	for _, k := range s.keywords {
		check(KeywordsFile, "", k.Intents)
	}
	for _, id := range s.NodeIDs() {
		n := s.nodes[id]
		for _, k := range n.Keywords {
			check(n.File, local(id), k.Intents)
		}
	}
	return probs
}

// UseLabels lets a menu option be chosen by its label's text in any language, besides its
// number. text returns a message's text, as members read it, in a language.
func (s *Set) UseLabels(langs []string, text func(lang, id string) (string, bool)) {
	s.labels = map[string]map[string]string{}
	for _, lang := range langs {
		m := map[string]string{}
		for _, id := range s.NodeIDs() {
			for _, o := range s.nodes[id].Menu {
				if t, ok := text(lang, o.Label); ok {
					if f := strings.Join(fold.Words(t), " "); f != "" {
						m[o.Label] = f
					}
				}
			}
		}
		s.labels[lang] = m
	}
}

func parseFlow(file string, data []byte) (map[string]rawNode, string, Problems) {
	var probs Problems
	var top map[string]toml.Primitive
	md, err := toml.Decode(string(data), &top)
	if err != nil {
		msg := tomlError(err)
		if strings.Contains(msg, "'start' has already been defined") {
			msg += ` ("start" names the first node; a node cannot itself be called [start])`
		}
		return nil, "", Problems{{File: file, Msg: msg}}
	}
	start := ""
	nodes := map[string]rawNode{}
	for key, prim := range top {
		if key == "start" {
			if err := md.PrimitiveDecode(prim, &start); err != nil {
				probs = append(probs, Problem{File: file, Msg: "start must be a node name in quotes"})
			}
			continue
		}
		var rn rawNode
		if err := md.PrimitiveDecode(prim, &rn); err != nil {
			probs = append(probs, Problem{File: file, Node: key, Msg: "is not a node table: " + err.Error()})
			continue
		}
		nodes[key] = rn
	}
	for _, k := range md.Undecoded() {
		if len(k) >= 2 {
			probs = append(probs, Problem{File: file, Node: k[0], Msg: unknownField(k[len(k)-1])})
		}
	}
	if start == "" {
		probs = append(probs, Problem{File: file, Msg: `no start = "node" line`})
	} else if _, ok := nodes[start]; !ok {
		probs = append(probs, Problem{File: file, Msg: fmt.Sprintf("start node %q is not defined", start)})
	}
	return nodes, start, probs
}

var nodeFields = []string{"say", "menu", "keywords", "other", "capture", "next", "do", "with", "results", "reply_as", "label", "go", "words", "intents", "confidence"}

func unknownField(f string) string {
	if f == "start" {
		return `start must stand at the top of the file, before the first [node]`
	}
	best, bestD := "", 3
	for _, known := range nodeFields {
		if d := distance(f, known); d < bestD {
			best, bestD = known, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field %q (did you mean %q?)", f, best)
	}
	return fmt.Sprintf("unknown field %q (a node knows: %s)", f, strings.Join(nodeFields[:10], ", "))
}

func tomlError(err error) string {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return fmt.Sprintf("line %d: %s", pe.Position.Line, pe.Message)
	}
	return err.Error()
}

func (s *Set) loadKeywords(file string, data []byte) Problems {
	var kf keywordsFile
	md, err := toml.Decode(string(data), &kf)
	if err != nil {
		return Problems{{File: file, Msg: tomlError(err)}}
	}
	var probs Problems
	for _, k := range md.Undecoded() {
		probs = append(probs, Problem{File: file, Msg: fmt.Sprintf("unknown setting %q", k.String())})
	}
	s.settings = kf.Settings
	s.keywords = kf.Keyword
	s.providerRoutes = map[string]string{}
	for k, v := range kf.Provider {
		s.providerRoutes[strings.ToLower(k)] = v
	}
	for lang, words := range kf.Detect {
		set := map[string]bool{}
		for _, w := range words {
			set[fold.Text(w)] = true
		}
		s.detect[lang] = set
	}
	for _, setting := range []struct{ name, val string }{
		{"home", kf.Settings.Home}, {"welcome", kf.Settings.Welcome},
		{"choose_language", kf.Settings.ChooseLanguage}, {"not_understood", kf.Settings.NotUnderstood},
	} {
		if setting.val == "" {
			probs = append(probs, Problem{File: file, Msg: fmt.Sprintf("[settings] %s is missing", setting.name)})
		}
	}
	if len(kf.Settings.Languages) == 0 {
		probs = append(probs, Problem{File: file, Msg: "[settings] languages is missing"})
	}
	return probs
}

// resolve turns every reference into a full node ID and checks it exists.
func (s *Set) resolve() Problems {
	var probs Problems
	ref := func(n *Node, from, what string) string {
		// A bare name that is both a node of this flow and another flow is read as the node;
		// say so, since the organizer may have meant the flow.
		if _, isFlow := s.starts[from]; isFlow && from != flowOf(n.ID) {
			if _, isNode := s.nodes[flowOf(n.ID)+"/"+from]; isNode {
				probs = append(probs, Problem{File: n.File, Node: local(n.ID), Msg: fmt.Sprintf(
					"%s: %q is both a node here and a flow; write %q or %q", what, from, flowOf(n.ID)+"/"+from, from+"/"+local(s.starts[from]))})
			}
		}
		id, ok := s.lookup(from, n.ID)
		if !ok {
			probs = append(probs, Problem{File: n.File, Node: local(n.ID), Msg: fmt.Sprintf("%s goes to %q, which does not exist", what, from)})
		}
		return id
	}
	for _, id := range s.NodeIDs() {
		n := s.nodes[id]
		for i := range n.Menu {
			n.Menu[i].Go = ref(n, n.Menu[i].Go, fmt.Sprintf("menu option %d", i+1))
			if n.Menu[i].Label == "" {
				probs = append(probs, Problem{File: n.File, Node: local(id), Msg: fmt.Sprintf("menu option %d has no label", i+1)})
			}
		}
		for i := range n.Keywords {
			k := &n.Keywords[i]
			k.Go = ref(n, k.Go, fmt.Sprintf("keywords %v", k.Words))
			k.folded = foldAll(k.Words)
		}
		if n.Other != "" {
			n.Other = ref(n, n.Other, "other")
		}
		if n.Next != "" {
			n.Next = ref(n, n.Next, "next")
		}
		if n.ReplyAs != "" {
			n.ReplyAs = ref(n, n.ReplyAs, "reply_as")
		}
		for res, to := range n.Results {
			n.Results[res] = ref(n, to, "result "+res)
		}
		probs = append(probs, s.checkNodeShape(n)...)
	}
	for i := range s.keywords {
		k := &s.keywords[i]
		id, ok := s.lookup(k.Go, "")
		if !ok {
			probs = append(probs, Problem{File: KeywordsFile, Msg: fmt.Sprintf("keyword %v goes to %q, which does not exist", k.Words, k.Go)})
		}
		k.Go = id
		k.folded = foldAll(k.Words)
		if k.When != "" && k.When != whenOptedOut && k.When != whenInCase {
			probs = append(probs, Problem{File: KeywordsFile, Msg: fmt.Sprintf("keyword %v: when = %q; the values are \"opted_out\" and \"in_case\"", k.Words, k.When)})
		}
		if k.Confidence < 0 || k.Confidence > 1 {
			probs = append(probs, Problem{File: KeywordsFile, Msg: fmt.Sprintf("keyword %v: confidence is between 0 and 1", k.Intents)})
		}
		if len(k.Words) == 0 && len(k.Intents) == 0 {
			probs = append(probs, Problem{File: KeywordsFile, Msg: fmt.Sprintf("a keyword going to %q has neither words nor intents", k.Go)})
		}
		if k.Anywhere && len(k.Intents) > 0 {
			probs = append(probs, Problem{File: KeywordsFile, Msg: fmt.Sprintf("keyword %v: intents are read from the whole message; anywhere applies to words only", k.Words)})
		}
		if k.When == whenInCase && k.Anywhere {
			probs = append(probs, Problem{File: KeywordsFile, Msg: fmt.Sprintf("keyword %v: when = \"in_case\" cannot be anywhere: a member's words to a volunteer would end the conversation", k.Words)})
		}
	}
	for kind, to := range s.providerRoutes {
		id, ok := s.lookup(to, "")
		if !ok {
			probs = append(probs, Problem{File: KeywordsFile, Msg: fmt.Sprintf("[provider] %s goes to %q, which does not exist", kind, to)})
		}
		s.providerRoutes[kind] = id
	}
	for _, setting := range []*string{&s.settings.Home, &s.settings.Welcome, &s.settings.ChooseLanguage} {
		if *setting == "" {
			continue
		}
		id, ok := s.lookup(*setting, "")
		if !ok {
			probs = append(probs, Problem{File: KeywordsFile, Msg: fmt.Sprintf("[settings] names %q, which does not exist", *setting)})
		}
		*setting = id
	}
	return probs
}

func (s *Set) checkNodeShape(n *Node) Problems {
	var probs Problems
	add := func(msg string) { probs = append(probs, Problem{File: n.File, Node: local(n.ID), Msg: msg}) }
	if n.Capture != "" && (len(n.Menu) > 0 || len(n.Keywords) > 0 || n.Other != "") {
		add("capture takes any reply, so menu, keywords and other would never be used")
	}
	if n.Capture != "" && n.Next == "" {
		add("capture needs next: where to go once the reply is kept")
	}
	if n.Waits() && n.Capture == "" && n.Next != "" {
		add("a node that waits for a reply cannot also have next; use other for \"anything else\"")
	}
	if n.ReplyAs != "" {
		if len(n.Menu) > 0 || len(n.Keywords) > 0 || n.Other != "" || n.Capture != "" {
			add("reply_as reads the reply as another node does, so menu, keywords, other and capture here would never be used")
		}
		if to, ok := s.nodes[n.ReplyAs]; ok && (to.ReplyAs != "" || len(to.Menu)+len(to.Keywords) == 0 && to.Other == "") {
			add(fmt.Sprintf("reply_as = %q must name a node with its own menu, keywords or other", n.ReplyAs))
		}
	}
	if n.Do != "" {
		act, ok := s.actions[n.Do]
		if !ok {
			add(fmt.Sprintf("do = %q is not a known action (known: %s)", n.Do, strings.Join(sortedKeys(s.actions), ", ")))
		} else {
			for res := range n.Results {
				if !slices.Contains(act.Results, res) {
					add(fmt.Sprintf("action %q has no result %q (it has: %s)", n.Do, res, strings.Join(act.Results, ", ")))
				}
			}
			for _, arg := range act.Args {
				if _, ok := n.With[arg]; !ok {
					add(fmt.Sprintf("action %q needs with = { %s = \"…\" }", n.Do, arg))
				}
			}
		}
	} else if len(n.Results) > 0 {
		add("results without do")
	}
	if len(n.Say) == 0 && !n.Waits() && n.Next == "" && n.Do == "" {
		add("says nothing, waits for nothing and goes nowhere")
	}
	return probs
}

// lookup resolves a reference written in node from ("" for keywords.toml): "node" (same
// flow), "flow/node", or "flow" (its start node).
func (s *Set) lookup(ref, from string) (string, bool) {
	if ref == "" {
		return "", false
	}
	if strings.Contains(ref, "/") {
		_, ok := s.nodes[ref]
		return ref, ok
	}
	if from != "" {
		id := flowOf(from) + "/" + ref
		if _, ok := s.nodes[id]; ok {
			return id, true
		}
	}
	if start, ok := s.starts[ref]; ok {
		_, exists := s.nodes[start]
		return start, exists
	}
	return ref, false
}

func flowOf(id string) string { f, _, _ := strings.Cut(id, "/"); return f }
func local(id string) string  { _, n, _ := strings.Cut(id, "/"); return n }

func foldAll(words []string) []string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = fold.Text(w)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare)
	return keys
}

// distance is the Levenshtein distance, for "did you mean" hints on short field names.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
