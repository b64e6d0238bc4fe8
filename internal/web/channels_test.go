package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/hotline"
)

// answer asks the hotline's engine, as a webhook of channel ch would, and fails the test on
// an error.
func (s *hotlineServer) answer(ch hotline.Channel, from, id, text string) hotline.Reply {
	s.t.Helper()
	r, err := s.engine.Answer(context.Background(), hotline.Inbound{ID: id, Channel: ch, From: from, Text: text})
	if err != nil {
		s.t.Fatalf("%s %q: %v", ch, text, err)
	}
	return r
}

// TestOneStepEveryChannel: the same flow step answers SMS, WhatsApp and a call, each in the
// channel's own words: SMS in GSM-7 with its options as lines, WhatsApp as written, the voice
// line speaking its options ("marque 2") and handing them to the edge for its keys.
func TestOneStepEveryChannel(t *testing.T) {
	s := startServerWith(t, func(c *config.Config) { c.GSM = true })
	sms := s.answer(hotline.SMS, "+15055550301", "SMch1", "hola")
	wa := s.answer(hotline.WhatsApp, "whatsapp:+15055550302", "SMch2", "hola")
	call := s.answer(hotline.Voice, "+15055550303", "CAch3n1", "hola")

	smsText, waText := strings.Join(sms.Texts, "\n"), strings.Join(wa.Texts, "\n")
	if !strings.Contains(smsText, "\n1 ") || strings.ContainsAny(smsText, "íáé") {
		t.Errorf("SMS menu is not GSM-7 with numbered lines:\n%s", smsText)
	}
	if !strings.Contains(waText, "Envíe") || !strings.Contains(waText, "\n1 ") {
		t.Errorf("WhatsApp lost its accents or its numbered options:\n%s", waText)
	}
	if len(sms.Options) != 0 || len(wa.Options) != 0 {
		t.Errorf("text channels got options to listen for: %v %v", sms.Options, wa.Options)
	}

	said := strings.Join(call.Texts, " ")
	if strings.Contains(said, "\n") {
		t.Errorf("the voice line was given lines to read: %q", said)
	}
	if len(call.Options) < 4 {
		t.Fatalf("the call's menu offers %d keys: %v", len(call.Options), call.Options)
	}
	for _, o := range call.Options {
		if !strings.Contains(said, fmt.Sprintf("marque %d", o.Number)) || !strings.Contains(said, o.Label) {
			t.Errorf("option %d %q is not said as a key to press in %q", o.Number, o.Label, said)
		}
	}
	if call.Lang != "es" {
		t.Errorf("call answered in %q, want es", call.Lang)
	}

	// "*" on a call says the last answer again: the edge asks for the previous step's
	// message, which the reply log answers, options and all, with nothing stepped again.
	again := s.answer(hotline.Voice, "+15055550303", "CAch3n1", "*")
	if strings.Join(again.Texts, " ") != said || len(again.Options) != len(call.Options) || again.Lang != "es" {
		t.Errorf("saying it again gave %+v, want %+v", again, call)
	}
	// The menu's key 2 goes where SMS's "2" goes.
	next := s.answer(hotline.Voice, "+15055550303", "CAch3n2", "2")
	smsNext := s.answer(hotline.SMS, "+15055550301", "SMch4", "2")
	if len(next.Texts) == 0 || len(smsNext.Texts) == 0 || len(next.Options) != 0 {
		t.Errorf("key 2 on a call: %+v; by SMS: %q", next, smsNext.Texts)
	}
}

