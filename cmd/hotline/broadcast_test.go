package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/redistest"
	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/twiliofake"
)

const adminToken = "test-admin-token-0123456789"

// messageSids numbers inbound messages across every hotline process of a test, as Twilio's
// ids are unique across a fleet.
var messageSids atomic.Int64

// hotlineProc is a real hotline process (run in this test binary) in Twilio mode, talking to a
// local fake of Twilio's API, on a port chosen in advance so PUBLIC_URL can name it.
type hotlineProc struct {
	t    *testing.T
	url  string
	env  map[string]string
	fake *twiliofake.Server
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startHotline runs `hotline serve` with settings (added to a Twilio-mode base) until the
// test ends.
func startHotline(t *testing.T, settings map[string]string) *hotlineProc {
	t.Helper()
	h := hotlineEnv(t, settings)
	env := h.env
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- run(ctx, []string{"serve"}, envOf(env), nil, pw, logs) }()
	if _, err := bufio.NewReader(pr).ReadString('\n'); err != nil {
		t.Fatalf("hotline did not start: %v", err)
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		checkLogs(t, logs.String())
	})
	return h
}

// hotlineEnv prepares the settings, Redis prefix and fake Twilio of a hotline without
// starting it.
func hotlineEnv(t *testing.T, settings map[string]string) *hotlineProc {
	t.Helper()
	fake := twiliofake.New()
	t.Cleanup(fake.Close)
	port := freePort(t)
	_, prefix := redistest.Open(t)
	env := map[string]string{
		"PORT": fmt.Sprint(port), "PUBLIC_URL": fmt.Sprintf("http://127.0.0.1:%d", port),
		"TWILIO_ACCOUNT_SID": twiliofake.AccountSID, "TWILIO_AUTH_TOKEN": twiliofake.AuthToken,
		"TWILIO_FROM": "+15055550000", "TWILIO_API_BASE": fake.URL(),
		"REDIS_URL": redistest.URL(t), "HOTLINE_KEY_PREFIX": prefix,
		"HOTLINE_SECRET": "test-secret-0123456789", "HOTLINE_CONTACT": "505-555-0199",
		"ADMIN_TOKEN": adminToken, "HOTLINE_SEND_RATE": "0", "LOG_FORMAT": "text",
	}
	// HOTLINE_TEST_CLUSTER_URL runs the hotline against a Redis Cluster instead (every key
	// operation must then stay within one hash slot).
	if u := os.Getenv("HOTLINE_TEST_CLUSTER_URL"); u != "" {
		env["REDIS_URL"], env["REDIS_CLUSTER"] = u, "true"
	}
	for k, v := range settings {
		env[k] = v
	}
	return &hotlineProc{t: t, url: env["PUBLIC_URL"], env: env, fake: fake}
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// phoneInLog matches the test phone numbers (+1505…) in any common spelling.
var phoneInLog = regexp.MustCompile(`\+?1?[ (-]*505[) .-]*55\d[ .-]*\d{4}`)

// checkLogs fails the test if a hotline's log holds a phone number or a message body.
func checkLogs(t *testing.T, logs string) {
	t.Helper()
	if m := phoneInLog.FindString(logs); m != "" {
		t.Errorf("the log contains a phone number %q", m)
	}
	for _, body := range []string{"MARKER-", "Tengo miedo", "camionetas", "Checkpoint on Central"} {
		if strings.Contains(logs, body) {
			t.Errorf("the log contains message text %q", body)
		}
	}
	for _, line := range strings.Split(logs, "\n") {
		// An attribute named like slog's own keys makes a JSON line with the key twice,
		// and log tools keep only one of them.
		for _, key := range []string{" msg=", " level=", " time="} {
			if strings.Count(" "+line, key) > 1 {
				t.Errorf("a log line repeats %q: %s", strings.TrimSpace(key), line)
			}
		}
	}
	if !strings.Contains(logs, "level=") {
		t.Errorf("no log at all: the check would prove nothing")
	}
}

// startHotlineSharing starts a second hotline process on the same Redis and fake Twilio as
// h, as a fleet of servers would run.
func startHotlineSharing(t *testing.T, h *hotlineProc) *hotlineProc {
	t.Helper()
	port := freePort(t)
	env := map[string]string{}
	for k, v := range h.env {
		env[k] = v
	}
	env["PORT"], env["PUBLIC_URL"] = fmt.Sprint(port), fmt.Sprintf("http://127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, envOf(env), nil, pw, io.Discard) }()
	if _, err := bufio.NewReader(pr).ReadString('\n'); err != nil {
		t.Fatalf("second hotline did not start: %v", err)
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() { cancel(); <-done })
	return &hotlineProc{t: t, url: env["PUBLIC_URL"], env: env, fake: h.fake}
}

// text sends a signed inbound SMS and returns the TwiML reply.
func (h *hotlineProc) text(from, body string) string {
	h.t.Helper()
	return h.textAs(fmt.Sprintf("SM%032d", messageSids.Add(1)), from, body)
}

// textAs sends an SMS with the given MessageSid, as Twilio does when it retries a webhook.
func (h *hotlineProc) textAs(sid, from, body string) string {
	h.t.Helper()
	form := url.Values{"MessageSid": {sid}, "From": {from}, "To": {"+15055550000"}, "Body": {body}}
	req, _ := http.NewRequest("POST", h.url+"/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, twilio.Sign(twiliofake.AuthToken, h.url+"/twilio/sms", form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		h.t.Fatalf("webhook: %d %s", resp.StatusCode, raw)
	}
	return string(raw)
}

// subscribe signs a member up for alerts for area by SMS, in lang.
func (h *hotlineProc) subscribe(phone, lang, area string) {
	h.t.Helper()
	greeting, yes := "hola", "si"
	if lang == "en" {
		greeting, yes = "hello", "yes"
	}
	for _, msg := range []string{greeting, "3", area, yes} {
		h.text(phone, msg)
	}
}

// api calls the admin API and decodes the JSON answer into out (when not nil).
func (h *hotlineProc) api(token, method, path string, body any, out any) int {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			h.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

func (h *hotlineProc) organizer(name, phone string) string {
	h.t.Helper()
	var o struct{ Token string }
	if code := h.api(adminToken, "POST", "/admin/organizers", map[string]string{"name": name, "phone": phone}, &o); code != 201 || o.Token == "" {
		h.t.Fatalf("adding organizer: %d", code)
	}
	return o.Token
}

type bcJSON struct {
	ID              string           `json:"id"`
	Status          string           `json:"status"`
	Error           string           `json:"error"`
	Recipients      map[string]int64 `json:"recipients"`
	Segments        map[string]int   `json:"segments"`
	Queued          int64            `json:"queued"`
	Sent            int64            `json:"sent"`
	Delivered       int64            `json:"delivered"`
	Failed          int64            `json:"failed"`
	SkippedOptedOut int64            `json:"skipped_opted_out"`
}

// waitDone polls a broadcast until it is done.
func (h *hotlineProc) waitDone(token, id string, within time.Duration) bcJSON {
	h.t.Helper()
	deadline := time.Now().Add(within)
	for {
		var b bcJSON
		h.api(token, "GET", "/admin/broadcasts/"+id, nil, &b)
		if b.Status == "done" {
			return b
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("broadcast %s not done after %v: %+v", id, within, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestBroadcastEndToEnd(t *testing.T) {
	h := startHotline(t, nil)
	h.subscribe("+15055550301", "es", "ABQ")
	h.subscribe("+15055550302", "en", "ABQ")
	h.subscribe("+15055550303", "es", "ABQ")
	h.text("+15055550303", "PARAR")
	h.subscribe("+15055550304", "es", "santa fe county") // another area

	var bad bcJSON
	if code := h.api("wrong-token", "POST", "/admin/broadcasts", map[string]any{}, &bad); code != 401 {
		t.Errorf("bad token: %d", code)
	}
	tok := h.organizer("Ana", "+15055550901")

	// A language with subscribers but no text is refused, naming the language.
	if code := h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"en": "Checkpoint on Central Ave."}, "areas": []string{"Albuquerque"}}, &bad); code != 400 || !strings.Contains(bad.Error, "text.es") {
		t.Errorf("missing Spanish: %d %q", code, bad.Error)
	}
	if code := h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": "x", "en": "x"}, "areas": []string{"Gotham"}}, &bad); code != 400 || !strings.Contains(bad.Error, "unknown area") {
		t.Errorf("unknown area: %d %q", code, bad.Error)
	}
	if code := h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": strings.Repeat("a", 1601), "en": "x"}}, &bad); code != 400 {
		t.Errorf("text over 1600: %d", code)
	}

	es, en := "Alerta: retén en la avenida Central. Conozca sus derechos: envíe DERECHOS.", "Alert: checkpoint on Central Ave. Know your rights: text RIGHTS."
	var b bcJSON
	if code := h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": es, "en": en}, "areas": []string{"Albuquerque"}}, &b); code != 201 {
		t.Fatalf("create: %d %+v", code, b)
	}
	if b.Status != "draft" || b.Recipients["es"] != 1 || b.Recipients["en"] != 1 || b.Segments["es"] != 2 || b.Segments["en"] != 1 {
		t.Errorf("preview = %+v (the opted-out member must not count)", b)
	}
	if code := h.api(tok, "POST", "/admin/broadcasts/"+b.ID+"/send", nil, &b); code != 200 {
		t.Fatalf("send: %d", code)
	}
	done := h.waitDone(tok, b.ID, 10*time.Second)
	if done.Sent != 2 || done.Queued != 2 || done.Failed != 0 {
		t.Errorf("counts = %+v", done)
	}
	got := map[string]string{}
	for _, m := range h.fake.Messages() {
		if _, dup := got[m.To]; dup {
			t.Errorf("%s got the alert twice", m.To)
		}
		got[m.To] = m.Body
		if !strings.HasSuffix(m.StatusCallback, "/twilio/status?bc="+b.ID) {
			t.Errorf("status callback %q", m.StatusCallback)
		}
	}
	want := map[string]string{"+15055550301": es, "+15055550302": en}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sent %v, want %v", got, want)
	}

	// Delivery reports, signed as Twilio signs them, are counted once each.
	for range 2 {
		if n, err := h.fake.SendStatusCallbacks(context.Background(), "delivered", 0); err != nil || n != 2 {
			t.Fatalf("status callbacks: %d, %v", n, err)
		}
	}
	var after bcJSON
	h.api(tok, "GET", "/admin/broadcasts/"+b.ID, nil, &after)
	if after.Delivered != 2 {
		t.Errorf("delivered = %d, want 2", after.Delivered)
	}
	resp0, err := http.Get(h.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp0.Body)
	resp0.Body.Close()
	for _, want := range []string{`hotline_sends_total{outcome="sent"} 2`, "hotline_inbound_messages_total 1", "hotline_webhook_seconds_count",
		`hotline_queue_depth{priority="normal"} 0`, `hotline_cases{status="open"} 0`, "hotline_redis_errors_total"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	form := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}}
	req, _ := http.NewRequest("POST", h.url+"/twilio/status?bc="+b.ID, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, "forged")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("forged status callback: %d", resp.StatusCode)
	}
}

