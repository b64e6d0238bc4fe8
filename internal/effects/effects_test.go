package effects

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// TestJobRoundTrip: every effect a step can promise survives the stored form; an effect the
// store cannot hold is refused, not dropped.
func TestJobRoundTrip(t *testing.T) {
	j := Job{Member: "m1", Msg: "SM1", From: "+15055550100", Channel: hotline.Voice, Lang: "es", At: 1700000000,
		Effects: []flow.Effect{
			actions.OpenCase{Kind: "report", Urgent: true, Text: "ayuda", Area: "bernalillo", Report: map[string]string{"what": "x"}, Situation: "home"},
			actions.UrgentCase{Case: 7, Text: "migra", Situation: "work"},
			flow.Relay{Case: 7, Text: "hola"},
			actions.EraseMember{},
			actions.LeftCase{Case: 7, OptedOut: true},
		},
		Replies: []flow.Reply{{ID: "case_opened", Data: map[string]string{"N": "7"}}},
	}
	b, err := Encode(j)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode("m1", "SM1", b)
	if err != nil || !reflect.DeepEqual(got, j) {
		t.Fatalf("round trip:\n got %+v\nwant %+v\n%v", got, j, err)
	}
	// A job written before the channel was kept is read as the channel its address names.
	for from, want := range map[string]hotline.Channel{"+15055550100": hotline.SMS, "whatsapp:+15055550100": hotline.WhatsApp} {
		old, err := Encode(Job{From: from, Lang: "es"})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Decode("m1", "SM1", old); err != nil || got.Channel != want {
			t.Errorf("a job from %s without a channel decoded as %q (%v), want %q", from, got.Channel, err, want)
		}
	}
	if _, err := Encode(Job{Effects: []flow.Effect{struct{}{}}}); err == nil {
		t.Error("an unknown effect was accepted")
	}
	if _, err := Decode("m", "s", []byte(`{"e":[{"t":"launch"}]}`)); err == nil {
		t.Error("an unknown stored effect was accepted")
	}
}

func TestAllowed(t *testing.T) {
	all := []flow.Effect{actions.OpenCase{Kind: "person"}, flow.Relay{Case: 1}, actions.LeftCase{Case: 1}, actions.EraseMember{}}
	for _, c := range []struct {
		name             string
		exists, optedOut bool
		want             []flow.Effect
	}{
		{"as it was", true, false, all},
		{"opted out since", true, true, []flow.Effect{actions.LeftCase{Case: 1}, actions.EraseMember{}}},
		{"erased since", false, false, []flow.Effect{actions.EraseMember{}}},
	} {
		if got := Allowed(all, c.exists, c.optedOut); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// fakeHandler opens nothing: it sends one page per job through send, and says "case_nobody"
// when told nobody is on call; fail makes it fail.
type fakeHandler struct {
	mu   sync.Mutex
	runs int
	fail bool
	seen []Job
}

func (h *fakeHandler) HandleJob(ctx context.Context, job Job, send hotline.Sender) ([]flow.Reply, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.runs++
	h.seen = append(h.seen, job)
	if h.fail {
		return job.Replies, errors.New("redis down")
	}
	for _, e := range job.Effects {
		if _, ok := e.(actions.OpenCase); ok {
			send.Send(ctx, hotline.Outbound{To: "+15055550701", Body: "page for " + job.Msg})
			return append(slices.Clone(job.Replies), flow.Reply{ID: "case_nobody"}), nil
		}
	}
	return job.Replies, nil
}

// onceQueue sends each id once, as dispatch.Outbox does with its marks.
type onceQueue struct {
	mu   sync.Mutex
	done map[string]bool
	sent []hotline.Outbound
}

func (q *onceQueue) SendOnce(_ context.Context, id string, m hotline.Outbound) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.done[id] {
		return nil
	}
	q.done[id] = true
	q.sent = append(q.sent, m)
	return nil
}

func (q *onceQueue) bodies() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, m := range q.sent {
		out = append(out, m.To+": "+m.Body)
	}
	return out
}

