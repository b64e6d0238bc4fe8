package dispatch_test

// The send path works on batches of queue entries (issue 12): a read, a check of every
// recipient, group writes of outcomes, acknowledgements with the next read. These tests hold
// each guarantee of the one-entry-at-a-time path inside a batch: the recipient's language,
// opt-outs and erasures seen at send time, exactly once (a duplicate entry, two consumers, a
// consumer that dies in the middle of a batch), urgent and direct messages first.

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/dispatch"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/ratelimit"
	"github.com/communityhotline/hotline/internal/redisstore"
)

// seedMember writes member id's state as the engine would, for a member the test makes up.
func (r *outboxRig) seedMember(id string, st flow.State) {
	r.t.Helper()
	err := r.store.Save(context.Background(), id, hotline.Commit{
		State: r.keys.Seal(flow.EncodeState(st), privacy.MemberState(id)), Now: time.Now()})
	if err != nil {
		r.t.Fatal(err)
	}
}

// subscribe makes phone a subscriber of area in lang and returns their member id.
func (r *outboxRig) subscribe(phone, lang, area string) string {
	r.t.Helper()
	ctx := context.Background()
	id := r.keys.MemberID(hotline.SMS, phone)
	r.seedMember(id, flow.State{Lang: lang, Areas: []string{area}, Address: phone})
	if err := r.store.SyncSubscriptions(ctx, id, hotline.Subscription{}, hotline.Subscription{Areas: []string{area}, Lang: lang}); err != nil {
		r.t.Fatal(err)
	}
	return id
}

// queueBroadcast creates broadcast id to area with text per language, freezes its
// recipients and queues every one of them, as a worker's enqueue loop would, so that a
// dispatcher started afterwards finds them all waiting.
func (r *outboxRig) queueBroadcast(id string, text map[string]string, area string, urgent bool) {
	r.t.Helper()
	ctx := context.Background()
	b := hotline.Broadcast{ID: id, Status: hotline.Sending, Text: text, Areas: []string{area}, Urgent: urgent, CreatedAt: time.Now()}
	if err := r.store.CreateBroadcast(ctx, b); err != nil {
		r.t.Fatal(err)
	}
	langs := []string{"es", "en"}
	if _, err := r.store.StartSending(ctx, id, b.Areas, langs, time.Now()); err != nil {
		r.t.Fatal(err)
	}
	priority := "normal"
	if urgent {
		priority = "urgent"
	}
	for _, lang := range langs {
		for done := false; !done; {
			var err error
			if done, err = r.store.EnqueueBatch(ctx, id, lang, priority, 1000); err != nil {
				r.t.Fatal(err)
			}
		}
	}
	if _, err := r.store.FinishEnqueue(ctx, id, time.Now()); err != nil {
		r.t.Fatal(err)
	}
}

// start runs a Dispatcher as consumer with concurrency sends in flight, until the test
// ends; options change its settings.
func (r *outboxRig) start(consumer string, concurrency int, options ...func(*dispatch.Config)) {
	ctx, stop := context.WithCancel(context.Background())
	cfg := dispatch.Config{
		Store: r.store, Keys: r.keys, Members: r.members, Sender: r.outbox.Sender,
		Limiter: ratelimit.New(r.rdb, r.prefix+":rate", 0, 1), Consumer: consumer, Concurrency: concurrency,
		Backoff: time.Millisecond, ClaimIdle: 200 * time.Millisecond,
	}
	for _, o := range options {
		o(&cfg)
	}
	d := dispatch.New(cfg)
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	r.t.Cleanup(func() { stop(); <-done })
}

// waitDone waits until broadcast id is done and returns it.
func (r *outboxRig) waitDone(id string) hotline.Broadcast {
	r.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		b, err := r.store.Broadcast(context.Background(), id)
		if err != nil {
			r.t.Fatal(err)
		}
		if b.Status == hotline.Done {
			return b
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("broadcast %s not done: %s %+v", id, b.Status, b.Counts)
		}
	}
}

// received is what each number got, in order.
func (r *outboxRig) received() map[string][]string {
	got := map[string][]string{}
	for _, m := range r.fake.Messages() {
		got[m.To] = append(got[m.To], m.Body)
	}
	return got
}

// waitQueueEmpty waits until every entry is acknowledged and gone.
func (r *outboxRig) waitQueueEmpty() {
	r.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		d, err := r.store.QueueDepth(context.Background())
		if err != nil {
			r.t.Fatal(err)
		}
		if d["direct"]+d["urgent"]+d["normal"] == 0 {
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("queue depth %v", d)
		}
	}
}

