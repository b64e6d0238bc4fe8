package redisstore

import (
	"bytes"
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redistest"
)

// seedSealed stores one value of every sealed kind (the store treats them as opaque bytes),
// next to keys that look alike but hold nothing sealed.
func seedSealed(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.Save(ctx, "subscriber", hotline.Commit{State: []byte("sub-state"), Now: now}))
	must(s.Save(ctx, "talker", hotline.Commit{State: []byte("talk-state"), TTL: time.Hour, MsgID: "SM1", Reply: []byte("talk-reply"), Now: now}))
	must(s.CreateOrganizer(ctx, hotline.OrganizerRecord{ID: "org1", Name: "Olga", SealedPhone: []byte("org-phone"), PhoneID: "p1", TokenHash: "h1", Lang: "es", CreatedAt: now}))
	must(s.SaveComposeState(ctx, "org1", map[string]string{"step": "text"}, time.Hour))
	v := hotline.VolunteerRecord{ID: "vol1", Name: "Ana", SealedPhone: []byte("vol-phone"), PhoneID: "p2", Langs: []string{"es"}, CreatedAt: now}
	must(s.CreateVolunteer(ctx, v))
	must(s.SetOnCall(ctx, v, true))
	n, err := s.OpenCase(ctx, hotline.CaseRecord{Member: "talker", Lang: "es", Kind: "person", SealedAddress: []byte("case-addr"), Opened: now}, now)
	must(err)
	must(s.AppendTranscript(ctx, n, []byte("line-0")))
	must(s.AppendTranscript(ctx, n, []byte("line-1")))
	_, _, err = s.ClaimCase(ctx, n, "vol1", now) // a volunteer's case set: vol:<id>:cases
	must(err)
	// A closed case keeps its transcript but no address.
	closed, err := s.OpenCase(ctx, hotline.CaseRecord{Member: "subscriber", Lang: "es", Kind: "report", SealedAddress: []byte("gone-addr"), Opened: now}, now)
	must(err)
	must(s.AppendTranscript(ctx, closed, []byte("closed-line")))
	must(s.CloseCase(ctx, closed, "verified", now, time.Hour))
	// Counters and a subscription set, under the member's own prefix and elsewhere.
	if _, _, err := s.Count(ctx, "talker", "", now); err != nil {
		t.Fatal(err)
	}
	must(s.SyncSubscriptions(ctx, "subscriber", hotline.Subscription{}, hotline.Subscription{Areas: []string{"abq"}, Lang: "es"}))
	// A page waiting for a retry, and the other send queues (alerts hold nothing sealed).
	must(s.EnsureQueue(ctx))
	must(s.EnqueueDirect(ctx, "q1", []byte("queued-value")))
}

type found struct{ kind, where, value, context string }

func sealedFound(t *testing.T, s *Store) []found {
	t.Helper()
	var out []found
	for v, err := range s.SealedValues(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, found{string(v.Kind), v.Where(), string(v.Value), string(v.Context)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].where < out[j].where })
	return out
}

// TestSealedValuesFindsEveryKind: every sealed value, with the context its writer sealed it
// under, and nothing else — not counters, sets or compose state.
func TestSealedValuesFindsEveryKind(t *testing.T) {
	s, _ := newStore(t)
	seedSealed(t, s)
	p := s.prefix
	want := []found{
		{"case address", p + ":case:{c1} field addr", "case-addr", string(privacy.CaseAddress("talker"))},
		{"case transcript", p + ":case:{c1}:t item 0", "line-0", string(privacy.CaseTranscript(1))},
		{"case transcript", p + ":case:{c1}:t item 1", "line-1", string(privacy.CaseTranscript(1))},
		{"case transcript", p + ":case:{c2}:t item 0", "closed-line", string(privacy.CaseTranscript(2))},
		{"conversation", s.memberKey("talker"), "talk-state", string(privacy.MemberState("talker"))},
		{"reply", s.repliesKey("talker", s.replyGen(time.Now())) + " field SM1", "talk-reply", string(privacy.Reply("talker", "SM1"))},
		{"member state", s.bucketKey("subscriber") + " field subscriber", "sub-state", string(privacy.MemberState("subscriber"))},
		{"organizer phone", p + ":org:org1 field phone", "org-phone", string(privacy.OrganizerPhone("org1"))},
		{"volunteer phone", p + ":vol:vol1 field phone", "vol-phone", string(privacy.VolunteerPhone("vol1"))},
	}
	queued, err := s.rdb.XRange(context.Background(), s.streamKey("direct"), "-", "+").Result()
	if err != nil || len(queued) != 1 {
		t.Fatalf("queued entries %v, %v", queued, err)
	}
	want = append(want, found{"queued message", s.streamKey("direct") + " entry " + queued[0].ID, "queued-value", string(privacy.QueuedMessage("q1"))})
	sort.Slice(want, func(i, j int) bool { return want[i].where < want[j].where })
	if got := sealedFound(t, s); !slices.Equal(got, want) {
		t.Errorf("sealed values:\n got %q\nwant %q", got, want)
	}
}

