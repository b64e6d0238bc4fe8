package redisstore

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"
)

// The compare-and-set scripts of reseal answer 1 when they wrote the new value in place of
// the old, the value there instead when it is another (nothing written), and nil when the
// place is gone (nothing written: a deleted value stays deleted). None changes a TTL.

// TestScriptReplaceField: replaceFieldScript on a hash field.
func TestScriptReplaceField(t *testing.T) {
	tests := []struct {
		name       string
		before     map[string]string
		want       any
		wantHash   map[string]string
		wantExpiry bool
	}{
		{name: "the old value: replaced, the TTL kept", before: map[string]string{"f": "old", "g": "other"},
			want: int64(1), wantHash: map[string]string{"f": "new", "g": "other"}, wantExpiry: true},
		{name: "another value: left, and answered", before: map[string]string{"f": "newer"},
			want: "newer", wantHash: map[string]string{"f": "newer"}, wantExpiry: true},
		{name: "the field gone: not brought back", before: map[string]string{"g": "other"},
			want: nil, wantHash: map[string]string{"g": "other"}, wantExpiry: true},
		{name: "the hash gone: not brought back",
			want: nil, wantHash: nil},
	}
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				key := s.prefix + ":org:" + randomID()
				if tc.before != nil {
					s.rdb.HSet(ctx, key, tc.before)
					s.rdb.Expire(ctx, key, time.Hour)
				}
				wantAnswer(t, runScript(t, s, replaceFieldScript, []string{key}, "f", "old", "new"), tc.want)
				if got := hash(t, s, key); !maps.Equal(got, tc.wantHash) {
					t.Errorf("hash %v, want %v", got, tc.wantHash)
				}
				if tc.wantExpiry {
					wantTTL(t, s, key, time.Hour)
				}
			})
		}
	})
}

// TestScriptReplaceString: replaceStringScript on a string key.
func TestScriptReplaceString(t *testing.T) {
	tests := []struct {
		name   string
		before string // "" is no key
		want   any
		after  string
	}{
		{name: "the old value: replaced, the TTL kept", before: "old", want: int64(1), after: "new"},
		{name: "another value: left, and answered", before: "newer", want: "newer", after: "newer"},
		{name: "the key gone: not brought back", before: "", want: nil, after: ""},
	}
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				key := s.memberKey(randomID())
				if tc.before != "" {
					s.rdb.Set(ctx, key, tc.before, time.Hour)
				}
				wantAnswer(t, runScript(t, s, replaceStringScript, []string{key}, "old", "new"), tc.want)
				if got := str(t, s, key); got != tc.after {
					t.Errorf("value %q, want %q", got, tc.after)
				}
				if tc.after != "" {
					wantTTL(t, s, key, time.Hour)
				} else {
					wantTTL(t, s, key, gone)
				}
			})
		}
	})
}

// TestScriptReplaceItem: replaceItemScript on a list item, by its index.
func TestScriptReplaceItem(t *testing.T) {
	tests := []struct {
		name   string
		before []string
		index  int64
		want   any
		after  []string
	}{
		{name: "the old value: replaced, the TTL kept", before: []string{"a", "old", "c"}, index: 1,
			want: int64(1), after: []string{"a", "new", "c"}},
		{name: "another value at the index: left, and answered", before: []string{"old", "b"}, index: 1,
			want: "b", after: []string{"old", "b"}},
		{name: "past the end: not added", before: []string{"a"}, index: 1,
			want: nil, after: []string{"a"}},
		{name: "the list gone: not brought back", index: 0,
			want: nil},
	}
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				key := s.transcriptKey(int64(i + 1))
				if tc.before != nil {
					s.rdb.RPush(ctx, key, tc.before)
					s.rdb.Expire(ctx, key, time.Hour)
				}
				wantAnswer(t, runScript(t, s, replaceItemScript, []string{key}, tc.index, "old", "new"), tc.want)
				got, err := s.rdb.LRange(ctx, key, 0, -1).Result()
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tc.after) {
					t.Errorf("list %q, want %q", got, tc.after)
				}
				if tc.after != nil {
					wantTTL(t, s, key, time.Hour)
				}
			})
		}
	})
}
