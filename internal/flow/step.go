package flow

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/fold"
	"github.com/communityhotline/hotline/internal/understand"
)

// State is everything the hotline keeps about one member between messages. It is small on
// purpose: what is not here is not stored.
type State struct {
	// Lang is the member's language ("es", "en"); "" until known.
	Lang string `json:"l,omitempty"`
	// Node is where the member waits ("flow/node"); "" means the home menu.
	Node string `json:"n,omitempty"`
	// Data holds answers captured in the current conversation. It is cleared when the
	// conversation returns home, so free text is kept no longer than the flow needs it.
	Data map[string]string `json:"d,omitempty"`
	// OptedOut is set by an opt-out word; while set the member gets no reply but to an
	// opt-in word, and no alert.
	OptedOut bool `json:"o,omitempty"`
	// Areas are the place IDs the member gets alerts for.
	Areas []string `json:"a,omitempty"`
	// Active is when the member last wrote (Unix seconds), for expiring a stale conversation.
	Active int64 `json:"t,omitempty"`
	// Case is the number of the member's open case with a volunteer; while set, what the
	// member writes goes to the volunteer (opt-out words still work).
	Case int64 `json:"c,omitempty"`
	// Undeliverable is set when the provider said the address cannot receive messages
	// (an invalid or landline number); alerts skip the member until they write again.
	Undeliverable bool `json:"u,omitempty"`
	// Address is where alerts go (the provider's address, e.g. "+15055550100"). The engine,
	// not a flow, sets it, and only while the member has areas: nobody else's is kept.
	Address string `json:"p,omitempty"`
	// AlertsEnded is set when an opt-out took the member's areas away, so that opting back in
	// can tell them their alerts ended and how to sign up again (it does not sign them up:
	// that takes a new yes). Opting in clears it.
	AlertsEnded bool `json:"e,omitempty"`
}

// OptOut records an opt-out, by the member's word or the provider's report: no more messages,
// alerts or conversation, and a note that alerts ended if there were any.
func (s *State) OptOut() {
	if len(s.Areas) > 0 {
		s.AlertsEnded = true
	}
	s.OptedOut, s.Areas, s.Data = true, nil, nil
}

// Durable reports whether the state must outlive an idle conversation: a subscriber's areas
// and an opt-out must be remembered until the member changes them.
func (s State) Durable() bool { return s.OptedOut || len(s.Areas) > 0 }

// Clone returns a copy that shares nothing with s.
func (s State) Clone() State { return s.clone() }

func (s State) clone() State {
	s.Data = maps.Clone(s.Data)
	s.Areas = append([]string(nil), s.Areas...)
	return s
}

// Input is one message as the step sees it.
type Input struct {
	Text string
	// ProviderKeyword is the opt-out keyword the provider itself recognised ("stop",
	// "start", "help"; Twilio's OptOutType), or "".
	ProviderKeyword string
	Now             time.Time
	// Media is set when pictures, voice notes or files came with the message. With no
	// text beside them the member is told we cannot open them, and stays where they were.
	Media bool
}

// MediaUnsupported is the message that answers media sent without words.
const MediaUnsupported = "media_unsupported"

// Reply is one message to send: a message ID, its template data and, for a menu, its
// numbered options. Turning it into text (or speech) is the edge's job.
type Reply struct {
	ID      string
	Data    map[string]string
	Options []Choice
}

// Renderer turns replies into a channel's text in a language (the SMS renderer; a voice one
// later).
type Renderer interface {
	Render(lang string, replies []Reply) ([]string, error)
}

// Choice is a numbered menu option as shown to a member. Label is a message ID; Text, when
// set, is a label that comes from data rather than from the locales (a place's name in a
// "which one did you mean?" list).
type Choice struct {
	Number int
	Label  string
	Text   string
}

// Effect is something for the caller to do once the new state is saved, such as updating
// the subscription index. Effects must be idempotent: a retried message may repeat them.
type Effect any

// Relay is the effect of a member writing while a case is open: the text goes to the case.
type Relay struct {
	Case int64
	Text string
}

// Result is the outcome of one step.
type Result struct {
	State   State
	Replies []Reply
	Effects []Effect
	// Lang is the language to render the replies in.
	Lang string
	// Problem describes a defect met on the way (a loop, a node that no longer exists);
	// the step still produced a safe result, and the caller should log it.
	Problem string
}

