package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/app"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/twiliofake"
)

// The failover test's load: members new to the hotline arrive at newMembersPerSecond for
// loadFor; the master dies killAfter into it.
const (
	newMembersPerSecond = 25
	loadFor             = 20 * time.Second
	killAfter           = 6 * time.Second
	// broadcastAfter starts the alert to the subscribers so that it is being sent when the
	// master dies (at foSendRate a second it takes foSubscribers/foSendRate seconds).
	broadcastAfter = 3 * time.Second
	foSubscribers  = 300
	foSendRate     = "60"
	// fallbackText is how the fallback reply begins (its Spanish half).
	fallbackText = "Lo sentimos, hubo un problema"
	keptText     = "Recibimos su mensaje"
)

// TestFailover runs two `hotline serve` processes and a `hotline worker` against a Redis
// Cluster of 3 masters with a replica each, drives members at it, sends an alert to a few
// hundred subscribers, and kills a master (SIGKILL) while both go on; its replica takes over
// after the cluster's node timeout. Every webhook must be answered 200; every message must
// end up handled (in its member's reply log) — answered at once, or answered with the
// fallback, spooled and replayed, its real reply then sent as a message; every subscriber
// must get the alert exactly once; every subscription in a member's state must be in the
// index alerts are sent from. It logs how long the gap lasted and what members saw.
//
// The master killed holds the subscription index, the organizer roster (the key prefix is
// chosen so), the alert's bookkeeping (the alert is chosen so) and a third of the members.
func TestFailover(t *testing.T) {
	clusterURL := os.Getenv("HOTLINE_TEST_FAILOVER_URL")
	if clusterURL == "" {
		t.Skip("HOTLINE_TEST_FAILOVER_URL is not set: this test kills a master of a Redis Cluster of 3 masters with a replica each; `.ci/cluster start` makes one and prints its URL, and .ci/run sets it")
	}
	ctx := context.Background()
	copt, err := redis.ParseClusterURL(clusterURL)
	if err != nil {
		t.Fatal(err)
	}
	// The test's own client follows the failover as the hotline's does.
	copt.ClusterStateReloadInterval = app.ClusterStateReload
	rdb := redis.NewClusterClient(copt)
	app.FollowFailovers(rdb)
	t.Cleanup(func() { rdb.Close() })
	if err := clusterWhole(ctx, rdb); err != nil {
		t.Fatalf("the cluster is not whole (%v): restart it (.ci/cluster stop; .ci/cluster start)", err)
	}
	target, prefix, owner := failoverTarget(t, rdb)
	t.Logf("killing the master on %s: it holds the subscription index and the organizer roster of prefix %s", target, prefix)

	bin := buildHotline(t)
	fake := twiliofake.New()
	t.Cleanup(fake.Close)
	fake.Latency(5 * time.Millisecond)
	seen := watchMessages(t, fake)

	base := map[string]string{
		"TWILIO_ACCOUNT_SID": twiliofake.AccountSID, "TWILIO_AUTH_TOKEN": twiliofake.AuthToken,
		"TWILIO_FROM": "+15055550000", "TWILIO_API_BASE": fake.URL(),
		"REDIS_URL": clusterURL, "REDIS_CLUSTER": "true", "HOTLINE_KEY_PREFIX": prefix,
		"HOTLINE_SECRET": "failover-secret-0123456789", "HOTLINE_CONTACT": "505-555-0199",
		"ADMIN_TOKEN": adminToken, "HOTLINE_SEND_RATE": foSendRate, "LOG_FORMAT": "text",
		// Longer than the failover, as the default (30s) is: a send whose outcome cannot be
		// recorded until the replica takes over must not be taken over meanwhile (the
		// dispatcher would send it again; docs/performance.md).
		"HOTLINE_CLAIM_IDLE": "10s",
	}
	// The hotline as docs/deploy.md sets it up on a cluster: promised writes wait for a replica.
	// HOTLINE_TEST_FAILOVER_WAIT=0 measures it without.
	base["HOTLINE_REDIS_WAIT"] = "100ms"
	if w := os.Getenv("HOTLINE_TEST_FAILOVER_WAIT"); w != "" {
		base["HOTLINE_REDIS_WAIT"] = w
	}
	var servers []*foProc
	for i := range 2 {
		servers = append(servers, startFoProc(t, bin, "serve", base, map[string]string{
			"HOTLINE_WORKER": "off", "HOTLINE_SPOOL_DIR": filepath.Join(t.TempDir(), fmt.Sprint("spool", i)),
		}))
	}
	// The worker serves no webhook, but Twilio mode wants a PUBLIC_URL (status callbacks).
	startFoProc(t, bin, "worker", base, map[string]string{"PUBLIC_URL": servers[0].url})
	web := &foClient{t: t, urls: []string{servers[0].url, servers[1].url},
		c: &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}}}

	// Staff, so that both rosters have someone in them; subscribers for the alert.
	tok := servers[0].organizer(t, "Ana", "+15055550901")
	if code := servers[0].api(t, adminToken, "POST", "/admin/volunteers", map[string]any{"name": "Luis", "phone": foVolunteer, "languages": []string{"es"}}, nil); code != 201 {
		t.Fatalf("adding a volunteer: %d", code)
	}
	// On call, so that every member asking for a person during the load pages him.
	if r := web.send(foVolunteer, "ACTIVO"); r.status != 200 || !strings.Contains(r.body, "turno") {
		t.Fatalf("putting the volunteer on call: %d %s", r.status, r.body)
	}
	subs := make([]string, foSubscribers)
	var setup sync.WaitGroup
	for w := range 16 {
		setup.Go(func() {
			for i := w; i < foSubscribers; i += 16 {
				subs[i] = fmt.Sprintf("+1505557%04d", i)
				for _, body := range []string{"hola", "3", "bernalillo", "si"} {
					if r := web.send(subs[i], body); r.kind != replyReal {
						t.Errorf("setting up subscriber %d: %q answered %d %s", i, body, r.status, r.body)
						return
					}
				}
			}
		})
	}
	setup.Wait()
	if t.Failed() {
		t.FailNow()
	}

	// The load: members new to the hotline, each writing a first message and a second, a
	// third of them going on to subscribe to Taos County.
	var (
		members  []*foMember
		membersM sync.Mutex
		load     sync.WaitGroup
	)
	start := time.Now()
	var killedAt, promotedAt time.Time
	var bc bcJSON
	bcSent := make(chan struct{})
	go func() {
		defer close(bcSent)
		time.Sleep(broadcastAfter)
		// Drafts until one's keys are on the master to be killed, so that its sending
		// bookkeeping dies with it; the others stay drafts, never sent.
		for range 40 {
			if code := servers[1].api(t, tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": "ALERTA-FAILOVER es", "en": "ALERT-FAILOVER en"}, "areas": []string{"Bernalillo"}}, &bc); code != 201 {
				t.Errorf("creating the alert: %d", code)
				return
			}
			if owner(prefix+":bc:{b:"+bc.ID+"}") == target {
				break
			}
		}
		if code := servers[1].api(t, tok, "POST", "/admin/broadcasts/"+bc.ID+"/send", nil, &bc); code != 200 {
			t.Errorf("sending the alert: %d", code)
		}
	}()
	killed := make(chan struct{})
	// Writes acknowledged and then lost with the master: probes write as fast as they can to
	// the master to be killed, with WAIT and without, from a second before the kill.
	probeWait := 100 * time.Millisecond
	if w, err := time.ParseDuration(base["HOTLINE_REDIS_WAIT"]); err == nil && w > 0 {
		probeWait = w
	}
	probes := []*writeProbe{{wait: 0}, {wait: probeWait}}
	go func() {
		defer close(killed)
		time.Sleep(killAfter - time.Second)
		for i, p := range probes {
			p.start(t, rdb, target, owner, fmt.Sprintf("%s:probe%d", prefix, i))
		}
		time.Sleep(time.Second)
		killedAt = killMaster(t, rdb, target)
		for _, p := range probes {
			p.stop()
		}
		promotedAt = waitPromoted(t, rdb, target, rdb.ClusterKeySlot(ctx, "x:{s}").Val(), killedAt)
	}()
	for i := 0; time.Since(start) < loadFor; i++ {
		m := &foMember{phone: fmt.Sprintf("+1505558%04d", i)}
		switch {
		case i%3 == 2:
			m.script = []string{"hello", "3", "taos", "yes"}
		case i%10 == 4:
			// A promise beyond the reply: a case opened, the volunteer paged (a job).
			m.script, m.person = []string{"hola", "persona"}, true
		default:
			m.script = []string{"hola", "1"}
		}
		membersM.Lock()
		members = append(members, m)
		membersM.Unlock()
		load.Go(func() {
			for _, body := range m.script {
				m.messages = append(m.messages, web.send(m.phone, body))
				time.Sleep(200 * time.Millisecond) // a member reads the answer, then writes again
			}
		})
		time.Sleep(time.Until(start.Add(time.Duration(i+1) * time.Second / newMembersPerSecond)))
	}
	load.Wait()
	<-killed
	<-bcSent
	if killedAt.IsZero() {
		t.FailNow()
	}

	// Everything spooled is replayed, and the alert is sent, within a minute.
	deadline := time.Now().Add(time.Minute)
	for _, s := range servers {
		for s.spoolPending() && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if s.spoolPending() {
			t.Errorf("%s: the spool is not empty a minute after the load", s.url)
		}
	}
	if bc.ID != "" {
		bc = servers[0].waitBroadcast(t, tok, bc.ID, time.Until(deadline)+10*time.Second)
	}
	time.Sleep(500 * time.Millisecond) // the last replayed replies reach the fake

	// Every member who asked for a person has a case, and the volunteer a page for it, once:
	// a job that failed on the dead master is taken over once its lease ends (with backoff).
	askers := 0
	for _, m := range members {
		if m.person {
			askers++
		}
	}
	var (
		pages     map[string]int
		lastPaged time.Time // when the fake got the last page
	)
	for pagesBy := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		var bodies []string
		for _, m := range fake.Messages() {
			if m.To == foVolunteer {
				bodies = append(bodies, m.Body)
			}
		}
		if pages = pagedCases(bodies); len(pages) >= askers || time.Now().After(pagesBy) {
			for _, b := range bodies {
				if at, ok := seen.first(foVolunteer, b); ok {
					lastPaged = maxTime(lastPaged, at)
				}
			}
			break
		}
	}

	// Verdicts.
	keys, err := privacy.NewKeys(base["HOTLINE_SECRET"])
	if err != nil {
		t.Fatal(err)
	}
	store, err := redisstore.New(rdb, prefix, redisstore.DefaultReplyTTL)
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string][]string{}
	for _, m := range fake.Messages() {
		sent[m.To] = append(sent[m.To], m.Body)
	}
	var (
		total, non200, fallbacks, lost, lostAnswered, notReplayed, wrongReply int
		fellBack                                                              = map[string]bool{}
		replayDelays, afterPromotion                                          []time.Duration
		firstFallback, lastFallback                                           time.Time
		gapLatencies                                                          []time.Duration
	)
	for _, m := range members {
		id := keys.MemberID(hotline.SMS, m.phone)
		for _, r := range m.messages {
			total++
			if r.status != 200 {
				non200++
				t.Errorf("%s %q: answered %d %s", m.phone, r.body, r.status, r.err)
				continue
			}
			rec, err := store.Load(ctx, id, r.sid)
			if err != nil {
				t.Fatalf("reading member %s: %v", m.phone, err)
			}
			if rec.Reply == nil {
				lost++
				if r.kind == replyReal {
					lostAnswered++
				}
				t.Errorf("%s %q (%s, %s after the kill): not in the member's reply log: lost", m.phone, r.text, r.kind, r.at.Sub(killedAt).Round(time.Millisecond))
				continue
			}
			texts, err := openReply(keys, id, r.sid, rec.Reply)
			if err != nil {
				t.Fatal(err)
			}
			if !r.at.Before(killedAt) && r.at.Before(promotedAt.Add(5*time.Second)) {
				gapLatencies = append(gapLatencies, r.took)
			}
			switch r.kind {
			case replyReal:
				if !slices.Equal(r.texts, texts) {
					wrongReply++
					t.Errorf("%s %q: answered %q, but its reply log says %q", m.phone, r.text, r.texts, texts)
				}
			case replyFallback:
				fallbacks++
				fellBack[m.phone] = true
				if firstFallback.IsZero() || r.at.Before(firstFallback) {
					firstFallback = r.at
				}
				lastFallback = maxTime(lastFallback, r.at)
				for _, text := range texts {
					at, ok := seen.first(m.phone, text)
					if !ok {
						notReplayed++
						t.Errorf("%s %q got the fallback and its reply was never sent: %q", m.phone, r.text, text)
						continue
					}
					replayDelays = append(replayDelays, at.Sub(r.at))
					afterPromotion = append(afterPromotion, at.Sub(promotedAt))
				}
			default:
				t.Errorf("%s %q: answered %s", m.phone, r.text, r.body)
			}
		}
	}
	// Cases: one a member who asked, each paged once.
	open, err := store.OpenCases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	caseOf := map[string]int{}
	for _, c := range open {
		caseOf[c.Member]++
	}
	unpromised, doublePaged := 0, 0
	for _, m := range members {
		if !m.person {
			continue
		}
		if n := caseOf[keys.MemberID(hotline.SMS, m.phone)]; n != 1 {
			unpromised++
			t.Errorf("%s asked for a person: %d open cases, want 1", m.phone, n)
		}
	}
	for n, times := range pages {
		if times > 1 {
			doublePaged++
			t.Errorf("case %s paged %d times", n, times)
		}
	}
	if len(pages) != askers {
		t.Errorf("%d members asked for a person; %d cases paged", askers, len(pages))
	}

	// Subscriptions: everyone whose state names an area is in that area's index.
	subscribed, unindexed := 0, 0
	for _, phone := range append(slices.Clone(subs), phonesOf(members)...) {
		id := keys.MemberID(hotline.SMS, phone)
		rec, err := store.Load(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		if rec.State == nil {
			continue // a member none of whose messages was handled: counted as lost above
		}
		st, err := openMemberState(keys, id, rec.State)
		if err != nil {
			t.Fatalf("%s: %v", phone, err)
		}
		for _, area := range st.Areas {
			subscribed++
			ids, err := store.Subscribers(ctx, area, st.Lang)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := slices.BinarySearch(ids, id); !ok {
				unindexed++
				t.Errorf("%s is subscribed to %s in the state but not in the index: no alert will reach them", phone, area)
			}
		}
	}
	// The alert: every subscriber exactly once, nobody else.
	alerted, doubled := 0, 0
	for to, bodies := range sent {
		n := 0
		for _, b := range bodies {
			if strings.Contains(b, "FAILOVER") {
				n++
			}
		}
		if n > 0 && !slices.Contains(subs, to) {
			t.Errorf("%s, no subscriber of Bernalillo, got the alert", to)
		}
		if n > 1 {
			doubled++
			t.Errorf("%s got the alert %d times", to, n)
		}
		alerted += min(n, 1)
	}
	if alerted != foSubscribers {
		t.Errorf("%d of %d subscribers got the alert", alerted, foSubscribers)
	}

	t.Logf("load: %d members, %d messages; %d answered 200", len(members), total, total-non200)
	t.Logf("failover: master killed %.1f s into the load; its replica took over %.2f s later", killedAt.Sub(start).Seconds(), promotedAt.Sub(killedAt).Seconds())
	if fallbacks > 0 {
		t.Logf("members saw the fallback for %d messages (%d members), sent %.2f s to %.2f s after the kill", fallbacks, len(fellBack),
			firstFallback.Sub(killedAt).Seconds(), lastFallback.Sub(killedAt).Seconds())
	} else {
		t.Logf("members saw the fallback for no message")
	}
	t.Logf("replayed replies reached members %s after the fallback, %s after the replica took over (median, 90th percentile, max)", quantiles(replayDelays), quantiles(afterPromotion))
	t.Logf("webhook latency from the kill to 5 s after the promotion: %s (median, 90th percentile, max) over %d messages", quantiles(gapLatencies), len(gapLatencies))
	t.Logf("lost: %d messages not in their member's reply log (%d of them answered with their real reply: acknowledged, then lost with the master); %d fallbacks whose reply was never sent; %d answers unlike their log", lost, lostAnswered, notReplayed, wrongReply)
	for _, p := range probes {
		acked, missing, unconfirmed := p.verdict(t, rdb)
		t.Logf("acknowledged writes lost with the master, %s: %d of %d written in the last second before the kill (of the lost, %d had no replica's confirmation)", p.name(), missing, acked, unconfirmed)
		if p.wait > 0 && missing > unconfirmed {
			t.Errorf("%d writes a replica confirmed were lost", missing-unconfirmed)
		}
	}
	t.Logf("cases: %d members asked for a person; %d cases paged (%d more than once), %d members without exactly one case; the last page reached the volunteer %.1f s after the replica took over",
		askers, len(pages), doublePaged, unpromised, lastPaged.Sub(promotedAt).Seconds())
	t.Logf("subscriptions: %d in members' states, %d of them missing from the index; alert: %d of %d subscribers got it, %d more than once; status %q, %d sent, %d skipped", subscribed, unindexed, alerted, foSubscribers, doubled, bc.Status, bc.Sent, bc.SkippedOptedOut)
	if bc.Sent != foSubscribers || bc.SkippedOptedOut != 0 {
		t.Errorf("the alert counts %d sent and %d skipped, want %d and 0", bc.Sent, bc.SkippedOptedOut, foSubscribers)
	}
	for _, s := range servers {
		t.Logf("%s log: %s", s.url, s.logSummary())
	}
}

