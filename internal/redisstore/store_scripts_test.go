package redisstore

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// memberPlaces is what a member's keys hold, as the count and commit scripts see them: ""
// and nil are absent.
type memberPlaces struct {
	durable      string            // the member's field in the bucket hash
	conversation string            // the member's own key
	replies      map[string]string // this generation's reply log
	older        map[string]string // the neighbouring generation's
	hour, minute int64             // this hour's counts: "h" and this minute's field
}

// scriptGen is the reply log generation the script tests use; the neighbouring one is the
// one before it. The scripts are given the generations' keys, they never compute one.
const scriptGen = 1000

var scriptNow = time.Date(2025, 3, 1, 10, 30, 0, 0, time.UTC)

// put writes p into member id's keys.
func (p memberPlaces) put(t *testing.T, s *Store, id string) {
	t.Helper()
	ctx := context.Background()
	pipe := s.rdb.Pipeline()
	if p.durable != "" {
		pipe.HSet(ctx, s.bucketKey(id), id, p.durable)
	}
	if p.conversation != "" {
		pipe.Set(ctx, s.memberKey(id), p.conversation, time.Hour)
	}
	for k, v := range p.replies {
		pipe.HSet(ctx, s.repliesKey(id, scriptGen), k, v)
	}
	for k, v := range p.older {
		pipe.HSet(ctx, s.repliesKey(id, scriptGen-1), k, v)
	}
	if p.hour > 0 {
		pipe.HSet(ctx, s.countsKey(id, scriptNow), "h", p.hour)
	}
	if p.minute > 0 {
		pipe.HSet(ctx, s.countsKey(id, scriptNow), minuteField(scriptNow), p.minute)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}

// readPlaces reads what member id's keys hold.
func readPlaces(t *testing.T, s *Store, id string) memberPlaces {
	t.Helper()
	var p memberPlaces
	p.durable = hash(t, s, s.bucketKey(id))[id]
	p.conversation = str(t, s, s.memberKey(id))
	p.replies = hash(t, s, s.repliesKey(id, scriptGen))
	p.older = hash(t, s, s.repliesKey(id, scriptGen-1))
	counts := hash(t, s, s.countsKey(id, scriptNow))
	fmt.Sscan(counts["h"], &p.hour)
	fmt.Sscan(counts[minuteField(scriptNow)], &p.minute)
	return p
}

func wantPlaces(t *testing.T, s *Store, id string, want memberPlaces) {
	t.Helper()
	if got := readPlaces(t, s, id); !reflect.DeepEqual(got, want) {
		t.Errorf("member's keys hold\n %+v\nwant\n %+v", got, want)
	}
}

// TestScriptCount: countScript answers {1, reply} for a message answered before (in this
// generation, or in the neighbouring one when told to look there) and counts nothing;
// any other message is counted, {0, minute, hour}, and the first count of the hour sets the
// counts' TTL.
func TestScriptCount(t *testing.T) {
	tests := []struct {
		name   string
		before memberPlaces
		msg    string
		look   string
		want   any
		after  memberPlaces
	}{
		{name: "a new message is counted", msg: "SM1", look: "1",
			want: []any{int64(0), int64(1), int64(1)}, after: memberPlaces{hour: 1, minute: 1}},
		{name: "counts go on from the hour's", before: memberPlaces{hour: 4, minute: 2}, msg: "SM1", look: "0",
			want: []any{int64(0), int64(3), int64(5)}, after: memberPlaces{hour: 5, minute: 3}},
		{name: "another minute of the hour starts at 1", before: memberPlaces{hour: 4}, msg: "SM1", look: "0",
			want: []any{int64(0), int64(1), int64(5)}, after: memberPlaces{hour: 5, minute: 1}},
		{name: "answered in this generation: its reply, not counted", before: memberPlaces{replies: map[string]string{"SM1": "r1"}}, msg: "SM1", look: "0",
			want: []any{int64(1), "r1"}, after: memberPlaces{replies: map[string]string{"SM1": "r1"}}},
		{name: "answered in the neighbouring generation, looked at", before: memberPlaces{older: map[string]string{"SM1": "r1"}}, msg: "SM1", look: "1",
			want: []any{int64(1), "r1"}, after: memberPlaces{older: map[string]string{"SM1": "r1"}}},
		{name: "answered in the neighbouring generation, not looked at: counted", before: memberPlaces{older: map[string]string{"SM1": "r1"}}, msg: "SM1", look: "0",
			want: []any{int64(0), int64(1), int64(1)}, after: memberPlaces{older: map[string]string{"SM1": "r1"}, hour: 1, minute: 1}},
		{name: "another message answered: counted", before: memberPlaces{replies: map[string]string{"SM0": "r0"}}, msg: "SM1", look: "1",
			want: []any{int64(0), int64(1), int64(1)}, after: memberPlaces{replies: map[string]string{"SM0": "r0"}, hour: 1, minute: 1}},
		{name: "no message id: counted", msg: "", look: "1",
			want: []any{int64(0), int64(1), int64(1)}, after: memberPlaces{hour: 1, minute: 1}},
	}
	eachStore(t, func(t *testing.T, s *Store) {
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				id := fmt.Sprintf("count%d", i)
				tc.before.put(t, s, id)
				got := runScript(t, s, countScript,
					[]string{s.repliesKey(id, scriptGen), s.repliesKey(id, scriptGen-1), s.countsKey(id, scriptNow)},
					tc.msg, tc.look, minuteField(scriptNow), 7200)
				wantAnswer(t, got, tc.want)
				wantPlaces(t, s, id, tc.after)
				switch {
				case tc.after.hour == 0:
					wantTTL(t, s, s.countsKey(id, scriptNow), gone)
				case tc.before.hour == 0:
					wantTTL(t, s, s.countsKey(id, scriptNow), 2*time.Hour)
				default: // set by the hour's first count, not by this one
					wantTTL(t, s, s.countsKey(id, scriptNow), noTTL)
				}
			})
		}
	})
}