func TestBroadcastApproval(t *testing.T) {
	h := startHotline(t, map[string]string{"HOTLINE_BROADCAST_APPROVALS": "1"})
	ana, luis := h.organizer("Ana", "+15055550901"), h.organizer("Luis", "+15055550902")
	var b bcJSON
	// Creating never asks for approval, nor sends; sending asks; the approval sends.
	if code := h.api(ana, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": "hola", "en": "hi"}}, &b); code != 201 || b.Status != "draft" {
		t.Fatalf("create: %d %+v", code, b)
	}
	var e bcJSON
	if code := h.api(ana, "POST", "/admin/broadcasts/"+b.ID+"/send", nil, &e); code != 200 || e.Status != "awaiting_approval" {
		t.Errorf("send before approval: %d %+v", code, e)
	}
	if code := h.api(ana, "POST", "/admin/broadcasts/"+b.ID+"/approve", nil, &e); code != 409 {
		t.Errorf("creator approving: %d", code)
	}
	if code := h.api(luis, "POST", "/admin/broadcasts/"+b.ID+"/approve", nil, &e); code != 200 || (e.Status != "sending" && e.Status != "done") {
		t.Errorf("second organizer approving: %d %+v", code, e)
	}
	var list struct{ Organizers []struct{ Phone string } }
	h.api(adminToken, "GET", "/admin/organizers", nil, &list)
	if len(list.Organizers) != 2 || strings.Contains(list.Organizers[0].Phone, "55509") {
		t.Errorf("organizers = %+v (phones must be masked)", list)
	}
	if code := h.api(ana, "GET", "/admin/organizers", nil, nil); code != 401 {
		t.Errorf("an organizer listing organizers: %d", code)
	}
}

