package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/twiliofake"
)

const (
	waAlertES = "HX000000000000000000000000000a1e55"
	waReplyES = "HX000000000000000000000000000e1e55"
)

// closeWindow makes the hotline forget that the WhatsApp member at addr wrote recently, as
// if their last message were two days old (a member at home keeps no Active in their state;
// the window's record is all there is).
func (h *hotlineProc) closeWindow(addr string) {
	h.t.Helper()
	keys, err := privacy.NewKeys(h.env["HOTLINE_SECRET"])
	if err != nil {
		h.t.Fatal(err)
	}
	rdb := h.redisOf()
	found := h.keysOf(rdb, h.env["HOTLINE_KEY_PREFIX"]+":m:*:"+keys.MemberID(hotline.WhatsApp, addr)+":wa")
	if len(found) != 1 {
		h.t.Fatalf("the window record of %s: %v", addr, found)
	}
	rdb.Del(context.Background(), found...)
}

// message is the last message the fake received for to.
func (h *hotlineProc) lastTo(to string) twiliofake.Message {
	h.t.Helper()
	var last twiliofake.Message
	for _, m := range h.fake.Messages() {
		if m.To == to {
			last = m
		}
	}
	return last
}

// TestWhatsAppEndToEnd: members subscribe on WhatsApp as by SMS. An alert's preview counts
// them apart and not as SMS segments; one who wrote today gets the alert as written
// (accents kept though SMS goes in GSM-7), one who has not, the alert template; a failure
// Twilio reports for a WhatsApp address (63003) marks its member so the next alert skips
// them. A volunteer's reply to a member outside the window is held behind the reply
// template and given when the member writes.
func TestWhatsAppEndToEnd(t *testing.T) {
	h := startHotline(t, map[string]string{"HOTLINE_SMS_ENCODING": "gsm",
		"HOTLINE_WA_TEMPLATE_ALERT_ES": waAlertES, "HOTLINE_WA_TEMPLATE_REPLY_ES": waReplyES})
	const (
		waToday = "whatsapp:+15055550811"
		waOld   = "whatsapp:+15055550812"
		sms     = "+15055550813"
	)
	for _, p := range []string{waToday, waOld, sms} {
		h.subscribe(p, "es", "ABQ")
	}
	h.closeWindow(waOld)
	tok := h.organizer("Ana", "+15055550901")

	es := "¡Retén en la calle Central! Niños: no salgan de aquí."
	var b struct {
		bcJSON
		WhatsApp      map[string]int64 `json:"whatsapp"`
		SegmentsTotal int64            `json:"segments_total"`
		NoTemplate    int64            `json:"skipped_no_template"`
	}
	if code := h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": es, "en": "Checkpoint"}, "areas": []string{"Albuquerque"}}, &b); code != 201 {
		t.Fatalf("create: %d %+v", code, b)
	}
	if b.Recipients["es"] != 3 || b.WhatsApp["es"] != 2 || b.SegmentsTotal != 1 {
		t.Errorf("preview: %d recipients, %v on WhatsApp, %d SMS segments; want 3, 2, 1", b.Recipients["es"], b.WhatsApp, b.SegmentsTotal)
	}
	h.api(tok, "POST", "/admin/broadcasts/"+b.ID+"/send", nil, nil)
	if done := h.waitDone(tok, b.ID, 10*time.Second); done.Sent != 3 {
		t.Errorf("counts %+v", done)
	}
	if m := h.lastTo(waToday); m.Body != es || m.ContentSID != "" {
		t.Errorf("to the member who wrote today: %+v; want the text as written", m)
	}
	if m := h.lastTo(waOld); m.ContentSID != waAlertES || !strings.Contains(m.ContentVariables, "no salgan de aquí") {
		t.Errorf("to the member outside the window: %+v; want the alert template", m)
	}
	// GSM-7 has é, ñ and ¡, not í.
	if m := h.lastTo(sms); m.Body != "¡Retén en la calle Central! Niños: no salgan de aqui." {
		t.Errorf("by SMS in GSM-7: %q", m.Body)
	}

	// Twilio reports the old number is no WhatsApp user any more.
	if err := h.fake.SendStatusCallback(context.Background(), h.lastTo(waOld).SID, "undelivered", 63003); err != nil {
		t.Fatal(err)
	}
	var b2 bcJSON
	h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": "Otra alerta", "en": "x"}, "areas": []string{"Albuquerque"}}, &b2)
	h.api(tok, "POST", "/admin/broadcasts/"+b2.ID+"/send", nil, nil)
	if done := h.waitDone(tok, b2.ID, 10*time.Second); done.Sent != 2 || done.Failed != 1 {
		t.Errorf("second alert: %+v; want the member Twilio reported skipped as undeliverable", done)
	}
	if m := h.lastTo(waOld); m.ContentSID != waAlertES {
		t.Errorf("the undeliverable member was sent %+v", m)
	}
	resp, err := http.Get(h.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), `hotline_whatsapp_failures_total{reason="not_a_user"} 1`) ||
		!strings.Contains(string(raw), `hotline_sends_total{outcome="sent"} 5`) {
		t.Errorf("/metrics does not count the WhatsApp failure or the sends")
	}

	// A case with a volunteer. Twilio then reports a message to the member refused as
	// outside the window (63016): the hotline took it for open, and forgets it.
	h.volunteer("Ana", volAna, "es")
	h.text(waToday, "persona")
	n := strings.Fields(h.waitFor(volAna, "TOMAR"))[1]
	h.text(volAna, "TOMAR "+n)
	joined := h.lastTo(waToday)
	if !strings.Contains(joined.StatusCallback, "wa=") {
		t.Fatalf("a message to one WhatsApp member carries no member reference: %q", joined.StatusCallback)
	}
	if err := h.fake.SendStatusCallback(context.Background(), joined.SID, "undelivered", 63016); err != nil {
		t.Fatal(err)
	}
	before := len(h.fake.Messages())
	reply := "Hola, soy Ana. ¿Está usted a salvo?"
	h.text(volAna, reply)
	if m := h.lastTo(waToday); m.ContentSID != waReplyES || len(h.fake.Messages()) != before+1 {
		t.Fatalf("the volunteer's reply outside the window went as %+v; want the reply template alone", m)
	}
	h.text(waToday, "sí")
	h.waitFor(waToday, reply) // sent in the background, once the member wrote
	if got := h.messagesTo(waToday); got[len(got)-1] != reply {
		t.Errorf("when the member wrote, they got %q last; want the held reply", got[len(got)-1])
	}
	h.waitFor(volAna, "#"+n+": si") // the member's answer, relayed by SMS in GSM-7
}

// TestWhatsAppPreviewJSON: the admin API's preview names its WhatsApp count (the field the
// console and the CLI read).
func TestWhatsAppPreviewJSON(t *testing.T) {
	h := startHotline(t, nil)
	h.subscribe("whatsapp:+15055550821", "es", "ABQ")
	tok := h.organizer("Ana", "+15055550901")
	var raw json.RawMessage
	h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": "hola", "en": "hi"}, "areas": []string{"Albuquerque"}}, &raw)
	var p struct {
		WhatsApp      map[string]int64 `json:"whatsapp"`
		SegmentsTotal *int64           `json:"segments_total"`
	}
	if err := json.Unmarshal(raw, &p); err != nil || p.WhatsApp["es"] != 1 || p.SegmentsTotal == nil || *p.SegmentsTotal != 0 {
		t.Errorf("preview %s: want whatsapp.es 1 and no SMS segments", raw)
	}
}
