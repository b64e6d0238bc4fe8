package dispatch_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/dispatch"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/ratelimit"
	"github.com/communityhotline/hotline/internal/whatsapp"
)

const alertTemplateES = "HX0000000000000000000000000000a1e5"

// subscribeOn makes address a subscriber of area in lang on its channel, as the engine
// would, and returns their member id.
func (r *outboxRig) subscribeOn(ch hotline.Channel, address, lang, area string) string {
	r.t.Helper()
	id := r.keys.MemberID(ch, address)
	r.seedMember(id, flow.State{Lang: lang, Areas: []string{area}, Address: address})
	sub := hotline.Subscription{Areas: []string{area}, Lang: lang, Channel: ch}
	if err := r.store.SyncSubscriptions(context.Background(), id, hotline.Subscription{}, sub); err != nil {
		r.t.Fatal(err)
	}
	return id
}

// TestAlertOnWhatsApp: an alert reaches a WhatsApp member who wrote within the window as
// the organizer wrote it, accents and all, even with SMS sent in GSM-7; one who did not, as
// the alert template with the text as its variable; one whose language has no template,
// not at all, counted apart. SMS members are untouched. Each WhatsApp message carries the
// member's sealed reference for its delivery report, and is paced by WhatsApp's limiter.
func TestAlertOnWhatsApp(t *testing.T) {
	r := newOutboxRig(t)
	const (
		inside  = "whatsapp:+15055550301"
		outside = "whatsapp:+15055550302"
		english = "whatsapp:+15055550303"
		sms     = "+15055550304"
	)
	es := "¡Retén en la Av. Central!\nNo maneje por ahí; avise a su vecino."
	r.subscribeOn(hotline.WhatsApp, inside, "es", "albuquerque")
	r.subscribeOn(hotline.WhatsApp, outside, "es", "albuquerque")
	r.subscribeOn(hotline.WhatsApp, english, "en", "albuquerque")
	r.subscribeOn(hotline.SMS, sms, "es", "albuquerque")
	// The first wrote three hours ago (their state, at home, keeps no Active: the record
	// does); the second wrote two days ago, which the record has forgotten.
	if _, err := r.store.WhatsAppWrote(t.Context(), r.keys.MemberID(hotline.WhatsApp, inside), time.Now().Add(-3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	r.queueBroadcast("wa1", map[string]string{"es": es, "en": "Checkpoint on Central Ave."}, "albuquerque", false)

	var mu sync.Mutex
	var outcomes []string
	waPace := &countingLimiter{}
	r.start("wa-test", 2, func(c *dispatch.Config) {
		c.GSM = true
		c.StatusCallback = "https://hotline.example.org/twilio/status"
		c.OnOutcome = func(o string) { mu.Lock(); outcomes = append(outcomes, o); mu.Unlock() }
		c.WhatsApp = dispatch.WhatsApp{Windows: r.store, Limiter: waPace, Rate: 0,
			Templates: whatsapp.Templates{whatsapp.Alert: {"es": alertTemplateES}}}
	})
	b := r.waitDone("wa1")

	got := map[string]struct{ body, sid, vars, callback string }{}
	for _, m := range r.fake.Messages() {
		got[m.To] = struct{ body, sid, vars, callback string }{m.Body, m.ContentSID, m.ContentVariables, m.StatusCallback}
	}
	if len(got) != 3 {
		t.Fatalf("sent to %d recipients (%v); want 3", len(got), got)
	}
	if m := got[inside]; m.body != es || m.sid != "" {
		t.Errorf("inside the window: %+v; want the text as written", m)
	}
	var vars map[string]string
	if m := got[outside]; m.sid != alertTemplateES || m.body != "" || json.Unmarshal([]byte(m.vars), &vars) != nil ||
		vars["1"] != "¡Retén en la Av. Central! No maneje por ahí; avise a su vecino." {
		t.Errorf("outside the window: %+v; want the alert template with the text on one line", m)
	}
	// GSM-7 has é and ¡, not í: the SMS loses the accent the WhatsApp text keeps.
	if m := got[sms]; m.body != "¡Retén en la Av. Central!\nNo maneje por ahi; avise a su vecino." {
		t.Errorf("SMS in GSM-7: %q", m.body)
	}
	for _, to := range []string{inside, outside} {
		if !strings.Contains(got[to].callback, "bc=wa1&wa=") {
			t.Errorf("%s: status callback %q lacks the member's reference", to, got[to].callback)
		}
	}
	if strings.Contains(got[sms].callback, "wa=") {
		t.Errorf("an SMS callback carries a WhatsApp reference: %q", got[sms].callback)
	}
	if _, sent := got[english]; sent {
		t.Errorf("an English member with no English template was sent %+v", got[english])
	}
	if b.Counts.Sent != 3 || b.Counts.SkippedNoTemplate != 1 || b.Counts.SkippedOptedOut != 1 {
		t.Errorf("counts %+v; want 3 sent, 1 skipped for want of a template", b.Counts)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(strings.Join(outcomes, ","), "skipped_no_template") {
		t.Errorf("outcomes %v: the skip was not reported for metrics", outcomes)
	}
	if n := waPace.taken(); n != 2 {
		t.Errorf("WhatsApp's limiter was asked for %d units; want 2, one a WhatsApp message", n)
	}
}

// countingLimiter lets everything go and counts what it was asked for.
type countingLimiter struct {
	mu sync.Mutex
	n  int
}

func (l *countingLimiter) Take(_ context.Context, n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n += n
	return nil
}

func (l *countingLimiter) taken() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// TestAlertOnWhatsAppWithoutWindowRecord: with no record of WhatsApp messages (Windows nil),
// a member mid-conversation is still known inside by their state's Active.
func TestAlertOnWhatsAppWithoutWindowRecord(t *testing.T) {
	r := newOutboxRig(t)
	const addr = "whatsapp:+15055550311"
	id := r.keys.MemberID(hotline.WhatsApp, addr)
	r.seedMember(id, flow.State{Lang: "es", Areas: []string{"taos"}, Address: addr, Node: "rights/menu", Active: time.Now().Add(-time.Hour).Unix()})
	r.store.SyncSubscriptions(t.Context(), id, hotline.Subscription{}, hotline.Subscription{Areas: []string{"taos"}, Lang: "es", Channel: hotline.WhatsApp})
	r.queueBroadcast("wa2", map[string]string{"es": "Aviso"}, "taos", false)
	r.start("wa-test", 1, func(c *dispatch.Config) {
		c.WhatsApp = dispatch.WhatsApp{Limiter: ratelimit.New(r.rdb, r.prefix+":rate:wa", 0, 1)}
	})
	r.waitDone("wa2")
	if msgs := r.fake.Messages(); len(msgs) != 1 || msgs[0].Body != "Aviso" {
		t.Errorf("sent %+v; want the text", msgs)
	}
}