// TestMediaWithoutWordsIsAnsweredAndMovesNothing: a voice note or a photo cannot be read; the
// member is told so in their language, stays where they were, and the menu still works.
func TestMediaWithoutWordsIsAnsweredAndMovesNothing(t *testing.T) {
	s := startServer(t)
	from := "whatsapp:+15055550311"
	s.answer(hotline.WhatsApp, from, "SMmd1", "hello")
	r, err := s.engine.Answer(context.Background(), hotline.Inbound{ID: "SMmd2", Channel: hotline.WhatsApp, From: from, Media: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Texts, " "); !strings.Contains(got, "voice notes") {
		t.Errorf("media answered %q, want the English media notice", got)
	}
	if r.Lang != "en" {
		t.Errorf("media answered in %q, want the member's en", r.Lang)
	}
	after := s.answer(hotline.WhatsApp, from, "SMmd3", "2")
	if got := strings.Join(after.Texts, " "); strings.Contains(got, "voice notes") || len(after.Texts) == 0 {
		t.Errorf("after the media, the menu's 2 answered %q", got)
	}
	// A caption is words: it is read as any message.
	c, err := s.engine.Answer(context.Background(), hotline.Inbound{ID: "SMmd4", Channel: hotline.WhatsApp, From: from, Media: 1, Text: "menu"})
	if err != nil || strings.Contains(strings.Join(c.Texts, " "), "voice notes") {
		t.Errorf("a photo with the words \"menu\" answered %q (%v)", c.Texts, err)
	}
}

// TestAskingForAPersonEscalates: the reply says when the message opened a case, which the
// voice line turns into ringing the volunteers on call; a report does not ring anyone.
func TestAskingForAPersonEscalates(t *testing.T) {
	s := startServer(t)
	from := "+15055550321"
	s.answer(hotline.Voice, from, "CAesc1n1", "hola")
	r := s.answer(hotline.Voice, from, "CAesc1n2", "4")
	if !r.Escalated || r.Urgent {
		t.Errorf("key 4 (a person) gave escalated=%v urgent=%v, want an escalation, not urgent: %q", r.Escalated, r.Urgent, r.Texts)
	}
	u := s.answer(hotline.Voice, "+15055550322", "CAesc2n1", "la migra esta en mi casa")
	if !u.Escalated || !u.Urgent {
		t.Errorf("danger words gave escalated=%v urgent=%v: %q", u.Escalated, u.Urgent, u.Texts)
	}
	again := s.answer(hotline.Voice, "+15055550322", "CAesc2n1", "*")
	if again.Escalated {
		t.Error("saying an answer again escalated again")
	}
}

// TestWhatsAppOptOutIsTheHotlines: Twilio's Advanced Opt-Out covers SMS only, so on WhatsApp the
// hotline itself must hear STOP and PARAR (any case, accents) and stop answering, as by SMS.
func TestWhatsAppOptOutIsTheHotlines(t *testing.T) {
	s := startServer(t)
	for i, word := range []string{"PARAR", "stop", "Párar"} {
		from := fmt.Sprintf("whatsapp:+1505555034%d", i)
		s.answer(hotline.WhatsApp, from, fmt.Sprintf("SMwa%da", i), "hola")
		s.answer(hotline.WhatsApp, from, fmt.Sprintf("SMwa%db", i), word)
		st, err := s.engine.State(context.Background(), s.keys.MemberID(hotline.WhatsApp, from))
		if err != nil || !st.OptedOut {
			t.Errorf("%q on WhatsApp: opted out = %v (%v)", word, st.OptedOut, err)
			continue
		}
		if r := s.answer(hotline.WhatsApp, from, fmt.Sprintf("SMwa%dc", i), "hola"); len(r.Texts) != 0 {
			t.Errorf("after %q, \"hola\" on WhatsApp was answered %q", word, r.Texts)
		}
	}
}

// TestNoAlertSignUpByVoice: a caller choosing alerts is told to text ALERTAS and is back at the
// menu; no place they then say, and no yes, makes them a subscriber (consent to alerts by
// voice, alerts by SMS and a STOP on another member id would not fit together).
func TestNoAlertSignUpByVoice(t *testing.T) {
	s := startServer(t)
	from := "+15055550331"
	s.answer(hotline.Voice, from, "CAal1n1", "hola")
	r := s.answer(hotline.Voice, from, "CAal1n2", "3")
	said := strings.Join(r.Texts, " ")
	if !strings.Contains(said, "ALERTAS") || len(r.Options) < 4 {
		t.Errorf("alerts by voice said %q with %d keys, want to text ALERTAS and the menu again", said, len(r.Options))
	}
	for i, text := range []string{"alertas bernalillo", "si", "1", "santa fe", "sí"} {
		s.answer(hotline.Voice, from, fmt.Sprintf("CAal1n%d", i+3), text)
	}
	st, err := s.engine.State(context.Background(), s.keys.MemberID(hotline.Voice, from))
	if err != nil || len(st.Areas) != 0 || strings.HasPrefix(st.Node, "alerts/") {
		t.Errorf("a caller's state after asking for alerts: areas %v, node %q (%v)", st.Areas, st.Node, err)
	}
	// By text, the same words sign the member up (the flow itself is unchanged).
	sms := "+15055550332"
	s.answer(hotline.SMS, sms, "SMal2a", "hola")
	s.answer(hotline.SMS, sms, "SMal2b", "alertas bernalillo")
	s.answer(hotline.SMS, sms, "SMal2c", "si")
	if st, err := s.engine.State(context.Background(), s.keys.MemberID(hotline.SMS, sms)); err != nil || len(st.Areas) != 1 {
		t.Errorf("by SMS the same words subscribed to %v (%v)", st.Areas, err)
	}
}

// TestStopOnACallLocksNobodyOut: nothing is sent to a call's member, so "parar" or "stop" said
// on a call (maybe only "wait") is told how to stop texts and changes nothing: the caller is
// answered on the next step and the next call.
func TestStopOnACallLocksNobodyOut(t *testing.T) {
	s := startServer(t)
	from := "+15055550351"
	s.answer(hotline.Voice, from, "CAst1n1", "hola")
	r := s.answer(hotline.Voice, from, "CAst1n2", "parar")
	if !strings.Contains(strings.Join(r.Texts, " "), "PARAR") {
		t.Errorf("\"parar\" on a call said %q, want how to stop texts", r.Texts)
	}
	if r := s.answer(hotline.Voice, from, "CAst2n0", "menu"); len(r.Texts) == 0 || len(r.Options) == 0 {
		t.Errorf("calling again after \"parar\": %+v, want the menu", r)
	}
}

// TestCaseNoticesOnWhatsAppKeepAccents: a notice about a member's case (a volunteer joined) is
// written for the member's channel: on WhatsApp with its accents, though SMS goes in GSM-7.
func TestCaseNoticesOnWhatsAppKeepAccents(t *testing.T) {
	s := startServerWith(t, func(c *config.Config) { c.GSM = true })
	from := "whatsapp:+15055550361"
	s.text(from, "hola") // through the webhook, which records the WhatsApp window
	s.text(from, "4")
	st, err := s.engine.State(context.Background(), s.keys.MemberID(hotline.WhatsApp, from))
	if err != nil || st.Case == 0 {
		t.Fatalf("no case opened: %+v %v", st, err)
	}
	s.text(testVolunteer, fmt.Sprintf("TOMAR %d", st.Case))
	got := strings.Join(s.sentUntil(from, "conversación", 3*time.Second), "\n")
	if !strings.Contains(got, "está en la conversación") || !strings.Contains(got, "aquí") {
		t.Errorf("the case notice on WhatsApp lost its accents: %q", got)
	}
}
