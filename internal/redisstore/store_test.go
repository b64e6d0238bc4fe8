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

func newStore(t *testing.T) (*Store, func() []string) {
	t.Helper()
	rdb, prefix := redistest.Open(t)
	s, err := New(rdb, prefix, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keys := func() []string { return rdb.Keys(context.Background(), prefix+":*").Val() }
	return s, keys
}

func TestLoadSaveConflictAnswered(t *testing.T) {
	ctx := context.Background()
	s, keys := newStore(t)
	now := time.Unix(1_800_000_000, 0)

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
	if ttl := s.rdb.TTL(ctx, s.repliesKey("m")).Val(); ttl <= 0 || ttl > time.Hour {
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

// TestOldRepliesTrimmed: once the log is past 64 replies, those older than the retention go.
func TestOldRepliesTrimmed(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	t0 := time.Unix(1_800_000_000, 0)
	if err := s.Save(ctx, "m", hotline.Commit{State: []byte("x"), MsgID: "SMold", Reply: []byte("r"), Now: t0}); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 65; i++ {
		if err := s.Save(ctx, "m", hotline.Commit{Expect: []byte("x"), State: []byte("x"), MsgID: fmt.Sprintf("SMnew%d", i), Reply: []byte("r"), Now: t0.Add(2 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if m, _ := s.Load(ctx, "m", "SMold"); m.Reply != nil {
		t.Error("a reply older than the retention is still there")
	}
	if m, _ := s.Load(ctx, "m", "SMnew65"); m.Reply == nil {
		t.Error("the new reply is missing")
	}
}

func TestErase(t *testing.T) {
	ctx := context.Background()
	s, keys := newStore(t)
	if err := s.Save(ctx, "m", hotline.Commit{State: []byte("x"), MsgID: "SM1", Reply: []byte("r"), Now: time.Now()}); err != nil {
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

// TestReplyLogIsBounded: a flood of messages keeps at most 256 replies, the newest.
func TestReplyLogIsBounded(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	now := time.Unix(1_800_000_000, 0)
	for i := range 300 {
		var expect []byte
		if i > 0 {
			expect = []byte("x")
		}
		err := s.Save(ctx, "m", hotline.Commit{Expect: expect, State: []byte("x"), MsgID: fmt.Sprintf("SM%d", i), Reply: []byte("r"), Now: now.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := s.rdb.HLen(ctx, s.repliesKey("m")).Val(); n != 256 {
		t.Errorf("reply log holds %d replies, want 256", n)
	}
	if m, _ := s.Load(ctx, "m", "SM0"); m.Reply != nil {
		t.Error("the oldest reply is still there")
	}
	if m, _ := s.Load(ctx, "m", "SM299"); m.Reply == nil {
		t.Error("the newest reply is gone")
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
