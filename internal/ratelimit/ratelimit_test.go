package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// secondClient returns another client of the same Redis as rdb, as a second worker process
// would have.
func secondClient(t *testing.T, rdb *redis.Client) *redis.Client {
	t.Helper()
	opt := &redis.Options{Addr: rdb.Options().Addr}
	if u := redistest.URL(t); u != "" {
		var err error
		if opt, err = redis.ParseURL(u); err != nil {
			t.Fatal(err)
		}
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// takeUntil runs workers goroutines per limiter, each taking n segments at a time until the
// window ends, and returns how many segments were granted. The window is the context's
// deadline: Take refuses a reservation that would end after it without consuming it, so
// every grant counted falls inside the window.
func takeUntil(t *testing.T, window time.Duration, workers, n int, limiters ...*Limiter) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), window)
	defer cancel()
	var granted atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers*len(limiters))
	for _, l := range limiters {
		for range workers {
			wg.Go(func() {
				for {
					err := l.Take(ctx, n)
					if errors.Is(err, context.DeadlineExceeded) {
						return
					}
					if err != nil {
						errs <- err
						return
					}
					granted.Add(int64(n))
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	return granted.Load()
}

// TestRate checks that the rate holds across processes and counts segments. GCRA grants at
// most rate×window + burst segments in a window; the lower bound leaves room for a slow
// machine under -race.
func TestRate(t *testing.T) {
	const window = 2 * time.Second
	tests := []struct {
		name      string
		rate      float64
		burst     int
		n         int // segments per Take
		processes int
		workers   int // goroutines per process
		min, max  int64
	}{
		// 50/s × 2 s + a burst of 1 = 101.
		{name: "two processes share one rate", rate: 50, burst: 1, n: 1, processes: 2, workers: 4, min: 91, max: 101},
		// 20/s × 2 s + 1 = 41, in whole messages of 5: 40. Each message waits for its last
		// segment's slot (0.2 s, then every 0.25 s), so 8 messages fit.
		{name: "a Take of n counts n segments", rate: 20, burst: 1, n: 5, processes: 2, workers: 3, min: 35, max: 41},
		// 10/s × 2 s + 10 = 30: the burst goes at once, then the rate holds.
		{name: "burst", rate: 10, burst: 10, n: 1, processes: 1, workers: 4, min: 27, max: 30},
	}
	// The cases run at the same time, each on keys of its own, so the test lasts one window
	// whatever -parallel is; then each is checked in a subtest of its own.
	type result struct {
		granted int64
		elapsed time.Duration
	}
	results := make([]result, len(tests))
	var wg sync.WaitGroup
	for i, tc := range tests {
		rdb, prefix := redistest.Open(t)
		limiters := []*Limiter{New(rdb, prefix+":rate", tc.rate, tc.burst)}
		for range tc.processes - 1 {
			limiters = append(limiters, New(secondClient(t, rdb), prefix+":rate", tc.rate, tc.burst))
		}
		wg.Go(func() {
			start := time.Now()
			results[i].granted = takeUntil(t, window, tc.workers, tc.n, limiters...)
			results[i].elapsed = time.Since(start)
		})
	}
	wg.Wait()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, elapsed := results[i].granted, results[i].elapsed
			t.Logf("%d segments in %v (%.1f/s; rate %v, burst %d)", got, elapsed.Round(time.Millisecond), float64(got)/elapsed.Seconds(), tc.rate, tc.burst)
			if got < tc.min || got > tc.max {
				t.Errorf("%d segments granted in %v, want %d to %d", got, window, tc.min, tc.max)
			}
		})
	}
}

func TestBurstThenWait(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Open(t)
	l := New(rdb, prefix+":rate", 1, 3)
	start := time.Now()
	for i := range 3 {
		if err := l.Take(ctx, 1); err != nil {
			t.Fatalf("take %d: %v", i, err)
		}
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("a burst of 3 took %v, want no wait", d)
	}
	// The fourth segment is a second away: a deadline before that is refused at once and
	// consumes nothing.
	before := rdb.Get(ctx, prefix+":rate").Val()
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	err := l.Take(short, 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Take past the deadline: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Errorf("refusing took %v, want no wait", d)
	}
	if after := rdb.Get(ctx, prefix+":rate").Val(); after != before {
		t.Errorf("a refused Take changed the state from %s to %s", before, after)
	}
}

// TestCancel documents that a cancelled Take returns at once and that its slot stays
// consumed.
func TestCancel(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Open(t)
	key := prefix + ":rate"
	l := New(rdb, key, 1, 1)
	if err := l.Take(ctx, 1); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	if err := l.Take(cctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Take: %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("cancelled Take returned after %v, want about 50ms", d)
	}
	// Two segments at 1/s are reserved: the TAT is about 2 s ahead, so the key lives about
	// 2 s + 1 s.
	if ttl := rdb.PTTL(ctx, key).Val(); ttl < 2500*time.Millisecond || ttl > 3*time.Second {
		t.Errorf("TTL after a cancelled reservation: %v, want about 2.95s (the slot stays consumed)", ttl)
	}
	// A context already done makes no reservation.
	if err := l.Take(cctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Take with a done context: %v", err)
	}
}

func TestTTL(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Open(t)
	key := prefix + ":rate"
	if err := New(rdb, key, 10, 1).Take(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// One segment at 10/s: the TAT is 100 ms ahead, plus the second of margin.
	if ttl := rdb.PTTL(ctx, key).Val(); ttl <= 0 || ttl > 1100*time.Millisecond {
		t.Errorf("TTL %v, want (0, 1.1s]", ttl)
	}
}

// countHook counts the commands a client sends.
type countHook struct{ n atomic.Int64 }

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

func TestCommands(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		rate float64
		n    int
		want int64 // commands per Take, once the script is loaded
		err  error
	}{
		{name: "unlimited makes no call", rate: 0, n: 3, want: 0},
		{name: "negative rate is unlimited", rate: -1, n: 1, want: 0},
		{name: "limited makes one call", rate: 1e9, n: 2, want: 1},
		{name: "zero segments are refused", rate: 1e9, n: 0, want: 0, err: ErrInvalid},
		{name: "negative segments are refused", rate: 0, n: -1, want: 0, err: ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rdb, prefix := redistest.Open(t)
			l := New(rdb, prefix+":rate", tc.rate, 1000)
			// Load the script, so EVALSHA does not miss.
			if err := New(rdb, prefix+":warm", 1e9, 1).Take(ctx, 1); err != nil {
				t.Fatal(err)
			}
			h := &countHook{}
			rdb.AddHook(h)
			for range 5 {
				if err := l.Take(ctx, tc.n); !errors.Is(err, tc.err) {
					t.Fatalf("Take(%d): %v, want %v", tc.n, err, tc.err)
				}
			}
			if got := h.n.Load(); got != 5*tc.want {
				t.Errorf("5 Takes sent %d commands, want %d", got, 5*tc.want)
			}
		})
	}
	t.Run("nil client when unlimited", func(t *testing.T) {
		l := New(nil, "", 0, 0)
		if err := l.Take(ctx, 10); err != nil || l.Rate() != 0 {
			t.Errorf("Take: %v, Rate: %v", err, l.Rate())
		}
	})
}