// foMember is a member of the failover test's load.
type foMember struct {
	phone    string
	script   []string
	messages []foReply
	// person: the member asks for a person, which opens a case and pages the volunteer.
	person bool
}

// foVolunteer is the failover test's volunteer, on call through the load.
const foVolunteer = "+15055550902"

// pagedCases are the case numbers the pages to a volunteer name ("TOMAR 12"), with how often
// each was paged.
func pagedCases(bodies []string) map[string]int {
	out := map[string]int{}
	for _, b := range bodies {
		if m := tomarCase.FindStringSubmatch(b); m != nil {
			out[m[1]]++
		}
	}
	return out
}

var tomarCase = regexp.MustCompile(`TOMAR (\d+)`)

func phonesOf(ms []*foMember) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.phone
	}
	return out
}

type replyKind string

const (
	replyReal     replyKind = "reply"
	replyFallback replyKind = "fallback"
	replyNone     replyKind = "no reply"
)

// foReply is one webhook and its answer.
type foReply struct {
	sid, text string
	at        time.Time // when the answer came
	took      time.Duration
	status    int
	body      string
	texts     []string // the TwiML's messages
	err       error
	kind      replyKind
}

// foClient sends signed webhooks to one of the servers at random, as a load balancer in
// front of them would.
type foClient struct {
	t    *testing.T
	urls []string
	c    *http.Client
	n    atomic.Int64
}