// Action is Go code a node runs with `do`. Run must be pure: it reads and changes the
// context only; anything with an outside effect is returned as an Effect.
type Action struct {
	// Args are the `with` keys the action requires.
	Args []string
	// Results are every outcome Run returns, routable with `results`; an action without
	// Results always returns "".
	Results []string
	// Vars are the template variables Run sets in Context.Vars, by the outcome it returns
	// ("" for an action without Results). They last for the message that ran the action
	// only, so Check makes sure that a node uses one only where every way into the node —
	// its question asked again included — sets it. A variable set on some paths of an
	// outcome only is not listed.
	Vars map[string][]string
	Run  func(c *Context) string
}

// Context is what an action sees and changes.
type Context struct {
	State *State
	// Input is the text of the message that led to the node.
	Input string
	With  map[string]string
	// Vars are template data for the replies of this step only; they are not stored.
	Vars    map[string]string
	Effects []Effect
	// Choices, when an action sets them, become the numbered options of the node's message,
	// for menus built from data ("1 Santa Fe, 2 Santa Fe County"). Data["choices"] is the
	// place to remember what each number meant until the reply comes.
	Choices []Choice
	// Cite, when an action sets it, names what this message's answer rests on, in a short
	// form the action that lists sources reads ("place:albuquerque"). It is kept for the
	// member's next message only, even when the conversation ends (CiteKey).
	Cite string
	// Cited is what the member's previous answer rests on, its Cite, or "" when the
	// previous message got no answer that cites anything.
	Cited string
}

// CiteKey is the Data key that keeps an answer's Cite until the member's next message. Data
// is otherwise cleared when a conversation ends, and an answer usually ends one; the engine
// keeps this one key past that, and drops it once the next message has been stepped.
const CiteKey = "cite"

// maxHops bounds how many nodes one message may pass through, so that a flow with a loop of
// `next` cannot spin; validation reports such loops too.
const maxHops = 32

// MaxCapture bounds captured free text, in runes (a member writes more to a volunteer: three
// times as much).
const MaxCapture = 500

// Options tune a step.
type Options struct {
	// ConversationTTL is how long an idle conversation is remembered; after it, the member
	// starts again at home (language, opt-out and subscriptions stay).
	ConversationTTL time.Duration
}

