package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"
)

// waOf is the WhatsApp address of a phone number, as Twilio gives it in From.
func waOf(phone string) string { return "whatsapp:" + phone }

// linkCode waits for the link message texted to phone and returns its code.
func (h *hotlineProc) linkCode(phone string) string {
	h.t.Helper()
	msg := h.waitFor(phone, "vincular WhatsApp")
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(msg)
	if code == "" {
		h.t.Fatalf("no code in %q", msg)
	}
	return code
}

// memberAnswer reports whether a reply is the member engine's (a menu, in a language or to
// choose one), not a volunteer command's.
func memberAnswer(twiml string) bool {
	return !strings.Contains(twiml, "Sus casos") && !strings.Contains(twiml, "No tiene casos") &&
		(strings.Contains(twiml, "Elija su idioma") || strings.Contains(twiml, "Envíe"))
}

// TestStaffLinkWhatsAppBySMSCode: a volunteer writing from WhatsApp is a member until they
// link it. VINCULAR texts a code by SMS to their registered phone; a wrong code links
// nothing; the right one does, and then their commands work on WhatsApp as by SMS, their
// words reach the member on the member's channel, and pages still come by SMS. A stranger's
// VINCULAR reads the same and texts no one. The link is kept with the record: another
// process reads it from Redis, and removing the volunteer removes it.
func TestStaffLinkWhatsAppBySMSCode(t *testing.T) {
	h := startHotline(t, nil)
	n := h.claimedCase()
	anaWA := waOf(volAna)

	// Not linked: the member menus, and nothing reaches the case.
	if r := h.text(anaWA, "CASOS"); !memberAnswer(r) {
		t.Fatalf("unlinked, Ana's WhatsApp CASOS answered %s", r)
	}

	sent := h.text(anaWA, "vincular")
	if !strings.Contains(sent, "Si este número es del equipo, le enviamos un código por SMS") {
		t.Fatalf("VINCULAR answered %s", sent)
	}
	code := h.linkCode(volAna)
	for _, m := range h.fake.Messages() {
		if strings.HasPrefix(m.To, "whatsapp:") && strings.Contains(m.Body, code) {
			t.Errorf("the code went to WhatsApp: %+v", m)
		}
	}

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if r := h.text(anaWA, wrong); !strings.Contains(r, "no es correcto") {
		t.Errorf("a wrong code answered %s", r)
	}
	if r := h.text(anaWA, "CASOS"); !memberAnswer(r) {
		t.Fatalf("a wrong code linked WhatsApp: CASOS answered %s", r)
	}

	// The retried webhook of the right code gets the same answer, and links once.
	sid := "SMwalink0000000000000000000000001"
	done := h.textAs(sid, anaWA, code)
	if !strings.Contains(done, "quedó vinculado") {
		t.Fatalf("the right code answered %s", done)
	}
	if again := h.textAs(sid, anaWA, code); again != done {
		t.Errorf("the retried webhook answered %s, the first %s", again, done)
	}
	// The code is never relayed to the member of Ana's case, first delivery or retry.
	time.Sleep(200 * time.Millisecond)
	if h.countTo(member, code) != 0 {
		t.Errorf("the member was sent the code: %q", h.messagesTo(member))
	}

	if r := h.text(anaWA, "CASOS"); !strings.Contains(r, "Sus casos: #"+n) {
		t.Errorf("linked, Ana's WhatsApp CASOS answered %s", r)
	}
	if r := h.text(anaWA, "MARKER-desde WhatsApp"); strings.Contains(r, "<Message>") {
		t.Errorf("Ana's words to the member were answered %s", r)
	}
	h.waitFor(member, "MARKER-desde WhatsApp")
	for _, m := range h.fake.Messages() {
		if strings.Contains(m.Body, "MARKER-desde WhatsApp") && m.To != member {
			t.Errorf("the relay went to %s, not the member's SMS", m.To)
		}
	}

	// Pages stay SMS.
	h.fake.Reset()
	h.text("+15055550602", "hola")
	h.text("+15055550602", "persona")
	h.waitFor(volAna, "TOMAR")
	if got := h.messagesTo(anaWA); len(got) != 0 {
		t.Errorf("pages went to WhatsApp: %q", got)
	}

	// A stranger's VINCULAR reads the same, and texts no one.
	stranger := "+15055550999"
	if r := h.text(waOf(stranger), "Vincular"); r != sent {
		t.Errorf("a stranger's VINCULAR answered %s, the volunteer's %s", r, sent)
	}
	if r := h.text(waOf(stranger), "LINK"); !strings.Contains(r, "If this number is on the team, we texted it a code") {
		t.Errorf("a stranger's LINK answered %s", r)
	}
	time.Sleep(200 * time.Millisecond)
	if got := h.messagesTo(stranger); len(got) != 0 {
		t.Errorf("a stranger's VINCULAR texted %q", got)
	}
	// A stranger's six digits are a member's message like any other.
	if r := h.text(waOf(stranger), "123456"); strings.Contains(r, "código") {
		t.Errorf("a stranger's six digits answered %s", r)
	}

	// Another process reads the link from Redis.
	h2 := startHotlineSharing(t, h)
	if r := h2.text(anaWA, "CASOS"); !strings.Contains(r, "Sus casos: #"+n) {
		t.Errorf("on another process, Ana's WhatsApp CASOS answered %s", r)
	}

	entries, err := h.store().Audit(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	linked := false
	for _, e := range entries {
		if e.Action == "roster.whatsapp" && e.Via == "sms" && strings.Contains(e.Detail, "linked WhatsApp") && strings.HasPrefix(e.Actor, "volunteer:") {
			linked = true
		}
	}
	if !linked {
		t.Errorf("no audit entry for the link: %+v", entries)
	}

	// Removed from the team, the WhatsApp address is a member's again.
	var vols struct{ Volunteers []struct{ ID, Name string } }
	h.api(adminToken, "GET", "/admin/volunteers", nil, &vols)
	if len(vols.Volunteers) != 1 {
		t.Fatalf("volunteers: %+v", vols)
	}
	for _, v := range vols.Volunteers {
		if v.Name == "Ana" {
			if code := h.api(adminToken, "DELETE", "/admin/volunteers/"+v.ID, nil, nil); code != 204 && code != 200 {
				t.Fatalf("removing Ana: %d", code)
			}
		}
	}
	if r := h.text(anaWA, "CASOS"); !memberAnswer(r) {
		t.Errorf("removed, Ana's WhatsApp CASOS answered %s", r)
	}
}
