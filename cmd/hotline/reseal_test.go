package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"iter"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
)

// The sealing secrets added in the rotation tests: key versions 2 and 3.
const (
	sealingSecretB = "second-sealing-secret-0123456789"
	sealingSecretC = "third-sealing-secret-0123456789"
)

// store opens a Store on the hotline's Redis and prefix, to read what the hotline wrote.
func (h *hotlineProc) store() *redisstore.Store {
	s, err := redisstore.New(h.redisOf(), h.env["HOTLINE_KEY_PREFIX"], 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// sealedByWhere lists every sealed value of the hotline by its place.
func (h *hotlineProc) sealedByWhere() map[string]redisstore.Sealed {
	h.t.Helper()
	out := map[string]redisstore.Sealed{}
	for v, err := range h.store().SealedValues(context.Background()) {
		if err != nil {
			h.t.Fatal(err)
		}
		out[v.Where()] = v
	}
	return out
}

// rawValues returns every value of every hash, string and list under the hotline's prefix,
// read without the store's knowledge of where sealed values are.
func (h *hotlineProc) rawValues() map[string][]byte {
	ctx := context.Background()
	rdb := h.redisOf()
	out := map[string][]byte{}
	for _, k := range h.keysOf(rdb, h.env["HOTLINE_KEY_PREFIX"]+":*") {
		switch rdb.Type(ctx, k).Val() {
		case "hash":
			for f, v := range rdb.HGetAll(ctx, k).Val() {
				out[k+" field "+f] = []byte(v)
			}
		case "list":
			for i, v := range rdb.LRange(ctx, k, 0, -1).Val() {
				out[k+" item "+strconv.Itoa(i)] = []byte(v)
			}
		case "string":
			out[k] = []byte(rdb.Get(ctx, k).Val())
		}
	}
	return out
}

// ttls returns every key's remaining time to live under the hotline's prefix (-1: none).
func (h *hotlineProc) ttls() map[string]time.Duration {
	ctx := context.Background()
	rdb := h.redisOf()
	out := map[string]time.Duration{}
	for _, k := range h.keysOf(rdb, h.env["HOTLINE_KEY_PREFIX"]+":*") {
		out[k] = rdb.PTTL(ctx, k).Val()
	}
	return out
}

// withEnv returns a copy of the hotline's settings with extra ones.
func (h *hotlineProc) withEnv(extra map[string]string) map[string]string {
	env := map[string]string{}
	for k, v := range h.env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// runReseal runs `hotline reseal args…` with env and returns its output.
func runReseal(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"reseal"}, args...), envOf(env), nil, &out, &errOut)
	if m := phoneInLog.FindString(out.String() + errOut.String()); m != "" {
		t.Errorf("reseal printed a phone number %q", m)
	}
	return out.String(), err
}

// totalRow is the report's total line: checked, (would be) re-sealed, current, changed
// meanwhile, unreadable.
var totalRow = regexp.MustCompile(`(?m)^total +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) *$`)

func totals(t *testing.T, out string) [5]int {
	t.Helper()
	m := totalRow.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no total row in:\n%s", out)
	}
	var n [5]int
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	return n
}