// Step moves a member through the flows by one inbound message. The order of precedence:
// an opted-out member hears only opt-in words; then the provider's own keyword; then global
// keywords; then a first contact's language; then the node the member waits at.
func (s *Set) Step(st State, in Input, opt Options) Result {
	r := &run{set: s, st: st.clone(), input: in.Text, vars: map[string]string{}}
	now := in.Now.Unix()
	if opt.ConversationTTL > 0 && r.st.Active > 0 && now-r.st.Active > int64(opt.ConversationTTL/time.Second) {
		r.st.Node, r.st.Data = "", nil
	}
	r.st.Active = now
	// What the last answer rests on is for this message only (SOURCE right after it).
	if cited, ok := r.st.Data[CiteKey]; ok {
		r.cited = cited
		delete(r.st.Data, CiteKey)
		if len(r.st.Data) == 0 {
			r.st.Data = nil
		}
	}
	text := fold.Text(in.Text)

	if r.st.OptedOut {
		provider := strings.ToLower(in.ProviderKeyword)
		if k := s.globalExact(text, whenOptedOut); k != nil {
			r.enter(k.Go)
		} else if to := s.providerRoutes[provider]; provider == "start" && to != "" {
			r.enter(to)
		}
		return r.result()
	}
	if r.st.Lang == "" {
		r.st.Lang = s.detectLanguage(text)
		if s.model != nil && len(fold.Words(text)) >= minWordsForModelLanguage {
			// Marker words count a place's "las" or "la" as Spanish; in a sentence the model,
			// which reads every word, knows better when it is sure ("does las cruces
			// cooperate with ice" is English).
			if lang, p := s.model.Language(in.Text); p >= sureLanguage && lang != r.st.Lang {
				r.st.Lang = lang
			}
		}
	}
	if in.Media && strings.TrimSpace(in.Text) == "" {
		// A voice note or a photo: nothing to understand, so nothing moves; the member
		// hears how to reach us instead (in a case too: nothing reaches the volunteer).
		r.replies = append(r.replies, Reply{ID: MediaUnsupported})
		return r.result()
	}
	// The provider's opt-in word (START, and YES) means nothing to a member who has not
	// opted out: a YES may be confirming an alert sign-up, so it goes to the node.
	if provider := strings.ToLower(in.ProviderKeyword); provider != "" && provider != "start" {
		if to := s.providerRoutes[provider]; to != "" {
			r.enter(to)
			return r.result()
		}
	}
	if r.st.Case != 0 {
		// In a conversation with a volunteer, everything goes to them but an opt-out and the
		// few words that leave the conversation (MENU, BORRAR), which a member must never be
		// without: a volunteer who forgets to close the case would otherwise hold them there.
		if k := s.globalExact(text, ""); k != nil && k.Go == s.providerRoutes["stop"] {
			r.enter(k.Go)
			return r.result()
		}
		if k := s.globalExact(text, whenInCase); k != nil {
			r.enter(k.Go)
			return r.result()
		}
		if strings.TrimSpace(in.Text) != "" {
			r.effects = append(r.effects, Relay{Case: r.st.Case, Text: truncate(in.Text, MaxCapture*3)})
		}
		// An emergency makes the case urgent (its node's action says so in an effect). The
		// answer is the escalation's to give: the rights for that moment while nobody has the
		// case, nothing more once a volunteer is talking with the member.
		if k := r.urgent(text, false); k != nil {
			r.enter(k.Go)
			r.replies = nil
		}
		return r.result()
	}
	if k := s.globalExact(text, ""); k != nil && !(k.Urgent && s.capturing(r.st.Node)) &&
		(r.st.Lang != "" || k.Go == s.providerRoutes["stop"] || k.Go == s.settings.ChooseLanguage || s.isLanguageNode(k.Go)) {
		// A first contact whose keyword leads home ("hola") is greeted, not just shown the menu.
		if st.Lang == "" && k.Go == s.settings.Home {
			r.enter(s.settings.Welcome)
		} else {
			r.enter(k.Go)
		}
		return r.result()
	}
	if r.st.Lang == "" && s.model != nil {
		// No marker word: the model, which has read every example in both languages, tells
		// the language of a sentence ("can ICE come into a church?").
		if lang, p := s.model.Language(in.Text); p >= minLanguageConfidence && len(fold.Words(in.Text)) >= 2 {
			r.st.Lang = lang
		}
	}
	// An emergency ("se llevaron a mi esposo", "ICE at my door") wins over a first contact's
	// greeting and over menus, though not over a menu number or free text a node is
	// capturing (a report about ICE).
	cur, waiting := s.nodes[r.st.Node]
	if to, ok := s.nodes[cur.ReplyAsOrSelf()]; waiting && ok {
		cur = to // a rights answer reads its replies with the topics' menu
	}
	if !waiting || !r.menuNumber(cur, text) && !r.isMenuLabel(cur, text) {
		if k := r.urgent(text, waiting && cur.Capture != ""); k != nil {
			if r.st.Lang == "" {
				// No time to ask: the model's best guess, however unsure, beats a default.
				r.st.Lang = s.settings.Languages[0]
				if s.model != nil {
					if lang, _ := s.model.Language(in.Text); lang != "" {
						r.st.Lang = lang
					}
				}
			}
			r.enter(k.Go)
			return r.result()
		}
	}
	if st.Lang == "" {
		// A first contact (or one who has not chosen yet): greet in the recognised language
		// and answer what they asked, if it was clear; otherwise ask for the language,
		// unless they are answering that very question.
		if r.st.Lang != "" {
			r.welcome(text)
			return r.result()
		}
		if _, waiting := s.nodes[r.st.Node]; !waiting {
			r.enter(s.settings.ChooseLanguage)
			return r.result()
		}
	}

	node, ok := s.nodes[r.st.Node]
	if r.st.Node == "" || !ok {
		if r.st.Node != "" {
			r.problem = "stored node " + r.st.Node + " no longer exists; member sent home"
		}
		node = s.nodes[s.settings.Home]
		r.st.Node = node.ID
	}
	r.route(node, text)
	return r.result()
}

