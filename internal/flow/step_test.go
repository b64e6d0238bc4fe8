package flow_test

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/locale"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/sources"
)

// loadReal loads the shipped flows, so these tests cover what members actually get.
func loadReal(t testing.TB) *flow.Set {
	return loadWithZips(t, &places.ZipTable{})
}

func loadWithZips(t testing.TB, zips *places.ZipTable) *flow.Set {
	t.Helper()
	fsys := os.DirFS("../../flows")
	dir, err := places.Load(fsys, "data/places.toml")
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := sources.Load(fsys, sources.File)
	if err != nil {
		t.Fatal(err)
	}
	set, err := flow.Load(fsys, actions.All(dir, zips, srcs))
	if err != nil {
		t.Fatalf("loading flows:\n%v", err)
	}
	return set
}

func replyIDs(rs []flow.Reply) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// turn is one message of a scripted conversation and what must come back.
type turn struct {
	in       string
	provider string
	want     []string // reply message IDs, in order
	lang     string   // the member's language after the turn ("" = unchanged check skipped)
}

func TestConversations(t *testing.T) {
	set := loadReal(t)
	tests := []struct {
		name  string
		turns []turn
		check func(t *testing.T, st flow.State)
	}{
		{"spanish greeting", []turn{{in: "hola", want: []string{"welcome", "menu_prompt"}, lang: "es"}}, nil},
		{"english greeting", []turn{{in: "Hello!", want: []string{"welcome", "menu_prompt"}, lang: "en"}}, nil},
		{"spanish sentence", []turn{{in: "Necesito información por favor", want: []string{"welcome", "menu_prompt"}, lang: "es"}}, nil},
		{"ambiguous first message asks", []turn{
			{in: "ok", want: []string{"language_choose"}},
			{in: "2", want: []string{"language_set", "menu_prompt"}, lang: "en"},
		}, nil},
		{"choosing spanish after ambiguity", []turn{
			{in: "1", want: []string{"language_choose"}},
			{in: "1", want: []string{"language_set", "menu_prompt"}, lang: "es"},
		}, nil},
		{"first message MENU marks no language: ask", []turn{
			{in: "MENU", want: []string{"language_choose"}},
			{in: "2", want: []string{"language_set", "menu_prompt"}, lang: "en"},
		}, nil},
		{"first message INFO marks no language: ask", []turn{{in: "info", want: []string{"language_choose"}}}, nil},
		{"first message ENGLISH sets it", []turn{{in: "English", want: []string{"language_set", "menu_prompt"}, lang: "en"}}, nil},
		{"provider START from a member who never opted out is just a reply", []turn{
			{in: "hello", want: []string{"welcome", "menu_prompt"}},
			{in: "alerts", want: []string{"alerts_ask"}},
			{in: "ABQ", want: []string{"alerts_confirm"}},
			{in: "YES", provider: "START", want: []string{"alerts_subscribed"}},
		}, func(t *testing.T, st flow.State) {
			if len(st.Areas) != 1 || st.Areas[0] != "albuquerque" {
				t.Errorf("areas = %v", st.Areas)
			}
		}},
		{"provider STOP with an unlisted word opts out", []turn{{in: "arrêtez", provider: "STOP", want: []string{"optout_confirm"}}}, nil},
		{"a returning member's greeting shows the menu", []turn{
			{in: "hola", want: []string{"welcome", "menu_prompt"}},
			{in: "1", want: []string{"rights_intro"}},
			{in: "Hola", want: []string{"menu_prompt"}},
		}, nil},
		{"first message AYÚDA is Spanish help", []turn{{in: "AYÚDA", want: []string{"help"}, lang: "es"}}, nil},
		{"menu keyword in any form", []turn{
			{in: "hola", want: []string{"welcome", "menu_prompt"}},
			{in: "menú", want: []string{"menu_prompt"}},
			{in: "MENU", want: []string{"menu_prompt"}},
			{in: " Menu. ", want: []string{"menu_prompt"}},
		}, nil},
		// Issue 11: after a rights answer the next number is the next topic; MENU leaves.
		{"rights topics stay open until MENU", []turn{
			{in: "hello", want: []string{"welcome", "menu_prompt"}},
			{in: "1", want: []string{"rights_intro"}},
			{in: "1", want: []string{"rights_home"}},
			{in: "4", want: []string{"rights_work"}},
			{in: "7", want: []string{"not_understood", "rights_intro"}},
			{in: "5", want: []string{"rights_detained"}},
			{in: "MENU", want: []string{"menu_prompt"}},
			{in: "4", want: []string{"case_opened"}},
		}, nil},
		{"a keyword leaves the rights topics", []turn{
			{in: "hola", want: []string{"welcome", "menu_prompt"}},
			{in: "derechos", want: []string{"rights_intro"}},
			{in: "6", want: []string{"rights_redcard"}},
			{in: "alertas", want: []string{"alerts_ask"}},
		}, nil},
		{"unknown reply repeats the menu", []turn{
			{in: "hola", want: []string{"welcome", "menu_prompt"}},
			{in: "banana", want: []string{"not_understood", "menu_prompt"}},
			{in: "9", want: []string{"not_understood", "menu_prompt"}},
		}, nil},
		{"switch language any time", []turn{
			{in: "hola", lang: "es", want: []string{"welcome", "menu_prompt"}},
			{in: "ENGLISH", lang: "en", want: []string{"language_set", "menu_prompt"}},
			{in: "Español", lang: "es", want: []string{"language_set", "menu_prompt"}},
			{in: "idioma", want: []string{"language_choose"}},
		}, nil},
		{"stop then silence then start", []turn{
			{in: "hola", want: []string{"welcome", "menu_prompt"}},
			{in: "ALTO.", want: []string{"optout_confirm"}},
			{in: "hola", want: nil},
			{in: "menu", want: nil},
			{in: "COMENZAR", want: []string{"optin_confirm", "menu_prompt"}},
		}, nil},
		// Issue 11: the opt-out dropped the member's areas; coming back, they are told so and
		// how to sign up again, not just welcomed. Without areas, just welcomed.
		{"opting back in after alerts ended", []turn{
			{in: "hola", want: []string{"welcome", "menu_prompt"}},
			{in: "3", want: []string{"alerts_ask"}},
			{in: "abq", want: []string{"alerts_confirm"}},
			{in: "si", want: []string{"alerts_subscribed"}},
			{in: "PARAR", want: []string{"optout_confirm"}},
			{in: "COMENZAR", want: []string{"optin_confirm", "optin_alerts_ended"}},
			{in: "PARAR", want: []string{"optout_confirm"}},
			{in: "COMENZAR", want: []string{"optin_confirm", "menu_prompt"}},
			{in: "ALERTAS", want: []string{"alerts_ask"}},
		}, func(t *testing.T, st flow.State) {
			if st.AlertsEnded || st.OptedOut || len(st.Areas) != 0 {
				t.Errorf("state after coming back = %+v: told once, and not signed up again without a yes", st)
			}
		}},
		{"first message STOP opts out in English", []turn{{in: "STOP", want: []string{"optout_confirm"}, lang: "en"}},
			func(t *testing.T, st flow.State) {
				if !st.OptedOut {
					t.Error("not opted out")
				}
			}},
		{"provider opt-out type", []turn{
			{in: "hola", want: []string{"welcome", "menu_prompt"}},
			{in: "stopp", provider: "STOP", want: []string{"optout_confirm"}},
			{in: "arrancar", provider: "START", want: []string{"optin_confirm", "menu_prompt"}},
		}, nil},
		{"a sentence with stop is not an opt-out", []turn{
			{in: "hello", want: []string{"welcome", "menu_prompt"}},
			{in: "stop sending the rights info", want: []string{"how_to_stop"}},
		}, func(t *testing.T, st flow.State) {
			if st.OptedOut {
				t.Error("opted out by a sentence")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st flow.State
			for i, tn := range tt.turns {
				res := set.Step(st, flow.Input{Text: tn.in, ProviderKeyword: tn.provider, Now: t0.Add(time.Duration(i) * time.Minute)}, flow.Options{})
				if res.Problem != "" {
					t.Errorf("turn %d (%q): problem %s", i, tn.in, res.Problem)
				}
				if got := replyIDs(res.Replies); !reflect.DeepEqual(got, tn.want) && !(len(got) == 0 && len(tn.want) == 0) {
					t.Fatalf("turn %d (%q): replies %v, want %v", i, tn.in, got, tn.want)
				}
				if tn.lang != "" && res.State.Lang != tn.lang {
					t.Fatalf("turn %d (%q): language %q, want %q", i, tn.in, res.State.Lang, tn.lang)
				}
				st = res.State
			}
			if tt.check != nil {
				tt.check(t, st)
			}
		})
	}
}

func TestMenuRepliesCarryNumberedOptions(t *testing.T) {
	set := loadReal(t)
	res := set.Step(flow.State{Lang: "es"}, flow.Input{Text: "menu", Now: t0}, flow.Options{})
	last := res.Replies[len(res.Replies)-1]
	if len(last.Options) != 5 || last.Options[0].Number != 1 || last.Options[4].Label != "menu_report" {
		t.Fatalf("menu options = %+v", last.Options)
	}
}

func TestIdleConversationExpires(t *testing.T) {
	set := loadReal(t)
	st := flow.State{Lang: "es", Node: "language/choose", Data: map[string]string{"x": "y"}, Active: t0.Unix()}
	res := set.Step(st, flow.Input{Text: "1", Now: t0.Add(31 * 24 * time.Hour)}, flow.Options{ConversationTTL: 30 * 24 * time.Hour})
	// At home, "1" is the first main-menu option, not the language choice it was.
	if got := replyIDs(res.Replies); !reflect.DeepEqual(got, []string{"rights_intro"}) {
		t.Fatalf("after expiry: %v", got)
	}
	if res.State.Lang != "es" || res.State.Data != nil {
		t.Errorf("state after expiry = %+v: language must stay, data must go", res.State)
	}
}

func TestStaleNodeSendsHome(t *testing.T) {
	set := loadReal(t)
	res := set.Step(flow.State{Lang: "en", Node: "gone/node"}, flow.Input{Text: "1", Now: t0}, flow.Options{})
	if res.Problem == "" || !reflect.DeepEqual(replyIDs(res.Replies), []string{"rights_intro"}) {
		t.Fatalf("problem %q replies %v", res.Problem, replyIDs(res.Replies))
	}
}

func TestStepDoesNotMutateInput(t *testing.T) {
	set := loadReal(t)
	st := flow.State{Lang: "es", Data: map[string]string{"a": "b"}, Areas: []string{"x"}}
	set.Step(st, flow.Input{Text: "PARAR", Now: t0}, flow.Options{})
	if st.OptedOut || st.Data["a"] != "b" || len(st.Areas) != 1 {
		t.Fatalf("input state changed: %+v", st)
	}
}

func TestShippedFlowsPassCheck(t *testing.T) {
	set := loadReal(t)
	cat, err := locale.Load(os.DirFS("../../locales"))
	if err != nil {
		t.Fatal(err)
	}
	if probs := set.Check(cat, []string{"error_generic"}, nil); len(probs) > 0 {
		t.Fatalf("shipped flows have problems:\n%v", probs)
	}
}

func FuzzStep(f *testing.F) {
	set := loadReal(f)
	for _, s := range []string{"hola", "1", "MENÚ", "stop", "", "\xff", "stop sending", "9999999999999999999"} {
		f.Add(s, "es", "main/menu")
	}
	f.Fuzz(func(t *testing.T, text, lang, node string) {
		res := set.Step(flow.State{Lang: lang, Node: node}, flow.Input{Text: text, Now: t0}, flow.Options{})
		if res.Lang == "" {
			t.Fatal("no language to render in")
		}
		if res.State.Node != "" {
			if _, ok := set.Node(res.State.Node); !ok {
				t.Fatalf("left waiting at a node that does not exist: %q", res.State.Node)
			}
		}
		for _, r := range res.Replies {
			if strings.TrimSpace(r.ID) == "" {
				t.Fatal("a reply without a message ID")
			}
		}
	})
}

func BenchmarkStep(b *testing.B) {
	set := loadReal(b)
	st := flow.State{Lang: "es", Node: "main/menu"}
	in := flow.Input{Text: "1", Now: t0}
	for b.Loop() {
		set.Step(st, in, flow.Options{})
	}
}

// TestLeavingACase: while a member's messages go to a volunteer, a greeting or a sentence is
// relayed; MENÚ or BORRAR takes them out of the case (the volunteer is told it was not an
// opt-out) and on to the menu or the erase question; PARAR leaves it as an opt-out.
func TestLeavingACase(t *testing.T) {
	set := loadReal(t)
	inCase := flow.State{Lang: "es", Case: 7, Node: "main/menu"}
	for _, tc := range []struct {
		in      string
		want    []string
		effect  any
		stillIn bool
	}{
		{"hola", nil, flow.Relay{Case: 7, Text: "hola"}, true},
		{"el menú de la cena", nil, flow.Relay{Case: 7, Text: "el menú de la cena"}, true},
		{"MENÚ", []string{"case_left", "menu_prompt"}, actions.LeftCase{Case: 7}, false},
		{" inicio. ", []string{"case_left", "menu_prompt"}, actions.LeftCase{Case: 7}, false},
		{"Borrar", []string{"case_left", "erase_confirm"}, actions.LeftCase{Case: 7}, false},
		{"PARAR", []string{"optout_confirm"}, actions.LeftCase{Case: 7, OptedOut: true}, false},
	} {
		res := set.Step(inCase, flow.Input{Text: tc.in, Now: t0}, flow.Options{})
		if got := replyIDs(res.Replies); !reflect.DeepEqual(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("%q: replies %v, want %v", tc.in, got, tc.want)
		}
		if len(res.Effects) != 1 || !reflect.DeepEqual(res.Effects[0], tc.effect) {
			t.Errorf("%q: effects %#v, want %#v", tc.in, res.Effects, tc.effect)
		}
		if (res.State.Case != 0) != tc.stillIn {
			t.Errorf("%q: case after = %d", tc.in, res.State.Case)
		}
	}
	// Outside a case the same words do what they always did.
	res := set.Step(flow.State{Lang: "es", Node: "main/menu"}, flow.Input{Text: "menu", Now: t0}, flow.Options{})
	if got := replyIDs(res.Replies); !reflect.DeepEqual(got, []string{"menu_prompt"}) || len(res.Effects) != 0 {
		t.Errorf("menu outside a case: replies %v, effects %v", got, res.Effects)
	}
}

// TestDangerWordsInCase: in a case, danger words are relayed and the case is marked for
// escalation, which answers (it knows whether a volunteer is there); the step says nothing.
func TestDangerWordsInCase(t *testing.T) {
	set := loadReal(t)
	res := set.Step(flow.State{Lang: "es", Case: 7, Node: "main/menu"}, flow.Input{Text: "La migra está en la puerta", Now: t0}, flow.Options{})
	if got := replyIDs(res.Replies); len(got) != 0 {
		t.Errorf("replies %v, want none", got)
	}
	want := []flow.Effect{flow.Relay{Case: 7, Text: "La migra está en la puerta"}, actions.UrgentCase{Case: 7, Text: "La migra está en la puerta", Situation: "home"}}
	if !reflect.DeepEqual(res.Effects, want) {
		t.Errorf("effects %#v, want %#v", res.Effects, want)
	}
	if res.State.Case != 7 {
		t.Errorf("the member left the case: %+v", res.State)
	}
}

// TestSourceRightAfterAnAnswer: FUENTE/SOURCE right after a policy or state-law answer lists
// the links behind it, most specific first (the place's own, then its county's); with any
// other message in between, or no answer at all, there is nothing to cite. What the answer
// rests on outlives the conversation's data by one message only (issue 11).
func TestSourceRightAfterAnAnswer(t *testing.T) {
	set := loadReal(t)
	dir, err := places.Load(os.DirFS("../../flows"), "data/places.toml")
	if err != nil {
		t.Fatal(err)
	}
	abq, _ := dir.Get("albuquerque")
	county := dir.CountyOf(abq)
	if abq.SourceURL == "" || county.SourceURL == "" {
		t.Fatal("the test needs a city and a county that both cite a source")
	}
	tests := []struct {
		name  string
		texts []string
		want  []string // the last message's replies
		links []string // links the last reply lists, in order (a prefix of them)
	}{
		{"after a policy answer", []string{"2", "albuquerque", "FUENTE"}, []string{"sources"}, []string{abq.SourceURL, county.SourceURL}},
		{"by name from the menu, then the English word", []string{"Albuquerque", "sources"}, []string{"sources"}, []string{abq.SourceURL, county.SourceURL}},
		{"twice", []string{"albuquerque", "fuente", "Fuénte"}, []string{"sources"}, []string{abq.SourceURL}},
		{"after the state law", []string{"LEY", "fuente"}, []string{"sources"}, []string{dir.State.SourceURL}},
		{"with nothing answered", []string{"FUENTE"}, []string{"sources_none"}, nil},
		{"with a message in between", []string{"albuquerque", "1", "fuente"}, []string{"sources_none"}, nil},
		{"after a question, not an answer", []string{"santa fe", "fuente"}, []string{"sources_none"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := flow.State{Lang: "es"}
			var res flow.Result
			for i, text := range tt.texts {
				res = set.Step(st, flow.Input{Text: text, Now: t0.Add(time.Duration(i) * time.Minute)}, flow.Options{})
				if res.Problem != "" {
					t.Fatalf("%q: %s", text, res.Problem)
				}
				st = res.State
			}
			if got := replyIDs(res.Replies); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("replies %v, want %v", got, tt.want)
			}
			if tt.links == nil {
				return
			}
			got := strings.Split(res.Replies[0].Data["Links"], "\n")
			if len(got) < len(tt.links) || !reflect.DeepEqual(got[:len(tt.links)], tt.links) {
				t.Errorf("links %q, want them to start with %q", got, tt.links)
			}
		})
	}
	// Once home, the answer's citation is all that is left of the conversation, and the next
	// message that answers nothing drops it.
	st := set.Step(flow.State{Lang: "es"}, flow.Input{Text: "albuquerque", Now: t0}, flow.Options{}).State
	if st.Node != "" || len(st.Data) != 1 || st.Data[flow.CiteKey] == "" {
		t.Errorf("after an answer: node %q, data %v; want home with the citation alone", st.Node, st.Data)
	}
	if st = set.Step(st, flow.Input{Text: "menu", Now: t0}, flow.Options{}).State; st.Data != nil {
		t.Errorf("after the next message the data is %v, want none", st.Data)
	}
}