func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// TestResealRotatesEveryValue: a hotline sealing with the key from HOTLINE_SECRET alone
// (version 1) stores every kind of sealed value; `reseal` with a new sealing secret B rewrites
// each one with key version 2, the same content and the same TTLs; a second pass has nothing
// left to do and says it is safe. Rotating again to C and re-sealing lets B be removed: a
// hotline with HOTLINE_SEALING_SECRETS=-,C still reads it all.
func TestResealRotatesEveryValue(t *testing.T) {
	h := startHotline(t, nil)
	h.organizer("Olga", "+15055550901")
	h.volunteer("Ana", volAna, "es")
	h.subscribe("+15055550602", "es", "ABQ") // a durable member: a field of a bucket hash
	h.text("+15055550603", "hola")           // a conversation: a key of its own with a TTL
	h.text(member, "persona")                // a case, claimed, with a transcript both ways
	n := strings.Fields(h.waitFor(volAna, "TOMAR"))[1]
	h.text(volAna, "tomar "+n)
	h.text(member, "MARKER-TO-VOLUNTEER-1")
	h.waitFor(volAna, "MARKER-TO-VOLUNTEER-1")
	h.text(volAna, "MARKER-TO-MEMBER-2")
	h.waitFor(member, "MARKER-TO-MEMBER-2")

	keysA, err := privacy.NewKeys(h.env["HOTLINE_SECRET"])
	if err != nil {
		t.Fatal(err)
	}
	keysAB, err := privacy.NewKeys(h.env["HOTLINE_SECRET"], sealingSecretB)
	if err != nil {
		t.Fatal(err)
	}
	before := h.sealedByWhere()
	perKind := map[redisstore.SealedKind]int{}
	plain := map[string][]byte{}
	for where, v := range before {
		perKind[v.Kind]++
		if v.Value[0] != 1 {
			t.Fatalf("%s is sealed with key version %d before the rotation, want 1", where, v.Value[0])
		}
		p, err := keysA.Open(v.Value, v.Context)
		if err != nil {
			t.Fatalf("%s does not open before the rotation: %v", where, err)
		}
		plain[where] = p
	}
	for _, k := range redisstore.SealedKinds {
		// A queued message is not re-sealed but waited for: TestResealWaitsForQueuedMessages.
		if perKind[k] == 0 && k != redisstore.KindQueued {
			t.Errorf("the seeding stored no %s", k)
		}
	}
	// Independently of the store's idea of where sealed values are: every value of the
	// prefix that starts with key version 1 must be one of them.
	for where, v := range h.rawValues() {
		if len(v) > 0 && v[0] == 1 {
			if _, ok := before[where]; !ok {
				t.Errorf("%s looks sealed but reseal does not see it", where)
			}
		}
	}
	ttlBefore := h.ttls()
	envB := h.withEnv(map[string]string{"HOTLINE_SEALING_SECRETS": sealingSecretB})

	// A dry run counts and writes nothing.
	out, err := runReseal(t, envB, "--dry-run")
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if got, want := totals(t, out), [5]int{len(before), len(before), 0, 0, 0}; got != want {
		t.Errorf("dry run totals %v, want %v\n%s", got, want, out)
	}
	if !strings.HasPrefix(lastLine(out), "NOT safe") {
		t.Errorf("dry run ends %q, want NOT safe", lastLine(out))
	}
	for where, v := range h.sealedByWhere() {
		if !bytes.Equal(v.Value, before[where].Value) {
			t.Errorf("the dry run changed %s", where)
		}
	}

	out, err = runReseal(t, envB)
	if err != nil {
		t.Fatalf("reseal: %v\n%s", err, out)
	}
	t.Logf("reseal:\n%s", out)
	if got, want := totals(t, out), [5]int{len(before), len(before), 0, 0, 0}; got != want {
		t.Errorf("totals %v, want %v\n%s", got, want, out)
	}
	if !strings.HasPrefix(lastLine(out), "safe:") {
		t.Errorf("reseal ends %q, want safe", lastLine(out))
	}
	after := h.sealedByWhere()
	if len(after) != len(before) {
		t.Errorf("%d sealed values after, %d before", len(after), len(before))
	}
	for where, v := range after {
		if v.Value[0] != 2 {
			t.Errorf("%s is sealed with key version %d after reseal, want 2", where, v.Value[0])
		}
		p, err := keysAB.Open(v.Value, v.Context)
		if err != nil {
			t.Errorf("%s does not open after reseal: %v", where, err)
			continue
		}
		if !bytes.Equal(p, plain[where]) {
			t.Errorf("%s holds something else after reseal", where)
		}
	}
	for where, v := range h.rawValues() {
		if len(v) > 0 && v[0] == 1 {
			t.Errorf("%s still starts with key version 1", where)
		}
	}
	ttlAfter := h.ttls()
	for k, was := range ttlBefore {
		now, ok := ttlAfter[k]
		switch {
		case !ok:
			t.Errorf("%s is gone after reseal", k)
		case was < 0 && now != was:
			t.Errorf("%s: TTL %v after reseal, had none", k, now)
		case was >= 0 && (now < was-2*time.Second || now > was):
			t.Errorf("%s: TTL %v after reseal, %v before", k, now, was)
		}
	}

	out, err = runReseal(t, envB)
	if err != nil {
		t.Fatalf("second reseal: %v\n%s", err, out)
	}
	if got, want := totals(t, out), [5]int{len(before), 0, len(before), 0, 0}; got != want {
		t.Errorf("second pass totals %v, want %v\n%s", got, want, out)
	}
	if !strings.HasPrefix(lastLine(out), "safe:") {
		t.Errorf("second pass ends %q, want safe", lastLine(out))
	}

	// A second rotation, to C: now B is an old secret, and once everything is re-sealed it
	// is removed by writing "-" in its place.
	out, err = runReseal(t, h.withEnv(map[string]string{"HOTLINE_SEALING_SECRETS": sealingSecretB + "," + sealingSecretC}))
	if err != nil {
		t.Fatalf("reseal to C: %v\n%s", err, out)
	}
	if got, want := totals(t, out), [5]int{len(before), len(before), 0, 0, 0}; got != want {
		t.Errorf("reseal to C: totals %v, want %v\n%s", got, want, out)
	}
	if want := "the 1 old sealing secret may now be removed by writing - in place of each"; !strings.Contains(lastLine(out), want) {
		t.Errorf("reseal to C ends %q, want it to contain %q", lastLine(out), want)
	}
	for where, v := range h.sealedByWhere() {
		if v.Value[0] != 3 {
			t.Errorf("%s is sealed with key version %d after the second rotation, want 3", where, v.Value[0])
		}
	}

	// A hotline without B reads everything: the subscriber's state, the case's address and
	// the volunteer's phone (a relay both ways).
	envC := h.withEnv(map[string]string{"HOTLINE_SEALING_SECRETS": "-," + sealingSecretC})
	h2 := startHotlineSharing(t, &hotlineProc{t: t, env: envC, fake: h.fake})
	if reply := h2.text("+15055550602", "menu"); !strings.Contains(reply, "Envíe un número") {
		t.Errorf("after reseal the subscriber got %s", reply)
	}
	h2.text(member, "MARKER-TO-VOLUNTEER-3")
	h.waitFor(volAna, "MARKER-TO-VOLUNTEER-3")
	h2.text(volAna, "MARKER-TO-MEMBER-4")
	h.waitFor(member, "MARKER-TO-MEMBER-4")
}