// TestBatchChecksEachRecipient: one batch holding the entries of two broadcasts, with
// recipients in two languages, one who opted out and one who erased their data after the
// entries were queued, and an entry queued twice: each wanted recipient gets each alert once,
// in their language; the others none, counted skipped.
func TestBatchChecksEachRecipient(t *testing.T) {
	r := newOutboxRig(t)
	ctx := t.Context()
	phones := map[string]string{"ana": "+15055550201", "bob": "+15055550202", "cruz": "+15055550203", "dee": "+15055550204", "eva": "+15055550205"}
	ids := map[string]string{}
	for name, lang := range map[string]string{"ana": "es", "bob": "en", "cruz": "es", "dee": "en", "eva": "es"} {
		ids[name] = r.subscribe(phones[name], lang, "albuquerque")
	}
	r.queueBroadcast("bc1", map[string]string{"es": "Alerta uno", "en": "Alert one"}, "albuquerque", false)
	r.queueBroadcast("bc2", map[string]string{"es": "Alerta dos", "en": "Alert two"}, "albuquerque", false)
	// Ana's entry of bc1 queued a second time, as an enqueue that crashed before saving its
	// cursor does.
	if err := r.rdb.XAdd(ctx, &redis.XAddArgs{Stream: r.prefix + ":q:{q}:normal", Values: []any{"bc", "bc1", "m", ids["ana"], "l", "es"}}).Err(); err != nil {
		t.Fatal(err)
	}
	// Cruz opts out and Dee erases their data after the recipients were frozen and queued.
	if err := r.members.Update(ctx, ids["cruz"], func(st *flow.State) bool { st.OptOut(); return true }); err != nil {
		t.Fatal(err)
	}
	if err := r.store.ForgetRecipient(ctx, ids["dee"]); err != nil {
		t.Fatal(err)
	}
	if err := r.store.Erase(ctx, ids["dee"]); err != nil {
		t.Fatal(err)
	}

	r.start("batch-test", 8)
	for _, id := range []string{"bc1", "bc2"} {
		b := r.waitDone(id)
		if b.Counts.Sent != 3 || b.Counts.SkippedOptedOut != 2 || b.Counts.Failed != 0 {
			t.Errorf("%s counts %+v; want 3 sent, 2 skipped", id, b.Counts)
		}
	}
	r.waitQueueEmpty()
	got := r.received()
	want := map[string][]string{
		phones["ana"]: {"Alerta dos", "Alerta uno"},
		phones["bob"]: {"Alert one", "Alert two"},
		phones["eva"]: {"Alerta dos", "Alerta uno"},
	}
	for phone := range got {
		slices.Sort(got[phone])
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sent %v\nwant %v", got, want)
	}
}

// TestConsumerDiesMidBatch: a consumer reads and claims a batch, sends and records three
// messages, and dies. Another takes its entries over: the three are acknowledged without
// being sent again, the others wait for the dead consumer's claims to expire, and then every
// other recipient gets the alert once.
func TestConsumerDiesMidBatch(t *testing.T) {
	r := newOutboxRig(t)
	ctx := t.Context()
	const n = 10
	for i := range n {
		r.subscribe(fmt.Sprintf("+150555503%02d", i), []string{"es", "en"}[i%2], "albuquerque")
	}
	r.queueBroadcast("mid", map[string]string{"es": "Alerta", "en": "Alert"}, "albuquerque", false)

	batch, err := r.store.Read(ctx, "dead", n, 0, nil)
	if err != nil || len(batch) != n {
		t.Fatalf("the consumer read %d entries, %v; want %d", len(batch), err, n)
	}
	const held = 700 * time.Millisecond
	prepared, err := r.store.ClaimSends(ctx, "dead/0", batch, held)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []hotline.SendOutcome
	for i, e := range batch[:3] {
		st, err := r.members.State(ctx, e.Member)
		if err != nil || prepared[i].Claim != hotline.ClaimTaken {
			t.Fatal(prepared[i], err)
		}
		if _, err := r.outbox.Sender.Send(ctx, hotline.Outbound{To: st.Address, Body: "Alerta"}); err != nil {
			t.Fatal(err)
		}
		outcomes = append(outcomes, hotline.SendOutcome{Entry: e, Outcome: hotline.OutcomeSent})
	}
	if _, err := r.store.RecordOutcomes(ctx, outcomes, time.Now()); err != nil {
		t.Fatal(err)
	}
	died := time.Now()

	r.start("heir", 4)
	r.waitDone("mid")
	if since := time.Since(died); since < held {
		t.Errorf("done %v after the death: the dead consumer's claim (%v) was not waited out", since, held)
	}
	r.waitQueueEmpty()
	got := r.received()
	if len(got) != n {
		t.Errorf("%d recipients got the alert, want %d", len(got), n)
	}
	for phone, bodies := range got {
		if len(bodies) != 1 {
			t.Errorf("%s got %v", phone, bodies)
		}
	}
}

