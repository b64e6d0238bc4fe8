package dispatch_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/bot"
	"github.com/communityhotline/hotline/internal/dispatch"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/ratelimit"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/redistest"
	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/twiliofake"
)

func TestMain(m *testing.M) { redistest.Main(m) }

const (
	outboxTo   = "+15055550188"
	outboxBody = "Caso 7: No abra la puerta. ¿Dónde está usted? marcador-outbox"
)

// outboxRig is an Outbox and a Dispatcher sharing a real Redis and the fake Twilio (the
// broadcast tests use it too).
type outboxRig struct {
	t        *testing.T
	rdb      *redis.Client
	prefix   string
	store    *redisstore.Store
	keys     *privacy.Keys
	fake     *twiliofake.Server
	members  *bot.Engine
	outbox   dispatch.Outbox
	mu       sync.Mutex
	outcomes []string
}

func newOutboxRig(t *testing.T) *outboxRig {
	t.Helper()
	rdb, prefix := redistest.Open(t)
	store, err := redisstore.New(rdb, prefix, redisstore.DefaultReplyTTL)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureQueue(t.Context()); err != nil {
		t.Fatal(err)
	}
	keys, err := privacy.NewKeys("outbox-test-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	fake := twiliofake.New()
	t.Cleanup(fake.Close)
	sender, err := twilio.NewRESTSender(twilio.RESTConfig{
		AccountSID: twiliofake.AccountSID, AuthToken: twiliofake.AuthToken, From: "+15055550000", APIBase: fake.URL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := &outboxRig{t: t, rdb: rdb, prefix: prefix, store: store, keys: keys, fake: fake,
		members: bot.New(bot.Config{Store: store, Keys: keys})}
	r.outbox = dispatch.Outbox{Sender: sender, Store: store, Keys: keys}
	return r
}

// run starts a Dispatcher with short backoffs; it stops when the test ends.
func (r *outboxRig) run() {
	ctx, stop := context.WithCancel(context.Background())
	d := dispatch.New(dispatch.Config{
		Store: r.store, Keys: r.keys, Members: r.members, Sender: r.outbox.Sender,
		Limiter: ratelimit.New(r.rdb, r.prefix+":rate", 0, 1), Consumer: "outbox-test",
		Backoff: time.Millisecond, ClaimIdle: 200 * time.Millisecond,
		OnOutcome: func(o string) {
			r.mu.Lock()
			r.outcomes = append(r.outcomes, o)
			r.mu.Unlock()
		},
	})
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	r.t.Cleanup(func() { stop(); <-done })
}

func (r *outboxRig) depth() int64 {
	r.t.Helper()
	d, err := r.store.QueueDepth(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return d["direct"]
}

// waitOutcome waits until the dispatcher has reported want as a final outcome and the
// queue is empty.
func (r *outboxRig) waitOutcome(want string) []string {
	r.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		r.mu.Lock()
		got := append([]string(nil), r.outcomes...)
		r.mu.Unlock()
		for _, o := range got {
			if o == want && r.depth() == 0 {
				return got
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.t.Fatalf("no %q outcome with an empty queue; outcomes %v, depth %d", want, r.outcomes, r.depth())
	return nil
}

// readable fails if any key or value under the rig's prefix holds the recipient's number
// or the message text.
func (r *outboxRig) assertNothingReadable() {
	r.t.Helper()
	ctx := context.Background()
	iter := r.rdb.Scan(ctx, 0, r.prefix+":*", 100).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		dump, err := r.rdb.Dump(ctx, key).Result()
		if err != nil {
			r.t.Fatal(err)
		}
		for _, secret := range []string{outboxTo, "5055550188", "marcador-outbox"} {
			if strings.Contains(key, secret) || strings.Contains(dump, secret) {
				r.t.Errorf("key %s holds %q in clear", key, secret)
			}
		}
	}
}

// TestOutboxRetriesPassingFailures: a relay Twilio refuses with a 503 is queued rather than
// lost, sealed, and a worker sends it through a 429 and a 500, once.
func TestOutboxRetriesPassingFailures(t *testing.T) {
	r := newOutboxRig(t)
	r.fake.FailNext(1, 503, 0)
	sid, err := r.outbox.Send(t.Context(), hotline.Outbound{To: outboxTo, Body: outboxBody})
	if err != nil || sid != "" {
		t.Fatalf("Send = %q, %v; want it queued without error", sid, err)
	}
	if n := r.fake.Count(); n != 0 {
		t.Fatalf("the fake accepted %d messages before the retry", n)
	}
	if d := r.depth(); d != 1 {
		t.Fatalf("direct queue depth %d, want 1", d)
	}
	r.assertNothingReadable()

	r.fake.FailNext(1, 429, 20429)
	r.run()
	r.fake.FailNext(1, 500, 20500)
	outcomes := r.waitOutcome("sent")
	time.Sleep(300 * time.Millisecond) // past the take-over delay: a second copy would show
	msgs := r.fake.Messages()
	if len(msgs) != 1 || msgs[0].To != outboxTo || msgs[0].Body != outboxBody {
		t.Fatalf("the fake got %+v; want the message once", msgs)
	}
	if !strings.Contains(strings.Join(outcomes, ","), "retry") {
		t.Errorf("outcomes %v: the 429 or 500 was not retried", outcomes)
	}
	r.assertNothingReadable()
}

// TestOutboxSendsAtOnce: when Twilio takes the message, nothing is queued.
func TestOutboxSendsAtOnce(t *testing.T) {
	r := newOutboxRig(t)
	sid, err := r.outbox.Send(t.Context(), hotline.Outbound{To: outboxTo, Body: outboxBody})
	if err != nil || sid == "" {
		t.Fatalf("Send = %q, %v", sid, err)
	}
	if n, d := r.fake.Count(), r.depth(); n != 1 || d != 0 {
		t.Fatalf("fake accepted %d, queue depth %d; want 1 and 0", n, d)
	}
}

// TestOutboxRefusalIsReturned: a number Twilio refuses for good is the caller's to handle
// (a volunteer is told the relay failed), not queued for retries that cannot succeed.
func TestOutboxRefusalIsReturned(t *testing.T) {
	r := newOutboxRig(t)
	r.fake.FailTo(outboxTo, 400, 21211)
	_, err := r.outbox.Send(t.Context(), hotline.Outbound{To: outboxTo, Body: outboxBody})
	if hotline.SendErrorKindOf(err) != hotline.Undeliverable {
		t.Fatalf("Send error %v; want an undeliverable refusal", err)
	}
	if d := r.depth(); d != 0 {
		t.Fatalf("a refused message was queued (depth %d)", d)
	}
}

// TestOutboxSkipsMemberWhoOptedOut: a member who opts out while a message to them waits
// for its retry does not get it.
func TestOutboxSkipsMemberWhoOptedOut(t *testing.T) {
	r := newOutboxRig(t)
	member := r.keys.MemberID(hotline.SMS, outboxTo)
	r.fake.FailNext(1, 503, 0)
	if _, err := r.outbox.Send(t.Context(), hotline.Outbound{To: outboxTo, Body: outboxBody, Member: member}); err != nil {
		t.Fatal(err)
	}
	r.seedMember(member, flow.State{Lang: "es", OptedOut: true})
	r.run()
	r.waitOutcome("skipped")
	if n := r.fake.Count(); n != 0 {
		t.Fatalf("a member who opted out was sent %d messages", n)
	}
}

// TestOutboxDropsUnreadableEntry: an entry that does not open (sealed with a secret since
// retired) is dropped and counted failed, not retried for ever, and the queue goes on.
func TestOutboxDropsUnreadableEntry(t *testing.T) {
	r := newOutboxRig(t)
	if err := r.store.EnqueueDirect(t.Context(), "broken", []byte("not sealed")); err != nil {
		t.Fatal(err)
	}
	r.fake.FailNext(1, 503, 0)
	if _, err := r.outbox.Send(t.Context(), hotline.Outbound{To: outboxTo, Body: outboxBody}); err != nil {
		t.Fatal(err)
	}
	r.run()
	outcomes := r.waitOutcome("sent")
	if !strings.Contains(strings.Join(outcomes, ","), "failed") {
		t.Errorf("outcomes %v: the unreadable entry was not counted failed", outcomes)
	}
	if n := r.fake.Count(); n != 1 {
		t.Errorf("fake accepted %d messages, want 1", n)
	}
}

// TestOutboxQueueFailureIsReported: when Redis cannot take the message either, the caller
// gets an error saying both, rather than a silent loss.
func TestOutboxQueueFailureIsReported(t *testing.T) {
	r := newOutboxRig(t)
	broken := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { broken.Close() })
	store, err := redisstore.New(broken, r.prefix, redisstore.DefaultReplyTTL)
	if err != nil {
		t.Fatal(err)
	}
	r.outbox.Store = store
	r.fake.FailNext(1, 503, 0)
	_, err = r.outbox.Send(t.Context(), hotline.Outbound{To: outboxTo, Body: outboxBody})
	var se *hotline.SendError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "queueing") {
		t.Fatalf("Send error %v; want the 503 and the queueing failure", err)
	}
}

// TestBroadcastSkipsUnreadableMember: a subscriber whose state no longer opens (damage, a
// lost secret) may have opted out: they are skipped, and the broadcast still finishes.
func TestBroadcastSkipsUnreadableMember(t *testing.T) {
	r := newOutboxRig(t)
	ctx := t.Context()
	phones := []string{"+15055550181", "+15055550182"}
	for _, p := range phones {
		id := r.keys.MemberID(hotline.SMS, p)
		r.seedMember(id, flow.State{Lang: "es", Areas: []string{"albuquerque"}, Address: p})
		if err := r.store.SyncSubscriptions(ctx, id, hotline.Subscription{}, hotline.Subscription{Areas: []string{"albuquerque"}, Lang: "es"}); err != nil {
			t.Fatal(err)
		}
	}
	damaged := r.keys.MemberID(hotline.SMS, phones[1])
	found := false
	for _, k := range r.rdb.Keys(ctx, r.prefix+":mb:*").Val() {
		if r.rdb.HExists(ctx, k, damaged).Val() {
			r.rdb.HSet(ctx, k, damaged, "damaged")
			found = true
		}
	}
	if !found {
		t.Fatal("the subscriber's state was not found in any member bucket")
	}
	b := hotline.Broadcast{ID: "unreadable", Status: hotline.Sending, Text: map[string]string{"es": "Alerta de prueba"},
		Areas: []string{"albuquerque"}, CreatedAt: time.Now()}
	if err := r.store.CreateBroadcast(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := r.store.StartSending(ctx, b.ID, b.Areas, []string{"es"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	r.run()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got, err := r.store.Broadcast(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == hotline.Done {
			if got.Counts.Sent != 1 || got.Counts.SkippedOptedOut != 1 {
				t.Errorf("counts %+v; want 1 sent, 1 skipped", got.Counts)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("broadcast not done: %s %+v", got.Status, got.Counts)
		}
	}
	if msgs := r.fake.Messages(); len(msgs) != 1 || msgs[0].To != phones[0] {
		t.Errorf("sent %+v; want the readable subscriber only", msgs)
	}
}