// TestResealLeavesUnreadableAndFails: a value no listed key opens is named (by its place),
// left as it is, and makes the command exit non-zero and say it is not safe; the other
// values are re-sealed all the same.
func TestResealLeavesUnreadableAndFails(t *testing.T) {
	h := startHotline(t, nil)
	h.subscribe("+15055550604", "es", "ABQ")
	ctx := context.Background()
	rdb := h.redisOf()
	buckets := h.keysOf(rdb, h.env["HOTLINE_KEY_PREFIX"]+":mb:*")
	if len(buckets) != 1 {
		t.Fatalf("buckets: %v", buckets)
	}
	junk := append([]byte{1}, bytes.Repeat([]byte("JUNK-VALUE-"), 4)...)
	rdb.HSet(ctx, buckets[0], "junkmember", junk)

	// The real binary, for its exit status.
	c := exec.Command(os.Args[0], "-test.run=^$")
	c.Env = append(os.Environ(), "HOTLINE_TEST_RUN_MAIN=reseal")
	for k, v := range h.withEnv(map[string]string{"HOTLINE_SEALING_SECRETS": sealingSecretB}) {
		c.Env = append(c.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	c.Stdout, c.Stderr = &out, &errOut
	err := c.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("reseal with an unreadable value: %v, want exit status 1\n%s%s", err, out.String(), errOut.String())
	}
	all := out.String() + errOut.String()
	if want := "does not open: " + buckets[0] + " field junkmember (member state)"; !strings.Contains(all, want) {
		t.Errorf("output lacks %q:\n%s", want, all)
	}
	if strings.Contains(all, "JUNK-VALUE") {
		t.Error("reseal printed the unreadable value")
	}
	if m := phoneInLog.FindString(all); m != "" {
		t.Errorf("reseal printed a phone number %q", m)
	}
	if got := totals(t, out.String()); got[4] != 1 || got[1] == 0 {
		t.Errorf("totals %v: want 1 unreadable and the rest re-sealed\n%s", got, out.String())
	}
	if !strings.HasPrefix(lastLine(out.String()), "NOT safe") {
		t.Errorf("output ends %q, want NOT safe", lastLine(out.String()))
	}
	if got, err := rdb.HGet(ctx, buckets[0], "junkmember").Bytes(); err != nil || !bytes.Equal(got, junk) {
		t.Errorf("the unreadable value was touched: %q, %v", got, err)
	}
	for where, v := range h.sealedByWhere() {
		if !strings.HasSuffix(where, "junkmember") && v.Value[0] != 2 {
			t.Errorf("%s not re-sealed: version %d", where, v.Value[0])
		}
	}
}

// racingStore holds sealed values and, when asked to replace them, answers as if the hotline
// had rewritten some meanwhile: now maps a place to what is there instead.
type racingStore struct {
	values []redisstore.Sealed
	now    map[string][]byte
}

func (s *racingStore) SealedValues(context.Context) iter.Seq2[redisstore.Sealed, error] {
	return func(yield func(redisstore.Sealed, error) bool) {
		for _, v := range s.values {
			if !yield(v, nil) {
				return
			}
		}
	}
}

func (s *racingStore) ReplaceSealed(_ context.Context, batch []redisstore.Replacement) ([]redisstore.Replaced, error) {
	out := make([]redisstore.Replaced, len(batch))
	for i, r := range batch {
		if cur, ok := s.now[r.Old.Where()]; ok {
			out[i].Current = cur
		} else {
			out[i].Done = true
		}
	}
	return out, nil
}

// TestResealCountsRaces: a value the hotline rewrote meanwhile with the newest key is fine; one
// rewritten with an old key (a process still without the new secret) makes the pass fail and
// say it is not safe, as does a value that does not open.
func TestResealCountsRaces(t *testing.T) {
	const secret = "test-secret-0123456789"
	oldKeys, _ := privacy.NewKeys(secret)
	newKeys, _ := privacy.NewKeys(secret, sealingSecretB)
	member := func(id string, k *privacy.Keys) redisstore.Sealed {
		ctx := privacy.MemberState(id)
		return redisstore.Sealed{Kind: redisstore.KindMember, Key: "P:mb:{1}", Field: id, Value: k.Seal([]byte("state"), ctx), Context: ctx}
	}
	st := &racingStore{
		values: []redisstore.Sealed{
			member("current", newKeys), member("old", oldKeys), member("racednew", oldKeys), member("racedold", oldKeys),
			{Kind: redisstore.KindMember, Key: "P:mb:{1}", Field: "junk", Value: []byte{1, 2, 3}, Context: privacy.MemberState("junk")},
		},
		now: map[string][]byte{
			"P:mb:{1} field racednew": member("racednew", newKeys).Value,
			"P:mb:{1} field racedold": member("racedold", oldKeys).Value,
		},
	}
	rep, err := resealAll(context.Background(), st, newKeys, false)
	if err != nil {
		t.Fatal(err)
	}
	want := resealCounts{checked: 5, resealed: 1, current: 1, changed: 2, unreadable: 1}
	if got := *rep.counts[redisstore.KindMember]; got != want {
		t.Errorf("counts %+v, want %+v", got, want)
	}
	var out bytes.Buffer
	rep.print(&out, []string{sealingSecretB})
	for _, s := range []string{"does not open: P:mb:{1} field junk (member state)", "rewritten meanwhile with an old key: P:mb:{1} field racedold (member state)"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, out.String())
		}
	}
	if !strings.HasPrefix(lastLine(out.String()), "NOT safe") || rep.err() == nil {
		t.Errorf("report ends %q, err %v: want NOT safe and an error", lastLine(out.String()), rep.err())
	}

	// Without the unreadable value and the old-key writer, the same race is safe.
	st.values, st.now = st.values[:3], map[string][]byte{"P:mb:{1} field racednew": member("racednew", newKeys).Value}
	if rep, err = resealAll(context.Background(), st, newKeys, false); err != nil || !rep.safe() || rep.err() != nil {
		t.Errorf("a race with an up-to-date writer: safe %v, err %v, %v", rep.safe(), rep.err(), err)
	}
}

