package flow_test

import (
	"strings"

	"os"
	"slices"
	"testing"

	"github.com/communityhotline/hotline/internal/sources"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/locale"
	"github.com/communityhotline/hotline/internal/places"
)

// loadMembersView loads the shipped flows as the server does: with the menu labels in every
// language, and a ZIP table that knows 87102 (Albuquerque, Bernalillo County).
func loadMembersView(t testing.TB) *flow.Set {
	t.Helper()
	zips := &places.ZipTable{}
	zips.Replace(map[string]places.ZipEntry{"87102": {County: "bernalillo-county", City: "albuquerque"}})
	set := loadWithZips(t, zips)
	cat, err := locale.Load(os.DirFS("../../locales"))
	if err != nil {
		t.Fatal(err)
	}
	set.UseLabels(cat.Languages(), func(lang, id string) (string, bool) {
		text, err := cat.Text(lang, id, nil)
		return text, err == nil
	})
	return set
}

// understood is what a member must get for a message: the first reply that answers it (the
// welcome of a first contact aside), and for an emergency the urgent case it opens.
type understood struct {
	at        string // the node the member waits at; "" = main menu, "new" = first contact
	lang      string // the member's language before the message ("" for a first contact)
	text      string
	reply     string // the message ID that answers
	situation string // for an emergency: the situation of the urgent case opened
	areas     string // the place the answer is about (its Name), when it names one
	newLang   string // the member's language after the message, when it must be this
}

func checkUnderstood(t *testing.T, set *flow.Set, c understood) {
	t.Helper()
	st := flow.State{Lang: c.lang, Node: c.at}
	if c.at == "new" {
		st = flow.State{}
	} else if st.Lang == "" {
		st.Lang = "es"
	}
	res := set.Step(st, flow.Input{Text: c.text, Now: t0}, flow.Options{})
	ids := replyIDs(res.Replies)
	answer := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == "welcome" })
	if len(answer) == 0 || answer[0] != c.reply {
		t.Errorf("%q at %q: replies %v, want %s first", c.text, c.at, ids, c.reply)
	}
	var urgent *actions.OpenCase
	for _, e := range res.Effects {
		if oc, ok := e.(actions.OpenCase); ok && oc.Urgent {
			urgent = &oc
		}
	}
	switch {
	case c.situation == "" && urgent != nil:
		t.Errorf("%q: opened an urgent case (%s); it is not an emergency", c.text, urgent.Situation)
	case c.situation != "" && urgent == nil:
		t.Errorf("%q: opened no urgent case; want one for %s", c.text, c.situation)
	case c.situation != "" && c.situation != "unknown" && urgent.Situation != c.situation:
		t.Errorf("%q: urgent case for %q, want %q", c.text, urgent.Situation, c.situation)
	}
	if c.areas != "" {
		if got := res.Replies[len(res.Replies)-1].Data["Name"]; got != c.areas {
			t.Errorf("%q: answered about %q, want %q", c.text, got, c.areas)
		}
	}
	if c.newLang != "" && res.State.Lang != c.newLang {
		t.Errorf("%q: language %q, want %q", c.text, res.State.Lang, c.newLang)
	}
}

