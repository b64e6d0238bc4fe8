package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/app"
	"github.com/communityhotline/hotline/internal/console"
	"github.com/communityhotline/hotline/internal/content"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redistest"
	"github.com/communityhotline/hotline/internal/render"
	"github.com/communityhotline/hotline/internal/segment"
	"github.com/communityhotline/hotline/locales"
)

// simContent is the real flows and messages, loaded once for every test's sandbox.
var simContent = sync.OnceValues(func() (content.Content, error) {
	return content.Load(flows.FS, locales.FS, &places.ZipTable{})
})

// simBase is the renderer's data, as serve gives it from the configuration.
var simBase = map[string]string{"Program": "Test Hotline", "Contact": "505-555-0199", "Minutes": "10"}

// simEnv is where the test's sandbox keeps its keys, for the tests that look at them.
type simEnv struct {
	rdb     *redis.Client
	prefix  string
	content content.Content
}

// open builds the simulator's sandbox as internal/app does, over the real flows and messages.
func (s *simEnv) open(t *testing.T, rdb *redis.Client, prefix string, keys *privacy.Keys) console.Simulator {
	t.Helper()
	c, err := simContent()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := app.NewSandbox(rdb, prefix, c.Flows, render.NewSet(c.Catalog, simBase, false), keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.rdb, s.prefix, s.content = rdb, prefix, c
	return sb
}

// text is message id of the real catalog in lang.
func (s *simEnv) text(t *testing.T, lang, id string) string {
	t.Helper()
	out, err := s.content.Catalog.Text(lang, id, simBase)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// simMsg is a line of the simulator page as a person reads it.
type simMsg struct {
	member   bool
	text     string
	chars    int
	encoding string
	segments int
}

var (
	simLineRE = regexp.MustCompile(`(?s)<li class="sim-(member|reply)">.*?<p class="sim-text">(.*?)</p>(\s*<p class="sim-meta">(.*?)</p>)?`)
	simMetaRE = regexp.MustCompile(`^(\d+) characters · (GSM-7|UCS-2) · costs (\d+) SMS$`)
)

// conversation reads the simulator page's conversation, failing on a reply without its cost.
func (c *client) conversation() []simMsg {
	c.e.t.Helper()
	r := c.get("/console/simulator")
	if r.code != http.StatusOK {
		c.e.t.Fatalf("simulator page: %d", r.code)
	}
	var out []simMsg
	for _, m := range simLineRE.FindAllStringSubmatch(r.body, -1) {
		msg := simMsg{member: m[1] == "member", text: html.UnescapeString(m[2])}
		if !msg.member {
			meta := simMetaRE.FindStringSubmatch(html.UnescapeString(m[4]))
			if meta == nil {
				c.e.t.Fatalf("reply %q shows no cost: %q", msg.text, m[4])
			}
			msg.chars, _ = strconv.Atoi(meta[1])
			msg.encoding = meta[2]
			msg.segments, _ = strconv.Atoi(meta[3])
		}
		out = append(out, msg)
	}
	return out
}

// say writes text as the sandbox member, as the page's form does without script.
func (c *client) say(text string) {
	c.e.t.Helper()
	r := c.post("/console/simulator/send", url.Values{"text": {text}})
	if r.code != http.StatusSeeOther || r.header.Get("Location") != "/console/simulator#sim-end" {
		c.e.t.Fatalf("sending %q: %d %q", text, r.code, r.header.Get("Location"))
	}
}

// repliesAfter is the hotline's replies after the member's last message, joined.
func repliesAfter(msgs []simMsg) string {
	var out []string
	for i := len(msgs) - 1; i >= 0 && !msgs[i].member; i-- {
		out = append([]string{msgs[i].text}, out...)
	}
	return strings.Join(out, "\n")
}

func TestSimulatorConversation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.signIn(orgPhone)
	before := map[string]bool{}
	for _, k := range redistest.Keys(t, e.sim.rdb, e.sim.prefix+":*") {
		before[k] = true
	}
	sentBefore := len(e.sent.sent)

	if got := c.conversation(); len(got) != 0 {
		t.Fatalf("a new test member's conversation: %+v", got)
	}
	if r := c.get("/console/simulator"); !strings.Contains(r.body, "Nothing yet.") || !strings.Contains(r.body, `href="/console/simulator" aria-current="page"`) {
		t.Error("the empty simulator page lacks its note or its link in the header")
	}

	c.say("hola")
	msgs := c.conversation()
	if len(msgs) < 2 || !msgs[0].member || msgs[0].text != "hola" {
		t.Fatalf("after hola: %+v", msgs)
	}
	menu := repliesAfter(msgs)
	for _, id := range []string{"menu_prompt", "menu_rights", "menu_policy"} {
		if !strings.Contains(menu, e.sim.text(t, "es", id)) {
			t.Errorf("hola was not answered with the real Spanish menu (%s missing):\n%s", id, menu)
		}
	}

	c.say("2") // the menu's second option: a place's policy
	c.say("Bernalillo")
	msgs = c.conversation()
	if got := repliesAfter(msgs); !strings.Contains(got, "Bernalillo") {
		t.Errorf("a county's policy in the sandbox: %q", got)
	}
	replies := 0
	for _, m := range msgs {
		if m.member {
			continue
		}
		replies++
		want := segment.Count(m.text)
		if m.chars != want.Chars || m.encoding != string(want.Encoding) || m.segments != want.Segments {
			t.Errorf("reply %q shows %d characters, %s, %d SMS; segment.Count says %d, %s, %d",
				m.text, m.chars, m.encoding, m.segments, want.Chars, want.Encoding, want.Segments)
		}
	}
	if replies < 3 {
		t.Errorf("%d replies in a conversation of three messages", replies)
	}

	// The sandbox sent nothing, and wrote nothing outside its own prefix.
	if len(e.sent.sent) != sentBefore {
		t.Errorf("the simulator sent %d messages", len(e.sent.sent)-sentBefore)
	}
	for _, k := range redistest.Keys(t, e.sim.rdb, e.sim.prefix+":*") {
		if !before[k] && !strings.HasPrefix(k, e.sim.prefix+":sandbox:") {
			t.Errorf("the simulator wrote %s, outside the sandbox's prefix", k)
		}
		if strings.HasPrefix(k, e.sim.prefix+":sandbox:simlog:") {
			lines, _ := e.sim.rdb.LRange(ctx, k, 0, -1).Result()
			if strings.Contains(strings.Join(lines, ""), "Bernalillo") {
				t.Errorf("the simulator's log %s holds its words in clear", k)
			}
		}
	}
	if open, err := e.store.OpenCases(ctx); err != nil || len(open) != 1 {
		t.Errorf("open cases: %d, %v (only the member's own)", len(open), err)
	}
}

// TestSimulatorLanguageSwitch: the switch writes the language's name, as a member would, and
// the hotline answers in that language from then on.
func TestSimulatorLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(orgPhone)
	c.say("hola")
	if r := c.post("/console/simulator/lang", url.Values{"lang": {"en"}}); r.code != http.StatusSeeOther {
		t.Fatalf("switching to English: %d", r.code)
	}
	msgs := c.conversation()
	last := msgs[len(msgs)-1]
	if last.member {
		t.Fatalf("the switch got no answer: %+v", msgs)
	}
	switched := repliesAfter(msgs)
	if !strings.Contains(switched, e.sim.text(t, "en", "language_set")) {
		t.Errorf("switching to English was answered %q", switched)
	}
	var wrote []string
	for _, m := range msgs {
		if m.member {
			wrote = append(wrote, m.text)
		}
	}
	if strings.Join(wrote, "|") != "hola|English" {
		t.Errorf("the test member wrote %q, want hola, then English", wrote)
	}
	c.say("menu")
	if got := repliesAfter(c.conversation()); !strings.Contains(got, e.sim.text(t, "en", "menu_prompt")) {
		t.Errorf("after switching to English, menu got %q", got)
	}
	c.post("/console/simulator/lang", url.Values{"lang": {"es"}})
	c.say("menu")
	if got := repliesAfter(c.conversation()); !strings.Contains(got, e.sim.text(t, "es", "menu_prompt")) {
		t.Errorf("after switching back to Spanish, menu got %q", got)
	}
	before := len(c.conversation())
	if r := c.post("/console/simulator/lang", url.Values{"lang": {"fr"}}); r.code != http.StatusSeeOther || len(c.conversation()) != before {
		t.Errorf("a language the hotline does not speak: %d, and the conversation changed", r.code)
	}
}