// TestResealWaitsForQueuedMessages: a page waiting in the send queue for a retry, sealed
// with the old key, is not rewritten (a stream entry cannot be) and keeps reseal from calling
// the old secret safe to remove; once it has gone out, reseal is safe.
func TestResealWaitsForQueuedMessages(t *testing.T) {
	h := startHotline(t, map[string]string{"HOTLINE_WORKER": "off"}) // nothing drains the queue
	h.volunteer("Ana", volAna, "es")
	h.fake.FailNext(1, 503, 0)
	h.text(member, "hola")
	h.text(member, "persona") // the page fails and waits in the queue
	rdb := h.redisOf()
	queue := h.env["HOTLINE_KEY_PREFIX"] + ":q:{q}:direct"
	// The page is sent after the member's reply, so it is queued a moment after.
	var n int64
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if n = rdb.XLen(context.Background(), queue).Val(); n >= 1 {
			break
		}
	}
	if n != 1 {
		t.Fatalf("queued pages: %d, want 1", n)
	}
	env := h.withEnv(map[string]string{"HOTLINE_SEALING_SECRETS": sealingSecretB})
	out, err := runReseal(t, env)
	if err == nil || !strings.Contains(out, "queued: 1 message waiting for a retry after Twilio failed is sealed with an older key") ||
		!strings.HasPrefix(lastLine(out), "NOT safe") {
		t.Fatalf("reseal with a queued page: %v\n%s", err, out)
	}
	if strings.Contains(out, "MARKER") || strings.Contains(out, "TOMAR") {
		t.Error("reseal printed a queued message")
	}
	// The page goes out (a worker would do it within seconds); then it is safe.
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"worker"}, envOf(h.env), nil, io.Discard, io.Discard) }()
	h.waitFor(volAna, "TOMAR")
	for deadline := time.Now().Add(5 * time.Second); rdb.XLen(context.Background(), queue).Val() != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not drain the queue")
		}
	}
	stop()
	<-done
	if out, err := runReseal(t, env); err != nil || !strings.HasPrefix(lastLine(out), "safe:") {
		t.Fatalf("reseal after the queue drained: %v\n%s", err, out)
	}
}