type members map[string]flow.State

func (m members) State(_ context.Context, id string) (flow.State, error) {
	st, ok := m[id]
	if !ok {
		return flow.State{}, hotline.ErrNotFound
	}
	return st, nil
}

type renderer struct{}

func (renderer) Render(_ hotline.Channel, lang string, rs []flow.Reply) ([]string, error) {
	var out []string
	for _, r := range rs {
		out = append(out, lang+":"+r.ID)
	}
	return out, nil
}

type rig struct {
	store   *redisstore.Store
	runner  *Runner
	handler *fakeHandler
	queue   *onceQueue
	members members
	now     time.Time
}

func newRig(t *testing.T) *rig {
	rdb, prefix := redistest.Open(t)
	store, err := redisstore.New(rdb, prefix, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := privacy.NewKeys("test-secret-0123456789")
	r := &rig{store: store, handler: &fakeHandler{}, queue: &onceQueue{done: map[string]bool{}}, members: members{}, now: time.Now()}
	r.runner = New(Config{Store: store, Keys: keys, Handler: r.handler, Queue: r.queue, Members: r.members, Renderers: renderer{},
		Lease: 100 * time.Millisecond, MaxLease: time.Second, Now: func() time.Time { return r.now }})
	return r
}

// commit writes a member's state and a job, as the engine does, without running it: a crash
// right after the commit.
func (r *rig) commit(t *testing.T, job Job) {
	t.Helper()
	sealed, err := r.runner.Seal(job)
	if err != nil {
		t.Fatal(err)
	}
	err = r.store.Save(context.Background(), job.Member, hotline.Commit{State: []byte("s"), TTL: time.Hour, MsgID: job.Msg,
		Reply: []byte("r"), Now: time.Now(), Job: sealed, JobLease: r.runner.Lease()})
	if err != nil {
		t.Fatal(err)
	}
	r.members[job.Member] = flow.State{Lang: job.Lang}
}

func personJob(member, msg string) Job {
	return Job{Member: member, Msg: msg, From: "+15055550601", Lang: "es", At: time.Now().Unix(),
		Effects: []flow.Effect{actions.OpenCase{Kind: "person"}}, Replies: []flow.Reply{{ID: "case_opened"}}}
}

// TestSweepTakesOverALeftJob: a job whose writer died is taken over once its lease ends, once;
// the member, whose reply never left, gets it as amended; the page goes out once however
// often the job is swept.
func TestSweepTakesOverALeftJob(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.commit(t, personJob("m1", "SM1"))
	if n := r.runner.Sweep(ctx); n != 0 {
		t.Fatalf("taken over while its writer's lease runs: %d", n)
	}
	time.Sleep(150 * time.Millisecond)
	if n := r.runner.Sweep(ctx); n != 1 {
		t.Fatalf("swept %d jobs, want 1", n)
	}
	want := []string{"+15055550601: es:case_opened", "+15055550601: es:case_nobody", "+15055550701: page for SM1"}
	if got := r.queue.bodies(); !slices.Equal(got, want) {
		t.Fatalf("sent %q, want %q", got, want)
	}
	time.Sleep(150 * time.Millisecond)
	if n := r.runner.Sweep(ctx); n != 0 || len(r.queue.bodies()) != 3 {
		t.Errorf("a finished job ran again: %d, %q", n, r.queue.bodies())
	}
}

// TestRunInlineThenNothingLeft: the writer runs its job at once: the reply comes back amended,
// the page is sent after, the job is finished, and the member is not told twice.
func TestRunInlineThenNothingLeft(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	job := personJob("m1", "SM1")
	r.commit(t, job)
	replies, err := r.runner.Run(ctx, job)
	if err != nil || !slices.ContainsFunc(replies, func(rp flow.Reply) bool { return rp.ID == "case_nobody" }) {
		t.Fatalf("replies %v, %v", replies, err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(r.queue.bodies()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(150 * time.Millisecond)
	r.runner.Sweep(ctx)
	if got := r.queue.bodies(); !slices.Equal(got, []string{"+15055550701: page for SM1"}) {
		t.Errorf("sent %q: the page once, and nothing to the member (their reply carried it)", got)
	}
	if b, _ := r.store.BucketsWithJobs(ctx); len(b) != 0 {
		t.Errorf("jobs left in %v", b)
	}
}

// TestTakeOverRechecksTheMember: a member erased since their message has only the erasure
// carried out; one opted out since is not paged for, nor written to.
func TestTakeOverRechecksTheMember(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.commit(t, personJob("gone", "SM1"))
	delete(r.members, "gone")
	r.commit(t, personJob("out", "SM2"))
	r.members["out"] = flow.State{Lang: "es", OptedOut: true}
	time.Sleep(150 * time.Millisecond)
	if n := r.runner.Sweep(ctx); n != 2 {
		t.Fatalf("swept %d", n)
	}
	if got := r.queue.bodies(); len(got) != 0 {
		t.Errorf("sent %q for an erased and an opted-out member", got)
	}
	for _, j := range r.handler.seen {
		if len(j.Effects) != 0 {
			t.Errorf("%s ran with effects %v", j.Member, j.Effects)
		}
	}
}

// TestFailingJobBacksOffThenGivesUp: a job that keeps failing stays, is retried later each
// time (its lease doubles), and is dropped once older than GiveUp.
func TestFailingJobBacksOffThenGivesUp(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.handler.fail = true
	r.commit(t, personJob("m1", "SM1"))
	time.Sleep(150 * time.Millisecond)
	r.runner.Sweep(ctx)
	r.runner.Sweep(ctx) // under the new lease: not run again
	if r.handler.runs != 1 {
		t.Fatalf("runs %d, want 1", r.handler.runs)
	}
	time.Sleep(120 * time.Millisecond) // past the first take-over's lease
	r.runner.Sweep(ctx)
	if r.handler.runs != 2 {
		t.Fatalf("runs %d, want 2", r.handler.runs)
	}
	time.Sleep(120 * time.Millisecond) // the first lease's length: the second (twice) holds
	r.runner.Sweep(ctx)
	if r.handler.runs != 2 {
		t.Fatalf("retried before the backoff: runs %d", r.handler.runs)
	}
	time.Sleep(100 * time.Millisecond)
	r.runner.Sweep(ctx)
	if r.handler.runs != 3 {
		t.Fatalf("runs %d, want 3", r.handler.runs)
	}
	r.now = r.now.Add(2 * DefaultGiveUp)
	time.Sleep(450 * time.Millisecond)
	r.runner.Sweep(ctx)
	if b, _ := r.store.BucketsWithJobs(ctx); len(b) != 0 || r.handler.runs != 3 {
		t.Errorf("a job past GiveUp: buckets %v, runs %d", b, r.handler.runs)
	}
}

// TestMessageIDs: the same job, recipient and text give the same id; any difference another.
func TestMessageIDs(t *testing.T) {
	m := hotline.Outbound{To: "+15055550701", Body: "page 1"}
	a := MessageID("m1/SM1", m)
	if a != MessageID("m1/SM1", m) || strings.ContainsAny(a, "+/=") {
		t.Fatalf("id %q unstable or unsafe in a key", a)
	}
	seen := map[string]bool{a: true}
	for _, c := range []struct {
		token string
		m     hotline.Outbound
	}{{"m1/SM2", m}, {"m1/SM1", hotline.Outbound{To: "+15055550702", Body: "page 1"}}, {"m1/SM1", hotline.Outbound{To: m.To, Body: "page 2"}}} {
		id := MessageID(c.token, c.m)
		if seen[id] {
			t.Errorf("%v collides", c)
		}
		seen[id] = true
	}
}