// TestBroadcastLearnsOptOut: Twilio's 21610 (the member blocked us) is not retried, is
// counted as skipped, and the member is opted out for good.
func TestBroadcastLearnsOptOut(t *testing.T) {
	h := startHotline(t, nil)
	h.subscribe("+15055550401", "es", "ABQ")
	h.subscribe("+15055550402", "es", "ABQ")
	h.fake.FailTo("+15055550401", 400, 21610)
	tok := h.organizer("Ana", "+15055550901")
	var b bcJSON
	h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": "hola", "en": "hi"}, "areas": []string{"albuquerque"}}, &b)
	h.api(tok, "POST", "/admin/broadcasts/"+b.ID+"/send", nil, &b)
	done := h.waitDone(tok, b.ID, 10*time.Second)
	if done.Sent != 1 || done.SkippedOptedOut != 1 {
		t.Errorf("counts = %+v", done)
	}
	if n := h.fake.Requests(); n != 2 {
		t.Errorf("%d send requests, want 2 (21610 must not be retried)", n)
	}
	if reply := h.text("+15055550401", "hola"); strings.Contains(reply, "<Message>") {
		t.Errorf("the opted-out member was answered: %s", reply)
	}
	var b2 bcJSON
	h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": "hola", "en": "hi"}, "areas": []string{"albuquerque"}}, &b2)
	if b2.Recipients["es"] != 1 {
		t.Errorf("next broadcast still counts the opted-out member: %+v", b2.Recipients)
	}
	// Coming back, the member learns the opt-out ended their alerts (issue 11).
	if reply := h.text("+15055550401", "COMENZAR"); !strings.Contains(reply, "Sus alertas terminaron") {
		t.Errorf("COMENZAR after the provider's opt-out answered %s", reply)
	}
}