// TestTwoConsumersSendOnce: two dispatchers share a queue; every recipient gets the alert
// once.
func TestTwoConsumersSendOnce(t *testing.T) {
	r := newOutboxRig(t)
	const n = 300
	for i := range n {
		r.subscribe(fmt.Sprintf("+15055504%03d", i), []string{"es", "en"}[i%2], "albuquerque")
	}
	r.queueBroadcast("two", map[string]string{"es": "Alerta", "en": "Alert"}, "albuquerque", false)
	r.start("one", 4)
	r.start("other", 4)
	if b := r.waitDone("two"); b.Counts.Sent != n {
		t.Errorf("counts %+v; want %d sent", b.Counts, n)
	}
	r.waitQueueEmpty()
	got := r.received()
	for i := range n {
		if bodies := got[fmt.Sprintf("+15055504%03d", i)]; len(bodies) != 1 {
			t.Errorf("recipient %d got %v", i, bodies)
		}
	}
}

// TestUrgentAndDirectFirst: with ordinary alerts, an urgent alert and a relay waiting, one
// sender sends the relay first, then the urgent alert, then the ordinary ones.
func TestUrgentAndDirectFirst(t *testing.T) {
	r := newOutboxRig(t)
	for i := range 40 {
		r.subscribe(fmt.Sprintf("+15055505%03d", i), "es", "albuquerque")
	}
	r.queueBroadcast("normal", map[string]string{"es": "Aviso", "en": "Notice"}, "albuquerque", false)
	r.queueBroadcast("urgent", map[string]string{"es": "Urgente", "en": "Urgent"}, "albuquerque", true)
	r.fake.FailNext(1, 503, 0)
	if _, err := r.outbox.Send(t.Context(), hotline.Outbound{To: outboxTo, Body: outboxBody}); err != nil {
		t.Fatal(err)
	}
	r.start("order", 1)
	r.waitDone("normal")
	r.waitDone("urgent")
	var order []string
	for _, m := range r.fake.Messages() {
		order = append(order, m.Body)
	}
	if len(order) != 81 || order[0] != outboxBody {
		t.Fatalf("sent %d messages, the first %q; want 81, the relay first", len(order), order[0])
	}
	if i := slices.Index(order, "Aviso"); i != 41 || slices.Contains(order[i:], "Urgente") {
		t.Errorf("an ordinary alert went out before an urgent one: order %v", order)
	}
}

// redisCalls counts a client's round trips to Redis, and those that read the queue or claim
// a batch and read its recipients.
type redisCalls struct{ trips, reads, checks atomic.Int64 }

func (h *redisCalls) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *redisCalls) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.count([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}
func (h *redisCalls) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.count(cmds)
		return next(ctx, cmds)
	}
}
func (h *redisCalls) count(cmds []redis.Cmder) {
	h.trips.Add(1)
	for _, c := range cmds {
		switch c.Name() {
		case "xreadgroup":
			h.reads.Add(1)
			return
		case "hget": // with the claims of a batch
			h.checks.Add(1)
			return
		}
	}
}

// TestRoundTripsPerMessage pins the batching: a broadcast takes a read and a claim per batch
// of entries, and round trips for outcomes shared between senders; sending one message at a
// time took 4.75 round trips a message.
func TestRoundTripsPerMessage(t *testing.T) {
	r := newOutboxRig(t)
	const n = 256
	for i := range n {
		r.subscribe(fmt.Sprintf("+15055506%03d", i), []string{"es", "en"}[i%2], "albuquerque")
	}
	r.queueBroadcast("trips", map[string]string{"es": "Alerta", "en": "Alert"}, "albuquerque", false)
	rdb := redis.NewClient(r.rdb.Options())
	t.Cleanup(func() { rdb.Close() })
	calls := &redisCalls{}
	rdb.AddHook(calls)
	store, err := redisstore.New(rdb, r.prefix, redisstore.DefaultReplyTTL)
	if err != nil {
		t.Fatal(err)
	}
	// A clock that stands still: on a slow machine an entry may wait long enough behind
	// its batch-mates to be checked again before it is sent, as it should, but this test
	// counts the batch's own round trips.
	now := time.Now()
	r.start("trips", 8, func(c *dispatch.Config) { c.Store, c.Now = store, func() time.Time { return now } })
	r.waitDone("trips")
	trips, reads, checks := calls.trips.Load(), calls.reads.Load(), calls.checks.Load()
	t.Logf("%d messages: %d round trips (%d reads, %d claims)", n, trips, reads, checks)
	// A read finds nothing once the queue is empty, every second, for each sender.
	if reads > n/16+3*8 || checks > n/16+8 {
		t.Errorf("%d reads and %d claims for %d messages: the queue is not read in batches", reads, checks, n)
	}
	// Outcomes are written in groups, each sender waiting for its own: at worst one round
	// trip each when nothing overlaps (a slow machine, -race).
	if trips > n+reads+checks+16 {
		t.Errorf("%d round trips for %d messages", trips, n)
	}
}
