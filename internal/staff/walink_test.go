package staff_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/redistest"
	"github.com/communityhotline/hotline/internal/staff"
)

// idRenderer renders a message as "<channel>:<lang>:<id>" and its code, if any: enough to
// tell which message went where, in which language.
type idRenderer struct{}

func (idRenderer) Render(ch hotline.Channel, lang string, replies []flow.Reply) ([]string, error) {
	var out []string
	for _, r := range replies {
		out = append(out, fmt.Sprintf("%s:%s:%s %s", ch, lang, r.ID, r.Data["Code"]))
	}
	return out, nil
}

// whoAnswers records which part of the hotline answered each message.
type whoAnswers struct{ got []string }

func (w *whoAnswers) Answer(_ context.Context, in hotline.Inbound) (hotline.Reply, error) {
	w.got = append(w.got, "member")
	return hotline.Reply{Texts: []string{"member menu"}}, nil
}

func (w *whoAnswers) Command(_ context.Context, v hotline.VolunteerRecord, in hotline.Inbound) ([]string, error) {
	w.got = append(w.got, "volunteer "+v.Name)
	return []string{"volunteer command"}, nil
}

type orgAnswers struct{ w *whoAnswers }

func (o orgAnswers) Answer(_ context.Context, org hotline.OrganizerRecord, in hotline.Inbound) ([]string, error) {
	o.w.got = append(o.w.got, "organizer "+org.Name)
	return []string{"organizer command"}, nil
}

// countingStore counts the Redis operations linking makes.
type countingStore struct {
	*redisstore.Store
	calls atomic.Int64
}

func (c *countingStore) SaveSigninCode(ctx context.Context, id, hash string, ttl time.Duration) error {
	c.calls.Add(1)
	return c.Store.SaveSigninCode(ctx, id, hash, ttl)
}
func (c *countingStore) CheckSigninCode(ctx context.Context, id, hash string, tries int) (staff.CodeResult, error) {
	c.calls.Add(1)
	return c.Store.CheckSigninCode(ctx, id, hash, tries)
}
func (c *countingStore) CountAttempt(ctx context.Context, bucket string, window time.Duration) (int64, error) {
	c.calls.Add(1)
	return c.Store.CountAttempt(ctx, bucket, window)
}
func (c *countingStore) Attempts(ctx context.Context, bucket string) (int64, error) {
	c.calls.Add(1)
	return c.Store.Attempts(ctx, bucket)
}
func (c *countingStore) ClaimStaffMessage(ctx context.Context, scope, sid string) (bool, string, error) {
	c.calls.Add(1)
	return c.Store.ClaimStaffMessage(ctx, scope, sid)
}
func (c *countingStore) SaveStaffReply(ctx context.Context, scope, sid, reply string) error {
	c.calls.Add(1)
	return c.Store.SaveStaffReply(ctx, scope, sid, reply)
}

// linkWorld is a team of two on a real Redis: Ana, organizer (es), and Luis, volunteer
// (en first), with the router, the linker and the console's sign-in sharing one store.
type linkWorld struct {
	t       *testing.T
	store   *redisstore.Store
	counted *countingStore
	keys    *privacy.Keys
	roster  *staff.Roster
	dir     *staff.Directory
	trail   *auditTrail
	links   *staff.Linker
	signin  *staff.SignIn
	sent    *sentBox
	who     *whoAnswers
	router  staff.Router
	n       int
	luisID  string
}

// anaPhone and luisPhone are signin_test.go's.

