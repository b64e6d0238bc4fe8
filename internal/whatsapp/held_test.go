package whatsapp_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/bot"
	"github.com/communityhotline/hotline/internal/dispatch"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/redistest"
	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/twiliofake"
	"github.com/communityhotline/hotline/internal/whatsapp"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const (
	memberAddr = "whatsapp:+15055550177"
	replyES    = "HX000000000000000000000000000001e5"
	statusURL  = "https://hotline.example.org/twilio/status"
)

// rig is the send path of messages to one person as the app wires it (an outbox over the
// WhatsApp Sender over Twilio's REST sender), and the WhatsApp Answerer, on a real Redis and
// the fake Twilio.
type rig struct {
	t       *testing.T
	store   *redisstore.Store
	keys    *privacy.Keys
	members *bot.Members
	fake    *twiliofake.Server
	sender  *whatsapp.Sender
	outbox  dispatch.Outbox
	member  string
	now     time.Time

	mu      sync.Mutex
	decided []string
}

func newRig(t *testing.T, templates whatsapp.Templates) *rig {
	t.Helper()
	rdb, prefix := redistest.Open(t)
	store, err := redisstore.New(rdb, prefix, redisstore.DefaultReplyTTL)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := privacy.NewKeys("whatsapp-test-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	fake := twiliofake.New()
	t.Cleanup(fake.Close)
	rest, err := twilio.NewRESTSender(twilio.RESTConfig{
		AccountSID: twiliofake.AccountSID, AuthToken: twiliofake.AuthToken, From: "+15055550000", APIBase: fake.URL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, store: store, keys: keys, fake: fake, members: bot.NewMembers(bot.Config{Store: store, Keys: keys}),
		now: time.Now()}
	r.member = keys.MemberID(hotline.WhatsApp, memberAddr)
	r.sender = &whatsapp.Sender{Next: rest, Store: store, Keys: keys, Members: r.members, Templates: templates,
		Language: "es", StatusCallback: statusURL, Now: func() time.Time { return r.now },
		OnDecided: func(how string) { r.mu.Lock(); r.decided = append(r.decided, how); r.mu.Unlock() }}
	r.outbox = dispatch.Outbox{Sender: r.sender, Store: store, Keys: keys}
	return r
}

// seed writes the member's state as the engine would: a member at home, whose state keeps
// no Active.
func (r *rig) seed(st flow.State) {
	r.t.Helper()
	err := r.store.Save(context.Background(), r.member, hotline.Commit{
		State: r.keys.Seal(flow.EncodeState(st), privacy.MemberState(r.member)), Now: time.Now()})
	if err != nil {
		r.t.Fatal(err)
	}
}

// relay sends a volunteer's words to the member, as escalation does, through the outbox.
func (r *rig) relay(text string) error {
	_, err := r.outbox.Send(context.Background(), hotline.Outbound{To: memberAddr, Body: text, Member: r.member})
	return err
}

// answerer is the WhatsApp Answerer over an engine that answers "menú" to anything.
func (r *rig) answerer() *whatsapp.Answerer {
	return &whatsapp.Answerer{Next: menu{}, Store: r.store, Keys: r.keys, Members: r.members, Out: r.outbox,
		Now: func() time.Time { return r.now }}
}

type menu struct{}

func (menu) Answer(context.Context, hotline.Inbound) (hotline.Reply, error) {
	return hotline.Reply{Texts: []string{"menú"}, Lang: "es"}, nil
}

func (r *rig) write(a *whatsapp.Answerer, id, text string) []string {
	r.t.Helper()
	got, err := a.Answer(context.Background(), hotline.Inbound{ID: id, Channel: hotline.WhatsApp, From: memberAddr, Text: text})
	if err != nil {
		r.t.Fatal(err)
	}
	a.Drain() // what was held goes in the background

	if got.Lang != "es" {
		r.t.Errorf("the answer's language %q did not pass through", got.Lang)
	}
	return got.Texts
}

// TestHeldReplyReleasedOnNextMessage: a volunteer's replies to a WhatsApp member outside the
// window are held, the member gets the reply template once, and when they write, the held
// replies reach them as written, in order, before the answer, which passes through. After
// that the window is open: the next reply goes at once.
func TestHeldReplyReleasedOnNextMessage(t *testing.T) {
	r := newRig(t, whatsapp.Templates{whatsapp.Reply: {"es": replyES}})
	r.seed(flow.State{Lang: "es", Case: 7})
	first, second := "Hola, soy Vera. ¿Dónde está usted?", "Mañana la llamo: ¡ánimo!"
	for _, text := range []string{first, second} {
		if err := r.relay(text); err != nil {
			t.Fatalf("relaying %q: %v", text, err)
		}
	}
	msgs := r.fake.Messages()
	if len(msgs) != 1 || msgs[0].ContentSID != replyES || msgs[0].Body != "" || msgs[0].To != memberAddr {
		t.Fatalf("sent %+v; want the reply template once, with no body", msgs)
	}
	if !strings.HasPrefix(msgs[0].StatusCallback, statusURL+"?wa=") || strings.Contains(msgs[0].StatusCallback, r.member) {
		t.Errorf("status callback %q: want the member's sealed reference, not their id", msgs[0].StatusCallback)
	}

	r.now = r.now.Add(30 * time.Hour) // the member answers the next day
	a := r.answerer()
	if got := r.write(a, "SM1", "ok"); len(got) != 1 || got[0] != "menú" {
		t.Errorf("the answer %q did not pass through", got)
	}
	msgs = r.fake.Messages()
	if len(msgs) != 3 || msgs[1].Body != first || msgs[2].Body != second || msgs[1].ContentSID != "" {
		t.Fatalf("after the member wrote, sent %+v; want the two held replies, as written", msgs)
	}
	if got := r.write(a, "SM2", "gracias"); len(got) != 1 || len(r.fake.Messages()) != 3 {
		t.Errorf("held replies given twice: %d messages", len(r.fake.Messages()))
	}

	if err := r.relay("De nada."); err != nil {
		t.Fatal(err)
	}
	if msgs := r.fake.Messages(); len(msgs) != 4 || msgs[3].Body != "De nada." {
		t.Errorf("inside the window, sent %+v; want the reply as text", msgs[len(msgs)-1])
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if got := strings.Join(r.decided, ","); got != "template,held,free text,free text,free text" {
		t.Errorf("decided %s", got)
	}
}

// TestReplyWithoutTemplateIsRefused: outside the window with no reply template in the
// member's language, nothing goes and nothing is held; the caller is told why.
func TestReplyWithoutTemplateIsRefused(t *testing.T) {
	r := newRig(t, whatsapp.Templates{whatsapp.Reply: {"en": replyES}})
	r.seed(flow.State{Lang: "es", Case: 7})
	err := r.relay("Hola")
	if !errors.Is(err, whatsapp.ErrNoTemplate) || hotline.SendErrorKindOf(err) != hotline.Permanent {
		t.Fatalf("relay: %v; want a permanent ErrNoTemplate", err)
	}
	if n := r.fake.Count(); n != 0 {
		t.Errorf("sent %d messages", n)
	}
	r.write(r.answerer(), "SM1", "hola")
	if n := r.fake.Count(); n != 0 {
		t.Errorf("something was held after all: %d sent when the member wrote", n)
	}
}

// TestHeldDroppedForOptOut: a member whose message opts them out gets nothing held.
func TestHeldDroppedForOptOut(t *testing.T) {
	r := newRig(t, whatsapp.Templates{whatsapp.Reply: {"es": replyES}})
	r.seed(flow.State{Lang: "es", Case: 7})
	if err := r.relay("Hola"); err != nil {
		t.Fatal(err)
	}
	// What their BAJA did.
	if err := r.members.Update(context.Background(), r.member, func(st *flow.State) bool { st.OptOut(); return true }); err != nil {
		t.Fatal(err)
	}
	r.write(r.answerer(), "SM1", "BAJA")
	if msgs := r.fake.Messages(); len(msgs) != 1 {
		t.Errorf("sent %+v after the opt-out; want the template alone", msgs)
	}
}

// TestRelayToOptedOutRefused: a volunteer's reply racing the member's PARAR is neither sent nor
// held, nor announced by a template: the member asked for nothing more.
func TestRelayToOptedOutRefused(t *testing.T) {
	r := newRig(t, whatsapp.Templates{whatsapp.Reply: {"es": replyES}})
	r.seed(flow.State{Lang: "es", OptedOut: true})
	err := r.relay("Hola")
	var se *hotline.SendError
	if !errors.As(err, &se) || se.Kind != hotline.OptedOut {
		t.Errorf("relay to an opted-out member: %v; want an opt-out refusal", err)
	}
	if msgs := r.fake.Messages(); len(msgs) != 0 {
		t.Errorf("sent %+v to an opted-out member", msgs)
	}
}

// TestHeldLimit: past MaxHeld, a reply is refused, not silently dropped.
func TestHeldLimit(t *testing.T) {
	r := newRig(t, whatsapp.Templates{whatsapp.Reply: {"es": replyES}})
	r.seed(flow.State{Lang: "es", Case: 7})
	for i := range whatsapp.MaxHeld {
		if err := r.relay("mensaje"); err != nil {
			t.Fatalf("relay %d: %v", i, err)
		}
	}
	if err := r.relay("uno más"); !errors.Is(err, whatsapp.ErrTooManyHeld) {
		t.Fatalf("relay past the limit: %v; want ErrTooManyHeld", err)
	}
}

// TestTemplateFailureHoldsNothing: when Twilio fails the template for a passing reason, the
// outbox queues the reply whole and nothing stays held, so the member is not given it twice.
func TestTemplateFailureHoldsNothing(t *testing.T) {
	r := newRig(t, whatsapp.Templates{whatsapp.Reply: {"es": replyES}})
	r.seed(flow.State{Lang: "es", Case: 7})
	if err := r.store.EnsureQueue(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.fake.FailNext(1, 503, 0)
	if err := r.relay("Hola"); err != nil {
		t.Fatalf("relay: %v; want it queued", err)
	}
	if d, _ := r.store.QueueDepth(context.Background()); d["direct"] != 1 {
		t.Errorf("queue depth %v; want the reply queued", d)
	}
	r.write(r.answerer(), "SM1", "hola")
	if n := r.fake.Count(); n != 0 {
		t.Errorf("%d messages given from what was held; want none (the queue has it)", n)
	}
}

// TestSMSAndStaffPassThrough: an SMS member, a volunteer (no member id) and a template
// already decided go untouched, whatever the window.
func TestSMSAndStaffPassThrough(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	for _, m := range []hotline.Outbound{
		{To: "+15055550177", Body: "sms", Member: r.keys.MemberID(hotline.SMS, "+15055550177")},
		{To: "whatsapp:+15055550990", Body: "página"},
		{To: memberAddr, Member: r.member, ContentSid: replyES},
	} {
		if _, err := r.sender.Send(ctx, m); err != nil {
			t.Errorf("%+v: %v", m, err)
		}
	}
	if msgs := r.fake.Messages(); len(msgs) != 3 || msgs[0].StatusCallback != "" {
		t.Errorf("sent %+v; want all three as given", msgs)
	}
}

// TestReports: a status callback's reference opens to its member only: 63016 forgets their
// window (the record and the state's last message both, or the next message would be free
// text refused again), 63003 marks them undeliverable (once, however often reported); a
// reference that does not open names nobody.
func TestReports(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	r.seed(flow.State{Lang: "es", Areas: []string{"taos"}, Address: memberAddr, Node: "policy/ask", Active: time.Now().Unix()})
	if _, err := r.store.WhatsAppWrote(ctx, r.member, time.Now()); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(whatsapp.StatusCallback(statusURL+"?bc=b1", r.keys, r.member))
	if err != nil || u.Query().Get("bc") != "b1" {
		t.Fatalf("callback %v: %v", u, err)
	}
	ref := u.Query().Get("wa")
	reports := whatsapp.Reports{Keys: r.keys, Store: r.store, Members: r.members}

	if err := reports.WindowClosed(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if last, _ := r.store.WhatsAppLastWrote(ctx, r.member); !last.IsZero() {
		t.Errorf("window still open after 63016: %v", last)
	}
	if st, _ := r.members.State(ctx, r.member); st.Active != 0 {
		t.Errorf("the state still dates the member's last message after 63016: %d", st.Active)
	}
	for range 2 {
		if err := reports.NotAUser(ctx, ref); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := r.members.State(ctx, r.member); !st.Undeliverable || len(st.Areas) != 1 {
		t.Errorf("after 63003: %+v; want undeliverable, still subscribed", st)
	}
	other, _ := privacy.NewKeys("another-secret-altogether-0123")
	u, _ = url.Parse(whatsapp.StatusCallback(statusURL, other, r.member))
	for _, bad := range []string{u.Query().Get("wa"), "not base64!", ""} {
		if err := reports.NotAUser(ctx, bad); !errors.Is(err, whatsapp.ErrBadReference) {
			t.Errorf("reference %q: %v, want ErrBadReference", bad, err)
		}
	}
}