type run struct {
	set     *Set
	read    bool // the model has read input
	mean    understand.Meaning
	st      State
	input   string
	vars    map[string]string
	choices []Choice // from an action, for the next say
	cited   string   // the previous answer's Cite
	cite    string   // this message's answer's Cite
	replies []Reply
	effects []Effect
	problem string
}

func (r *run) result() Result {
	if r.cite != "" {
		if r.st.Data == nil {
			r.st.Data = map[string]string{}
		}
		r.st.Data[CiteKey] = r.cite
	}
	lang := r.st.Lang
	if lang == "" {
		lang = r.set.settings.Languages[0]
	}
	return Result{State: r.st, Replies: r.replies, Effects: r.effects, Lang: lang, Problem: r.problem}
}

// route handles a reply to a node that waits.
func (r *run) route(n *Node, text string) {
	if to, ok := r.set.nodes[n.ReplyAs]; ok {
		n = to // read as that node reads its replies, and asked again as it
	}
	if n.Capture != "" {
		captured := strings.TrimSpace(r.input)
		if captured == "" {
			r.repeat(n)
			return
		}
		captured = truncate(captured, MaxCapture)
		if r.st.Data == nil {
			r.st.Data = map[string]string{}
		}
		r.st.Data[n.Capture] = captured
		r.enter(n.Next)
		return
	}
	if i, rest, ok := understand.Number(r.input); ok && i >= 1 && i <= len(n.Menu) {
		r.choose(n.Menu[i-1].Go, rest)
		return
	}
	if to, ok := r.menuLabel(n, text, true); ok {
		r.choose(to, "")
		return
	}
	for _, k := range n.Keywords {
		for _, w := range k.folded {
			if w == text {
				r.enter(k.Go)
				return
			}
		}
	}
	if m := r.meaning(); m.Intent != "" {
		for _, k := range n.Keywords {
			if matchesIntent(k.Intents, m) && m.Confidence >= k.Confidence && !(k.Confidence > 0 && hedged(text)) {
				r.enter(k.Go)
				return
			}
		}
	}
	if k := r.globalIntent(text, n); k != nil {
		r.enter(k.Go)
		return
	}
	if k := r.set.globalAnywhere(text); k != nil {
		r.enter(k.Go)
		return
	}
	if n.Other != "" {
		r.enter(n.Other)
		return
	}
	r.repeat(n)
}

// hedges are words that take back a yes ("yes but wait", "sí pero no"): where a keyword asks
// for more confidence (erasing, subscribing), a reading with one is not acted on.
var hedges = map[string]bool{"but": true, "pero": true, "wait": true, "espera": true, "espere": true,
	"dont": true, "no": true, "not": true, "nel": true, "nope": true, "later": true, "luego": true, "despues": true}

func hedged(text string) bool {
	for _, w := range fold.Words(strings.NewReplacer("'", "", "’", "").Replace(text)) {
		if hedges[w] {
			return true
		}
	}
	return false
}

// Confidence the model must have before its reading moves a member. A node that takes free
// text (`other`: a place name, an answer) asks for more, since the text is more likely meant
// for it than a new request.
const (
	minIntentConfidence   = 0.50
	minIntentOverOther    = 0.75
	minLanguageConfidence = 0.65
	// sureLanguage: the model overrules marker words in a sentence of
	// minWordsForModelLanguage words or more only when this sure.
	sureLanguage             = 0.95
	minWordsForModelLanguage = 4
)

// meaning is what the model reads in the message, read once per step.
func (r *run) meaning() understand.Meaning {
	if !r.read {
		r.read = true
		if r.set.model != nil {
			r.mean = r.set.model.Read(r.input)
		}
	}
	return r.mean
}

// urgent returns the global route for an emergency: an urgent keyword as the whole message
// ("ICE", "la migra"), or a message the model reads as an emergency, to the route for its
// situation. capturing is set while a node takes free text (a report's "what did you see?"),
// whose answers describe ICE activity by design: there only an emergency whose words say it
// is happening to the member now ("ahorita", "se llevaron", "socorro") interrupts.
func (r *run) urgent(text string, capturing bool) *GlobalKeyword {
	if k := r.set.globalExact(text, ""); k != nil && k.Urgent && !capturing {
		// A danger word alone is an emergency, but not as the answer to a report's question
		// ("what did you see?" "checkpoint").
		return k
	}
	m := r.meaning()
	if m.Intent != understand.IntentUrgent || capturing && !m.Pressing {
		return nil
	}
	return r.set.intentRoute(m, true)
}

