package redisstore

import (
	"context"
	"fmt"
	"maps"
	"testing"
)

// TestScriptTransition: transitionScript moves a broadcast whose status is one of the
// allowed to the new status, sets the fields given, and answers {3, the status it had}; a
// status not allowed answers {1, status}, an approver who is the creator {2, status}, a
// broadcast that is gone {0, ""}, and these change nothing.
func TestScriptTransition(t *testing.T) {
	draft := map[string]string{"status": "draft", "created_by": "o1"}
	tests := []struct {
		name    string
		before  map[string]string // nil: no broadcast
		to      string
		notBy   string
		allowed []string
		fields  []string // pairs
		want    any
		after   map[string]string // nil: as before
	}{
		{name: "from an allowed status, with fields", before: draft, to: "sending", notBy: "o2", allowed: []string{"draft", "approved"},
			fields: []string{"approved_by", "o2", "sent_at", "100"},
			want:   []any{int64(3), "draft"}, after: map[string]string{"status": "sending", "created_by": "o1", "approved_by": "o2", "sent_at": "100"}},
		{name: "the second allowed status", before: map[string]string{"status": "approved", "created_by": "o1"}, to: "canceled", allowed: []string{"draft", "approved"},
			want: []any{int64(3), "approved"}, after: map[string]string{"status": "canceled", "created_by": "o1"}},
		{name: "no one barred: the creator may", before: draft, to: "canceled", notBy: "", allowed: []string{"draft"},
			want: []any{int64(3), "draft"}, after: map[string]string{"status": "canceled", "created_by": "o1"}},
		{name: "a status not allowed", before: map[string]string{"status": "sending", "created_by": "o1"}, to: "canceled", allowed: []string{"draft", "approved"},
			fields: []string{"x", "y"}, want: []any{int64(1), "sending"}},
		{name: "no status allowed", before: draft, to: "sending", allowed: nil,
			want: []any{int64(1), "draft"}},
		{name: "the creator approving their own", before: draft, to: "sending", notBy: "o1", allowed: []string{"draft"},
			fields: []string{"approved_by", "o1"}, want: []any{int64(2), "draft"}},
		{name: "a broadcast that is gone", to: "sending", notBy: "o2", allowed: []string{"draft"},
			want: []any{int64(0), ""}},
		{name: "whoever asked to send approving it", before: map[string]string{"status": "awaiting_approval", "created_by": "o1", "requested_by": "o2"},
			to: "draft", notBy: "o2", allowed: []string{"awaiting_approval"}, fields: []string{"approved_by", "o2"}, want: []any{int64(2), "awaiting_approval"}},
		{name: "approving what was approved meanwhile", before: map[string]string{"status": "draft", "created_by": "o1", "approved_by": "o3"},
			to: "draft", notBy: "o2", allowed: []string{"draft"}, fields: []string{"approved_by", "o2"}, want: []any{int64(4), "draft"}},
		{name: "asking approval for what was approved meanwhile", before: map[string]string{"status": "draft", "created_by": "o1", "approved_by": "o3"},
			to: "awaiting_approval", allowed: []string{"draft"}, fields: []string{"requested_by", "o1"}, want: []any{int64(4), "draft"}},
	}
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				key := s.bcKey(fmt.Sprintf("bc%d", i))
				if tc.before != nil {
					s.rdb.HSet(ctx, key, tc.before)
				}
				args := []any{tc.to, tc.notBy, len(tc.allowed)}
				for _, a := range tc.allowed {
					args = append(args, a)
				}
				for _, f := range tc.fields {
					args = append(args, f)
				}
				wantAnswer(t, runScript(t, s, transitionScript, []string{key}, args...), tc.want)
				want := tc.after
				if want == nil {
					want = tc.before
				}
				if got := hash(t, s, key); !maps.Equal(got, want) {
					t.Errorf("broadcast %v, want %v", got, want)
				}
			})
		}
	})
}