// commitArgs are commitScript's ARGV but the member id and the counts' minute field.
type commitArgs struct {
	expect, state string
	ttl           int64 // seconds; 0 is a durable state
	msg, reply    string
	count         bool
	minuteLimit   int64
	hourLimit     int64
	bound         int64 // how many replies one generation's log may hold
	look          bool  // look for the message in the neighbouring generation
	job           string
	jobLeaseMS    int64
}

// commitReplyTTL and commitCountsTTL are the TTLs the commit tests give the reply log and the
// counts.
const (
	commitReplyTTL  = 3 * time.Hour
	commitCountsTTL = 2 * time.Hour
)

func runCommit(t *testing.T, s *Store, id string, a commitArgs) any {
	t.Helper()
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	return runScript(t, s, commitScript,
		[]string{s.bucketKey(id), s.memberKey(id), s.repliesKey(id, scriptGen), s.repliesKey(id, scriptGen-1), s.countsKey(id, scriptNow),
			s.jobsKey(bucketOf(id)), s.jobLeaseKey(id, a.msg)},
		a.expect, a.state, a.ttl, id, a.msg, a.reply, int64(commitReplyTTL/time.Second), flag(a.count),
		a.minuteLimit, a.hourLimit, a.bound, flag(a.look), minuteField(scriptNow), int64(commitCountsTTL/time.Second),
		a.job, max(a.jobLeaseMS, 1))
}

