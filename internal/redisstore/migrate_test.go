package redisstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redistest"
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
	sealed := keys.Seal(plain, privacy.MemberState(id))
	k := s.oldHashKey(id)
	if err := s.rdb.HSet(ctx, k, "v", 3, "s", sealed).Err(); err != nil {
		t.Fatal(err)
	}
	if ttl > 0 {
		s.rdb.PExpire(ctx, k, ttl)
	}
	s.rdb.HSet(ctx, k+":r", "SM1", keys.Seal([]byte("reply"), privacy.Reply(id, "SM1")))
	s.rdb.ZAdd(ctx, k+":rt", redis.Z{Score: 1, Member: "SM1"})
	s.rdb.Expire(ctx, k+":r", time.Hour)
	s.rdb.Expire(ctx, k+":rt", time.Hour)
	return sealed
}

// undecided is a Settle that opens both states and finds nothing to choose between them,
// so that only the operator's preference settles a conflict.
func undecided(string, []byte, []byte) Verdict { return Undecided }

// pass is the options of a pass that finds every conflict undecided.
func pass(dryRun, preferOld bool) MigrateOptions {
	return MigrateOptions{DryRun: dryRun, Settle: undecided, PreferOld: preferOld}
}

// crowd fills the test Redis with keys of another prefix, as a production Redis holds them:
// SCAN's pages then split a member's old keys, which a pass must handle the same.
func crowd(t *testing.T) {
	t.Helper()
	rdb, prefix := redistest.Open(t)
	p := rdb.Pipeline()
	for i := range 3000 {
		p.Set(context.Background(), fmt.Sprintf("%s:m:{x}:%d", prefix, i), "1", time.Hour)
	}
	if _, err := p.Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateLayout(t *testing.T) {
	ctx := context.Background()
	crowd(t)
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
	dry, err := s.MigrateLayout(ctx, pass(true, false))
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

	rep, err := s.MigrateLayout(ctx, pass(false, false))
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
	again, err := s.MigrateLayout(ctx, pass(false, false))
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
	settled, err := s.MigrateLayout(ctx, pass(false, true))
	if err != nil {
		t.Fatal(err)
	}
	if settled != (MigrationReport{Durable: 1, SettledPreferOld: 1, OldKeysDeleted: 3, Marked: true}) {
		t.Errorf("--prefer-old run %+v, want the old state moved and its keys deleted", settled)
	}
	want[rewrote] = rewroteOld
	if s.rdb.Exists(ctx, s.memberKey(rewrote)).Val() != 0 {
		t.Error("--prefer-old left the new-layout conversation key beside the moved durable state")
	}
	if last, _ := s.MigrateLayout(ctx, pass(false, false)); last != (MigrationReport{Marked: true}) {
		t.Errorf("a run after settling %+v, want nothing done", last)
	}

	for member, sealed := range want {
		m, err := s.Load(ctx, member, "")
		if err != nil || !bytes.Equal(m.State, sealed) {
			t.Errorf("member %s: state %q, %v; want it as it was", member[:1], m.State, err)
		}
	}
	// Sealed values moved unopened still open, and decode.
	plain, err := keys.Open(want[optedOut], privacy.MemberState(optedOut))
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
	late, err := s.MigrateLayout(ctx, pass(false, false))
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
			crowd(t)
			s, _ := newStore(t)
			id := string(bytes.Repeat([]byte{'a'}, 26))
			sealed := oldMember(t, s, keys, id, tc.st, tc.ttl)
			// What the first step of a pass wrote before it stopped.
			if err := s.Save(ctx, id, hotline.Commit{State: sealed, TTL: tc.ttl, Now: time.Now()}); err != nil {
				t.Fatal(err)
			}

			dry, err := s.MigrateLayout(ctx, pass(true, false))
			wantDry := tc.want
			wantDry.DryRun, wantDry.Marked = true, false
			if err != nil || dry != wantDry {
				t.Errorf("dry run: %+v, %v; want %+v", dry, err, wantDry)
			}
			rep, err := s.MigrateLayout(ctx, pass(false, false))
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

// TestMigrateLayoutSettlesConflicts: a conflict is settled as Settle says, whatever the
// operator prefers, when Settle picks a side (the one with the opt-out); the operator's
// preference for the old state settles only what Settle leaves undecided; and a state that
// does not open, or no Settle at all, keeps both, --prefer-old or not.
func TestMigrateLayoutSettlesConflicts(t *testing.T) {
	keys, err := privacy.NewKeys("test-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	const (
		both = iota
		oldKept
		currentKept
	)
	for _, tc := range []struct {
		name      string
		verdict   Verdict
		noSettle  bool
		preferOld bool
		want      MigrationReport
		kept      int
	}{
		{"the old side, without --prefer-old", KeepOld, false, false,
			MigrationReport{Durable: 1, SettledAuto: 1, OldKeysDeleted: 3, Marked: true}, oldKept},
		{"the current side, despite --prefer-old", KeepCurrent, false, true,
			MigrationReport{SettledAuto: 1, OldKeysDeleted: 3, Marked: true}, currentKept},
		{"the current side, without --prefer-old", KeepCurrent, false, false,
			MigrationReport{SettledAuto: 1, OldKeysDeleted: 3, Marked: true}, currentKept},
		{"undecided, with --prefer-old", Undecided, false, true,
			MigrationReport{Durable: 1, SettledPreferOld: 1, OldKeysDeleted: 3, Marked: true}, oldKept},
		{"undecided, without --prefer-old", Undecided, false, false,
			MigrationReport{Conflicts: 1}, both},
		{"unreadable, despite --prefer-old", Unreadable, false, true,
			MigrationReport{Conflicts: 1, Unreadable: 1}, both},
		{"nothing to open with, despite --prefer-old", 0, true, true,
			MigrationReport{Conflicts: 1}, both},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			crowd(t)
			s, _ := newStore(t)
			id := string(bytes.Repeat([]byte{'a'}, 26))
			old := oldMember(t, s, keys, id, flow.State{Lang: "es", OptedOut: true}, 0)
			current := []byte("current")
			if err := s.Save(ctx, id, hotline.Commit{State: current, TTL: time.Hour, Now: time.Now()}); err != nil {
				t.Fatal(err)
			}
			var asked [][]byte
			settle := func(sid string, o, c []byte) Verdict {
				if sid != id {
					t.Errorf("Settle asked about %q", sid)
				}
				asked = append(asked, o, c)
				return tc.verdict
			}
			opts := MigrateOptions{Settle: settle, PreferOld: tc.preferOld}
			if tc.noSettle {
				opts.Settle = nil
			}

			opts.DryRun = true
			dry, err := s.MigrateLayout(ctx, opts)
			wantDry := tc.want
			wantDry.DryRun, wantDry.Marked = true, false
			if err != nil || dry != wantDry {
				t.Errorf("dry run: %+v, %v; want %+v", dry, err, wantDry)
			}
			opts.DryRun = false
			rep, err := s.MigrateLayout(ctx, opts)
			if err != nil || rep != tc.want {
				t.Errorf("pass: %+v, %v; want %+v", rep, err, tc.want)
			}
			if !tc.noSettle && (len(asked) != 4 || !bytes.Equal(asked[0], old) || !bytes.Equal(asked[1], current)) {
				t.Errorf("Settle was not given the old state, then the current one: %q", asked)
			}

			m, err := s.Load(ctx, id, "")
			if err != nil {
				t.Fatal(err)
			}
			oldLeft := s.rdb.Exists(ctx, s.oldHashKey(id), s.oldHashKey(id)+":r").Val()
			switch tc.kept {
			case oldKept:
				if !bytes.Equal(m.State, old) || oldLeft != 0 || s.rdb.Exists(ctx, s.memberKey(id)).Val() != 0 {
					t.Errorf("state %q, %d old keys left; want the old state, durable, and its old keys gone", m.State, oldLeft)
				}
			case currentKept:
				if !bytes.Equal(m.State, current) || oldLeft != 0 {
					t.Errorf("state %q, %d old keys left; want the current state and the old keys gone", m.State, oldLeft)
				}
			case both:
				if !bytes.Equal(m.State, current) || oldLeft != 2 {
					t.Errorf("state %q, %d old keys left; want both states kept", m.State, oldLeft)
				}
			}
		})
	}
}

