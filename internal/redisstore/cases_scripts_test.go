package redisstore

import (
	"context"
	"maps"
	"reflect"
	"testing"

	"github.com/redis/go-redis/v9"
)

// putCase writes case n's hash as fields, nothing when fields is nil.
func putCase(t *testing.T, s *Store, n int64, fields map[string]string) {
	t.Helper()
	if fields == nil {
		return
	}
	if err := s.rdb.HSet(context.Background(), s.caseKey(n), fields).Err(); err != nil {
		t.Fatal(err)
	}
}

// caseTest is one case of a script on one case's hash: the hash before, the ARGV, the
// answer, and the hash after (nil: the same as before).
type caseTest struct {
	name   string
	before map[string]string
	args   []any
	want   any
	after  map[string]string
}

// runCaseTests runs each of tests on a case of its own, on every Redis.
func runCaseTests(t *testing.T, script *redis.Script, tests []caseTest) {
	t.Helper()
	eachStore(t, func(t *testing.T, s *Store) {
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				n := int64(i + 1)
				putCase(t, s, n, tc.before)
				wantAnswer(t, runScript(t, s, script, []string{s.caseKey(n)}, tc.args...), tc.want)
				want := tc.after
				if want == nil {
					want = tc.before
				}
				if got := hash(t, s, s.caseKey(n)); !reflect.DeepEqual(got, want) {
					t.Errorf("case hash %v, want %v", got, want)
				}
			})
		}
	})
}

// with is fields with the changes in set.
func with(fields map[string]string, set ...string) map[string]string {
	m := maps.Clone(fields)
	for i := 0; i+1 < len(set); i += 2 {
		m[set[i]] = set[i+1]
	}
	return m
}

var (
	openCase    = map[string]string{"member": "m1", "status": "open", "urgent": "0", "situation": ""}
	claimedCase = map[string]string{"member": "m1", "status": "claimed", "volunteer": "v1", "claimed": "100", "urgent": "0", "situation": ""}
	closedCase  = map[string]string{"member": "m1", "status": "closed", "volunteer": "v1", "urgent": "0", "situation": "", "verdict": "verified"}
)

// TestScriptClaim: claimScript gives an open case to the first volunteer, {1, volunteer};
// a case held already answers {2, holder} (holder "" for a case closed unclaimed) and stays
// as it was; a case that is gone answers {0, ""}.
func TestScriptClaim(t *testing.T) {
	runCaseTests(t, claimScript, []caseTest{
		{name: "an open case goes to the first to claim it", before: openCase, args: []any{"v2", 200},
			want: []any{int64(1), "v2"}, after: with(openCase, "status", "claimed", "volunteer", "v2", "claimed", "200")},
		{name: "a claimed case stays with its volunteer", before: claimedCase, args: []any{"v2", 200},
			want: []any{int64(2), "v1"}},
		{name: "a case closed after a claim names who had it", before: closedCase, args: []any{"v2", 200},
			want: []any{int64(2), "v1"}},
		{name: "a case closed unclaimed names nobody", before: with(openCase, "status", "closed"), args: []any{"v2", 200},
			want: []any{int64(2), ""}},
		{name: "a case that is gone", args: []any{"v2", 200},
			want: []any{int64(0), ""}},
	})
}

// TestScriptMarkUrgent: markUrgentScript makes a case not closed urgent, with its situation
// and the token (ARGV[2]) that made it so, and answers 1; a case urgent already answers 1 only
// to that token (a job re-run), else 0; closed or gone answers 0; nothing changes but the first.
func TestScriptMarkUrgent(t *testing.T) {
	runCaseTests(t, markUrgentScript, []caseTest{
		{name: "an open case becomes urgent", before: openCase, args: []any{"detained", "m/SM1"},
			want: int64(1), after: with(openCase, "urgent", "1", "situation", "detained", "urgentby", "m/SM1")},
		{name: "a claimed case becomes urgent", before: claimedCase, args: []any{"", ""},
			want: int64(1), after: with(claimedCase, "urgent", "1", "situation", "", "urgentby", "")},
		{name: "an urgent case stays as it was", before: with(openCase, "urgent", "1", "situation", "home"), args: []any{"detained", "m/SM2"},
			want: int64(0)},
		{name: "the token that made it urgent is told so again", before: with(openCase, "urgent", "1", "situation", "home", "urgentby", "m/SM1"),
			args: []any{"detained", "m/SM1"}, want: int64(1)},
		{name: "another token is not", before: with(openCase, "urgent", "1", "situation", "home", "urgentby", "m/SM1"),
			args: []any{"detained", "m/SM2"}, want: int64(0)},
		{name: "no token matches no empty mark", before: with(openCase, "urgent", "1", "situation", "home", "urgentby", ""),
			args: []any{"detained", ""}, want: int64(0)},
		{name: "a closed case is not made urgent", before: closedCase, args: []any{"detained", "m/SM1"},
			want: int64(0)},
		{name: "a case that is gone", args: []any{"detained", "m/SM1"},
			want: int64(0)},
	})
}

// TestScriptWaitingAck: waitingAckScript notes the time ARGV[1] in a case not closed and
// answers 1, unless the member was told less than ARGV[2] seconds before; then, and for a
// closed or gone case, it answers 0 and changes nothing.
func TestScriptWaitingAck(t *testing.T) {
	runCaseTests(t, waitingAckScript, []caseTest{
		{name: "an open case never acknowledged", before: openCase, args: []any{1000, 600},
			want: int64(1), after: with(openCase, "acked", "1000")},
		{name: "a claimed case never acknowledged", before: claimedCase, args: []any{1000, 600},
			want: int64(1), after: with(claimedCase, "acked", "1000")},
		{name: "acknowledged less than the interval before", before: with(openCase, "acked", "500"), args: []any{1000, 600},
			want: int64(0)},
		{name: "acknowledged the interval before", before: with(openCase, "acked", "400"), args: []any{1000, 600},
			want: int64(1), after: with(openCase, "acked", "1000")},
		{name: "a closed case", before: closedCase, args: []any{1000, 600},
			want: int64(0)},
		{name: "a case that is gone", args: []any{1000, 600},
			want: int64(0)},
	})
}

// TestScriptSetAddress: setAddressScript gives a case not closed the address ARGV[1] (a
// caller's yes to texts) and answers 1; a closed case keeps its address deleted, and a case
// that is gone is not created: both answer 0 and change nothing.
func TestScriptSetAddress(t *testing.T) {
	runCaseTests(t, setAddressScript, []caseTest{
		{name: "an open case is handed over with the address", before: openCase, args: []any{"m1", "m2", "sealed"},
			want: int64(1), after: with(openCase, "member", "m2", "addr", "sealed")},
		{name: "a claimed case too", before: claimedCase, args: []any{"m1", "m2", "sealed"},
			want: int64(1), after: with(claimedCase, "member", "m2", "addr", "sealed")},
		{name: "another member's case is not", before: openCase, args: []any{"m9", "m2", "sealed"},
			want: int64(0)},
		{name: "a closed case is not", before: closedCase, args: []any{"m1", "m2", "sealed"},
			want: int64(0)},
		{name: "a case that is gone is not made", args: []any{"m1", "m2", "sealed"},
			want: int64(0)},
	})
}
