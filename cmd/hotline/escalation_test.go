package main

import (
	"context"
	"encoding/xml"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/locale"
	"github.com/communityhotline/hotline/locales"
)

// messagesTo returns the bodies the fake Twilio received for to, in order.
func (h *hotlineProc) messagesTo(to string) []string {
	var out []string
	for _, m := range h.fake.Messages() {
		if m.To == to {
			out = append(out, m.Body)
		}
	}
	return out
}

// countTo is how many messages the fake received for to containing want.
func (h *hotlineProc) countTo(to, want string) int {
	n := 0
	for _, b := range h.messagesTo(to) {
		if strings.Contains(b, want) {
			n++
		}
	}
	return n
}

// relayed texts body from `from` and checks it is relayed: no reply of its own, and the
// text reaches `to`.
func (h *hotlineProc) relayed(from, to, body string) {
	h.t.Helper()
	if reply := h.text(from, body); strings.Contains(reply, "<Message>") {
		h.t.Errorf("%q, which should only be relayed, was answered %s", body, reply)
	}
	h.waitFor(to, body)
}

// claimedCase puts the member in a conversation with Ana, a Spanish-speaking volunteer: the
// member asks for a person, Ana is paged and claims the case. It returns the case number.
func (h *hotlineProc) claimedCase() string {
	h.t.Helper()
	h.volunteer("Ana", volAna, "es")
	h.text(member, "hola")
	h.text(member, "persona")
	n := strings.Fields(h.waitFor(volAna, "TOMAR"))[1]
	h.text(volAna, "TOMAR "+n)
	h.waitFor(member, "ya está en la conversación")
	return n
}