// TestReplaceSealedIsCompareAndSet: a value still as read is replaced, keeping its key's
// TTL; a value the hotline rewrote meanwhile is left alone and reported with what is there
// now; a value deleted meanwhile is not brought back.
func TestReplaceSealedIsCompareAndSet(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	seedSealed(t, s)
	var all []Sealed
	for v, err := range s.SealedValues(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if v.Kind == KindQueued {
			// Not re-sealed in place: ReplaceSealed refuses it (below).
			if _, err := s.ReplaceSealed(ctx, []Replacement{{Old: v, New: []byte("new")}}); err == nil {
				t.Error("ReplaceSealed took a queued message")
			}
			continue
		}
		all = append(all, v)
	}
	ttlBefore := s.rdb.PTTL(ctx, s.memberKey("talker")).Val()

	// Meanwhile: the subscriber writes (a new state), the organizer's phone is changed by
	// hand, a transcript line is rewritten, and the volunteer is deleted.
	if err := s.Save(ctx, "subscriber", hotline.Commit{Expect: []byte("sub-state"), State: []byte("sub-state-2"), Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s.rdb.HSet(ctx, s.orgKey("org1"), "phone", "org-phone-2")
	s.rdb.LSet(ctx, s.transcriptKey(1), 1, "line-1-b")
	if err := s.DeleteVolunteer(ctx, "vol1"); err != nil {
		t.Fatal(err)
	}

	batch := make([]Replacement, len(all))
	for i, v := range all {
		batch[i] = Replacement{Old: v, New: append([]byte("new:"), v.Value...)}
	}
	res, err := s.ReplaceSealed(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	changed := map[string]string{ // where → what is there now ("" for gone)
		s.bucketKey("subscriber") + " field subscriber": "sub-state-2",
		s.prefix + ":org:org1 field phone":              "org-phone-2",
		s.prefix + ":case:{c1}:t item 1":                "line-1-b",
		s.prefix + ":vol:vol1 field phone":              "",
	}
	for i, r := range res {
		where := all[i].Where()
		now, isChanged := changed[where]
		switch {
		case isChanged && (r.Done || string(r.Current) != now):
			t.Errorf("%s changed meanwhile: got %+v, want refused with current %q", where, r, now)
		case !isChanged && !r.Done:
			t.Errorf("%s unchanged: got %+v, want replaced", where, r)
		}
	}

	after := map[string]string{}
	for _, f := range sealedFound(t, s) {
		after[f.where] = f.value
	}
	for _, v := range all {
		where := v.Where()
		now, isChanged := changed[where]
		want := "new:" + string(v.Value)
		if isChanged {
			want = now
		}
		if got, ok := after[where]; got != want || ok != (want != "") {
			t.Errorf("%s after replace = %q (present %v), want %q", where, got, ok, want)
		}
	}
	if n := s.rdb.Exists(ctx, s.volKey("vol1")).Val(); n != 0 {
		t.Error("replacing the deleted volunteer's phone brought the volunteer back")
	}
	ttlAfter := s.rdb.PTTL(ctx, s.memberKey("talker")).Val()
	if ttlAfter <= 0 || ttlBefore-ttlAfter > 2*time.Second || ttlAfter > ttlBefore {
		t.Errorf("conversation TTL %v before, %v after: want it unchanged", ttlBefore, ttlAfter)
	}
	if ttl := s.rdb.TTL(ctx, s.bucketKey("subscriber")).Val(); ttl != -1 {
		t.Errorf("bucket TTL = %v after replace, want none", ttl)
	}
	if ttl := s.rdb.TTL(ctx, s.transcriptKey(2)).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("closed case transcript TTL = %v after replace, want the retention (1h)", ttl)
	}
	if got := s.rdb.HGet(ctx, s.repliesKey("talker", s.replyGen(time.Now())), "SM1").Val(); !bytes.Equal([]byte(got), []byte("new:talk-reply")) {
		t.Errorf("reply = %q", got)
	}
}

// TestSealedValuesUnderAGlobPrefix: a prefix with SCAN's pattern characters is matched as
// itself, so reseal cannot miss every value and call the rotation safe.
func TestSealedValuesUnderAGlobPrefix(t *testing.T) {
	ctx := context.Background()
	rdb, base := redistest.Open(t)
	s, err := New(rdb, base+"[x]?", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Del(ctx, s.bucketKey("m")) })
	if err := s.Save(ctx, "m", hotline.Commit{State: []byte("state"), Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	n := 0
	for v, err := range s.SealedValues(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if v.Kind == KindMember {
			n++
		}
	}
	if n != 1 {
		t.Errorf("found %d member states under the prefix %q, want 1", n, s.prefix)
	}
}
