package dispatch_test

import (
	"context"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
)

// TestSendOnceSendsAnIDOnce: a job's message goes out at once, and the same id sent again
// (the job re-run after a crash) goes nowhere.
func TestSendOnceSendsAnIDOnce(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	m := hotline.Outbound{To: outboxTo, Body: outboxBody}
	for range 3 {
		if err := r.outbox.SendOnce(ctx, "fxONE", m); err != nil {
			t.Fatal(err)
		}
	}
	if n := r.fake.Count(); n != 1 {
		t.Errorf("sent %d times, want once", n)
	}
	if d := r.depth(); d != 0 {
		t.Errorf("queued %d", d)
	}
}

// TestSendOnceQueuesWhatItCannotSend: when Twilio fails for a passing reason, the message
// waits in the queue under its id and the workers send it, once; when another process holds
// the id, it is queued for the workers to settle rather than sent twice or dropped.
func TestSendOnceQueuesWhatItCannotSend(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	m := hotline.Outbound{To: outboxTo, Body: outboxBody}
	r.fake.FailNext(1, 503, 0)
	if err := r.outbox.SendOnce(ctx, "fxTWO", m); err != nil {
		t.Fatal(err)
	}
	if r.fake.Count() != 0 || r.depth() != 1 {
		t.Fatalf("after a 503: sent %d, queued %d; want 0 and 1", r.fake.Count(), r.depth())
	}
	// The same job re-run meanwhile sends it (Twilio is back); the workers then find it sent
	// and drop their entry.
	if err := r.outbox.SendOnce(ctx, "fxTWO", m); err != nil {
		t.Fatal(err)
	}
	r.run()
	for deadline := time.Now().Add(10 * time.Second); r.depth() != 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n, d := r.fake.Count(), r.depth(); n != 1 || d != 0 {
		t.Errorf("sent %d times, %d left queued; want once and none", n, d)
	}

	// Another process holds the id: queued, not sent from here.
	if ok, err := r.store.TryDirectInflight(ctx, "fxTHREE", 200*time.Millisecond); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := r.outbox.SendOnce(ctx, "fxTHREE", hotline.Outbound{To: outboxTo, Body: "otro"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.fake.Count() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := r.fake.Count(); n != 2 {
		t.Errorf("after the holder's mark expired: %d sent, want 2 (each once)", n)
	}
}