// TestWorkerKilledMidBroadcast kills a worker process with SIGKILL in the middle of a
// broadcast and starts another: every recipient still gets the alert, and only messages in
// flight at the moment of the kill may arrive twice.
func TestWorkerKilledMidBroadcast(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes")
	}
	const members, concurrency = 200, 4
	h := startHotline(t, map[string]string{"HOTLINE_WORKER": "off"})
	for i := range members {
		h.subscribe(fmt.Sprintf("+1505556%04d", i), []string{"es", "en"}[i%2], "ABQ")
	}
	tok := h.organizer("Ana", "+15055550901")
	var b bcJSON
	h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": "hola", "en": "hi"}, "areas": []string{"albuquerque"}}, &b)
	h.api(tok, "POST", "/admin/broadcasts/"+b.ID+"/send", nil, &b)
	h.fake.Latency(10 * time.Millisecond)

	startWorker := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "HOTLINE_TEST_RUN_MAIN=worker", "HOTLINE_WORKER_CONCURRENCY="+fmt.Sprint(concurrency), "HOTLINE_CLAIM_IDLE=500ms")
		for k, v := range h.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	first := startWorker()
	for h.fake.Count() < members/3 {
		time.Sleep(5 * time.Millisecond)
	}
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	killedAt := h.fake.Count()

	second := startWorker()
	t.Cleanup(func() { second.Process.Kill(); second.Wait() })
	done := h.waitDone(tok, b.ID, 30*time.Second)

	received := map[string]int{}
	for _, m := range h.fake.Messages() {
		received[m.To]++
	}
	duplicates := 0
	for i := range members {
		n := received[fmt.Sprintf("+1505556%04d", i)]
		if n == 0 {
			t.Errorf("member %d never got the alert", i)
		}
		duplicates += max(n-1, 0)
	}
	t.Logf("killed after %d sends; %d duplicates (at most %d were in flight)", killedAt, duplicates, concurrency)
	if duplicates > concurrency {
		t.Errorf("%d duplicates; only the %d sends in flight may repeat", duplicates, concurrency)
	}
	if done.Sent != members {
		t.Errorf("sent = %d, want %d", done.Sent, members)
	}
}

// TestOrganizerComposesBySMS: an organizer's phone texting ALERTA composes an alert (area,
// English, Spanish, preview), and with approvals on, another organizer approves it by SMS.
// Organizers' texts never reach the member flows.
func TestOrganizerComposesBySMS(t *testing.T) {
	h := startHotline(t, map[string]string{"HOTLINE_BROADCAST_APPROVALS": "1", "HOTLINE_COST_PER_SEGMENT": "0.01"})
	h.subscribe("+15055550501", "es", "ABQ")
	h.subscribe("+15055550502", "en", "ABQ")
	var ana, luis struct{ Token string }
	h.api(adminToken, "POST", "/admin/organizers", map[string]string{"name": "Ana", "phone": "+15055550911", "lang": "es"}, &ana)
	h.api(adminToken, "POST", "/admin/organizers", map[string]string{"name": "Luis", "phone": "+15055550912", "lang": "en"}, &luis)

	steps := []struct{ in, want string }{
		{"hola", "ALERTA"}, // an organizer gets organizer help, not the member menu
		{"ALERTA", "¿Para qué área?"},
		{"gotham", "No reconozco esa área"},
		{"albuquerque", "Envíe el texto en inglés"},
		{"Checkpoint on Central Ave.", "texto en español"},
		{"Retén en la avenida Central.", "1 en español"},
		{"ENVIAR", "Pedimos a los otros organizadores"},
	}
	var id string
	for _, s := range steps {
		reply := h.text("+15055550911", s.in)
		if !strings.Contains(reply, s.want) {
			t.Fatalf("%q answered %s, want %q", s.in, reply, s.want)
		}
		if i := strings.Index(reply, "Alerta "); i >= 0 && id == "" {
			id = strings.Fields(reply[i:])[1]
		}
	}
	if strings.Contains(h.text("+15055550911", "APROBAR "+id), "Aprobada") {
		t.Fatal("the creator approved their own alert")
	}
	var asked string
	for _, m := range h.fake.Messages() {
		if m.To == "+15055550912" {
			asked = m.Body
		}
	}
	if !strings.Contains(asked, "Reply APPROVE "+id) || !strings.Contains(asked, "Checkpoint on Central Ave.") {
		t.Fatalf("Luis was asked: %q", asked)
	}
	if reply := h.text("+15055550912", "approve "+id); !strings.Contains(reply, "Sending alert "+id) {
		t.Fatalf("approval answered %s", reply)
	}
	h.waitDone(luis.Token, id, 10*time.Second)
	got := map[string]string{}
	for _, m := range h.fake.Messages() {
		got[m.To] = m.Body
	}
	if got["+15055550501"] != "Retén en la avenida Central." || got["+15055550502"] != "Checkpoint on Central Ave." {
		t.Errorf("members got %v", got)
	}
	if !strings.Contains(got["+15055550911"], "Luis aprobó la alerta "+id) {
		t.Errorf("Ana was told %q", got["+15055550911"])
	}
}