// globalIntent returns the global route for what the message means, if the model is sure
// enough; at is the node the member waits at (nil for none).
func (r *run) globalIntent(text string, at *Node) *GlobalKeyword {
	m := r.meaning()
	if m.Intent == "" || m.Confidence < minIntentConfidence || at != nil && at.Other != "" && m.Confidence < minIntentOverOther {
		return nil
	}
	k := r.set.intentRoute(m, m.Intent == understand.IntentUrgent)
	if k == nil || m.Confidence < k.Confidence {
		return nil
	}
	return k
}

// intentRoute finds the global keyword whose intents name m: its exact label first
// ("rights/car"), else its intent alone ("rights").
func (s *Set) intentRoute(m understand.Meaning, urgent bool) *GlobalKeyword {
	var loose *GlobalKeyword
	for i := range s.keywords {
		k := &s.keywords[i]
		if k.When != "" || k.Urgent != urgent {
			continue
		}
		for _, in := range k.Intents {
			if in == m.Label() {
				return k
			}
			if in == m.Intent && loose == nil {
				loose = k
			}
		}
	}
	return loose
}

// matchesIntent reports whether intents names m, exactly or by its intent alone.
func matchesIntent(intents []string, m understand.Meaning) bool {
	for _, in := range intents {
		if in == m.Label() || in == m.Intent {
			return true
		}
	}
	return false
}

// menuNumber reports whether text picks an option of n's menu by number.
func (r *run) menuNumber(n *Node, text string) bool {
	if n == nil || len(n.Menu) == 0 {
		return false
	}
	i, rest, ok := understand.Number(text)
	return ok && rest == "" && i >= 1 && i <= len(n.Menu)
}

// littleWords are words of a label that say nothing of its option.
var littleWords = map[string]bool{
	"and": true, "the": true, "for": true, "with": true, "your": true, "con": true, "los": true,
	"las": true, "del": true, "sus": true, "una": true, "por": true, "para": true,
}

// isMenuLabel reports whether text is, whole, the label of an option of n ("en casa") or a
// word only its label has ("casa"); a label inside a longer message ("se llevaron a mi
// esposo en el carro") does not make it one.
func (r *run) isMenuLabel(n *Node, text string) bool {
	_, ok := r.menuLabel(n, text, false)
	return ok
}

// menuLabel finds the option of n whose label the member wrote, in either language: the
// whole label ("en casa"), a word only its label has ("casa"), or, with inside, a label of
// two words or more inside a sentence ("ayer fue lo de en el trabajo") when the model reads no
// request of its own in the sentence ("gracias, ya estoy en casa" is thanks).
func (r *run) menuLabel(n *Node, text string, inside bool) (string, bool) {
	if n == nil || len(n.Menu) == 0 || len(r.set.labels) == 0 {
		return "", false
	}
	words := strings.Join(fold.Words(text), " ")
	if inside && r.meaning().Intent != "" {
		inside = false // the model reads a request of its own in the sentence
	}
	for _, lang := range r.set.settings.Languages {
		labels := r.set.labels[lang]
		for _, o := range n.Menu {
			l, ok := labels[o.Label]
			if !ok {
				continue
			}
			if words == l || inside && strings.Contains(l, " ") && strings.Contains(" "+words+" ", " "+l+" ") {
				return o.Go, true
			}
		}
	}
	return r.labelWord(n, words)
}

// labelWord finds the option of n one of whose label's words the member sent alone: "casa"
// for "En casa", "trabajo" for "En el trabajo", "car" for "In a car". Only a word of three
// letters or more that no other option's label has, in either language, and no little word
// ("and", "the", "con"), so only the label's meaning chooses.
func (r *run) labelWord(n *Node, word string) (string, bool) {
	if utf8.RuneCountInString(word) < 3 || strings.Contains(word, " ") || littleWords[word] {
		return "", false
	}
	found := ""
	for _, o := range n.Menu {
		for _, lang := range r.set.settings.Languages {
			l, ok := r.set.labels[lang][o.Label]
			if !ok || !strings.Contains(" "+l+" ", " "+word+" ") {
				continue
			}
			if found != "" && found != o.Go {
				return "", false // two options share it
			}
			found = o.Go
		}
	}
	return found, found != ""
}