func newLinkWorld(t *testing.T) *linkWorld {
	rdb, prefix := redistest.Open(t)
	store, err := redisstore.New(rdb, prefix, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := privacy.NewKeys("test-secret-0123456789")
	w := &linkWorld{t: t, store: store, counted: &countingStore{Store: store}, keys: keys, trail: &auditTrail{}, who: &whoAnswers{}}
	w.roster = staff.New(staff.Config{Source: store})
	w.dir = staff.NewDirectory(staff.DirectoryConfig{Store: store, Keys: keys, Languages: []string{"es", "en"}, Roster: w.roster, Audit: w.trail})
	admin := audit.Admin(audit.ViaAPI)
	if _, err := w.dir.AddOrganizer(context.Background(), admin, "Ana", anaPhone, "es"); err != nil {
		t.Fatal(err)
	}
	v, err := w.dir.AddVolunteer(context.Background(), admin, "Luis", luisPhone, []string{"en", "es"})
	if err != nil {
		t.Fatal(err)
	}
	w.luisID = v.ID
	phoneID := func(phone string) string { return keys.MemberID(hotline.SMS, phone) }
	// Keyed as the app keys both: only the key space tells a link code from a sign-in code.
	codeHash := func(id, code string) string { return keys.MemberID("console-code", id+":"+code) }
	w.sent = &sentBox{}
	w.links = staff.NewLinker(staff.LinkConfig{Store: w.counted, Roster: w.roster, Directory: w.dir, PhoneID: phoneID,
		Sender: w.sent, Renderer: idRenderer{}, Languages: []string{"es", "en"}, CodeHash: codeHash})
	w.signin = staff.NewSignIn(staff.SignInConfig{Store: store, Roster: w.roster, PhoneID: phoneID, Sender: w.sent, CodeHash: codeHash,
		Text: func(lang, code string) (string, error) { return "sign in " + code, nil }})
	w.sent.drain = func() { w.links.Drain(); w.signin.Drain() }
	w.router = w.routerOn(w.roster)
	return w
}

func (w *linkWorld) routerOn(r *staff.Roster) staff.Router {
	return staff.Router{Keys: w.keys, Roster: r, Organizers: orgAnswers{w.who}, Volunteers: w.who, Members: w.who, Links: w.links}
}

// wa sends text from the WhatsApp of phone through router r and returns the reply and who
// answered it.
func (w *linkWorld) waOn(r staff.Router, phone, text string) (string, string) {
	w.t.Helper()
	w.n++
	before := len(w.who.got)
	reply, err := r.Answer(context.Background(), hotline.Inbound{ID: fmt.Sprintf("SM%d", w.n), Channel: hotline.WhatsApp,
		From: "whatsapp:" + phone, Text: text})
	if err != nil {
		w.t.Fatal(err)
	}
	who := "linking"
	if len(w.who.got) > before {
		who = w.who.got[len(w.who.got)-1]
	}
	return strings.Join(reply.Texts, "\n"), who
}

func (w *linkWorld) wa(phone, text string) (string, string) { return w.waOn(w.router, phone, text) }

// TestLinkWhatsAppByCode: unlinked, a volunteer on WhatsApp is a member; VINCULAR texts a
// code to their SMS phone; a wrong code and a console sign-in code link nothing (and a link
// code signs no one in); the right code links, with an audit entry, and their WhatsApp
// messages reach their commands, here and on a roster read afresh from Redis; unlinked by
// an admin, they are a member again.
func TestLinkWhatsAppByCode(t *testing.T) {
	w := newLinkWorld(t)
	ctx := context.Background()

	if _, who := w.wa(luisPhone, "CASES"); who != "member" {
		t.Fatalf("unlinked, Luis's WhatsApp reached %s", who)
	}
	reply, who := w.wa(luisPhone, "Vincular")
	if who != "linking" || reply != "whatsapp:es:wa_link_sent " {
		t.Fatalf("VINCULAR answered %q (%s)", reply, who)
	}
	linkCodes := w.sent.codes(luisPhone)
	if len(linkCodes) != 1 || w.sent.sent[0].Body != "sms:en:wa_link_code "+linkCodes[0] {
		t.Fatalf("texted %+v", w.sent.sent)
	}

	wrong := "000000"
	if linkCodes[0] == wrong {
		wrong = "111111"
	}
	if reply, _ := w.wa(luisPhone, wrong); reply != "whatsapp:en:wa_link_wrong " {
		t.Errorf("a wrong code answered %q", reply)
	}
	// A console sign-in code, texted to the same phone, links nothing.
	if err := w.signin.RequestCode(ctx, luisPhone, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	signinCode := w.sent.codes(luisPhone)[1]
	if signinCode != linkCodes[0] {
		if reply, _ := w.wa(luisPhone, signinCode); reply != "whatsapp:en:wa_link_wrong " {
			t.Errorf("the console sign-in code answered %q", reply)
		}
	}
	// And the link code signs no one in to the console.
	if _, err := w.signin.Verify(ctx, luisPhone, linkCodes[0], "192.0.2.1"); !errors.Is(err, staff.ErrBadCode) {
		t.Errorf("the link code signed in to the console: %v", err)
	}
	if _, who := w.wa(luisPhone, "CASES"); who != "member" {
		t.Fatalf("before the right code, Luis's WhatsApp reached %s", who)
	}

	if reply, _ := w.wa(luisPhone, " "+linkCodes[0]+" "); reply != "whatsapp:en:wa_link_done " {
		t.Fatalf("the right code answered %q", reply)
	}
	if _, who := w.wa(luisPhone, "CASES"); who != "volunteer Luis" {
		t.Errorf("linked, Luis's WhatsApp reached %s", who)
	}
	// His SMS still reach his commands.
	if _, err := w.router.Answer(ctx, hotline.Inbound{ID: "SMsms", Channel: hotline.SMS, From: luisPhone, Text: "CASES"}); err != nil || w.who.got[len(w.who.got)-1] != "volunteer Luis" {
		t.Errorf("by SMS, Luis reached %s (%v)", w.who.got[len(w.who.got)-1], err)
	}
	// Ana, not linked, is still a member on WhatsApp.
	if _, who := w.wa(anaPhone, "ALERTA"); who != "member" {
		t.Errorf("Ana's unlinked WhatsApp reached %s", who)
	}

	// A roster read afresh from Redis knows the link.
	fresh := staff.New(staff.Config{Source: w.store})
	if err := fresh.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, who := w.waOn(w.routerOn(fresh), luisPhone, "CASES"); who != "volunteer Luis" {
		t.Errorf("after a roster reload, Luis's WhatsApp reached %s", who)
	}
	vols, err := w.dir.Volunteers(ctx)
	if err != nil || len(vols) != 1 || !vols[0].WhatsApp {
		t.Errorf("the directory lists %+v, %v", vols, err)
	}

	var linked bool
	for _, e := range w.trail.entries {
		if e.Action == "roster.whatsapp" && e.Actor == "volunteer:"+w.luisID && e.Via == audit.ViaSMS && e.Detail == "Luis: linked WhatsApp" {
			linked = true
		}
		if strings.Contains(e.Detail+e.Object, "555") {
			t.Errorf("an audit entry holds a phone: %+v", e)
		}
	}
	if !linked {
		t.Errorf("no audit entry for the link: %+v", w.trail.entries)
	}

	if err := w.dir.UnlinkWhatsApp(ctx, audit.Admin(audit.ViaConsole), staff.RoleVolunteer, w.luisID); err != nil {
		t.Fatal(err)
	}
	if _, who := w.wa(luisPhone, "CASES"); who != "member" {
		t.Errorf("unlinked by the admin, Luis's WhatsApp reached %s", who)
	}
	if err := w.dir.UnlinkWhatsApp(ctx, audit.Admin(audit.ViaConsole), staff.RoleVolunteer, "nobody"); !errors.Is(err, hotline.ErrNotFound) {
		t.Errorf("unlinking no one: %v", err)
	}
}

// TestLinkAnswersEveryoneAlike: VINCULAR from a number on no team gets the answer a team
// member's gets, in the word's language, and texts no one; LINK is answered in English
// whatever the organizer's language, while her code comes in hers.
func TestLinkAnswersEveryoneAlike(t *testing.T) {
	w := newLinkWorld(t)
	const stranger = "+15055550199"
	staffReply, _ := w.wa(luisPhone, "VINCULAR")
	strangerReply, who := w.wa(stranger, "VINCULAR")
	if who != "linking" || strangerReply != staffReply {
		t.Errorf("a stranger's VINCULAR answered %q (%s), a volunteer's %q", strangerReply, who, staffReply)
	}
	if got := w.sent.codes(stranger); len(got) != 0 {
		t.Errorf("a stranger was texted %q", got)
	}
	if reply, _ := w.wa(stranger, "línk!"); reply != "whatsapp:en:wa_link_sent " {
		t.Errorf("a stranger's LINK answered %q", reply)
	}
	// A stranger's six digits are a member's message.
	if _, who := w.wa(stranger, "123456"); who != "member" {
		t.Errorf("a stranger's six digits reached %s", who)
	}
	if reply, _ := w.wa(anaPhone, "link"); reply != "whatsapp:en:wa_link_sent " {
		t.Errorf("Ana's LINK answered %q", reply)
	}
	w.sent.drain()
	if last := w.sent.sent[len(w.sent.sent)-1]; last.To != anaPhone || !strings.HasPrefix(last.Body, "sms:es:wa_link_code ") {
		t.Errorf("Ana was texted %+v", last)
	}
}

// TestLinkCostsMembersNothing: a member's WhatsApp message that is not about linking is
// answered without a single Redis operation by the linker; a volunteer's four asks in a
// window are limited as console codes are.
func TestLinkCostsMembersNothing(t *testing.T) {
	w := newLinkWorld(t)
	for _, text := range []string{"hola", "2", "87102", "vincularme", "1234567", "12345a", "", strings.Repeat("x", 200)} {
		if _, who := w.wa("+15055550199", text); who != "member" {
			t.Errorf("%q reached %s", text, who)
		}
		if _, who := w.wa(luisPhone, text); who != "member" {
			t.Errorf("Luis's %q reached %s", text, who)
		}
	}
	if n := w.counted.calls.Load(); n != 0 {
		t.Errorf("members' messages cost %d Redis operations", n)
	}
	for i := range staff.CodesPerNumber + 1 {
		reply, _ := w.wa(luisPhone, "LINK")
		want := "whatsapp:en:wa_link_sent "
		if i == staff.CodesPerNumber {
			want = "whatsapp:en:wa_link_limited "
		}
		if reply != want {
			t.Errorf("ask %d answered %q, want %q", i+1, reply, want)
		}
	}
	if got := w.sent.codes(luisPhone); len(got) != staff.CodesPerNumber {
		t.Errorf("texted %d codes, want %d", len(got), staff.CodesPerNumber)
	}
}