// TestIssueExamples: the messages a review of real members' texts found misunderstood.
func TestIssueExamples(t *testing.T) {
	set := loadMembersView(t)
	for _, c := range []understood{
		{at: "new", text: "detuvieron a mi hermano en el trabajo", reply: "urgent_detained", situation: "detained"},
		{at: "new", text: "se llevaron a mi esposo", reply: "urgent_detained", situation: "detained"},
		{at: "new", text: "agentes en mi puerta", reply: "urgent_home", situation: "home"},
		{at: "new", text: "my brother just got picked up by immigration", reply: "urgent_detained", situation: "detained", newLang: "en"},
		{at: "new", text: "can ICE come into a church?", reply: "rights_public", newLang: "en"},
		{at: "new", text: "¿el condado de Santa Fe coopera con ICE?", reply: "policy_answer", areas: "Condado de Santa Fe", newLang: "es"},
		{text: "hay redadas?", reply: "alerts_ask"},
		{at: "new", text: "I want ice cream lol", reply: "menu_prompt", newLang: "en"},
		{text: "hablar con alguien", reply: "case_opened"},
		{text: "necesito hablar con alguien", reply: "case_opened"},
		{lang: "en", text: "i want to talk to someone", reply: "case_opened"},
		{text: "dos", reply: "policy_ask"},
		{text: "2️⃣", reply: "policy_ask"},
		{at: "rights/topics", text: "en casa", reply: "rights_home"},
		{at: "new", text: "quiero saber mis derechos si la policía me para en el carro", reply: "rights_car", newLang: "es"},
		{text: "las cruces por favor", reply: "policy_answer", areas: "Las Cruces"},
		{text: "mi zip es 87102", reply: "policy_answer", areas: "Albuquerque"},
		{text: "No más mensajes por favor", reply: "how_to_stop"},
		{text: "3 las cruces", reply: "alerts_confirm"},
	} {
		checkUnderstood(t, set, c)
	}
}

// TestUnderstandsMembers: messages written the way members text (none of them an example
// the model learned from), in both languages, each to what it asks for.
func TestUnderstandsMembers(t *testing.T) {
	set := loadMembersView(t)
	for _, c := range []understood{
		// Emergencies, by situation, with and without the old danger words.
		{text: "ayuda estan golpeando la puerta y dicen que son policias de inmigracion", reply: "urgent_home", situation: "home"},
		{lang: "en", text: "there are two guys in vests outside my apartment asking for my roommate", reply: "urgent_home", situation: "home"},
		{text: "agarraron a mi cuñado saliendo del walmart y no sabemos a donde se lo llevaron", reply: "urgent_detained", situation: "detained"},
		{lang: "en", text: "they took my mom this morning from the bus stop, how do i find her", reply: "urgent_detained", situation: "detained"},
		{text: "hay un reten en la carretera y voy manejando con mis hijos", reply: "urgent_checkpoint", situation: "checkpoint"},
		{lang: "en", text: "cops pulled me over and now theyre asking where im from", reply: "urgent_checkpoint", situation: "checkpoint"},
		{text: "llego la migra a la obra donde trabajo y estan juntando a todos", reply: "urgent_work", situation: "work"},
		{lang: "en", text: "raid at the dairy right now, agents everywhere", reply: "urgent_work", situation: "work"},
		{text: "hay migra en la parada del camion ahorita pidiendo papeles", reply: "urgent_street", situation: "street"},
		{lang: "en", text: "ice agents are stopping people outside the grocery store right now", reply: "urgent_street", situation: "street"},
		{text: "LA MIGRA", reply: "urgent_safety", situation: "unknown"},
		// Questions that mention ICE are answered, not paged.
		{text: "que hago si la migra toca mi puerta", reply: "rights_home"},
		{lang: "en", text: "what should i do if i get stopped at a checkpoint", reply: "rights_car"},
		{text: "puede ice entrar a mi trabajo sin orden?", reply: "rights_work"},
		{lang: "en", text: "does bernalillo county work with ice", reply: "policy_answer", areas: "Bernalillo County"},
		{text: "es cierto que hobbs ayuda a la migra", reply: "policy_answer", areas: "Hobbs"},
		{lang: "en", text: "is there any raids in albuquerque today", reply: "alerts_confirm"},
		{text: "hay redadas hoy", reply: "alerts_ask"},
		{text: "como saco una tarjeta roja", reply: "rights_redcard"},
		{lang: "en", text: "if my husband gets detained how do i find out where he is", reply: "rights_detained"},
		// Everything else a member asks for in words.
		{text: "me pueden poner en las alertas de gallup", reply: "alerts_confirm"},
		{lang: "en", text: "can someone call me please", reply: "case_opened"},
		{text: "quiero reportar unas camionetas que vi ayer", reply: "report_what"},
		{lang: "en", text: "please stop sending me these texts", reply: "how_to_stop"},
		{text: "borren mi numero de su sistema", reply: "erase_confirm"},
		{text: "que es este numero", reply: "help"},
		{lang: "en", text: "thank u so much", reply: "thanks_reply"},
		{text: "en ingles por favor", reply: "language_set", newLang: "en"},
		{lang: "en", text: "en español porfa", reply: "language_set", newLang: "es"},
		{text: "opcion cuatro", reply: "case_opened"},
		{lang: "en", text: "number 1 please", reply: "rights_intro"},
		{at: "rights/topics", lang: "en", text: "in a car", reply: "rights_car"},
		{at: "erase/confirm", text: "si claro", reply: "erase_done"},
		{at: "alerts/confirm", lang: "en", text: "nah", reply: "alerts_declined"},
	} {
		checkUnderstood(t, set, c)
	}
}

