package redisstore

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/hotline"
)

// eachRedis runs test against the Redis the other tests use and against the embedded
// miniredis, which runs the hotline in local mode: every script of the send path must work
// on both. exact is false on miniredis, whose stream bookkeeping is rougher (its XINFO
// GROUPS "lag" is the stream's length).
func eachRedis(t *testing.T, test func(t *testing.T, s *Store, exact bool)) {
	t.Run("redis", func(t *testing.T) {
		s, _ := newStore(t)
		test(t, s, true)
	})
	t.Run("miniredis", func(t *testing.T) {
		m := miniredis.RunT(t)
		rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
		t.Cleanup(func() { rdb.Close() })
		s, err := New(rdb, "mini", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		test(t, s, false)
	})
}

func entry(bc, member string) hotline.QueueEntry {
	return hotline.QueueEntry{Priority: "normal", BC: bc, Member: member, Lang: "es"}
}

func claims(ps []hotline.PreparedSend) []hotline.SendClaim {
	out := make([]hotline.SendClaim, len(ps))
	for i, p := range ps {
		out[i] = p.Claim
	}
	return out
}

// TestClaimSendsScript: the claim of a batch, per broadcast, in one script run each: a
// message is taken (marked with the holder's name for the TTL), done (the recipient has an
// outcome), or held (another holder's mark, a mark of a worker from before marks were
// named, or the same recipient earlier in the same claim); a holder's own mark is renewed.
func TestScriptClaimSends(t *testing.T) {
	eachRedis(t, func(t *testing.T, s *Store, _ bool) {
		ctx := context.Background()
		if err := s.rdb.SAdd(ctx, s.bcDoneKey("b1"), "done1").Err(); err != nil {
			t.Fatal(err)
		}
		s.rdb.Set(ctx, s.inflightKey("b1", "old"), "1", time.Minute)
		s.rdb.HSet(ctx, s.bucketKey("m1"), "m1", "sealed-state-of-m1")
		batch := []hotline.QueueEntry{entry("b1", "m1"), entry("b1", "done1"), entry("b1", "old"), entry("b2", "done1"), entry("b1", "m1")}

		got, err := s.ClaimSends(ctx, "c1/0", batch, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if want := []hotline.SendClaim{hotline.ClaimTaken, hotline.ClaimDone, hotline.ClaimHeld, hotline.ClaimTaken, hotline.ClaimHeld}; !slices.Equal(claims(got), want) {
			t.Errorf("claims %v, want %v (done1 is done in b1 only; m1's second entry is held)", claims(got), want)
		}
		if string(got[0].State) != "sealed-state-of-m1" || got[1].State != nil {
			t.Errorf("states %q, %q; want m1's, and none for a member without one", got[0].State, got[1].State)
		}
		if holder := s.rdb.Get(ctx, s.inflightKey("b1", "m1")).Val(); holder != "c1/0" {
			t.Errorf("m1's mark holds %q, want the holder c1/0", holder)
		}
		if ttl := s.rdb.PTTL(ctx, s.inflightKey("b1", "m1")).Val(); ttl <= 0 || ttl > 5*time.Second {
			t.Errorf("m1's mark lives %v, want up to 5s", ttl)
		}

		// Another sender, of the same process or another, finds it held; its holder renews.
		if got, _ := s.ClaimSends(ctx, "c1/1", batch[:1], time.Minute); got[0].Claim != hotline.ClaimHeld {
			t.Errorf("another holder's claim on m1: %v, want held", got[0].Claim)
		}
		if got, _ := s.ClaimSends(ctx, "c1/0", batch[:1], time.Minute); got[0].Claim != hotline.ClaimTaken {
			t.Errorf("c1/0 claiming m1 again: %v, want taken", got[0].Claim)
		}
		if ttl := s.rdb.PTTL(ctx, s.inflightKey("b1", "m1")).Val(); ttl <= 5*time.Second {
			t.Errorf("c1/0's renewed mark lives %v, want up to a minute", ttl)
		}
	})
}

// TestRecordScript: outcomes of two broadcasts in one round trip, each recipient counted
// once (twice in one write, or again later), marks lifted, and a broadcast whose every
// recipient is accounted for marked done and its recipient lists dropped.
func TestScriptRecord(t *testing.T) {
	eachRedis(t, func(t *testing.T, s *Store, _ bool) {
		ctx := context.Background()
		now := time.Unix(1_800_000_000, 0)
		for id, queued := range map[string]int{"b1": 4, "b2": 1} {
			s.rdb.HSet(ctx, s.bcKey(id), "status", "sending", "enqueued", "1", "queued", queued)
			s.rdb.SAdd(ctx, s.bcRcptKey(id, "es"), "someone")
		}
		s.rdb.Set(ctx, s.inflightKey("b1", "m1"), "c1", time.Minute)
		s.rdb.Set(ctx, s.inflightKey("b1", "other"), "c1", time.Minute)
		outcomes := []hotline.SendOutcome{
			{Entry: entry("b1", "m1"), Outcome: hotline.OutcomeSent},
			{Entry: entry("b1", "m2"), Outcome: hotline.OutcomeSkipped},
			{Entry: entry("b2", "m3"), Outcome: hotline.OutcomeFailed},
			{Entry: entry("b1", "m1"), Outcome: hotline.OutcomeSent},
			{Entry: entry("b1", "m4"), Outcome: hotline.OutcomeSent},
		}
		errs, err := s.RecordOutcomes(ctx, outcomes, now)
		if err != nil || len(errs) != len(outcomes) {
			t.Fatalf("RecordOutcomes: %v %v", errs, err)
		}
		for i, err := range errs {
			if err != nil {
				t.Errorf("outcome %d: %v", i, err)
			}
		}
		counts := func(id string) string {
			b, err := s.Broadcast(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("%s sent %d skipped %d failed %d no-template %d", b.Status, b.Counts.Sent, b.Counts.SkippedOptedOut, b.Counts.Failed, b.Counts.SkippedNoTemplate)
		}
		if got, want := counts("b1"), "sending sent 2 skipped 1 failed 0 no-template 0"; got != want {
			t.Errorf("b1: %s, want %s (m1 counted once)", got, want)
		}
		if got, want := counts("b2"), "done sent 0 skipped 0 failed 1 no-template 0"; got != want {
			t.Errorf("b2: %s, want %s", got, want)
		}
		if n := s.rdb.Exists(ctx, s.inflightKey("b1", "m1")).Val(); n != 0 {
			t.Errorf("m1's in-flight mark outlived its outcome")
		}
		if n := s.rdb.Exists(ctx, s.inflightKey("b1", "other")).Val(); n != 1 {
			t.Errorf("the mark of a member without an outcome was lifted")
		}
		if n := s.rdb.Exists(ctx, s.bcRcptKey("b2", "es")).Val(); n != 0 {
			t.Errorf("b2 is done but its recipient list is kept")
		}

		// Again, and the last recipient, skipped for want of a WhatsApp template: counted
		// once, as a skip and on its own, and b1 completes.
		s.RecordOutcomes(ctx, []hotline.SendOutcome{{Entry: entry("b1", "m2"), Outcome: hotline.OutcomeSkipped}, {Entry: entry("b1", "m5"), Outcome: hotline.OutcomeSkippedNoTemplate}}, now)
		s.RecordOutcomes(ctx, []hotline.SendOutcome{{Entry: entry("b1", "m5"), Outcome: hotline.OutcomeSkippedNoTemplate}}, now)
		if got, want := counts("b1"), "done sent 2 skipped 2 failed 0 no-template 1"; got != want {
			t.Errorf("b1: %s, want %s", got, want)
		}
		if b, _ := s.Broadcast(ctx, "b1"); !b.DoneAt.Equal(now.UTC()) {
			t.Errorf("b1 done at %v, want %v", b.DoneAt, now)
		}
	})
}

// addEntries queues n entries of broadcast bc at priority.
func addEntries(t *testing.T, s *Store, priority, bc string, n int) {
	t.Helper()
	for i := range n {
		err := s.rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: s.streamKey(priority), Values: []any{"bc", bc, "m", fmt.Sprintf("%s-m%d", bc, i), "l", "es"}}).Err()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestAckScriptTrims: acknowledged entries leave the stream once every entry before them is
// acknowledged too, never an entry still pending or not yet read; the queue depth counts
// what waits, read or not.
func TestScriptAck(t *testing.T) {
	eachRedis(t, func(t *testing.T, s *Store, exact bool) {
		ctx := context.Background()
		if err := s.EnsureQueue(ctx); err != nil {
			t.Fatal(err)
		}
		addEntries(t, s, "normal", "b1", 10)
		first, _ := s.Read(ctx, "c1", 4, 0, nil)
		second, _ := s.Read(ctx, "c2", 4, 0, nil)
		if len(first) != 4 || len(second) != 4 {
			t.Fatalf("read %d and %d entries, want 4 and 4", len(first), len(second))
		}
		length := func() int64 { return s.rdb.XLen(ctx, s.streamKey("normal")).Val() }
		depth := func(want int64) {
			t.Helper()
			d, err := s.QueueDepth(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if exact && d["normal"] != want || d["normal"] < want || d["normal"] > length() {
				t.Errorf("depth %d, want %d (stream length %d)", d["normal"], want, length())
			}
		}

		if err := s.Ack(ctx, second...); err != nil {
			t.Fatal(err)
		}
		if n := length(); n != 10 {
			t.Errorf("stream length %d after acknowledging entries behind a pending one, want 10", n)
		}
		depth(6)
		// The oldest pending entry is still there to be taken over.
		if taken, err := s.Claim(ctx, "c3", 0, 10); err != nil || len(taken) != 4 || taken[0].Member != "b1-m0" {
			t.Fatalf("take-over found %+v, %v; want c1's 4 entries whole", taken, err)
		}
		if err := s.Ack(ctx, first...); err != nil {
			t.Fatal(err)
		}
		if n := length(); n != 2 {
			t.Errorf("stream length %d, want the 2 entries not yet read", n)
		}
		depth(2)

		// Read acknowledges what it is given, in the same round trip.
		last, _ := s.Read(ctx, "c1", 10, 0, nil)
		if _, err := s.Read(ctx, "c1", 10, 0, last); err != nil {
			t.Fatal(err)
		}
		if n := length(); n != 0 {
			t.Errorf("stream length %d, want 0", n)
		}
		depth(0)
	})
}

// TestReadTakesPrioritiesInOrder: one read returns every priority's entries, most urgent
// first; a read of the more urgent priorities alone leaves the others for later.
func TestReadTakesPrioritiesInOrder(t *testing.T) {
	eachRedis(t, func(t *testing.T, s *Store, _ bool) {
		ctx := context.Background()
		if err := s.EnsureQueue(ctx); err != nil {
			t.Fatal(err)
		}
		addEntries(t, s, "normal", "n", 2)
		addEntries(t, s, "urgent", "u", 2)
		if err := s.EnqueueDirect(ctx, "d1", []byte("sealed")); err != nil {
			t.Fatal(err)
		}
		got, err := s.Read(ctx, "c1", 10, 0, nil, "direct", "urgent")
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, e := range got {
			order = append(order, e.Priority+":"+e.Direct+e.Member)
		}
		if want := []string{"direct:d1", "urgent:u-m0", "urgent:u-m1"}; !slices.Equal(order, want) {
			t.Errorf("read %v, want %v", order, want)
		}
		addEntries(t, s, "urgent", "v", 1)
		got, _ = s.Read(ctx, "c1", 10, 0, got)
		order = order[:0]
		for _, e := range got {
			order = append(order, e.Priority+":"+e.Member)
		}
		if want := []string{"urgent:v-m0", "normal:n-m0", "normal:n-m1"}; !slices.Equal(order, want) {
			t.Errorf("read %v, want %v", order, want)
		}
		if got[0].BC != "v" || got[0].Lang != "es" {
			t.Errorf("entry %+v lost its fields", got[0])
		}
	})
}

// TestClaimSendsAfterEraseFindsNothing: an erased member has no durable state to send to.
func TestClaimSendsAfterEraseFindsNothing(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if err := s.Save(ctx, "m1", hotline.Commit{State: []byte("sealed"), Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ClaimSends(ctx, "c1/0", []hotline.QueueEntry{entry("b1", "m1")}, time.Second); string(got[0].State) != "sealed" {
		t.Fatalf("state %q before erasure", got[0].State)
	}
	if err := s.Erase(ctx, "m1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ClaimSends(ctx, "c1/0", []hotline.QueueEntry{entry("b1", "m1")}, time.Second); got[0].State != nil {
		t.Errorf("state %q after erasure", got[0].State)
	}
}