// TestSimulatorStartOver: a new test member, with no conversation and no state: a first
// contact again.
func TestSimulatorStartOver(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(orgPhone)
	c.say("hola")
	c.post("/console/simulator/lang", url.Values{"lang": {"en"}})
	if len(c.conversation()) < 4 {
		t.Fatal("no conversation to start over from")
	}
	if r := c.post("/console/simulator/restart", nil); r.code != http.StatusSeeOther || !strings.Contains(r.header.Get("Set-Cookie"), "hotline_console_sim=") {
		t.Fatalf("start over: %d, cookie %q", r.code, r.header.Get("Set-Cookie"))
	}
	if got := c.conversation(); len(got) != 0 {
		t.Fatalf("after starting over: %+v", got)
	}
	c.say("hola")
	if got := repliesAfter(c.conversation()); !strings.Contains(got, e.sim.text(t, "es", "welcome")) {
		t.Errorf("the new test member was not welcomed as a first contact, in Spanish: %q", got)
	}
}

// TestSimulatorMembersApart: each session has its own test member; a volunteer may not use
// the simulator; a cross-site form changes no conversation.
func TestSimulatorMembersApart(t *testing.T) {
	e := newEnv(t)
	org, admin := e.signIn(orgPhone), e.admin()
	org.say("hola")
	if got := admin.conversation(); len(got) != 0 {
		t.Errorf("another session sees the organizer's conversation: %+v", got)
	}
	vol := e.signIn(volPhone)
	if r := vol.get("/console/simulator"); r.code != http.StatusForbidden {
		t.Errorf("a volunteer's simulator page: %d, want 403", r.code)
	}
	for _, p := range []string{"/console/simulator/send", "/console/simulator/lang", "/console/simulator/restart"} {
		if r := vol.post(p, url.Values{"text": {"hola"}, "lang": {"en"}}); r.code != http.StatusForbidden {
			t.Errorf("a volunteer's POST %s: %d, want 403", p, r.code)
		}
	}
	before := org.conversation()
	form := url.Values{"csrf": {org.csrf}, "text": {"ayuda"}}
	for name, hdr := range map[string]map[string]string{
		"Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site"},
		"Origin elsewhere":          {"Origin": "https://evil.example"},
	} {
		if r := org.do("POST", "/console/simulator/send", form, hdr); r.code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, r.code)
		}
	}
	if r := org.post("/console/simulator/send", url.Values{"csrf": {"forged"}, "text": {"ayuda"}}); r.code != http.StatusForbidden {
		t.Errorf("a wrong CSRF token: %d", r.code)
	}
	if r := org.do("POST", "/console/simulator/restart", url.Values{"csrf": {org.csrf}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); r.code != http.StatusForbidden {
		t.Errorf("a cross-site start over: %d", r.code)
	}
	if after := org.conversation(); len(after) != len(before) {
		t.Errorf("refused POSTs changed the conversation: %d lines, then %d", len(before), len(after))
	}
}