// TestMigrateLayoutKeepsAConcurrentWrite: the old state replaces the current one only if
// the current one is still what the pass read. A state written in between (the member
// texted a machine of the new version) is kept, with the old one, for the next pass to
// decide again.
func TestMigrateLayoutKeepsAConcurrentWrite(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	keys, err := privacy.NewKeys("test-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	id := string(bytes.Repeat([]byte{'a'}, 26))
	old := oldMember(t, s, keys, id, flow.State{Lang: "es", OptedOut: true}, 0)
	if err := s.Save(ctx, id, hotline.Commit{State: []byte("read"), Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// Settle runs between the pass's read and its write: the write lands there.
	settle := func(_ string, _, current []byte) Verdict {
		if string(current) == "read" {
			err := s.Save(ctx, id, hotline.Commit{Expect: current, State: []byte("written meanwhile"), Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
		}
		return KeepOld
	}
	rep, err := s.MigrateLayout(ctx, MigrateOptions{Settle: settle})
	if err != nil || rep != (MigrationReport{Conflicts: 1, Changed: 1}) {
		t.Errorf("pass: %+v, %v; want the conflict left, as changed meanwhile", rep, err)
	}
	if m, _ := s.Load(ctx, id, ""); string(m.State) != "written meanwhile" {
		t.Errorf("state %q: the write made meanwhile was lost", m.State)
	}
	if s.rdb.Exists(ctx, s.oldHashKey(id)).Val() != 1 {
		t.Error("the old state was deleted, though it was not moved")
	}
	// The next pass decides on what is there now.
	rep, err = s.MigrateLayout(ctx, MigrateOptions{Settle: settle})
	if err != nil || rep != (MigrationReport{Durable: 1, SettledAuto: 1, OldKeysDeleted: 3, Marked: true}) {
		t.Errorf("next pass: %+v, %v; want the old state moved", rep, err)
	}
	if m, _ := s.Load(ctx, id, ""); !bytes.Equal(m.State, old) {
		t.Errorf("state %q after the next pass, want the old one", m.State)
	}
}