// courtesy reports whether text is only a courtesy or an acknowledgement ("5 gracias",
// "2 ok"), which answers no question.
func courtesy(s *Set, text string) bool {
	if s.model == nil {
		return false
	}
	switch s.model.Read(text).Intent {
	case "thanks", "yes", "no", "greeting":
		return true
	}
	return false
}

// welcome greets a first contact whose language is known and answers what they wrote as
// if they had been at the home menu ("las cruces por favor", "¿puede ICE entrar a una
// iglesia?"); a greeting, or a text nothing understood, gets the welcome and the menu.
func (r *run) welcome(text string) {
	s := r.set
	welcome, ok := s.nodes[s.settings.Welcome]
	home, okHome := s.nodes[s.settings.Home]
	if !ok || !okHome {
		r.enter(s.settings.Welcome)
		return
	}
	k := r.globalIntent(text, home)
	switch {
	case k == nil:
		// Nothing clear: answered as at the home menu (a place name gets its policy), and
		// if that is not understood either, the welcome and the menu.
		r.say(welcome)
		greeted := len(r.replies)
		r.st.Node = home.ID
		r.route(home, text)
		if !r.saidFrom(greeted, s.settings.NotUnderstood) {
			return
		}
		r.replies = r.replies[:greeted-len(welcome.Say)]
		r.enter(s.settings.Welcome)
	case k.Go == s.settings.Home:
		r.enter(s.settings.Welcome) // a greeting
	default:
		r.say(welcome)
		r.enter(k.Go)
	}
}

// saidFrom reports whether message id is among the replies from index i on.
func (r *run) saidFrom(i int, id string) bool {
	for _, rep := range r.replies[i:] {
		if rep.ID == id {
			return true
		}
	}
	return false
}

// choose enters a menu option. With rest ("3 las cruces"), the option's first question is
// answered by rest at once, as if the member had sent it next.
func (r *run) choose(to, rest string) {
	before := len(r.replies)
	r.enter(to)
	n, ok := r.set.nodes[r.st.Node]
	if rest == "" || !ok || r.st.Node == "" || n.Capture == "" && n.Other == "" || courtesy(r.set, rest) {
		return
	}
	r.replies = r.replies[:before]
	r.input = rest
	r.read = false
	r.route(n, fold.Text(rest))
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) > n {
		return string([]rune(s)[:n])
	}
	return s
}

// repeat says "I didn't understand" and asks the node's question again.
func (r *run) repeat(n *Node) {
	// Before a member has a language, "not understood" could only be said in the wrong one;
	// the (bilingual) question alone is clearer.
	if r.st.Lang != "" {
		r.replies = append(r.replies, Reply{ID: r.set.settings.NotUnderstood})
	}
	// The node is entered again rather than only said again: its own action runs first, so
	// a question built from data (the member's alert areas) is asked with that data, and an
	// action that finds things changed (no areas left) routes on as it would.
	r.enter(n.ID)
}

// enter runs nodes from id until one waits or the conversation ends.
func (r *run) enter(id string) {
	for hop := 0; ; hop++ {
		if hop == maxHops {
			r.problem = "more than 32 nodes in one step, from " + id + "; member sent home"
			r.goHome()
			return
		}
		n, ok := r.set.nodes[id]
		if !ok {
			r.problem = "no node " + id + "; member sent home"
			r.goHome()
			return
		}
		if n.Do != "" {
			if to, routed := r.do(n); routed {
				id = to
				continue
			}
		}
		r.say(n)
		switch {
		case n.Waits():
			r.st.Node = n.ID
			return
		case n.Next != "":
			id = n.Next
		default:
			r.goHome()
			return
		}
	}
}

func (r *run) do(n *Node) (string, bool) {
	c := &Context{State: &r.st, Input: r.input, With: n.With, Vars: r.vars, Cited: r.cited}
	act := r.set.actions[n.Do]
	outcome := act.Run(c)
	if (outcome == "") != (len(act.Results) == 0) || (outcome != "" && !slices.Contains(act.Results, outcome)) {
		// Check reasons from the declared outcomes; one it was not told of is a defect.
		r.problem = "action " + n.Do + " returned the undeclared outcome " + strconv.Quote(outcome)
	}
	r.effects = append(r.effects, c.Effects...)
	if c.Cite != "" {
		r.cite = c.Cite
	}
	if len(c.Choices) > 0 {
		r.choices = c.Choices
	}
	to, ok := n.Results[outcome]
	return to, ok
}

