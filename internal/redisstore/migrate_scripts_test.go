package redisstore

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestScriptMove: moveScript writes an old member's state where this layout keeps it (a
// durable one in the bucket, any other in the member's key with its TTL left, and never in
// both) when this layout holds the state expected there, none unless told, and answers 1; it
// answers 1 too, writing nothing, when this layout holds the old state already (a pass
// stopped before deleting the old keys); otherwise 0, writing nothing.
func TestScriptMove(t *testing.T) {
	tests := []struct {
		name                 string
		durable, convo       string // this layout's state before: in the bucket, in the member's key
		state, ttl, expected string // ARGV: the old state, its TTL in ms ("0": durable), the state expected ("": none, ARGV[4] absent)
		want                 int64
		wantDurable          string
		wantConvo            string
	}{
		{name: "a durable state, none here: into the bucket",
			state: "old", ttl: "0", want: 1, wantDurable: "old"},
		{name: "a conversation, none here: into the member's key, with its TTL",
			state: "old", ttl: "90000", want: 1, wantConvo: "old"},
		{name: "the same state in the bucket already: a move to finish",
			durable: "old", state: "old", ttl: "0", want: 1, wantDurable: "old"},
		{name: "the same state in the member's key already: a move to finish",
			convo: "old", state: "old", ttl: "90000", want: 1, wantConvo: "old"},
		{name: "another state here, none expected: kept",
			durable: "new", state: "old", ttl: "0", want: 0, wantDurable: "new"},
		{name: "another state in the member's key, none expected: kept",
			convo: "new", state: "old", ttl: "0", want: 0, wantConvo: "new"},
		{name: "the expected state in the member's key: replaced by a durable one, which leaves it",
			convo: "new", state: "old", ttl: "0", expected: "new", want: 1, wantDurable: "old"},
		{name: "the expected state in the bucket: replaced by a conversation, which leaves it",
			durable: "new", state: "old", ttl: "90000", expected: "new", want: 1, wantConvo: "old"},
		{name: "a state expected, none here: the member was erased meanwhile",
			state: "old", ttl: "0", expected: "new", want: 0},
		{name: "another state than the expected: written meanwhile, kept",
			durable: "newer", state: "old", ttl: "0", expected: "new", want: 0, wantDurable: "newer"},
		{name: "the bucket is read first, as Load reads it",
			durable: "a", convo: "b", state: "old", ttl: "0", expected: "b", want: 0, wantDurable: "a", wantConvo: "b"},
	}
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				id := fmt.Sprintf("move%d", i)
				if tc.durable != "" {
					s.rdb.HSet(ctx, s.bucketKey(id), id, tc.durable)
				}
				if tc.convo != "" {
					s.rdb.Set(ctx, s.memberKey(id), tc.convo, time.Hour)
				}
				args := []any{id, tc.state, tc.ttl}
				if tc.expected != "" {
					args = append(args, tc.expected)
				}
				wantAnswer(t, runScript(t, s, moveScript, []string{s.bucketKey(id), s.memberKey(id)}, args...), tc.want)
				if got := hash(t, s, s.bucketKey(id))[id]; got != tc.wantDurable {
					t.Errorf("bucket holds %q, want %q", got, tc.wantDurable)
				}
				if got := str(t, s, s.memberKey(id)); got != tc.wantConvo {
					t.Errorf("member's key holds %q, want %q", got, tc.wantConvo)
				}
				switch {
				case tc.wantConvo == "":
				case tc.want == 1 && tc.convo != tc.state: // written by the script
					wantTTL(t, s, s.memberKey(id), 90*time.Second)
				default: // as it was
					wantTTL(t, s, s.memberKey(id), time.Hour)
				}
			})
		}
	})
}