// TestFirstContactEmergencyInEnglish: an emergency from someone who never wrote before is
// answered in the language they wrote in, though no marker word says which.
func TestFirstContactEmergencyInEnglish(t *testing.T) {
	set := loadMembersView(t)
	checkUnderstood(t, set, understood{at: "new", text: "two officers grabbed him outside walmart", reply: "urgent_detained", situation: "detained", newLang: "en"})
	checkUnderstood(t, set, understood{at: "new", text: "agarraron a mi vecino afuera del walmart", reply: "urgent_detained", situation: "detained", newLang: "es"})
}

// TestRightsTopicInCase: the words an urgent reply offers give the rights topic in full to a
// member talking with a volunteer, who stays in the conversation; the words are not relayed.
func TestRightsTopicInCase(t *testing.T) {
	set := loadMembersView(t)
	for _, c := range []struct{ lang, text, reply string }{
		{"es", "DERECHOS CASA", "rights_home"}, {"es", "derechos detenido", "rights_detained"},
		{"en", "rights car", "rights_car"}, {"en", "Rights street.", "rights_public"}, {"es", "derechos trabajo", "rights_work"},
	} {
		res := set.Step(flow.State{Lang: c.lang, Case: 7}, flow.Input{Text: c.text, Now: t0}, flow.Options{})
		if ids := replyIDs(res.Replies); len(ids) == 0 || ids[0] != c.reply {
			t.Errorf("%q in a case: replies %v, want %s", c.text, ids, c.reply)
		}
		if res.State.Case != 7 {
			t.Errorf("%q took the member out of the case", c.text)
		}
		for _, e := range res.Effects {
			if _, ok := e.(flow.Relay); ok {
				t.Errorf("%q was relayed to the volunteer", c.text)
			}
		}
	}
}

