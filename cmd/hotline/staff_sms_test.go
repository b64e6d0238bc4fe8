package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// draftFromReport runs a report through a volunteer's TOMAR and CONFIRMAR and returns the
// draft's id, with organizers Olga (es) and Owen (en) on the roster.
func draftFromReport(t *testing.T, h *hotlineProc) string {
	t.Helper()
	h.volunteer("Ana", volAna, "es")
	for _, msg := range []string{"hola", "5", "Dos camionetas de ICE", "Albuquerque", "parque Tingley", "ahorita"} {
		h.text(member, msg)
	}
	n := strings.Fields(h.waitFor(volAna, "REPORTE"))[1]
	h.text(volAna, "TOMAR "+n)
	reply := h.text(volAna, "CONFIRMAR "+n)
	if !strings.Contains(reply, "verificado") {
		t.Fatalf("verify answered %s", reply)
	}
	return strings.Fields(reply[strings.Index(reply, "alerta ")+len("alerta "):])[0]
}

// TestReportDraftBySMS: organizers get a verified report's draft with both texts, the place
// and an absolute time, and can show, send or discard it by SMS in either language, however
// it is capitalized or accented.
func TestReportDraftBySMS(t *testing.T) {
	h := startHotline(t, nil)
	h.organizer("Olga", "+15055550901")
	if code := h.api(adminToken, "POST", "/admin/organizers", map[string]string{"name": "Owen", "phone": "+15055550902", "lang": "en"}, nil); code != 201 {
		t.Fatalf("adding Owen: %d", code)
	}
	h.subscribe("+15055550602", "es", "ABQ")
	id := draftFromReport(t, h)
	zone, err := time.LoadLocation("America/Denver")
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Now().In(zone).Format("15:04")
	es := h.waitFor("+15055550901", "Borrador de alerta "+id)
	for _, want := range []string{"ES: Reporte verificado", "EN: Verified report", `"parque Tingley"`, `"Dos camionetas de ICE"`, "a las " + clock[:3], "VER " + id, "ENVIAR " + id, "DESCARTAR " + id} {
		if !strings.Contains(es, want) {
			t.Errorf("the Spanish notice %q lacks %q", es, want)
		}
	}
	if strings.Contains(es, "ahorita") {
		t.Errorf("the draft kept a relative time: %q", es)
	}
	en := h.waitFor("+15055550902", "Alert draft "+id)
	for _, want := range []string{"SHOW " + id, "SEND " + id, "DISCARD " + id, "The person who reported it wrote"} {
		if !strings.Contains(en, want) {
			t.Errorf("the English notice %q lacks %q", en, want)
		}
	}
	for _, show := range []string{"VER " + id, "ver " + strings.ToUpper(id), "Show " + id} {
		if r := h.text("+15055550901", show); !strings.Contains(r, "Alerta "+id+" (borrador) para Albuquerque") || !strings.Contains(r, "1 en español") || !strings.Contains(r, "EN: Verified") {
			t.Errorf("%q answered %s", show, r)
		}
	}
	if r := h.text("+15055550902", "DÉSCARTAR zzzzzzzz"); !strings.Contains(r, "found no alert zzzzzzzz") {
		t.Errorf("discarding an unknown id answered %s", r)
	}
	if r := h.text("+15055550902", "Envíar "+id); !strings.Contains(r, "Sending alert "+id) {
		t.Fatalf("sending answered %s", r)
	}
	h.waitFor("+15055550602", "Reporte verificado")
	if r := h.text("+15055550901", "descartar "+id); !strings.Contains(r, "ya no se puede hacer eso") {
		t.Errorf("discarding an alert being sent answered %s", r)
	}
	// A second draft is discarded, in Spanish with an accent and capitals.
	h.fake.Reset()
	id2 := draftFromReportAgain(t, h)
	if r := h.text("+15055550901", "DESCÁRTAR "+id2); !strings.Contains(r, "Alerta "+id2+" descartada") {
		t.Errorf("discarding answered %s", r)
	}
	if r := h.text("+15055550901", "ENVIAR "+id2); !strings.Contains(r, "descartada") {
		t.Errorf("sending a discarded draft answered %s", r)
	}
	entries, err := h.store().Audit(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range entries {
		got[e.Action+" "+e.Via] = true
		if strings.Contains(e.Detail, "camionetas") || strings.Contains(e.Object, "+1505") {
			t.Errorf("an audit entry holds a member's words or number: %+v", e)
		}
	}
	for _, want := range []string{"case.claim sms", "report.verify sms", "broadcast.create sms", "broadcast.send sms", "broadcast.cancel sms"} {
		if !got[want] {
			t.Errorf("no audit entry %q in %v", want, got)
		}
	}
}

func draftFromReportAgain(t *testing.T, h *hotlineProc) string {
	t.Helper()
	for _, msg := range []string{"menu", "5", "Un retén", "Albuquerque", "Central", "hace rato"} {
		h.text(member, msg)
	}
	n := strings.Fields(h.waitFor(volAna, "REPORTE"))[1]
	h.text(volAna, "TOMAR "+n)
	reply := h.text(volAna, "CONFIRMAR "+n)
	return strings.Fields(reply[strings.Index(reply, "alerta ")+len("alerta "):])[0]
}

// TestApprovalIsTwoSteps: with approvals on, a draft made with the CLI is not sent nor sent
// for approval; the creator's send asks the others, with both texts; an approval before any
// request to send only approves; the creator cannot approve their own.
func TestApprovalIsTwoSteps(t *testing.T) {
	h := startHotline(t, map[string]string{"HOTLINE_BROADCAST_APPROVALS": "1"})
	h.subscribe("+15055550811", "es", "ABQ")
	ana := h.organizer("Ana", "+15055550901")
	luis := h.organizer("Luis", "+15055550902")
	cli := func(token string, args ...string) string {
		var out bytes.Buffer
		env := envOf(map[string]string{"HOTLINE_URL": h.url, "HOTLINE_TOKEN": token})
		if err := run(context.Background(), append([]string{"broadcast"}, args...), env, nil, &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String()
	}
	out := cli(ana, "create", "--area", "Albuquerque", "--es", "Retén en Central", "--en", "Checkpoint on Central")
	id := strings.Fields(out)[1]
	time.Sleep(200 * time.Millisecond)
	if got := h.messagesTo("+15055550902"); len(got) != 0 {
		t.Errorf("creating texted Luis %q", got)
	}
	if st := cli(ana, "status", id); !strings.Contains(st, "draft") || !strings.Contains(st, "es: Retén en Central") || !strings.Contains(st, "en: Checkpoint on Central") || !strings.Contains(st, "areas: Albuquerque") {
		t.Errorf("status printed %q", st)
	}
	if r := h.text("+15055550901", "APROBAR "+id); !strings.Contains(r, "No puede aprobar su propia alerta") {
		t.Errorf("the creator approving answered %s", r)
	}
	if out := cli(ana, "send", id); !strings.Contains(out, "awaiting_approval") {
		t.Fatalf("send printed %q", out)
	}
	asked := h.waitFor("+15055550902", "APROBAR "+id)
	for _, want := range []string{"Ana pide aprobar", "ES: Retén en Central", "EN: Checkpoint on Central", "Albuquerque"} {
		if !strings.Contains(asked, want) {
			t.Errorf("Luis was asked %q, lacking %q", asked, want)
		}
	}
	if got := h.messagesTo("+15055550811"); len(got) != 0 {
		t.Fatalf("the subscriber got %q before the approval", got)
	}
	if r := h.text("+15055550902", "aprobar "+id); !strings.Contains(r, "Enviando la alerta "+id) {
		t.Fatalf("approving answered %s", r)
	}
	h.waitFor("+15055550811", "Retén en Central")
	h.waitFor("+15055550901", "Luis aprobó la alerta "+id+"; se está enviando")

	// Approved before anyone asked to send: approved, not sent, and the creator is told.
	out = cli(ana, "create", "--area", "Albuquerque", "--es", "Segunda alerta", "--en", "Second alert")
	id2 := strings.Fields(out)[1]
	if out := cli(luis, "approve", id2); !strings.Contains(out, "draft") || !strings.Contains(out, "nobody has asked to send it") {
		t.Errorf("approving a draft printed %q", out)
	}
	h.waitFor("+15055550901", "ENVIAR "+id2)
	time.Sleep(300 * time.Millisecond)
	for _, m := range h.messagesTo("+15055550811") {
		if strings.Contains(m, "Segunda alerta") {
			t.Fatalf("an approval nobody asked to send sent it")
		}
	}
	if out := cli(ana, "send", id2); !strings.Contains(out, "sending") {
		t.Errorf("sending an approved draft printed %q", out)
	}
	h.waitFor("+15055550811", "Segunda alerta")
	entries, err := h.store().Audit(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	var cliApprove, smsApprove bool
	for _, e := range entries {
		cliApprove = cliApprove || (e.Action == "broadcast.approve" && e.Via == "cli" && e.ActorName == "Luis")
		smsApprove = smsApprove || (e.Action == "broadcast.approve" && e.Via == "sms" && e.ActorName == "Luis")
	}
	if !cliApprove || !smsApprove {
		t.Errorf("audit = %+v", entries)
	}
}