func (c *foClient) send(from, text string) foReply {
	base := c.urls[c.n.Add(1)%int64(len(c.urls))]
	sid := fmt.Sprintf("SM%032d", messageSids.Add(1))
	form := url.Values{"MessageSid": {sid}, "From": {from}, "To": {"+15055550000"}, "Body": {text}}
	req, _ := http.NewRequest("POST", base+"/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, twilio.Sign(twiliofake.AuthToken, base+"/twilio/sms", form))
	began := time.Now()
	resp, err := c.c.Do(req)
	r := foReply{sid: sid, text: text, at: time.Now(), err: err}
	r.took = r.at.Sub(began)
	if err != nil {
		return r
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r.status, r.body = resp.StatusCode, string(raw)
	var doc struct {
		Messages []string `xml:"Message"`
	}
	xml.Unmarshal(raw, &doc)
	r.texts = doc.Messages
	switch {
	case strings.Contains(r.body, fallbackText), strings.Contains(r.body, keptText):
		r.kind = replyFallback
	case strings.Contains(r.body, "<Message>"):
		r.kind = replyReal
	default:
		r.kind = replyNone
	}
	return r
}

// foProc is a hotline process of the failover test: the real binary.
type foProc struct {
	url  string
	cmd  *exec.Cmd
	logs string // path of its log
	env  map[string]string
}

func startFoProc(t *testing.T, bin, command string, base, extra map[string]string) *foProc {
	t.Helper()
	env := map[string]string{}
	for k, v := range base {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	// HOTLINE_TEST_FAILOVER_LOGS keeps the processes' logs in a folder of one's choosing.
	dir := os.Getenv("HOTLINE_TEST_FAILOVER_LOGS")
	if dir == "" {
		dir = t.TempDir()
	}
	p := &foProc{env: env, logs: filepath.Join(dir, command+".log")}
	if command == "serve" {
		port := freePort(t)
		env["PORT"], env["PUBLIC_URL"] = fmt.Sprint(port), fmt.Sprintf("http://127.0.0.1:%d", port)
		p.url = env["PUBLIC_URL"]
		p.logs = filepath.Join(dir, fmt.Sprintf("serve-%d.log", port))
	}
	p.cmd = exec.Command(bin, command)
	p.cmd.Env = os.Environ()
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	logf, err := os.Create(p.logs)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = logf
	out, _ := p.cmd.StdoutPipe()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		logs, _ := os.ReadFile(p.logs)
		t.Fatalf("hotline %s did not start: %v\n%s", command, err, logs)
	}
	go io.Copy(io.Discard, out)
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
		logf.Close()
		logs, _ := os.ReadFile(p.logs)
		checkLogs(t, string(logs))
		if t.Failed() {
			t.Logf("hotline %s log (last 40 lines):\n%s", command, tail(string(logs), 40))
		}
	})
	return p
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// logSummary counts the lines of the process's log by message.
func (p *foProc) logSummary() string {
	raw, _ := os.ReadFile(p.logs)
	counts := map[string]int{}
	for _, line := range strings.Split(string(raw), "\n") {
		i := strings.Index(line, " msg=")
		if i < 0 {
			continue
		}
		msg := line[i+5:]
		if strings.HasPrefix(msg, `"`) {
			if j := strings.Index(msg[1:], `"`); j >= 0 {
				msg = msg[1 : j+1]
			}
		} else if j := strings.Index(msg, " "); j >= 0 {
			msg = msg[:j]
		}
		counts[msg]++
	}
	var parts []string
	for msg, n := range counts {
		parts = append(parts, fmt.Sprintf("%q ×%d", msg, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func (p *foProc) spoolPending() bool {
	st, err := os.Stat(filepath.Join(p.env["HOTLINE_SPOOL_DIR"], "inbound.spool"))
	return err == nil && st.Size() > 0
}

func (p *foProc) api(t *testing.T, token, method, path string, body any, out any) int {
	h := &hotlineProc{t: t, url: p.url}
	return h.api(token, method, path, body, out)
}

func (p *foProc) organizer(t *testing.T, name, phone string) string {
	h := &hotlineProc{t: t, url: p.url}
	return h.organizer(name, phone)
}

func (p *foProc) waitBroadcast(t *testing.T, token, id string, within time.Duration) bcJSON {
	h := &hotlineProc{t: t, url: p.url}
	return h.waitDone(token, id, within)
}

// buildHotline builds the hotline binary once for the test.
func buildHotline(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hotline")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// seenMessages records when each message first reached the fake Twilio.
type seenMessages struct {
	mu sync.Mutex
	at map[string]time.Time // to + "\x00" + body → first seen
}

func (s *seenMessages) first(to, body string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.at[to+"\x00"+body]
	return at, ok
}

func watchMessages(t *testing.T, fake *twiliofake.Server) *seenMessages {
	s := &seenMessages{at: map[string]time.Time{}}
	stop := make(chan struct{})
	done := make(chan struct{})
	t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		n := 0
		for {
			msgs := fake.Messages()
			now := time.Now()
			s.mu.Lock()
			for _, m := range msgs[n:] {
				k := m.To + "\x00" + m.Body
				if _, ok := s.at[k]; !ok {
					s.at[k] = now
				}
			}
			s.mu.Unlock()
			n = len(msgs)
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return s
}

// clusterWhole reports why the cluster is not 3 masters each with a replica in sync.
func clusterWhole(ctx context.Context, rdb *redis.ClusterClient) error {
	nodes, err := rdb.ClusterNodes(ctx).Result()
	if err != nil {
		return err
	}
	masters := map[string]string{} // id → addr
	replicaOf := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(nodes), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			continue
		}
		if strings.Contains(f[2], "fail") {
			return fmt.Errorf("node %s is %s", f[1], f[2])
		}
		addr, _, _ := strings.Cut(f[1], "@")
		switch {
		case strings.Contains(f[2], "master") && len(f) > 8:
			masters[f[0]] = addr
		case strings.Contains(f[2], "slave"):
			replicaOf[f[0]] = f[3]
			c := redis.NewClient(&redis.Options{Addr: addr})
			info, err := c.Info(ctx, "replication").Result()
			c.Close()
			if err != nil || !strings.Contains(info, "master_link_status:up") {
				return fmt.Errorf("replica %s is not in sync", addr)
			}
		}
	}
	if len(masters) != 3 {
		return fmt.Errorf("%d masters, want 3", len(masters))
	}
	for id, addr := range masters {
		found := false
		for _, m := range replicaOf {
			found = found || m == id
		}
		if !found {
			return fmt.Errorf("master %s has no replica", addr)
		}
	}
	return nil
}

// failoverTarget picks the master holding the subscription index ({s}), and a fresh key
// prefix whose organizer roster is on it too.
func failoverTarget(t *testing.T, rdb *redis.ClusterClient) (addr, prefix string, owner func(key string) string) {
	t.Helper()
	ctx := context.Background()
	slots, err := rdb.ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	owner = func(key string) string {
		slot, err := rdb.ClusterKeySlot(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range slots {
			if int64(s.Start) <= slot && slot <= int64(s.End) {
				return s.Nodes[0].Addr
			}
		}
		t.Fatalf("no master owns the slot of %s", key)
		return ""
	}
	addr = owner("x:{s}")
	for range 10000 {
		b := make([]byte, 4)
		rand.Read(b)
		prefix = "failover-" + hex.EncodeToString(b)
		// Not the volunteers' set too: ":orgs" and ":vols" differ in a way CRC16 turns into
		// a fixed difference of slots, which never falls within one master's range here.
		if owner(prefix+":orgs") == addr {
			return addr, prefix, owner
		}
	}
	t.Fatal("no prefix puts the organizer roster on the master of the subscription index")
	return "", "", nil
}

// killMaster kills the Redis process at addr with SIGKILL, as a crash would, and returns when.
func killMaster(t *testing.T, rdb *redis.ClusterClient, addr string) time.Time {
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		t.Errorf("reading the master's pid: %v", err)
		return time.Time{}
	}
	var pid int
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	dir, _ := c.ConfigGet(ctx, "dir").Result()
	if pid == 0 {
		t.Errorf("no process_id in INFO server")
		return time.Time{}
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Errorf("killing %d: %v", pid, err)
		return time.Time{}
	}
	at := time.Now()
	// Put the node back afterwards, empty, as a replica of the one that took over, so the
	// cluster is whole again for another run.
	t.Cleanup(func() { restartNode(t, rdb, addr, dir["dir"]) })
	return at
}

// waitPromoted waits until a node other than the dead master at addr serves slot, one of
// the slots it served, and returns when.
func waitPromoted(t *testing.T, rdb *redis.ClusterClient, addr string, slot int64, since time.Time) time.Time {
	ctx := context.Background()
	var other string
	for _, line := range strings.Split(rdb.ClusterNodes(ctx).Val(), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && !strings.HasPrefix(f[1], addr+"@") {
			other, _, _ = strings.Cut(f[1], "@")
			break
		}
	}
	c := redis.NewClient(&redis.Options{Addr: other})
	defer c.Close()
	for time.Since(since) < 30*time.Second {
		for _, s := range c.ClusterSlots(ctx).Val() {
			if int64(s.Start) <= slot && slot <= int64(s.End) && s.Nodes[0].Addr != addr {
				return time.Now()
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("the dead master's replica did not take over within 30 s")
	return time.Now()
}

// restartNode starts the node at addr again from its config file (written by .ci/cluster) and
// waits for the cluster to be whole; without the file it says so and leaves the node down.
func restartNode(t *testing.T, rdb *redis.ClusterClient, addr, dir string) {
	conf := filepath.Join(dir, "redis.conf")
	if _, err := os.Stat(conf); err != nil {
		t.Logf("the killed node %s is left down (no %s to restart it from): restart the cluster before another run", addr, conf)
		return
	}
	if out, err := exec.Command("redis-server", conf).CombinedOutput(); err != nil {
		t.Logf("restarting %s: %v %s", addr, err, out)
		return
	}
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if clusterWhole(ctx, rdb) == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("the cluster is not whole 30 s after restarting %s: %v", addr, clusterWhole(ctx, rdb))
}

func openReply(keys *privacy.Keys, id, sid string, sealed []byte) ([]string, error) {
	plain, err := keys.Open(sealed, privacy.Reply(id, sid))
	if err != nil {
		return nil, err
	}
	var texts []string
	err = json.Unmarshal(plain, &texts)
	return texts, err
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// quantiles formats the median, 90th percentile and maximum of ds.
func quantiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "(none)"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q := func(p float64) time.Duration { return s[int(math.Ceil(p*float64(len(s))))-1] }
	return fmt.Sprintf("%v / %v / %v", q(0.5).Round(time.Millisecond), q(0.9).Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond))
}

// writeProbe writes keys of one master's slots as fast as it can, each SET followed, when
// wait is set, by WAIT 1 on its connection as the hotline's promised writes are, and keeps
// the keys Redis acknowledged; after the failover, verdict counts those that are gone.
type writeProbe struct {
	wait time.Duration
	tag  string
	quit chan struct{}
	done sync.WaitGroup

	mu          sync.Mutex
	acked       []string
	unconfirmed map[string]bool
}

func (p *writeProbe) name() string {
	if p.wait == 0 {
		return "without WAIT"
	}
	return "with WAIT 1 " + p.wait.String()
}

func (p *writeProbe) start(t *testing.T, rdb *redis.ClusterClient, target string, owner func(string) string, base string) {
	for i := 0; ; i++ {
		p.tag = fmt.Sprintf("%s:{%d}", base, i)
		if owner(p.tag) == target {
			break
		}
	}
	p.quit, p.unconfirmed = make(chan struct{}), map[string]bool{}
	ctx := context.Background()
	for w := range 4 {
		p.done.Go(func() {
			node, err := rdb.MasterForKey(ctx, p.tag)
			if err != nil {
				t.Errorf("probe: %v", err)
				return
			}
			conn := node.Conn()
			defer conn.Close()
			for n := 0; ; n++ {
				select {
				case <-p.quit:
					return
				default:
				}
				key := fmt.Sprintf("%s:%d:%d", p.tag, w, n)
				if err := conn.Set(ctx, key, "1", time.Hour).Err(); err != nil {
					return // the master is gone
				}
				confirmed := true
				if p.wait > 0 {
					n, err := conn.Wait(ctx, 1, p.wait).Result()
					if err != nil {
						return // the master is gone: the hotline fails such a write (and spools its message)
					}
					confirmed = n >= 1
				}
				p.mu.Lock()
				p.acked = append(p.acked, key)
				if !confirmed {
					p.unconfirmed[key] = true
				}
				p.mu.Unlock()
			}
		})
	}
}

func (p *writeProbe) stop() {
	if p.quit != nil {
		close(p.quit)
		p.done.Wait()
	}
}

// verdict reads back every acknowledged key from the master that took over.
func (p *writeProbe) verdict(t *testing.T, rdb *redis.ClusterClient) (acked, missing, unconfirmed int) {
	ctx := context.Background()
	p.mu.Lock()
	defer p.mu.Unlock()
	exists := make([]*redis.IntCmd, len(p.acked))
	if _, err := rdb.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, k := range p.acked {
			exists[i] = pipe.Exists(ctx, k)
		}
		return nil
	}); err != nil {
		t.Errorf("probe: reading back: %v", err)
		return
	}
	for i, k := range p.acked {
		if exists[i].Val() == 0 {
			missing++
			if p.unconfirmed[k] {
				unconfirmed++
			}
		}
	}
	return len(p.acked), missing, unconfirmed
}
