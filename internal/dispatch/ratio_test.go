package dispatch_test

// The dispatch ratio of issue 12: the rate at which a Dispatcher sends a broadcast, divided
// by the rate of a bare twilio-go loop with the same number of sends in flight, both against
// the same local fake of Twilio's Messages API, in the same process, round after round:
//
//	HOTLINE_BENCH=1 REDIS_URL=redis://127.0.0.1:6379/9 go test -count=1 -run TestDispatchRatio -v ./internal/dispatch/
//	REDIS_URL=redis://127.0.0.1:6379/9 go test -run '^$' -bench DispatchRatio -benchtime 20000x -count 6 ./internal/dispatch/ | tee /tmp/ratio.txt
//
// HOTLINE_BENCH_N (20,000 here) sets the recipients a round, HOTLINE_BENCH_ROUNDS (5) the
// rounds, HOTLINE_BENCH_CONCURRENCY (8) the sends in flight of both, and
// HOTLINE_BENCH_MIN_RATIO (0.80) the median ratio below which the test fails.

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/bot"
	"github.com/communityhotline/hotline/internal/dispatch"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/ratelimit"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/twiliofake"
)

// ratioRig is n seeded subscribers, the fake of Twilio, and the hotline's sender pointed at it.
type ratioRig struct {
	rdb    *redis.Client
	prefix string
	store  *redisstore.Store
	keys   *privacy.Keys
	fake   *twiliofake.Server
	sender *twilio.RESTSender
	n      int
	rounds int
}