// TestTwilioFailuresAreRetried: 5xx, 429 and a plain-text proxy error are retried with
// backoff; the queue holds meanwhile (an organizer sees it in the counts) and nothing is lost.
func TestTwilioFailuresAreRetried(t *testing.T) {
	h := startHotline(t, map[string]string{"HOTLINE_SEND_BACKOFF": "20ms"})
	for i := range 3 {
		h.subscribe(fmt.Sprintf("+150555508%02d", i), "es", "ABQ")
	}
	tok := h.organizer("Ana", "+15055550901")
	var b bcJSON
	h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": "hola", "en": "hi"}, "areas": []string{"albuquerque"}}, &b)
	// One fault at a time: 503 (a proxy's plain-text page), then rate limiting, then 500.
	h.fake.FailNext(2, 503, 0)
	h.api(tok, "POST", "/admin/broadcasts/"+b.ID+"/send", nil, &b)
	for h.fake.Requests() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	h.fake.FailNext(2, 429, 20429)
	for h.fake.Requests() < 4 {
		time.Sleep(5 * time.Millisecond)
	}
	h.fake.FailNext(1, 500, 20500)
	done := h.waitDone(tok, b.ID, 20*time.Second)
	if done.Sent != 3 || done.Failed != 0 {
		t.Errorf("counts = %+v", done)
	}
	if n := h.fake.Count(); n != 3 {
		t.Errorf("%d messages recorded, want 3", n)
	}
	if n := h.fake.Requests(); n < 6 {
		t.Errorf("%d requests: the failures were not retried", n)
	}
}

// TestBroadcastCLI drives `hotline broadcast` against a running hotline, as an organizer at
// a terminal would: create (with the preview), send, and status --watch to the end.
func TestBroadcastCLI(t *testing.T) {
	h := startHotline(t, map[string]string{"HOTLINE_COST_PER_SEGMENT": "0.01"})
	h.subscribe("+15055550811", "es", "ABQ")
	h.subscribe("+15055550812", "en", "ABQ")
	tok := h.organizer("Ana", "+15055550901")
	env := envOf(map[string]string{"HOTLINE_URL": h.url, "HOTLINE_TOKEN": tok})
	var out bytes.Buffer
	err := run(context.Background(), []string{"broadcast", "create", "--area", "Albuquerque", "--es", "Alerta de prueba", "--en", "Test alert"}, env, nil, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"area: Albuquerque", "es: 1 recipient, 1 segment each (GSM-7)", "en: 1 recipient,", "estimated cost: $0.02", "hotline broadcast send "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("create printed %q, lacking %q", out.String(), want)
		}
	}
	id := strings.Fields(out.String())[1]
	out.Reset()
	if err := run(context.Background(), []string{"broadcast", "send", id}, env, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"broadcast", "status", id, "--watch"}, env, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "] 2/2") || !strings.Contains(out.String(), "done  sent 2") {
		t.Errorf("status --watch printed %q", out.String())
	}
	err = run(context.Background(), []string{"broadcast", "create", "--area", "Gotham", "--es", "x", "--en", "x"}, env, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "unknown area") {
		t.Errorf("an unknown area: %v", err)
	}
}
