package ratelimit

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/redistest"
)

// TestScriptTake: takeScript reserves n segments and answers {1, wait in µs}: 0 while the
// TAT, advanced by n intervals, is no more than burst intervals ahead of Redis's clock, else
// how long until it is. A TAT in the past counts from now (idle time is not saved up). A
// wait longer than ARGV[4] answers {0, wait} and reserves nothing. The key holds the new TAT
// and expires a second after it.
func TestScriptTake(t *testing.T) {
	const interval = 10 * time.Second // long, so that the test's own delays are small beside it
	// slack is how much later than the test's reading of Redis's clock the script may read
	// it: the answers and the TAT that depend on when it ran may be that much off.
	const slack = 2 * time.Second
	tests := []struct {
		name    string
		tat     *time.Duration // the TAT before, from the test's now; nil: no key
		burst   int
		n       int
		maxWait time.Duration
		granted bool
		wait    time.Duration
		// exact: wait does not depend on when the script ran (the TAT counted from its now)
		exact  bool
		newTAT time.Duration // from the test's now; for a refusal, the TAT is unchanged
	}{
		{name: "idle: within the burst, no wait", burst: 3, n: 1, maxWait: time.Hour,
			granted: true, wait: 0, exact: true, newTAT: interval},
		{name: "still within the burst", tat: ptr(interval), burst: 3, n: 1, maxWait: time.Hour,
			granted: true, wait: 0, exact: true, newTAT: 2 * interval},
		{name: "past the burst: wait for the slot", tat: ptr(3 * interval), burst: 3, n: 1, maxWait: time.Hour,
			granted: true, wait: interval, newTAT: 4 * interval},
		{name: "n segments take n intervals", burst: 1, n: 5, maxWait: time.Hour,
			granted: true, wait: 4 * interval, exact: true, newTAT: 5 * interval},
		{name: "a TAT in the past counts from now", tat: ptr(-100 * interval), burst: 2, n: 3, maxWait: time.Hour,
			granted: true, wait: interval, exact: true, newTAT: 3 * interval},
		{name: "a wait past the longest accepted: refused, nothing reserved", tat: ptr(10 * interval), burst: 1, n: 1, maxWait: 3 * interval,
			granted: false, wait: 10 * interval, newTAT: 10 * interval},
	}
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := context.Background()
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				key := prefix + ":rate:" + strconv.Itoa(i)
				now, err := rdb.Time(ctx).Result()
				if err != nil {
					t.Fatal(err)
				}
				at := func(d time.Duration) int64 { return now.Add(d).UnixMicro() }
				if tc.tat != nil {
					rdb.Set(ctx, key, at(*tc.tat), time.Hour)
				}
				res, err := takeScript.Run(ctx, rdb, []string{key}, interval.Microseconds(), tc.burst, tc.n, tc.maxWait.Microseconds()).Int64Slice()
				if err != nil {
					t.Fatal(err)
				}
				if len(res) != 2 {
					t.Fatalf("answer %v, want two numbers", res)
				}
				if got := res[0] == 1; got != tc.granted {
					t.Errorf("granted %v, want %v", got, tc.granted)
				}
				wait := time.Duration(res[1]) * time.Microsecond
				if lo := tc.wait - slack; wait > tc.wait || (tc.exact && wait != tc.wait) || wait < lo {
					t.Errorf("wait %v, want %v", wait, tc.wait)
				}
				stored, err := rdb.Get(ctx, key).Int64()
				if errors.Is(err, redis.Nil) {
					t.Fatal("no TAT stored")
				}
				if err != nil {
					t.Fatal(err)
				}
				want := at(tc.newTAT)
				if d := time.Duration(stored-want) * time.Microsecond; d < 0 || d > slack || (!tc.granted && d != 0) {
					t.Errorf("TAT %v after the test's now, want %v", time.Duration(stored-at(0))*time.Microsecond, tc.newTAT)
				}
				ttl, err := rdb.PTTL(ctx, key).Result()
				if err != nil {
					t.Fatal(err)
				}
				wantTTL := tc.newTAT + time.Second
				if !tc.granted {
					wantTTL = time.Hour // as the test set it
				}
				if ttl > wantTTL+slack || ttl < wantTTL-slack {
					t.Errorf("TTL %v, want %v", ttl, wantTTL)
				}
			})
		}
	})
}

func ptr[T any](v T) *T { return &v }