// TestReviewFindings: what a skeptical review of the first version found, each a way a
// member in danger was missed, a member was paged for nothing, or a weak reading did what
// cannot be undone.
func TestReviewFindings(t *testing.T) {
	set := loadMembersView(t)
	long := "hola buenas tardes disculpe que le escriba tan tarde pero no se a quien mas decirle mire lo que pasa es que mi esposo salio temprano a trabajar como siempre en la construccion alla por el westside y pues normalmente me habla a la hora de la comida pero hoy no me hablo y luego su compañero me llamo y me dijo que llegaron unas camionetas blancas y que se lo llevaron junto con otros dos muchachos y ya no se nada de el"
	for _, c := range []understood{
		// An emergency is not lost behind a menu number, a label or a report's question.
		{at: "report/what", text: "la migra esta en mi casa ahorita ayuda no se que hacer", reply: "urgent_home", situation: "home"},
		{text: "1 agente de ICE esta en mi puerta", reply: "urgent_home", situation: "home"},
		{at: "rights/topics", text: "se llevaron a mi esposo en el carro", reply: "urgent_detained", situation: "detained"},
		{text: long, reply: "urgent_detained", situation: "detained"},
		// A question asked during an emergency is the emergency.
		{lang: "en", text: "ICE is outside, can they come in?", reply: "urgent_home", situation: "home"},
		{text: "me pararon en el reten que hago si me piden papeles", reply: "urgent_checkpoint", situation: "checkpoint"},
		{lang: "en", text: "agents at my job rn what if they ask for papers", reply: "urgent_work", situation: "work"},
		{text: "necesito ayuda urgente", reply: "urgent_safety", situation: "unknown"},
		// Ordinary words are not danger.
		{lang: "en", text: "I took my kids to school today, is it safe?", reply: "not_understood"},
		{lang: "en", text: "the meeting is being held at the church", reply: "not_understood"},
		{text: "el trafico esta detenido en la 25", reply: "not_understood"},
		// A sentence is never an opt-out; it is told the word that is.
		{text: "ya no quiero que me molesten los de la migra", reply: "how_to_stop"},
		// A weak yes erases nothing.
		{at: "erase/confirm", text: "espere", reply: "erase_kept"},
		// A courtesy after a number answers no question.
		{text: "5 gracias", reply: "report_what"},
	} {
		checkUnderstood(t, set, c)
	}
}

// TestTopicNumbersAfterAnAnswer: after a rights answer, a topic's number or label is a topic,
// even one whose words could sound like an emergency ("en el carro").
func TestTopicNumbersAfterAnAnswer(t *testing.T) {
	set := loadMembersView(t)
	checkUnderstood(t, set, understood{at: "rights/home", text: "3", reply: "rights_car"})
	checkUnderstood(t, set, understood{at: "rights/home", text: "en el trabajo", reply: "rights_work"})
}

// TestSourcesAfterRightsAndUrgentAnswers: FUENTE / SOURCE right after a rights topic or the
// rights for an emergency lists the pages flows/data/sources.toml gives that message.
func TestSourcesAfterRightsAndUrgentAnswers(t *testing.T) {
	set := loadMembersView(t)
	srcs, err := sources.Load(os.DirFS("../../flows"), sources.File)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		st       flow.State
		text, id string
	}{
		{flow.State{Lang: "es", Node: "rights/topics"}, "1", "rights_home"},
		{flow.State{Lang: "en"}, "what should i do if i get stopped at a checkpoint", "rights_car"},
		{flow.State{Lang: "es"}, "se llevaron a mi esposo esta mañana", "urgent_detained"},
	} {
		res := set.Step(c.st, flow.Input{Text: c.text, Now: t0}, flow.Options{})
		if ids := replyIDs(res.Replies); len(ids) == 0 || ids[0] != c.id {
			t.Fatalf("%q: replies %v, want %s", c.text, ids, c.id)
		}
		if c.id == "urgent_detained" {
			res.State.Case = 9 // the escalation has the member join the case
		}
		res = set.Step(res.State, flow.Input{Text: "FUENTE", Now: t0}, flow.Options{})
		if len(res.Replies) != 1 || res.Replies[0].ID != "sources" {
			t.Fatalf("FUENTE after %s: replies %v", c.id, replyIDs(res.Replies))
		}
		first := srcs.For(c.id)[0].URL
		if !strings.Contains(res.Replies[0].Data["Links"], first) {
			t.Errorf("FUENTE after %s lists %q, want %s first among them", c.id, res.Replies[0].Data["Links"], first)
		}
	}
}