func newRatioRig(tb testing.TB, rdb *redis.Client, prefix string, n int) *ratioRig {
	tb.Helper()
	store, err := redisstore.New(rdb, prefix, 0)
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := privacy.NewKeys(benchSecret)
	if err != nil {
		tb.Fatal(err)
	}
	seed(context.Background(), tb, store, keys, n)
	fake := twiliofake.New()
	tb.Cleanup(fake.Close)
	fake.KeepMessages(false)
	sender, err := twilio.NewRESTSender(twilio.RESTConfig{
		AccountSID: twiliofake.AccountSID, AuthToken: twiliofake.AuthToken, From: benchFrom, APIBase: fake.URL(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return &ratioRig{rdb: rdb, prefix: prefix, store: store, keys: keys, fake: fake, sender: sender, n: n}
}

// round measures the bare loop, then queues a new broadcast to every subscriber (not timed)
// and measures the Dispatcher sending it. It returns both rates in messages a second and
// the dispatch's CPU figures.
func (r *ratioRig) round(tb testing.TB, concurrency int) (bare, sent float64, cpu string) {
	tb.Helper()
	ctx := context.Background()
	r.fake.Reset()
	bare = bareLoop(tb, r.fake, concurrency, r.n)

	r.rounds++
	id := fmt.Sprintf("ratio%d", r.rounds)
	b := hotline.Broadcast{ID: id, Status: hotline.Sending, Text: map[string]string{"es": benchTextES, "en": benchTextEN},
		Areas: benchAreas, CreatedAt: time.Now()}
	if err := r.store.CreateBroadcast(ctx, b); err != nil {
		tb.Fatal(err)
	}
	if _, err := r.store.StartSending(ctx, id, b.Areas, []string{"es", "en"}, time.Now()); err != nil {
		tb.Fatal(err)
	}
	for _, lang := range []string{"es", "en"} {
		for {
			done, err := r.store.EnqueueBatch(ctx, id, lang, "normal", 1000)
			if err != nil {
				tb.Fatal(err)
			}
			if done {
				break
			}
		}
	}
	if _, err := r.store.FinishEnqueue(ctx, id, time.Now()); err != nil {
		tb.Fatal(err)
	}
	r.fake.Reset()

	d := dispatch.New(dispatch.Config{
		Store: r.store, Keys: r.keys, Members: bot.New(bot.Config{Store: r.store, Keys: r.keys}), Sender: r.sender,
		Limiter:        ratelimit.New(r.rdb, r.prefix+":rate", 0, 1),
		StatusCallback: benchCallback, Consumer: "ratio-" + id, Concurrency: concurrency,
	})
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	m := meterCPU(r.rdb)
	t0 := time.Now()
	go func() { ran <- d.Run(runCtx) }()
	var got hotline.Broadcast
	for deadline := t0.Add(10 * time.Minute); ; time.Sleep(2 * time.Millisecond) {
		var err error
		if got, err = r.store.Broadcast(ctx, id); err != nil {
			tb.Fatal(err)
		}
		if got.Status == hotline.Done {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("not done after 10 minutes: %+v", got.Counts)
		}
	}
	elapsed := time.Since(t0)
	cpu = m.per(r.n)
	stop()
	<-ran
	if got.Counts.Sent != int64(r.n) || r.fake.Count() != r.n || got.Counts.Failed+got.Counts.SkippedOptedOut != 0 {
		tb.Fatalf("sent %d, fake accepted %d, failed %d, skipped %d; want %d sent once each",
			got.Counts.Sent, r.fake.Count(), got.Counts.Failed, got.Counts.SkippedOptedOut, r.n)
	}
	return bare, float64(r.n) / elapsed.Seconds(), cpu
}

func envInt(tb testing.TB, name string, def, least int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least {
		tb.Fatalf("%s %q: a whole number of at least %d", name, v, least)
	}
	return n
}

// TestDispatchRatio runs HOTLINE_BENCH_ROUNDS rounds of the bare twilio-go loop and of the
// Dispatcher, each sending to HOTLINE_BENCH_N recipients with HOTLINE_BENCH_CONCURRENCY
// sends in flight, and fails if the median of the rounds' ratios is under
// HOTLINE_BENCH_MIN_RATIO.
func TestDispatchRatio(t *testing.T) {
	rdb, prefix := benchRedis(t)
	n := envInt(t, "HOTLINE_BENCH_N", 20_000, 1000)
	rounds := envInt(t, "HOTLINE_BENCH_ROUNDS", 5, 1)
	concurrency := envInt(t, "HOTLINE_BENCH_CONCURRENCY", benchConcurrency, 1)
	minRatio := 0.80
	if v := os.Getenv("HOTLINE_BENCH_MIN_RATIO"); v != "" {
		var err error
		if minRatio, err = strconv.ParseFloat(v, 64); err != nil {
			t.Fatalf("HOTLINE_BENCH_MIN_RATIO %q: %v", v, err)
		}
	}
	r := newRatioRig(t, rdb, prefix, n)
	var ratios, bares, sents []float64
	t.Logf("%d recipients a round, %d in flight", n, concurrency)
	t.Logf("| round | bare twilio-go loop | dispatcher | ratio | dispatch CPU: this process / redis-server / rest of the machine |")
	t.Logf("|---|---|---|---|---|")
	for i := 1; i <= rounds; i++ {
		bare, sent, cpu := r.round(t, concurrency)
		ratios, bares, sents = append(ratios, sent/bare), append(bares, bare), append(sents, sent)
		t.Logf("| %d | %.0f msg/s | %.0f msg/s | %.2f | %s |", i, bare, sent, sent/bare, cpu)
	}
	med := func(xs []float64) float64 { s := slices.Clone(xs); slices.Sort(s); return s[len(s)/2] }
	t.Logf("median of %d rounds: bare %.0f msg/s, dispatcher %.0f msg/s, ratio %.2f (min %.2f, max %.2f)",
		rounds, med(bares), med(sents), med(ratios), slices.Min(ratios), slices.Max(ratios))
	if med(ratios) < minRatio {
		t.Errorf("median ratio %.2f is under %.2f", med(ratios), minRatio)
	}
}

// BenchmarkDispatchRatio is one round of TestDispatchRatio per run, with b.N recipients
// (use -benchtime 20000x): it reports both rates and their ratio, for benchstat.
func BenchmarkDispatchRatio(b *testing.B) {
	if os.Getenv("REDIS_URL") == "" {
		b.Skip("needs a real Redis: set REDIS_URL")
	}
	if b.N < 100 {
		return // the framework's first run, with b.N = 1: nothing worth measuring
	}
	os.Setenv("HOTLINE_BENCH", "1")
	rdb, prefix := benchRedis(b)
	r := newRatioRig(b, rdb, prefix, b.N)
	b.ResetTimer()
	bare, sent, _ := r.round(b, benchConcurrency)
	b.ReportMetric(bare, "bare-msg/s")
	b.ReportMetric(sent, "dispatch-msg/s")
	b.ReportMetric(sent/bare, "ratio")
	b.ReportMetric(0, "ns/op")
}