func TestWaitTooLong(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Open(t)
	l := New(rdb, prefix+":rate", 1, 1)
	if l.Rate() != 1 {
		t.Errorf("Rate() = %v", l.Rate())
	}
	if err := l.Take(ctx, 2*int(MaxWait/time.Second)); !errors.Is(err, ErrWaitTooLong) {
		t.Fatalf("Take of two hours at 1/s: %v, want ErrWaitTooLong", err)
	}
	if n := rdb.Exists(ctx, prefix+":rate").Val(); n != 0 {
		t.Errorf("a refused Take created the key")
	}
}

// TestMiniredis checks that the script runs on the embedded miniredis, whose Lua must offer
// TIME, whichever Redis the other tests use.
func TestMiniredis(t *testing.T) {
	ctx := context.Background()
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer rdb.Close()
	l := New(rdb, "P:rate", 20, 1)
	start := time.Now()
	for range 3 {
		if err := l.Take(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	// The first segment goes at once, the next two 50 ms apart.
	if d := time.Since(start); d < 90*time.Millisecond || d > time.Second {
		t.Errorf("3 segments at 20/s took %v, want about 100ms", d)
	}
	if ttl := m.TTL("P:rate"); ttl <= 0 {
		t.Errorf("TTL %v, want positive", ttl)
	}
	// Intervals of every size reach the script as numbers its Lua can read.
	for _, rate := range []float64{1, 3, 1e-3, 1e9} {
		if err := New(rdb, "P:rate:"+fmt.Sprint(rate), rate, 1).Take(ctx, 1); err != nil {
			t.Errorf("rate %v: %v", rate, err)
		}
	}
}

// BenchmarkTake measures the cost of one Take that never waits: one EVALSHA round trip.
func BenchmarkTake(b *testing.B) {
	ctx := context.Background()
	rdb, prefix := redistest.Open(b)
	l := New(rdb, prefix+":rate", 1e9, 1_000_000)
	for b.Loop() {
		if err := l.Take(ctx, 1); err != nil {
			b.Fatal(err)
		}
	}
}