// TestTrialFindings: what a new member's trial found, each a question read as an emergency, a
// menu word not understood, or an answer in the wrong language.
func TestTrialFindings(t *testing.T) {
	set := loadMembersView(t)
	for _, c := range []understood{
		// A single word of a menu option chooses it, and is no emergency.
		{at: "rights/topics", text: "casa", reply: "rights_home"},
		{at: "rights/topics", text: "trabajo", reply: "rights_work"},
		{at: "rights/topics", lang: "en", text: "car", reply: "rights_car"},
		{text: "casa", reply: "not_understood"},
		// A question about a town's policy is not an emergency, however it is asked.
		{text: "sunland park ayuda a la migra?", reply: "policy_answer", areas: "Sunland Park"},
		// English with a Spanish-looking place name is English.
		{at: "new", text: "does las cruces cooperate with ice", reply: "policy_answer", areas: "Las Cruces", newLang: "en"},
		// The common misspelling of hola.
		{at: "new", text: "ola", reply: "menu_prompt", newLang: "es"},
	} {
		checkUnderstood(t, set, c)
	}
}

// TestCodeReviewFindings: what a review of the code found, each a question paged as an
// emergency, a report lost, a hedged yes acted on, or a sure request overruled by a menu's
// words.
func TestCodeReviewFindings(t *testing.T) {
	set := loadMembersView(t)
	for _, c := range []understood{
		// A courtesy is never a plea; a county is never a plea.
		{lang: "es", text: "gracias, sos muy amable", reply: "thanks_reply"},
		{at: "policy/ask", text: "socorro", reply: "policy_answer", areas: "Condado de Socorro"},
		// A danger word or "now" as the answer to a report's question is the answer.
		{at: "report/what", text: "checkpoint", reply: "report_area"},
		// A hypothetical about an event is a question.
		{lang: "en", text: "what do I do if ICE is at my door?", reply: "rights_home"},
		{lang: "en", text: "what should I do if agents are outside my house", reply: "rights_home"},
		// A hedged yes erases nothing.
		{at: "erase/confirm", lang: "en", text: "yes but wait", reply: "erase_kept"},
		// A sure request in a sentence beats a menu label inside it.
		{at: "rights/home", text: "gracias, ya estoy en casa", reply: "thanks_reply"},
	} {
		checkUnderstood(t, set, c)
	}
}

// TestNoEmergencyInOrdinarySentences: words that cues or examples also use ("now", "picked
// up", "held", "ahorita") do not page anyone in ordinary sentences.
func TestNoEmergencyInOrdinarySentences(t *testing.T) {
	set := loadMembersView(t)
	for _, text := range []string{
		"now that I live in Las Cruces, what are my rights at work?",
		"the meeting is being held at the church",
		"I took my kids to school today, is it safe?",
		"el trafico esta detenido en la 25",
		"ahorita no puedo hablar, luego le escribo",
		"gracias, sos muy amable",
	} {
		for _, lang := range []string{"es", "en"} {
			res := set.Step(flow.State{Lang: lang}, flow.Input{Text: text, Now: t0}, flow.Options{})
			for _, e := range res.Effects {
				if oc, ok := e.(actions.OpenCase); ok && oc.Urgent {
					t.Errorf("%q (%s) paged everyone as an emergency (%s)", text, lang, oc.Situation)
				}
			}
		}
	}
}

// TestRightsWordInCase: DERECHOS alone in a conversation with a volunteer says the words for
// each topic (a number would go to the volunteer), and DERECHOS TARJETA gives the red card.
func TestRightsWordInCase(t *testing.T) {
	set := loadMembersView(t)
	for text, want := range map[string]string{"DERECHOS": "rights_words", "rights": "rights_words", "derechos tarjeta": "rights_redcard"} {
		res := set.Step(flow.State{Lang: "es", Case: 3}, flow.Input{Text: text, Now: t0}, flow.Options{})
		if ids := replyIDs(res.Replies); len(ids) != 1 || ids[0] != want || res.State.Case != 3 || len(res.Effects) != 0 {
			t.Errorf("%q in a case: replies %v, case %d, effects %v; want %s, still in the case, nothing relayed", text, ids, res.State.Case, res.Effects, want)
		}
	}
}