// TestSimulatorChannels: an organizer puts the trial on WhatsApp or on a call and sees what that
// channel says: WhatsApp keeps the accents and is not costed in SMS; a call speaks its options
// and lists the keys it listens for; each channel starts a new test member.
func TestSimulatorChannels(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(orgPhone)
	c.say("hola")
	if r := c.post("/console/simulator/channel", url.Values{"channel": {"voice"}}); r.code != http.StatusSeeOther {
		t.Fatalf("choosing a call: %d", r.code)
	}
	if got := c.get("/console/simulator").body; !strings.Contains(got, `value="voice" aria-pressed="true"`) || strings.Contains(got, "sim-reply") {
		t.Fatalf("after choosing a call the page does not show it chosen, or kept the SMS trial")
	}
	c.say("hola")
	page := html.UnescapeString(c.get("/console/simulator").body)
	if !strings.Contains(page, "marque 1") || !strings.Contains(page, "Said out loud · keys: 1 ") {
		t.Errorf("a call's menu is not spoken with its keys listed:\n%s", page)
	}
	if strings.Contains(page, "costs 1 SMS") {
		t.Error("a call's words were costed as SMS")
	}
	c.post("/console/simulator/channel", url.Values{"channel": {"whatsapp"}})
	c.say("hola")
	page = html.UnescapeString(c.get("/console/simulator").body)
	if !strings.Contains(page, "Envíe") || !strings.Contains(page, "WhatsApp is not charged per SMS") {
		t.Errorf("WhatsApp's menu lost its accents or was costed as SMS:\n%s", page)
	}
	// A channel that is none of the three changes nothing.
	c.post("/console/simulator/channel", url.Values{"channel": {"fax"}})
	if got := c.get("/console/simulator").body; !strings.Contains(got, `value="whatsapp" aria-pressed="true"`) {
		t.Error("an unknown channel changed the trial's channel")
	}
}
