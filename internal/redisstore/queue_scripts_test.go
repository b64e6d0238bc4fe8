package redisstore

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"
)

// The scripts of the send queue (queue.go). These tests hold each script to the contract its
// comment states, not to how the dispatcher uses it.

// TestScriptLease: leaseScript gives the enqueue lease to an owner when nobody holds it, or
// renews it for the owner holding it, for ARGV[2] ms, and answers 1; held by another, it
// answers 0 and changes nothing.
func TestScriptLease(t *testing.T) {
	tests := []struct {
		name      string
		holder    string // "" nobody
		owner     string
		want      int64
		wantOwner string
		wantTTL   time.Duration
	}{
		{name: "free: taken", owner: "w1", want: 1, wantOwner: "w1", wantTTL: time.Minute},
		{name: "held by the owner: renewed", holder: "w1", owner: "w1", want: 1, wantOwner: "w1", wantTTL: time.Minute},
		{name: "held by another: refused", holder: "w2", owner: "w1", want: 0, wantOwner: "w2", wantTTL: 10 * time.Second},
	}
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				key := s.bcLeaseKey(fmt.Sprintf("bc%d", i))
				if tc.holder != "" {
					s.rdb.Set(ctx, key, tc.holder, 10*time.Second)
				}
				wantAnswer(t, runScript(t, s, leaseScript, []string{key}, tc.owner, time.Minute.Milliseconds()), tc.want)
				if got := str(t, s, key); got != tc.wantOwner {
					t.Errorf("lease held by %q, want %q", got, tc.wantOwner)
				}
				wantTTL(t, s, key, tc.wantTTL)
			})
		}
	})
}

// sendingAll is a broadcast sending, fully queued, whose every recipient has an outcome.
var sendingAll = map[string]string{"status": "sending", "enqueued": "1", "queued": "3", "sent": "1", "failed": "1", "skipped": "1"}

// TestScriptComplete: completeScript marks a broadcast that is sending, fully queued, and
// whose every queued recipient has an outcome (sent, failed or skipped, absent fields 0)
// done at ARGV[1] and answers 1; otherwise 0, changing nothing.
func TestScriptComplete(t *testing.T) {
	tests := []struct {
		name   string
		before map[string]string
		want   int64
	}{
		{name: "every recipient accounted for", before: sendingAll, want: 1},
		{name: "more outcomes than queued (a redelivery counted before)", before: with(sendingAll, "sent", "2"), want: 1},
		{name: "nobody to send to", before: map[string]string{"status": "sending", "enqueued": "1"}, want: 1},
		{name: "a recipient without an outcome", before: with(sendingAll, "skipped", "0"), want: 0},
		{name: "absent counts are 0", before: map[string]string{"status": "sending", "enqueued": "1", "queued": "1"}, want: 0},
		{name: "not fully queued", before: with(sendingAll, "enqueued", "0"), want: 0},
		{name: "queueing not finished", before: map[string]string{"status": "sending", "queued": "0"}, want: 0},
		{name: "not sending (canceled)", before: with(sendingAll, "status", "canceled"), want: 0},
		{name: "done already", before: with(sendingAll, "status", "done", "done_at", "50"), want: 0},
		{name: "gone", want: 0},
	}
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				key := s.bcKey(fmt.Sprintf("bc%d", i))
				if tc.before != nil {
					s.rdb.HSet(ctx, key, tc.before)
				}
				wantAnswer(t, runScript(t, s, completeScript, []string{key}, 100), tc.want)
				want := tc.before
				if tc.want == 1 {
					want = with(tc.before, "status", "done", "done_at", "100")
				}
				if got := hash(t, s, key); !maps.Equal(got, want) {
					t.Errorf("broadcast %v, want %v", got, want)
				}
			})
		}
	})
}

func TestScriptCallback(t *testing.T) {
	tests := []struct {
		name      string
		reported  string // the status reported before, "" none
		status    string
		want      int64
		wantCount map[string]string
	}{
		{name: "a first report counts", status: "delivered", want: 1, wantCount: map[string]string{"delivered": "3", "failed": "1"}},
		{name: "the same report again counts nothing", reported: "delivered", status: "delivered", want: 0, wantCount: map[string]string{"delivered": "2", "failed": "1"}},
		{name: "another status later counts nothing", reported: "delivered", status: "undelivered", want: 0, wantCount: map[string]string{"delivered": "2", "failed": "1"}},
	}
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				id := fmt.Sprintf("bc%d", i)
				s.rdb.HSet(ctx, s.bcKey(id), "delivered", 2, "failed", 1)
				if tc.reported != "" {
					s.rdb.HSet(ctx, s.bcFinalKey(id), "SM1", tc.reported)
					s.rdb.Expire(ctx, s.bcFinalKey(id), time.Minute)
				}
				got := runScript(t, s, callbackScript, []string{s.bcKey(id), s.bcFinalKey(id)}, "SM1", tc.status, int64(time.Hour/time.Second))
				wantAnswer(t, got, tc.want)
				if got := hash(t, s, s.bcKey(id)); !maps.Equal(got, tc.wantCount) {
					t.Errorf("counts %v, want %v", got, tc.wantCount)
				}
				final := tc.reported
				ttl := time.Minute
				if final == "" {
					final, ttl = tc.status, time.Hour
				}
				if got := hash(t, s, s.bcFinalKey(id))["SM1"]; got != final {
					t.Errorf("final status %q, want %q", got, final)
				}
				wantTTL(t, s, s.bcFinalKey(id), ttl)
			})
		}
	})
}
