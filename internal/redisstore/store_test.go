package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// newStore returns a Store with a prefix of its own, on the Redis Cluster
// HOTLINE_TEST_CLUSTER_URL names when it is set, and a function listing its keys.
func newStore(t *testing.T) (*Store, func() []string) {
	t.Helper()
	rdb, prefix := redistest.OpenUniversal(t)
	s, err := New(rdb, prefix, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keys := func() []string { return redistest.Keys(t, rdb, prefix+":*") }
	return s, keys
}

func TestLoadSaveConflictAnswered(t *testing.T) {
	ctx := context.Background()
	s, keys := newStore(t)
	now := time.Now()

	m, err := s.Load(ctx, "member1", "SM1")
	if err != nil || m.State != nil || m.Reply != nil {
		t.Fatalf("fresh member: %+v, %v", m, err)
	}
	if err := s.Save(ctx, "member1", hotline.Commit{State: []byte("state1"), TTL: time.Hour, MsgID: "SM1", Reply: []byte("reply1"), Now: now}); err != nil {
		t.Fatal(err)
	}
	m, err = s.Load(ctx, "member1", "SM1")
	if err != nil || string(m.State) != "state1" || string(m.Reply) != "reply1" {
		t.Fatalf("after save: %+v, %v", m, err)
	}

	// The same message again: the stored answer, no write.
	err = s.Save(ctx, "member1", hotline.Commit{Expect: []byte("state1"), State: []byte("state2"), MsgID: "SM1", Reply: []byte("other"), Now: now})
	var answered *hotline.AnsweredError
	if !errors.As(err, &answered) || string(answered.Reply) != "reply1" {
		t.Fatalf("repeat: err = %v", err)
	}
	// A stale expectation (the member as never seen, or an older state): conflict, no write.
	if err := s.Save(ctx, "member1", hotline.Commit{Expect: []byte("state0"), State: []byte("stale"), MsgID: "SM2", Reply: []byte("r"), Now: now}); !errors.Is(err, hotline.ErrConflict) {
		t.Fatalf("stale write: err = %v", err)
	}
	if err := s.Save(ctx, "member1", hotline.Commit{State: []byte("stale"), MsgID: "SM2", Reply: []byte("r"), Now: now}); !errors.Is(err, hotline.ErrConflict) {
		t.Fatalf("stale write: err = %v", err)
	}
	m, _ = s.Load(ctx, "member1", "SM2")
	if string(m.State) != "state1" || m.Reply != nil {
		t.Fatalf("a refused write changed something: %+v", m)
	}
	for _, k := range keys() {
		if !strings.Contains(k, "{"+bucketOf("member1")+"}") {
			t.Errorf("key %q lacks the member hash tag", k)
		}
	}
}

func TestBinaryValuesSurvive(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	blob := []byte{0, 1, 2, 255, '\n', 0}
	if err := s.Save(ctx, "m", hotline.Commit{State: blob, MsgID: "SM1", Reply: blob, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	m, err := s.Load(ctx, "m", "SM1")
	if err != nil || !bytes.Equal(m.State, blob) || !bytes.Equal(m.Reply, blob) {
		t.Fatalf("got %+v, %v", m, err)
	}
}

func TestTTLAndPersist(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	now := time.Now()
	if err := s.Save(ctx, "m", hotline.Commit{State: []byte("x"), TTL: 30 * 24 * time.Hour, MsgID: "SM1", Reply: []byte("r"), Now: now}); err != nil {
		t.Fatal(err)
	}
	if ttl := s.rdb.TTL(ctx, s.memberKey("m")).Val(); ttl < 29*24*time.Hour {
		t.Errorf("idle member TTL = %v, want about 30 days", ttl)
	}
	if s.rdb.HExists(ctx, s.bucketKey("m"), "m").Val() {
		t.Error("a conversation's state is in the durable bucket too")
	}
	if ttl := s.rdb.TTL(ctx, s.repliesKey("m", s.replyGen(now))).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("replies TTL = %v, want the reply retention (1h here)", ttl)
	}
	if err := s.Save(ctx, "m", hotline.Commit{Expect: []byte("x"), State: []byte("y"), TTL: 0, MsgID: "SM2", Reply: []byte("r"), Now: now}); err != nil {
		t.Fatal(err)
	}
	if ttl := s.rdb.TTL(ctx, s.bucketKey("m")).Val(); ttl != -1 {
		t.Errorf("durable bucket TTL = %v, want none (-1)", ttl)
	}
	if s.rdb.Exists(ctx, s.memberKey("m")).Val() != 0 {
		t.Error("a durable member's conversation key is left behind")
	}
	if m, _ := s.Load(ctx, "m", ""); string(m.State) != "y" {
		t.Errorf("durable state = %q, want y", m.State)
	}
	// And back: a member who drops every area becomes a conversation again.
	if err := s.Save(ctx, "m", hotline.Commit{Expect: []byte("y"), State: []byte("z"), TTL: time.Hour, Now: now}); err != nil {
		t.Fatal(err)
	}
	if s.rdb.HExists(ctx, s.bucketKey("m"), "m").Val() {
		t.Error("the durable state is left in the bucket")
	}
	if m, _ := s.Load(ctx, "m", ""); string(m.State) != "z" {
		t.Errorf("state = %q, want z", m.State)
	}
}

// TestRepliesRememberedForHalfToAllOfTheRetention: a reply is found for at least half the
// retention (one hour here) and is gone after the whole of it.
func TestRepliesRememberedForHalfToAllOfTheRetention(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	t0 := time.Unix(1_800_000_000, 0).Truncate(30 * time.Minute).Add(29 * time.Minute) // late in a generation
	if err := s.Save(ctx, "m", hotline.Commit{State: []byte("x"), MsgID: "SMold", Reply: []byte("r"), Now: t0}); err != nil {
		t.Fatal(err)
	}
	// Half the retention later, in the next generation: the retry is recognised.
	err := s.Save(ctx, "m", hotline.Commit{Expect: []byte("x"), State: []byte("y"), MsgID: "SMold", Reply: []byte("other"), Now: t0.Add(30 * time.Minute)})
	var answered *hotline.AnsweredError
	if !errors.As(err, &answered) || string(answered.Reply) != "r" || string(answered.State) != "x" {
		t.Fatalf("a retry half the retention later: %v", err)
	}
	// A whole retention later the generation is no longer read (and Redis expires it).
	if err := s.Save(ctx, "m", hotline.Commit{Expect: []byte("x"), State: []byte("y"), MsgID: "SMold", Reply: []byte("new"), Now: t0.Add(61 * time.Minute)}); err != nil {
		t.Fatalf("a message id a whole retention later: %v", err)
	}
	if ttl := s.rdb.TTL(ctx, s.repliesKey("m", s.replyGen(t0))).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("reply log TTL = %v, want at most the retention", ttl)
	}
}

// TestLimitsCountedBeforeAnything: past a limit nothing is written, the counts and the
// current state come back, and a compliance word (no limits) still goes through.
func TestLimitsCountedBeforeAnything(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	now := time.Unix(1_800_000_000, 0)
	state := []byte(nil)
	for i := range 3 {
		next := fmt.Appendf(nil, "s%d", i)
		if err := s.Save(ctx, "m", hotline.Commit{Expect: state, State: next, MsgID: fmt.Sprint("SM", i), Reply: []byte("r"), Now: now, Count: true, MinuteLimit: 3}); err != nil {
			t.Fatalf("message %d within the limit: %v", i, err)
		}
		state = next
	}
	err := s.Save(ctx, "m", hotline.Commit{Expect: state, State: []byte("over"), MsgID: "SM3", Reply: []byte("r"), Now: now, Count: true, MinuteLimit: 3, HourLimit: 100})
	var limited *hotline.LimitedError
	if !errors.As(err, &limited) || limited.Minute != 4 || limited.Hour != 4 || string(limited.State) != "s2" {
		t.Fatalf("past the limit: %v %+v", err, limited)
	}
	if m, _ := s.Load(ctx, "m", "SM3"); string(m.State) != "s2" || m.Reply != nil {
		t.Errorf("a limited message wrote: %+v", m)
	}
	if err := s.Save(ctx, "m", hotline.Commit{Expect: state, State: []byte("stop"), MsgID: "SM4", Reply: []byte("r"), Now: now, Count: true}); err != nil {
		t.Errorf("a message without limits: %v", err)
	}
	// The hour limit, on its own.
	err = s.Save(ctx, "h", hotline.Commit{State: []byte("x"), MsgID: "SM1", Now: now, Count: true, HourLimit: 0, MinuteLimit: 0})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Save(ctx, "h", hotline.Commit{Expect: []byte("x"), State: []byte("y"), MsgID: "SM2", Now: now, Count: true, HourLimit: 1})
	if !errors.As(err, &limited) || limited.Hour != 2 {
		t.Errorf("past the hourly cap: %v", err)
	}
}

// TestConflictCarriesTheState: a stale write gets the current state back, to step again from.
func TestConflictCarriesTheState(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	now := time.Now()
	if err := s.Save(ctx, "m", hotline.Commit{State: []byte("a"), TTL: time.Hour, Now: now}); err != nil {
		t.Fatal(err)
	}
	err := s.Save(ctx, "m", hotline.Commit{State: []byte("b"), Now: now})
	var conflict *hotline.ConflictError
	if !errors.As(err, &conflict) || string(conflict.State) != "a" || !errors.Is(err, hotline.ErrConflict) {
		t.Fatalf("stale write: %v", err)
	}
}

func TestErase(t *testing.T) {
	ctx := context.Background()
	s, keys := newStore(t)
	if err := s.Save(ctx, "m", hotline.Commit{State: []byte("x"), MsgID: "SM1", Reply: []byte("r"), Now: time.Now(), Count: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	if k := keys(); len(k) != 0 {
		t.Errorf("keys left after Erase: %v", k)
	}
}

func TestPrefixValidation(t *testing.T) {
	for _, p := range []string{"", "a{b", "x}", "has space"} {
		if ValidatePrefix(p) == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
	if err := ValidatePrefix("hotline"); err != nil {
		t.Error(err)
	}
}

// TestReplyLogIsBounded: a flood of messages records at most maxRepliesPerGen replies in a
// generation; the messages are still answered.
func TestReplyLogIsBounded(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	now := time.Unix(1_800_000_000, 0)
	for i := range maxRepliesPerGen + 20 {
		var expect []byte
		if i > 0 {
			expect = []byte("x")
		}
		err := s.Save(ctx, "m", hotline.Commit{Expect: expect, State: []byte("x"), MsgID: fmt.Sprintf("SM%d", i), Reply: []byte("r"), Now: now.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := s.rdb.HLen(ctx, s.repliesKey("m", s.replyGen(now))).Val(); n != maxRepliesPerGen {
		t.Errorf("reply log holds %d replies, want %d", n, maxRepliesPerGen)
	}
}

// TestNoLostUpdate: many writers racing on one member, each re-reading after a conflict,
// leave a state that holds every writer's change.
func TestNoLostUpdate(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	const writers = 32
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := s.Load(ctx, "m", "")
				if err != nil {
					t.Error(err)
					return
				}
				next := append(append([]byte(nil), m.State...), fmt.Sprintf("<%d>", i)...)
				err = s.Save(ctx, "m", hotline.Commit{Expect: m.State, State: next, Now: time.Now()})
				if errors.Is(err, hotline.ErrConflict) {
					continue
				}
				if err != nil {
					t.Error(err)
				}
				return
			}
		}()
	}
	wg.Wait()
	m, _ := s.Load(ctx, "m", "")
	for i := range writers {
		if !bytes.Contains(m.State, fmt.Appendf(nil, "<%d>", i)) {
			t.Errorf("writer %d's change was lost: %q", i, m.State)
		}
	}
}

// TestMembersShareBuckets: durable members are packed into a bounded number of hashes, each
// a flat listpack while small, which is where the memory per subscriber comes from.
func TestMembersShareBuckets(t *testing.T) {
	ctx := context.Background()
	s, keys := newStore(t)
	states := map[string][]byte{}
	for i := range 3000 {
		states[fmt.Sprintf("member%04d", i)] = bytes.Repeat([]byte{'s'}, 60)
	}
	if err := s.PutMembers(ctx, states); err != nil {
		t.Fatal(err)
	}
	all := keys()
	if len(all) > memberBuckets {
		t.Errorf("%d keys for 3000 members, want at most %d buckets", len(all), memberBuckets)
	}
	if enc := s.rdb.ObjectEncoding(ctx, all[0]).Val(); enc != "listpack" && enc != "ziplist" {
		t.Errorf("a bucket of a few members is encoded as %q, want listpack", enc)
	}
	if m, _ := s.Load(ctx, "member0042", ""); len(m.State) != 60 {
		t.Errorf("a packed member reads back %q", m.State)
	}
}

// TestRetryWindow: with the default 48-hour retention, a retry is recognised across the
// change of generation within the retry window, and within its own generation for longer.
func TestRetryWindow(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Open(t)
	s, err := New(rdb, prefix, DefaultReplyTTL)
	if err != nil {
		t.Fatal(err)
	}
	gen := s.replyGen(time.Now())
	end := s.genStart(gen + 1).Add(-time.Minute) // the last minute of a generation
	if err := s.Save(ctx, "m", hotline.Commit{State: []byte("x"), MsgID: "SM1", Reply: []byte("r"), Now: end}); err != nil {
		t.Fatal(err)
	}
	var answered *hotline.AnsweredError
	retry := func(at time.Time) error {
		return s.Save(ctx, "m", hotline.Commit{Expect: []byte("x"), State: []byte("y"), MsgID: "SM1", Reply: []byte("other"), Now: at})
	}
	if err := retry(end.Add(30 * time.Minute)); !errors.As(err, &answered) {
		t.Errorf("a retry 30 minutes later, in the next generation: %v", err)
	}
	if err := retry(end.Add(-20 * time.Hour)); !errors.As(err, &answered) {
		t.Errorf("a retry within the same generation: %v", err)
	}
}

// TestEraseReachesEveryLiveGeneration: a reply written at the very end of the generation two
// back is still alive (a log lives a whole retention after its first reply), and so are the
// counts of two hours back; Erase removes them too.
func TestEraseReachesEveryLiveGeneration(t *testing.T) {
	ctx := context.Background()
	s, keys := newStore(t)
	now := time.Now()
	gen := s.replyGen(now)
	old := s.genStart(gen - 1).Add(-time.Second) // the last second of generation gen-2
	if err := s.Save(ctx, "m", hotline.Commit{State: []byte("x"), MsgID: "SMold", Reply: []byte("r"), Now: old, Count: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Count(ctx, "m", "", now.Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	if k := keys(); len(k) != 0 {
		t.Errorf("keys left after Erase: %v", k)
	}
}

// TestCountRecognisesRetries: a retry of an answered message gets its reply and is not
// counted; another message is counted.
func TestCountRecognisesRetries(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	now := time.Now()
	if err := s.Save(ctx, "m", hotline.Commit{State: []byte("x"), MsgID: "SM1", Reply: []byte("reply1"), Now: now, Count: true, MinuteLimit: 5}); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Count(ctx, "m", "SM1", now)
	var answered *hotline.AnsweredError
	if !errors.As(err, &answered) || string(answered.Reply) != "reply1" {
		t.Fatalf("a retry: %v", err)
	}
	if minute, hour, err := s.Count(ctx, "m", "SM2", now); err != nil || minute != 2 || hour != 2 {
		t.Errorf("a new message: minute %d hour %d, %v; want 2 and 2 (the retry not counted)", minute, hour, err)
	}
}

// TestRetryAcrossAClockAhead: a reply recorded by a process whose clock is a few minutes
// ahead, already in the next generation, is found by a process still in the one before.
func TestRetryAcrossAClockAhead(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Open(t)
	s, err := New(rdb, prefix, DefaultReplyTTL)
	if err != nil {
		t.Fatal(err)
	}
	next := s.genStart(s.replyGen(time.Now()) + 1)
	ahead := next.Add(2 * time.Minute) // the other process's clock: past the change
	if err := s.Save(ctx, "m", hotline.Commit{State: []byte("x"), MsgID: "SM1", Reply: []byte("r"), Now: ahead}); err != nil {
		t.Fatal(err)
	}
	behind := next.Add(-3 * time.Minute)
	var answered *hotline.AnsweredError
	err = s.Save(ctx, "m", hotline.Commit{Expect: []byte("x"), State: []byte("y"), MsgID: "SM1", Reply: []byte("other"), Now: behind})
	if !errors.As(err, &answered) || string(answered.Reply) != "r" {
		t.Errorf("the retry on the slower clock: %v", err)
	}
	if _, _, err := s.Count(ctx, "m", "SM1", behind); !errors.As(err, &answered) {
		t.Errorf("the retry, counted on the slower clock: %v", err)
	}
}