// waitFor polls until the fake has a message to `to` containing want.
func (h *hotlineProc) waitFor(to, want string) string {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, b := range h.messagesTo(to) {
			if strings.Contains(b, want) {
				return b
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("no message to %s containing %q; got %q", to, want, h.messagesTo(to))
	return ""
}

func (h *hotlineProc) volunteer(name, phone string, langs ...string) {
	h.t.Helper()
	var v struct{ ID string }
	if code := h.api(adminToken, "POST", "/admin/volunteers", map[string]any{"name": name, "phone": phone, "languages": langs}, &v); code != 201 {
		h.t.Fatalf("adding volunteer: %d", code)
	}
	if reply := h.text(phone, "ACTIVO"); !strings.Contains(reply, "turno") && !strings.Contains(reply, "on call") {
		h.t.Fatalf("ON answered %s", reply)
	}
}

const (
	member    = "+15055550601"
	volAna    = "+15055550701" // Spanish
	volBen    = "+15055550702" // English only
	volCarmen = "+15055550703" // both
)

// TestCaseClaimRelayClose: a member asks for a person; the Spanish-speaking volunteers on
// call are paged (not the English-only one); the first CLAIM wins; they write to each other
// through the hotline number; CLOSE ends it. Nobody sees the other's number.
func TestCaseClaimRelayClose(t *testing.T) {
	h := startHotline(t, nil)
	h.volunteer("Ana María", volAna, "es")
	h.volunteer("Ben", volBen, "en")
	h.volunteer("Carmen", volCarmen, "es", "en")
	// Languages by name, in the volunteer's language, never as codes ("es, en").
	if reply := h.text(volCarmen, "ACTIVO"); !strings.Contains(reply, "Le avisaremos de casos en: español, inglés.") {
		t.Errorf("Carmen's ACTIVO answered %s", reply)
	}
	if reply := h.text(volBen, "ON"); !strings.Contains(reply, "We will page you for cases in: English.") {
		t.Errorf("Ben's ON answered %s", reply)
	}

	h.text(member, "hola")
	if reply := h.text(member, "PERSONA"); !strings.Contains(reply, "Buscamos un voluntario que le responda aquí") || strings.Contains(reply, "no hay voluntarios libres") {
		t.Fatalf("PERSONA answered %s", reply)
	}
	page := h.waitFor(volAna, "TOMAR")
	n := strings.Fields(page)[1]
	if !strings.HasPrefix(page, "Caso "+n+" (español)") {
		t.Errorf("the page says %q, want the case's language by name", page)
	}
	h.waitFor(volCarmen, "TOMAR "+n)
	if got := h.messagesTo(volBen); len(got) != 0 {
		t.Errorf("the English-only volunteer was paged for a Spanish case: %q", got)
	}
	if reply := h.text(volAna, "tomar "+n); !strings.Contains(reply, "Tomó el caso "+n) {
		t.Fatalf("claim answered %s", reply)
	}
	if reply := h.text(volCarmen, "TOMAR "+n); !strings.Contains(reply, "ya tomó el caso") {
		t.Errorf("second claim answered %s", reply)
	}
	h.waitFor(member, "Ana, del equipo de voluntarios, ya está en la conversación")

	h.relayed(member, volAna, "Tengo miedo, ¿qué hago si tocan?")
	h.waitFor(volAna, "#"+n+": Tengo miedo")
	h.text(volAna, "No abra la puerta. ¿Dónde está usted?")
	h.waitFor(member, "No abra la puerta. ¿Dónde está usted?")

	if reply := h.text(volAna, "CERRAR "+n); !strings.Contains(reply, "Cerró el caso "+n) {
		t.Errorf("close answered %s", reply)
	}
	h.waitFor(member, "La conversación con el voluntario terminó")
	if reply := h.text(member, "menu"); !strings.Contains(reply, "Envíe un número") {
		t.Errorf("after closing, menu answered %s", reply)
	}

	for _, m := range h.fake.Messages() {
		if m.To != member && strings.Contains(m.Body, "5055550601") {
			t.Errorf("a volunteer's message contains the member's number: %q", m.Body)
		}
		if m.To == member && (strings.Contains(m.Body, "555070") || strings.Contains(m.Body, "Ana María")) {
			t.Errorf("the member's message contains the volunteer's number or full name: %q", m.Body)
		}
	}
	var cases struct{ Cases []map[string]any }
	h.api(adminToken, "GET", "/admin/cases", nil, &cases)
	if len(cases.Cases) != 0 {
		t.Errorf("open cases after close: %v", cases.Cases)
	}
}

// TestUrgentWordsPageEveryone: an emergency gets the rights for its situation at once and
// pages every volunteer on call, whatever their language, naming the situation.
func TestUrgentWordsPageEveryone(t *testing.T) {
	h := startHotline(t, nil)
	h.volunteer("Ana", volAna, "es")
	h.volunteer("Ben", volBen, "en")
	reply := h.text(member, "¡La migra está afuera de mi casa!")
	if !strings.Contains(reply, messageStart(t, "es", "urgent_home")) {
		t.Fatalf("urgent message answered %s", reply)
	}
	h.waitFor(volAna, "URGENTE: "+messageStart(t, "es", "urgent_situation_home"))
	h.waitFor(volBen, "URGENT: "+messageStart(t, "en", "urgent_situation_home"))
}

// messageStart is the beginning of message id in lang as a reply carries it (XML-escaped):
// enough to tell it from any other, without repeating the wording here.
func messageStart(t *testing.T, lang, id string) string {
	t.Helper()
	cat, err := locale.Load(locales.FS)
	if err != nil {
		t.Fatal(err)
	}
	text, err := cat.Text(lang, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := []rune(text); len(r) > 40 {
		text = string(r[:40])
	}
	var b strings.Builder
	xml.EscapeText(&b, []byte(text))
	return b.String()
}

// TestNoVolunteerOnCall: the member is told honestly, with the organization's contact, in the
// reply itself, and only that: not also "we are finding a volunteer; in 10 minutes we will
// alert more people", which said the opposite in the same SMS (issue 11); what they write
// next is kept for the case, not read as a menu choice, acknowledged once; a volunteer coming
// on call is paged for it at once, and the claim brings the member into the conversation.
func TestNoVolunteerOnCall(t *testing.T) {
	h := startHotline(t, nil)
	h.text(member, "hello")
	reply := h.text(member, "person")
	if !strings.Contains(reply, "<Message>No volunteer is free right now. We keep your request and what you write; one will text you here when free. Meanwhile: 505-555-0199. Emergency: 911.</Message>") ||
		strings.Contains(reply, "finding a volunteer") || strings.Contains(reply, "alert more people") {
		t.Fatalf("PERSON with nobody on call answered %s", reply)
	}
	if reply := h.text(member, "MARKER-KEPT my husband needs to talk to someone about his papers"); !strings.Contains(reply, "Your message is with the volunteers") || strings.Contains(reply, "Reply with a number") {
		t.Errorf("the member's plea answered %s", reply)
	}
	if reply := h.text(member, "MARKER-KEPT please hurry"); strings.Contains(reply, "<Message>") {
		t.Errorf("the second message was answered %s; want it kept quietly", reply)
	}
	if got := h.messagesTo(member); len(got) != 0 {
		t.Errorf("the member was sent %q outside the replies", got)
	}
	h.volunteer("Ben", volBen, "en") // coming on call, Ben is paged for the waiting case
	page := h.waitFor(volBen, "MARKER-KEPT please hurry")
	h.text(volBen, "CLAIM "+strings.Fields(page)[1])
	h.waitFor(volBen, "MARKER-KEPT my husband needs to talk to someone about his papers")
	h.waitFor(member, "joined the conversation. Write here (MENU to leave).")
	h.relayed(member, volBen, "MARKER-BACK thank you")
}

// TestMenuCancelsWaitingRequest: MENU while nobody has claimed the request closes it (one
// request at a time, so a member's words never split between two volunteers) and says how to
// ask again; a new request is a new case, the only one open.
func TestMenuCancelsWaitingRequest(t *testing.T) {
	h := startHotline(t, nil)
	h.text(member, "hello")
	h.text(member, "person")
	reply := h.text(member, "MENU")
	if !strings.Contains(reply, "You left the conversation with the volunteers. To ask for one again, send PERSON.") || !strings.Contains(reply, "Reply with a number") {
		t.Fatalf("MENU in a waiting case answered %s", reply)
	}
	var cases struct{ Cases []struct{ N int64 } }
	h.api(adminToken, "GET", "/admin/cases", nil, &cases)
	if len(cases.Cases) != 0 {
		t.Fatalf("open cases after MENU: %+v", cases.Cases)
	}
	h.text(member, "person")
	h.api(adminToken, "GET", "/admin/cases", nil, &cases)
	if len(cases.Cases) != 1 {
		t.Fatalf("open cases after asking again: %+v", cases.Cases)
	}
}

// TestUrgentWordsInCase: danger words from a member already waiting in a case get the
// rights for that moment at once, make the case urgent and page every volunteer on call,
// whatever their language, and the organizers — once.
func TestUrgentWordsInCase(t *testing.T) {
	h := startHotline(t, nil)
	h.organizer("Olga", "+15055550901")
	h.volunteer("Ana", volAna, "es")
	h.volunteer("Ben", volBen, "en")
	h.text(member, "hola")
	h.text(member, "persona")
	n := strings.Fields(h.waitFor(volAna, "TOMAR"))[1]
	if got := h.messagesTo(volBen); len(got) != 0 {
		t.Fatalf("the English-only volunteer was paged for an ordinary Spanish case: %q", got)
	}
	if reply := h.text(member, "MARKER-URGENT mi esposo fue detenido por la migra"); !strings.Contains(reply, messageStart(t, "es", "urgent_detained")) {
		t.Fatalf("danger words in a waiting case answered %s", reply)
	}
	h.waitFor(volBen, "Case "+n+" URGENT: "+messageStart(t, "en", "urgent_situation_detained"))
	h.waitFor("+15055550901", "Caso "+n+" URGENTE (palabras de peligro): avisamos a 2 voluntarios de turno.")
	var cases struct{ Cases []struct{ Urgent bool } }
	h.api(adminToken, "GET", "/admin/cases", nil, &cases)
	if len(cases.Cases) != 1 || !cases.Cases[0].Urgent {
		t.Errorf("cases after danger words: %+v", cases.Cases)
	}
	// Danger words again: the rights are not repeated, nor anyone paged again, but the
	// member is not met with silence either.
	if reply := h.text(member, "la migra sigue aquí"); strings.Contains(reply, messageStart(t, "es", "urgent_detained")) ||
		!strings.Contains(reply, messageStart(t, "es", "case_waiting")) {
		t.Errorf("danger words again answered %s; want only that the message waits", reply)
	}
	time.Sleep(300 * time.Millisecond)
	if got := h.messagesTo(volBen); len(got) != 1 {
		t.Errorf("the English-only volunteer got %d pages, want one: %q", len(got), got)
	}
	// Once a volunteer has the case, danger words go to them, and the member, who is
	// talking with them, is not told again that a volunteer is being found.
	h.text(volAna, "TOMAR "+n)
	h.waitFor(member, "ya está en la conversación")
	h.relayed(member, volAna, "MARKER-CLAIMED la migra se fue")
}

// TestClaimRaceAcrossProcesses: two volunteers claim the same case at the same instant
// through two server processes sharing Redis: exactly one wins.
func TestClaimRaceAcrossProcesses(t *testing.T) {
	h1 := startHotline(t, nil)
	h2 := startHotlineSharing(t, h1)
	h1.volunteer("Ana", volAna, "es")
	h1.volunteer("Carmen", volCarmen, "es")
	h2.text(volCarmen, "ACTIVO") // the second process learns the roster too
	for range 5 {
		h1.text(member, "hola")
		h1.text(member, "persona")
		page := h1.waitFor(volAna, "TOMAR")
		n := strings.Fields(page)[1]
		var wg sync.WaitGroup
		replies := make([]string, 2)
		wg.Go(func() { replies[0] = h1.text(volAna, "TOMAR "+n) })
		wg.Go(func() { replies[1] = h2.text(volCarmen, "TOMAR "+n) })
		wg.Wait()
		wins := 0
		for _, r := range replies {
			if strings.Contains(r, "Tomó el caso "+n) {
				wins++
			}
		}
		if wins != 1 {
			t.Fatalf("case %s: %d winners: %q", n, wins, replies)
		}
		winner := volAna
		if strings.Contains(replies[1], "Tomó") {
			winner = volCarmen
		}
		h1.text(winner, "CERRAR "+n)
		h1.fake.Reset()
	}
}

// TestReportVerifiedBecomesDraft: a report is checked by a volunteer; VERIFY makes an alert
// draft for its area and tells the organizers; it is not sent.
func TestReportVerifiedBecomesDraft(t *testing.T) {
	h := startHotline(t, nil)
	h.organizer("Olga", "+15055550901")
	h.volunteer("Ana", volAna, "es")
	h.subscribe("+15055550602", "es", "ABQ")
	for _, msg := range []string{"hola", "5", "Dos camionetas de ICE", "Albuquerque", "Central y 4ta", "hoy 8am"} {
		h.text(member, msg)
	}
	page := h.waitFor(volAna, "REPORTE")
	n := strings.Fields(page)[1]
	if !strings.Contains(page, "Dos camionetas de ICE") {
		t.Errorf("page = %q", page)
	}
	// One rule: claimed first, as the page says, then judged.
	if reply := h.text(volAna, "CONFIRMAR "+n); !strings.Contains(reply, "TOMAR "+n) {
		t.Fatalf("verify before claiming answered %s", reply)
	}
	h.text(volAna, "TOMAR "+n)
	reply := h.text(volAna, "CONFIRMAR "+n)
	if !strings.Contains(reply, "Reporte "+n+" verificado") {
		t.Fatalf("verify answered %s", reply)
	}
	id := strings.Fields(reply[strings.Index(reply, "alerta ")+len("alerta "):])[0]
	h.waitFor("+15055550901", "Borrador de alerta "+id)
	var b bcJSON
	h.api(adminToken, "GET", "/admin/broadcasts/"+id, nil, &b)
	if b.Status != "draft" || b.Recipients["es"] != 1 {
		t.Errorf("draft = %+v", b)
	}
	time.Sleep(300 * time.Millisecond)
	if got := h.messagesTo("+15055550602"); len(got) != 0 {
		t.Errorf("the subscriber got %q before any organizer sent it", got)
	}
}

// TestOptOutDuringCase: what a member wrote before the claim reaches the volunteer on
// claiming; a member who opts out mid-case gets nothing more, and the volunteer is told.
func TestOptOutDuringCase(t *testing.T) {
	h := startHotline(t, nil)
	h.volunteer("Ana", volAna, "es")
	h.text(member, "hola")
	h.text(member, "persona")
	page := h.waitFor(volAna, "TOMAR")
	n := strings.Fields(page)[1]
	if reply := h.text(member, "MARKER-BEFORE-CLAIM mi primo"); !strings.Contains(reply, "Su mensaje ya está con los voluntarios") {
		t.Errorf("a message before the claim answered %s", reply)
	}
	h.text(volAna, "TOMAR "+n)
	h.waitFor(volAna, "MARKER-BEFORE-CLAIM mi primo")

	if reply := h.text(member, "PARAR"); !strings.Contains(reply, "no recibirá más mensajes") {
		t.Fatalf("PARAR answered %s", reply)
	}
	h.waitFor(volAna, "pidió no recibir más mensajes")
	before := len(h.messagesTo(member))
	if reply := h.text(volAna, "¿sigue ahí?"); strings.Contains(reply, "<Message>") && !strings.Contains(reply, "No tiene el caso") && !strings.Contains(reply, "no le escriba") && !strings.Contains(reply, "ACTIVO") {
		t.Errorf("the volunteer's message answered %s", reply)
	}
	time.Sleep(200 * time.Millisecond)
	if after := h.messagesTo(member); len(after) != before {
		t.Errorf("the opted-out member was sent %q", after[before:])
	}
}

// TestOnePhoneOneRole: a phone cannot be both an organizer's and a volunteer's.
func TestOnePhoneOneRole(t *testing.T) {
	h := startHotline(t, nil)
	h.organizer("Olga", "+15055550901")
	var e struct{ Error string }
	if code := h.api(adminToken, "POST", "/admin/volunteers", map[string]any{"name": "Olga", "phone": "+15055550901", "languages": []string{"es"}}, &e); code != 400 || !strings.Contains(e.Error, "one role") {
		t.Errorf("volunteer with an organizer's phone: %d %q", code, e.Error)
	}
	h.volunteer("Ana", volAna, "es")
	if code := h.api(adminToken, "POST", "/admin/organizers", map[string]any{"name": "Ana", "phone": volAna}, &e); code != 400 {
		t.Errorf("organizer with a volunteer's phone: %d", code)
	}
}

// TestCityAlertReachesCounty: an alert for Albuquerque also reaches Bernalillo County's
// subscribers, and one for the county reaches the city's.
func TestCityAlertReachesCounty(t *testing.T) {
	h := startHotline(t, nil)
	h.subscribe("+15055550821", "es", "ABQ")
	h.subscribe("+15055550822", "es", "condado de bernalillo")
	tok := h.organizer("Ana", "+15055550901")
	for _, area := range []string{"Albuquerque", "Bernalillo County"} {
		var b bcJSON
		h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": "hola", "en": "hi"}, "areas": []string{area}}, &b)
		if b.Recipients["es"] != 2 {
			t.Errorf("an alert for %s reaches %d Spanish subscribers, want 2", area, b.Recipients["es"])
		}
	}
}

// TestRelaysSurviveTwilioFailures: when Twilio answers 503 or 429, a page and a volunteer's
// relay are not lost: they wait in the queue and arrive, once each, when Twilio recovers.
func TestRelaysSurviveTwilioFailures(t *testing.T) {
	h := startHotline(t, map[string]string{"HOTLINE_SEND_BACKOFF": "20ms"})
	h.volunteer("Ana", volAna, "es")
	h.text(member, "hola")
	h.fake.FailNext(1, 503, 0) // the page
	h.text(member, "persona")
	page := h.waitFor(volAna, "TOMAR")
	n := strings.Fields(page)[1]
	h.text(volAna, "TOMAR "+n)
	h.waitFor(member, "ya está en la conversación")

	h.fake.FailNext(3, 429, 20429) // the relay, then its first two retries
	if reply := h.text(volAna, "MARKER-RELAY no abra la puerta"); strings.Contains(reply, "<Message>") {
		t.Errorf("the volunteer was answered %s; the relay should go quietly", reply)
	}
	h.waitFor(member, "MARKER-RELAY no abra la puerta")
	time.Sleep(300 * time.Millisecond)
	for to, want := range map[string]string{volAna: "TOMAR " + n, member: "MARKER-RELAY"} {
		if count := h.countTo(to, want); count != 1 {
			t.Errorf("%q reached %s %d times, want once", want, to, count)
		}
	}
}

// TestMemberLeavesCaseWithMenu: a member whose volunteer never closes the case is not held
// in it: MENÚ takes them back to the menus, the case closes and the volunteer is told; a
// greeting before that still goes to the volunteer.
func TestMemberLeavesCaseWithMenu(t *testing.T) {
	h := startHotline(t, nil)
	n := h.claimedCase()

	h.relayed(member, volAna, "Hola")
	h.waitFor(volAna, "#"+n+": Hola")
	reply := h.text(member, "MENÚ")
	if !strings.Contains(reply, "Salió de la conversación. Para pedir un voluntario, envíe PERSONA.") || !strings.Contains(reply, "Envíe un número") {
		t.Fatalf("MENÚ in a case answered %s", reply)
	}
	h.waitFor(volAna, "El miembro del caso "+n+" volvió al menú")
	var cases struct{ Cases []map[string]any }
	h.api(adminToken, "GET", "/admin/cases", nil, &cases)
	if len(cases.Cases) != 0 {
		t.Errorf("open cases after the member left: %v", cases.Cases)
	}
	if reply := h.text(member, "1"); !strings.Contains(reply, "<Message>") {
		t.Errorf("after leaving, 1 was not answered by the menus: %s", reply)
	}
	before := len(h.messagesTo(member))
	h.text(volAna, "¿sigue ahí?")
	time.Sleep(200 * time.Millisecond)
	if after := h.messagesTo(member); len(after) != before {
		t.Errorf("the volunteer reached a member who left the case: %q", after[before:])
	}
}

// TestDangerWordsAfterCaseClosed: when the member's state still names a case that has just
// closed (a volunteer's CLOSE racing the member's message), danger words are not swallowed
// by the closed case: the member gets the rights and a new urgent case pages everyone.
func TestDangerWordsAfterCaseClosed(t *testing.T) {
	h := startHotline(t, nil)
	n := h.claimedCase()
	// The case closes behind the member's back, as a CLOSE racing their message would leave it.
	num, _ := strconv.ParseInt(n, 10, 64)
	if err := h.store().CloseCase(context.Background(), num, "", time.Now(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if reply := h.text(member, "MARKER-AFTER la migra está en mi puerta"); !strings.Contains(reply, messageStart(t, "es", "urgent_home")) {
		t.Fatalf("danger words after the case closed answered %s", reply)
	}
	page := h.waitFor(volAna, "URGENTE")
	if !strings.Contains(page, "MARKER-AFTER") || strings.Contains(page, "Caso "+n+" ") {
		t.Errorf("the urgent page %q is not a new case with the member's words", page)
	}
}

// TestUrgentWaitingIsNeverSilent: in an emergency nobody has claimed yet, every message the
// member sends is answered that it waits for a volunteer; an ordinary request is answered
// once in a while.
func TestUrgentWaitingIsNeverSilent(t *testing.T) {
	h := startHotline(t, nil)
	h.text(member, "se llevaron a mi esposo hace rato")
	for _, msg := range []string{"ya se fueron pero dejaron un papel", "hola???"} {
		if reply := h.text(member, msg); !strings.Contains(reply, messageStart(t, "es", "case_waiting")) {
			t.Errorf("%q in an unclaimed emergency answered %s", msg, reply)
		}
	}
}

// TestVolunteerRetryRelaysOnce: a volunteer's message delivered several times at once (Twilio
// retrying a slow webhook) reaches the member once, and every delivery gets the same answer.
func TestVolunteerRetryRelaysOnce(t *testing.T) {
	h := startHotline(t, nil)
	h.claimedCase()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { h.textAs("SMretry00000000000000000000000001", volAna, "MARKER-ONCE ya voy") })
	}
	wg.Wait()
	h.waitFor(member, "MARKER-ONCE ya voy")
	time.Sleep(300 * time.Millisecond)
	if n := h.countTo(member, "MARKER-ONCE ya voy"); n != 1 {
		t.Errorf("the member got the volunteer's message %d times, want once", n)
	}
}

// TestVolunteerAddedOnOneServerIsStaffOnAnother: each server keeps the staff roster in memory;
// a volunteer added through one is recognised by another at once (the change is announced),
// not taken for a member until the other's copy ages out.
func TestVolunteerAddedOnOneServerIsStaffOnAnother(t *testing.T) {
	h := startHotline(t, nil)
	other := startHotlineSharing(t, h)
	other.text(member, "hola") // the other server has read its roster: no one on it yet
	var v struct{ ID string }
	if code := h.api(adminToken, "POST", "/admin/volunteers", map[string]any{"name": "Ana", "phone": volAna, "languages": []string{"es"}}, &v); code != 201 {
		t.Fatalf("adding volunteer: %d", code)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		reply := other.text(volAna, "ACTIVO")
		if strings.Contains(reply, "turno") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other server still takes the new volunteer for a member: %s", reply)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCasesListsWhatWaitsAndSecondClaimSaysHow: CASOS lists the cases waiting for someone who
// speaks the volunteer's language, not only those they hold; claiming a second case says to
// start messages for that member with its number, since a plain message would be refused.
func TestCasesListsWhatWaitsAndSecondClaimSaysHow(t *testing.T) {
	h := startHotline(t, nil)
	h.volunteer("Ana", volAna, "es")
	const other = "+15055550602"
	h.text(member, "hola")
	h.text(member, "persona")
	h.text(other, "hola")
	h.text(other, "persona")
	var paged []string
	for deadline := time.Now().Add(5 * time.Second); len(paged) < 2 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		paged = paged[:0]
		for n := range pagedCases(h.messagesTo(volAna)) {
			paged = append(paged, n)
		}
	}
	if len(paged) != 2 {
		t.Fatalf("Ana was not paged for two cases: %q", h.messagesTo(volAna))
	}
	slices.Sort(paged)
	first, second := paged[0], paged[1] // the member's, then the other's
	reply := h.text(volAna, "CASOS")
	if !strings.Contains(reply, "No tiene casos abiertos") || !strings.Contains(reply, "#"+first) || !strings.Contains(reply, "#"+second) {
		t.Fatalf("CASOS with two cases waiting answered %s", reply)
	}
	if reply := h.text(volAna, "TOMAR "+first); !strings.Contains(reply, "Lo que escriba aquí le llega") {
		t.Errorf("the first claim answered %s", reply)
	}
	reply = h.text(volAna, "TOMAR "+second)
	if !strings.Contains(reply, "#"+second+" hola") {
		t.Errorf("the second claim does not say how to write to its member: %s", reply)
	}
	if reply := h.text(volAna, "CASOS"); !strings.Contains(reply, "Sus casos: #") || strings.Contains(reply, "Esperan") {
		t.Errorf("CASOS with both claimed answered %s", reply)
	}
	if reply := h.text(volAna, "#"+second+" hola, soy Ana"); strings.Contains(reply, "<Message>") {
		t.Errorf("a message for the second case was answered, not relayed: %s", reply)
	}
	h.waitFor(other, "hola, soy Ana")
}