func (r *run) goHome() {
	r.st.Node = ""
	r.st.Data = nil
}

// say emits a node's messages; a menu's options go with the last one.
func (r *run) say(n *Node) {
	if len(n.Say) == 0 {
		return
	}
	data := r.data()
	for _, id := range n.Say {
		r.replies = append(r.replies, Reply{ID: id, Data: data})
	}
	if len(n.Menu) > 0 {
		opts := make([]Choice, len(n.Menu))
		for i, o := range n.Menu {
			opts[i] = Choice{Number: i + 1, Label: o.Label}
		}
		r.replies[len(r.replies)-1].Options = opts
	} else if len(r.choices) > 0 {
		r.replies[len(r.replies)-1].Options = r.choices
	}
	r.choices = nil
}

// data is the template data for replies: captured answers and this step's variables.
func (r *run) data() map[string]string {
	if len(r.st.Data) == 0 && len(r.vars) == 0 {
		return nil
	}
	d := make(map[string]string, len(r.st.Data)+len(r.vars))
	maps.Copy(d, r.st.Data)
	maps.Copy(d, r.vars)
	return d
}

// Compliance reports whether a message must be handled whatever limits apply: an opt-out,
// an opt-in or HELP (by the member's word or the provider's own keyword). Carrier rules
// require them to work, and a member over a rate limit is no exception.
func (s *Set) Compliance(text, providerKeyword string) bool {
	if providerKeyword != "" {
		return true
	}
	t := fold.Text(text)
	for _, k := range []*GlobalKeyword{s.globalExact(t, ""), s.globalExact(t, whenOptedOut)} {
		if k == nil {
			continue
		}
		if k.When == "opted_out" || k.Go == s.providerRoutes["stop"] || k.Go == s.providerRoutes["start"] || k.Go == s.providerRoutes["help"] {
			return true
		}
	}
	return false
}

// capturing reports whether node id takes the next message as free text.
func (s *Set) capturing(id string) bool {
	n, ok := s.nodes[id]
	return ok && n.Capture != ""
}

// isLanguageNode reports whether node id sets the language (so a first message "ENGLISH"
// needs no question first).
func (s *Set) isLanguageNode(id string) bool {
	n, ok := s.nodes[id]
	return ok && n.Do == "set_language"
}

// globalExact finds the global keyword equal to the whole (folded) message among those whose
// When is when: "" for a member in an ordinary conversation, whenOptedOut or whenInCase.
func (s *Set) globalExact(text, when string) *GlobalKeyword {
	if text == "" {
		return nil
	}
	for i := range s.keywords {
		k := &s.keywords[i]
		if k.Anywhere || k.When != when {
			continue
		}
		for _, w := range k.folded {
			if w == text {
				return k
			}
		}
	}
	return nil
}

// globalAnywhere finds a global keyword that stands as whole words inside the message.
func (s *Set) globalAnywhere(text string) *GlobalKeyword {
	if text == "" {
		return nil
	}
	padded := " " + strings.Join(fold.Words(text), " ") + " "
	for i := range s.keywords {
		k := &s.keywords[i]
		if !k.Anywhere || k.When != "" {
			continue
		}
		for _, w := range k.folded {
			if strings.Contains(padded, " "+w+" ") {
				return k
			}
		}
	}
	return nil
}

// detectLanguage returns the language whose marker words outnumber the others' in text, or
// "" when none does: "hola" is Spanish, "hello" English, "ok" or "1" neither.
func (s *Set) detectLanguage(text string) string {
	best, bestN, tie := "", 0, false
	words := fold.Words(text)
	for _, lang := range s.settings.Languages {
		n := 0
		for _, w := range words {
			if s.detect[lang][w] {
				n++
			}
		}
		if s.detect[lang][text] && len(words) > 1 { // a marker phrase ("buenos dias")
			n++
		}
		switch {
		case n > bestN:
			best, bestN, tie = lang, n, false
		case n == bestN && n > 0:
			tie = true
		}
	}
	if tie {
		return ""
	}
	return best
}
