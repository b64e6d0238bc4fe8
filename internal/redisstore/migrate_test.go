package redisstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// oldMember writes a member as the layout before bucket hashes kept it: a hash of a version
// and the state sealed as JSON, with a reply log and its index beside it, and a TTL for a
// conversation. It returns the sealed state.
func oldMember(t *testing.T, s *Store, keys *privacy.Keys, id string, st flow.State, ttl time.Duration) []byte {
	t.Helper()
	ctx := context.Background()
	plain, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	sealed := keys.Seal(plain, []byte(id+":s"))
	k := s.oldHashKey(id)
	if err := s.rdb.HSet(ctx, k, "v", 3, "s", sealed).Err(); err != nil {
		t.Fatal(err)
	}
	if ttl > 0 {
		s.rdb.PExpire(ctx, k, ttl)
	}
	s.rdb.HSet(ctx, k+":r", "SM1", keys.Seal([]byte("reply"), []byte(id+":r:SM1")))
	s.rdb.ZAdd(ctx, k+":rt", redis.Z{Score: 1, Member: "SM1"})
	s.rdb.Expire(ctx, k+":r", time.Hour)
	s.rdb.Expire(ctx, k+":rt", time.Hour)
	return sealed
}

func TestMigrateLayout(t *testing.T) {
	ctx := context.Background()
	s, allKeys := newStore(t)
	keys, err := privacy.NewKeys("test-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	id := func(c byte) string { return string(bytes.Repeat([]byte{c}, 26)) } // the old ids' form
	subscriber, optedOut, talker, rewrote := id('a'), id('b'), id('c'), id('d')
	want := map[string][]byte{
		subscriber: oldMember(t, s, keys, subscriber, flow.State{Lang: "es", Areas: []string{"albuquerque"}, Address: "+15055550100"}, 0),
		optedOut:   oldMember(t, s, keys, optedOut, flow.State{Lang: "es", OptedOut: true}, 0),
		talker:     oldMember(t, s, keys, talker, flow.State{Lang: "en", Node: "help/start"}, 10*time.Minute),
	}
	// A member with a state in both layouts (an old-version process wrote after a first
	// migration): both are kept, and reported, until --prefer-old settles it for the old.
	rewroteOld := oldMember(t, s, keys, rewrote, flow.State{Lang: "es", OptedOut: true}, 0)
	if err := s.Save(ctx, rewrote, hotline.Commit{State: []byte("newer"), TTL: time.Hour, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	want[rewrote] = []byte("newer")
	// Counters of the old layout, and a reply log that outlived its member.
	s.rdb.Set(ctx, s.oldHashKey(talker)+":q:29000000", 1, time.Hour)
	s.rdb.HSet(ctx, s.oldHashKey(id('e'))+":r", "SM1", "x")
	// The old set of every subscriber beside an area set, and keys that are not area sets.
	s.rdb.SAdd(ctx, s.subscribersKey(AllAreas, "es"), subscriber)
	s.rdb.SAdd(ctx, s.subscribersKey("albuquerque", "es"), subscriber)
	s.rdb.SAdd(ctx, s.prefix+":sub:{s}:bc:b1:es", subscriber)
	s.rdb.SAdd(ctx, s.prefix+":sub:{s}:tmp:abcdefgh", subscriber)

	if n := oldLayoutSeen(t, s); n != 4+4+1 {
		t.Errorf("SealedValues names %d keys of the old layout, want 9 (4 members, 5 reply logs)", n)
	}
	if err := s.CheckLayout(ctx); !errors.Is(err, ErrOldLayout) {
		t.Fatalf("CheckLayout before the migration: %v, want ErrOldLayout", err)
	}

	before := allKeys()
	slices.Sort(before)
	dry, err := s.MigrateLayout(ctx, true, false)
	if err != nil {
		t.Fatal(err)
	}
	after := allKeys()
	slices.Sort(after)
	if !slices.Equal(before, after) {
		t.Errorf("the dry run changed the keys:\nbefore %v\nafter  %v", before, after)
	}
	wantRep := MigrationReport{Durable: 2, Conversations: 1, Conflicts: 1,
		OldKeysDeleted: 3*3 + 2, AreaRegistrations: 1, AllAreaSetsDeleted: 1}
	if dry.DryRun = false; dry != wantRep {
		t.Errorf("dry run report %+v, want %+v", dry, wantRep)
	}

	rep, err := s.MigrateLayout(ctx, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep != wantRep {
		t.Errorf("report %+v, want %+v", rep, wantRep)
	}
	// While a conflict is left, the old layout may hold the state that counts (an opt-out):
	// Redis stays unmarked, so serve and worker do not start on the new one alone.
	if s.rdb.Exists(ctx, s.layoutKey()).Val() != 0 {
		t.Error("a pass that left a conflict marked Redis with the new layout")
	}
	if err := s.CheckLayout(ctx); !errors.Is(err, ErrOldLayout) {
		t.Errorf("CheckLayout with a conflict left: %v, want ErrOldLayout", err)
	}
	again, err := s.MigrateLayout(ctx, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if again != (MigrationReport{Conflicts: 1}) {
		t.Errorf("second run %+v, want only the conflict, still kept", again)
	}
	if m, _ := s.Load(ctx, rewrote, ""); string(m.State) != "newer" {
		t.Errorf("a conflicted member's new state was replaced without --prefer-old: %q", m.State)
	}
	if s.rdb.Exists(ctx, s.oldHashKey(rewrote)).Val() != 1 {
		t.Error("a conflicted member's old state was deleted without --prefer-old")
	}
	settled, err := s.MigrateLayout(ctx, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if settled != (MigrationReport{Durable: 1, OldKeysDeleted: 3, Marked: true}) {
		t.Errorf("--prefer-old run %+v, want the old state moved and its keys deleted", settled)
	}
	want[rewrote] = rewroteOld
	if s.rdb.Exists(ctx, s.memberKey(rewrote)).Val() != 0 {
		t.Error("--prefer-old left the new-layout conversation key beside the moved durable state")
	}
	if last, _ := s.MigrateLayout(ctx, false, false); last != (MigrationReport{Marked: true}) {
		t.Errorf("a run after settling %+v, want nothing done", last)
	}

	for member, sealed := range want {
		m, err := s.Load(ctx, member, "")
		if err != nil || !bytes.Equal(m.State, sealed) {
			t.Errorf("member %s: state %q, %v; want it as it was", member[:1], m.State, err)
		}
	}
	// Sealed values moved unopened still open, and decode.
	plain, err := keys.Open(want[optedOut], []byte(optedOut+":s"))
	if st, derr := flow.DecodeState(plain); err != nil || derr != nil || !st.OptedOut {
		t.Errorf("the opted-out member's moved state: %+v, %v, %v", st, err, derr)
	}
	if ttl := s.rdb.PTTL(ctx, s.memberKey(talker)).Val(); ttl < 10*time.Minute-2*time.Second || ttl > 10*time.Minute {
		t.Errorf("the conversation's TTL is %v, want what it had left (10m)", ttl)
	}
	for _, member := range []string{subscriber, optedOut} {
		if s.rdb.Exists(ctx, s.memberKey(member)).Val() != 0 {
			t.Errorf("a durable member has a key of its own")
		}
		if ttl := s.rdb.PTTL(ctx, s.bucketKey(member)).Val(); ttl != -1 {
			t.Errorf("a bucket hash has a TTL: %v", ttl)
		}
	}
	for _, k := range allKeys() {
		if _, _, old := s.oldMemberKey(k); old {
			t.Errorf("old key %s left", k)
		}
	}
	if s.rdb.Exists(ctx, s.subscribersKey(AllAreas, "es")).Val() != 0 {
		t.Errorf("the old set of every subscriber is left")
	}
	if areas := s.rdb.SMembers(ctx, s.areasKey("es")).Val(); !slices.Equal(areas, []string{"albuquerque"}) {
		t.Errorf("areas in es: %v, want [albuquerque]", areas)
	}
	if ids, err := s.Subscribers(ctx, AllAreas, "es"); err != nil || !slices.Equal(ids, []string{subscriber}) {
		t.Errorf("everyone in es: %v, %v", ids, err)
	}
	if v := s.rdb.Get(ctx, s.layoutKey()).Val(); v != "2" {
		t.Errorf("layout marker %q, want 2", v)
	}
	if err := s.CheckLayout(ctx); err != nil {
		t.Errorf("CheckLayout after the migration: %v", err)
	}
	if n := oldLayoutSeen(t, s); n != 0 {
		t.Errorf("SealedValues still names %d keys of the old layout", n)
	}

	// An old-version process writes after the migration: the conflict is kept and reported,
	// and the mark stays, since the hotline already runs on it.
	oldMember(t, s, keys, subscriber, flow.State{Lang: "en"}, 0)
	late, err := s.MigrateLayout(ctx, false, false)
	if err != nil || late != (MigrationReport{Conflicts: 1, Marked: true}) {
		t.Errorf("a pass after a late old-layout write: %+v, %v; want the conflict, Redis still marked", late, err)
	}
}

// oldLayoutSeen counts the keys SealedValues names as of the old layout.
func oldLayoutSeen(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	for v, err := range s.SealedValues(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if v.Kind == KindOldLayout {
			n++
		}
	}
	return n
}

func TestCheckLayoutMarksANewRedis(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	// Today's keys only: a conversation and a subscriber.
	now := time.Now()
	s.Save(ctx, "member1", hotline.Commit{State: []byte("x"), TTL: time.Hour, Now: now})
	s.Save(ctx, "member2", hotline.Commit{State: []byte("y"), Now: now})
	if err := s.CheckLayout(ctx); err != nil {
		t.Fatal(err)
	}
	if v := s.rdb.Get(ctx, s.layoutKey()).Val(); v != "2" {
		t.Errorf("layout marker %q, want 2", v)
	}
	s.rdb.Set(ctx, s.layoutKey(), "3", 0)
	if err := s.CheckLayout(ctx); err == nil {
		t.Errorf("CheckLayout accepted a layout it does not know")
	}
}

// TestMigrateLayoutFinishesAnInterruptedPass: a pass stopped after writing a member's new
// place and before deleting its old keys leaves the same sealed state in both layouts. The
// next pass, dry or not, finishes the move rather than calling it a conflict, which would
// keep the old keys and ask the operator to settle what needs no settling.
func TestMigrateLayoutFinishesAnInterruptedPass(t *testing.T) {
	keys, err := privacy.NewKeys("test-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		st   flow.State
		ttl  time.Duration
		want MigrationReport
	}{
		{"durable", flow.State{Lang: "es", OptedOut: true}, 0, MigrationReport{Durable: 1, OldKeysDeleted: 3, Marked: true}},
		{"conversation", flow.State{Lang: "en", Node: "help/start"}, 10 * time.Minute, MigrationReport{Conversations: 1, OldKeysDeleted: 3, Marked: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, _ := newStore(t)
			id := string(bytes.Repeat([]byte{'a'}, 26))
			sealed := oldMember(t, s, keys, id, tc.st, tc.ttl)
			// What the first step of a pass wrote before it stopped.
			if err := s.Save(ctx, id, hotline.Commit{State: sealed, TTL: tc.ttl, Now: time.Now()}); err != nil {
				t.Fatal(err)
			}

			dry, err := s.MigrateLayout(ctx, true, false)
			wantDry := tc.want
			wantDry.DryRun, wantDry.Marked = true, false
			if err != nil || dry != wantDry {
				t.Errorf("dry run: %+v, %v; want %+v", dry, err, wantDry)
			}
			rep, err := s.MigrateLayout(ctx, false, false)
			if err != nil || rep != tc.want {
				t.Errorf("pass: %+v, %v; want %+v", rep, err, tc.want)
			}
			if s.rdb.Exists(ctx, s.oldHashKey(id)).Val() != 0 {
				t.Error("the old keys were kept, as for a conflict")
			}
			if m, err := s.Load(ctx, id, ""); err != nil || !bytes.Equal(m.State, sealed) {
				t.Errorf("state %q, %v; want it as it was", m.State, err)
			}
		})
	}
}