// TestScriptCommit: commitScript answers {0} when it wrote the state and the reply, {1,
// reply, state} for a message answered before, {2, state} when the state is not the
// expected one, {3, minute, hour, state} past a limit; a durable state (TTL 0) lives in the
// bucket, any other in the member's own key, never both.
func TestScriptCommit(t *testing.T) {
	replies := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		before memberPlaces
		args   commitArgs
		want   any
		after  memberPlaces
		// ttl is the member's own key's TTL after, when it holds the state.
		ttl time.Duration
	}{
		{name: "a first message: the state as a conversation, the reply logged, counted",
			args: commitArgs{state: "s1", ttl: 600, msg: "SM1", reply: "r1", count: true, bound: 512},
			want: []any{int64(0)}, after: memberPlaces{conversation: "s1", replies: replies("SM1", "r1"), hour: 1, minute: 1}, ttl: 10 * time.Minute},
		{name: "a durable state goes into the bucket and leaves the member's key",
			before: memberPlaces{conversation: "s1"},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 0, msg: "SM1", reply: "r1", bound: 512},
			want:   []any{int64(0)}, after: memberPlaces{durable: "s2", replies: replies("SM1", "r1")}},
		{name: "a conversation leaves the bucket",
			before: memberPlaces{durable: "s1"},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 60, msg: "SM1", reply: "r1", bound: 512},
			want:   []any{int64(0)}, after: memberPlaces{conversation: "s2", replies: replies("SM1", "r1")}, ttl: time.Minute},
		{name: "a durable state replaces a durable one",
			before: memberPlaces{durable: "s1"},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 0, bound: 512},
			want:   []any{int64(0)}, after: memberPlaces{durable: "s2"}},
		{name: "a conversation replaces a conversation, with the new TTL",
			before: memberPlaces{conversation: "s1"},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 120, bound: 512},
			want:   []any{int64(0)}, after: memberPlaces{conversation: "s2"}, ttl: 2 * time.Minute},
		{name: "another state than the expected: a conflict, nothing written but the count",
			before: memberPlaces{conversation: "s1"},
			args:   commitArgs{expect: "s0", state: "s2", ttl: 60, msg: "SM1", reply: "r1", count: true, bound: 512},
			want:   []any{int64(2), "s1"}, after: memberPlaces{conversation: "s1", hour: 1, minute: 1}},
		{name: "a state expected of a member never seen: a conflict with none",
			args: commitArgs{expect: "s0", state: "s2", ttl: 0, bound: 512},
			want: []any{int64(2), ""}},
		{name: "a state in the bucket when a conversation is written is found there",
			before: memberPlaces{durable: "s1"},
			args:   commitArgs{expect: "s0", state: "s2", ttl: 60, bound: 512},
			want:   []any{int64(2), "s1"}, after: memberPlaces{durable: "s1"}},
		{name: "answered before: its reply and the state, nothing written or counted",
			before: memberPlaces{conversation: "s1", replies: replies("SM1", "r1")},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 60, msg: "SM1", reply: "r2", count: true, bound: 512},
			want:   []any{int64(1), "r1", "s1"}, after: memberPlaces{conversation: "s1", replies: replies("SM1", "r1")}},
		{name: "answered before, a durable member",
			before: memberPlaces{durable: "s1", replies: replies("SM1", "r1")},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 0, msg: "SM1", reply: "r2", bound: 512},
			want:   []any{int64(1), "r1", "s1"}, after: memberPlaces{durable: "s1", replies: replies("SM1", "r1")}},
		{name: "answered before, the member since erased",
			before: memberPlaces{replies: replies("SM1", "r1")},
			args:   commitArgs{state: "s2", ttl: 60, msg: "SM1", reply: "r2", bound: 512},
			want:   []any{int64(1), "r1", ""}, after: memberPlaces{replies: replies("SM1", "r1")}},
		{name: "answered in the neighbouring generation, looked at",
			before: memberPlaces{conversation: "s1", older: replies("SM1", "r1")},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 60, msg: "SM1", reply: "r2", look: true, bound: 512},
			want:   []any{int64(1), "r1", "s1"}, after: memberPlaces{conversation: "s1", older: replies("SM1", "r1")}},
		{name: "answered in the neighbouring generation, not looked at: answered afresh",
			before: memberPlaces{conversation: "s1", older: replies("SM1", "r1")},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 60, msg: "SM1", reply: "r2", bound: 512},
			want:   []any{int64(0)}, after: memberPlaces{conversation: "s2", replies: replies("SM1", "r2"), older: replies("SM1", "r1")}, ttl: time.Minute},
		{name: "past the minute limit: the counts and the state, nothing written",
			before: memberPlaces{conversation: "s1", hour: 2, minute: 2},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 60, msg: "SM1", reply: "r1", count: true, minuteLimit: 2, hourLimit: 10, bound: 512},
			want:   []any{int64(3), int64(3), int64(3), "s1"}, after: memberPlaces{conversation: "s1", hour: 3, minute: 3}},
		{name: "past the hour limit",
			before: memberPlaces{durable: "s1", hour: 5},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 0, msg: "SM1", reply: "r1", count: true, minuteLimit: 3, hourLimit: 5, bound: 512},
			want:   []any{int64(3), int64(1), int64(6), "s1"}, after: memberPlaces{durable: "s1", hour: 6, minute: 1}},
		{name: "at a limit is not past it",
			before: memberPlaces{conversation: "s1", hour: 4, minute: 1},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 60, count: true, minuteLimit: 2, hourLimit: 5, bound: 512},
			want:   []any{int64(0)}, after: memberPlaces{conversation: "s2", hour: 5, minute: 2}, ttl: time.Minute},
		{name: "a limit of 0 is none",
			before: memberPlaces{conversation: "s1", hour: 100, minute: 100},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 60, count: true, bound: 512},
			want:   []any{int64(0)}, after: memberPlaces{conversation: "s2", hour: 101, minute: 101}, ttl: time.Minute},
		{name: "not counted: no counts, no limit",
			before: memberPlaces{conversation: "s1", minute: 9},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 60, minuteLimit: 1, bound: 512},
			want:   []any{int64(0)}, after: memberPlaces{conversation: "s2", minute: 9}, ttl: time.Minute},
		{name: "a full reply log records no more",
			before: memberPlaces{conversation: "s1", replies: replies("SMa", "ra", "SMb", "rb")},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 60, msg: "SM1", reply: "r1", bound: 2},
			want:   []any{int64(0)}, after: memberPlaces{conversation: "s2", replies: replies("SMa", "ra", "SMb", "rb")}, ttl: time.Minute},
		{name: "no message id: no reply logged",
			before: memberPlaces{conversation: "s1"},
			args:   commitArgs{expect: "s1", state: "s2", ttl: 60, reply: "r1", bound: 512},
			want:   []any{int64(0)}, after: memberPlaces{conversation: "s2"}, ttl: time.Minute},
	}
	eachStore(t, func(t *testing.T, s *Store) {
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				id := fmt.Sprintf("commit%d", i)
				tc.before.put(t, s, id)
				wantAnswer(t, runCommit(t, s, id, tc.args), tc.want)
				wantPlaces(t, s, id, tc.after)
				if tc.ttl > 0 {
					wantTTL(t, s, s.memberKey(id), tc.ttl)
				}
			})
		}

		// A job is written with the state, leased; a commit that does not write the state
		// writes no job.
		t.Run("a job is written with the state, leased, and not without it", func(t *testing.T) {
			ctx := context.Background()
			a := commitArgs{state: "s1", ttl: 60, msg: "SMjob", reply: "r", bound: 512, job: "sealed-job", jobLeaseMS: 60000}
			wantAnswer(t, runCommit(t, s, "jobber", a), []any{int64(0)})
			if v, _ := s.rdb.HGet(ctx, s.jobsKey(bucketOf("jobber")), "jobber/SMjob").Result(); v != "sealed-job" {
				t.Errorf("job %q", v)
			}
			wantTTL(t, s, s.jobLeaseKey("jobber", "SMjob"), time.Minute)
			a = commitArgs{expect: "stale", state: "s2", ttl: 60, msg: "SMjob2", reply: "r", bound: 512, job: "other", jobLeaseMS: 60000}
			wantAnswer(t, runCommit(t, s, "jobber", a), []any{int64(2), "s1"})
			if n, _ := s.rdb.HExists(ctx, s.jobsKey(bucketOf("jobber")), "jobber/SMjob2").Result(); n {
				t.Error("a refused commit wrote its job")
			}
		})

		// The TTLs the script sets: the counts' and the reply log's at their first entry
		// only, so that neither lives past its retention however busy the member.
		t.Run("TTLs of the counts and the reply log are set once", func(t *testing.T) {
			a := commitArgs{state: "s1", ttl: 60, msg: "SM1", reply: "r1", count: true, bound: 512}
			wantAnswer(t, runCommit(t, s, "ttls", a), []any{int64(0)})
			wantTTL(t, s, s.countsKey("ttls", scriptNow), commitCountsTTL)
			wantTTL(t, s, s.repliesKey("ttls", scriptGen), commitReplyTTL)
			ctx := context.Background()
			s.rdb.Expire(ctx, s.countsKey("ttls", scriptNow), time.Minute)
			s.rdb.Expire(ctx, s.repliesKey("ttls", scriptGen), time.Minute)
			a = commitArgs{expect: "s1", state: "s2", ttl: 60, msg: "SM2", reply: "r2", count: true, bound: 512}
			wantAnswer(t, runCommit(t, s, "ttls", a), []any{int64(0)})
			wantTTL(t, s, s.countsKey("ttls", scriptNow), time.Minute)
			wantTTL(t, s, s.repliesKey("ttls", scriptGen), time.Minute)
		})
	})
}
