package dispatch_test

// Broadcast figures at scale (docs/performance-broadcasts.md): preview, enqueue and dispatch
// of a broadcast to 100,000 subscribers in a real Redis, the dispatch rate against the local
// fake of Twilio compared with a bare twilio-go loop against the same fake, and the memory
// the enqueue and dispatch take. None of it runs in `go test ./...`:
//
//	HOTLINE_BENCH=1 REDIS_URL=redis://127.0.0.1:6379/0 go test -run TestBroadcastScale -v -timeout 30m ./internal/dispatch/
//	go test -run '^$' -bench 'Ceiling|RESTSender' ./internal/dispatch/
//
// HOTLINE_BENCH_N changes the number of subscribers (100000 by default), HOTLINE_BENCH_ROUNDS
// the number of broadcasts enqueued and dispatched one after the other (1), and
// HOTLINE_BENCH_CONCURRENCY the sends in flight of the dispatcher and of the parallel
// ceiling (8, HOTLINE_WORKER_CONCURRENCY's default).

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	twclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/bot"
	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/content"
	"github.com/communityhotline/hotline/internal/dispatch"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/ratelimit"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/twiliofake"
	"github.com/communityhotline/hotline/locales"
)

const (
	benchSecret = "bench-secret-0123456789abcdef"
	benchFrom   = "+15055550000"
	// The alert of docs/broadcast.md's examples: two UCS-2 segments in Spanish, one GSM-7
	// segment in English.
	benchTextES = "Alerta: retén en la avenida Central. Conozca sus derechos: envíe DERECHOS."
	benchTextEN = "Alert: checkpoint on Central Ave. Know your rights: text RIGHTS."
	// benchCallback is where delivery reports would go; nothing listens, the fake never calls.
	benchCallback = "http://127.0.0.1:8080/twilio/status"
	// benchConcurrency is HOTLINE_WORKER_CONCURRENCY's default: the sends one worker
	// process keeps in flight.
	benchConcurrency = 8
)

// benchAreas are where the seeded subscribers live: every one follows one or two of them,
// so a broadcast to all six reaches everybody through a SUNIONSTORE of twelve sets.
var benchAreas = []string{"albuquerque", "bernalillo-county", "santa-fe", "santa-fe-county", "las-cruces", "dona-ana-county"}

// benchState is subscriber i: 60% Spanish, a quarter following two areas.
func benchState(i int) flow.State {
	st := flow.State{Lang: "es", Areas: []string{benchAreas[i%len(benchAreas)]}, Address: fmt.Sprintf("+1505%07d", i)}
	if i%5 >= 3 {
		st.Lang = "en"
	}
	if i%4 == 0 {
		if second := benchAreas[(i/len(benchAreas)+1)%len(benchAreas)]; second != st.Areas[0] {
			st.Areas = append(st.Areas, second)
		}
	}
	return st
}

// benchRedis returns a client of REDIS_URL and a fresh key prefix whose keys are all
// unlinked when the test ends; it skips the test unless HOTLINE_BENCH=1 and REDIS_URL are set.
func benchRedis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	if os.Getenv("HOTLINE_BENCH") != "1" {
		t.Skip("a benchmark: set HOTLINE_BENCH=1 (and REDIS_URL) to run it")
	}
	u := os.Getenv("REDIS_URL")
	if u == "" {
		t.Skip("needs a real Redis: set REDIS_URL")
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	opt.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("REDIS_URL does not answer: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "bench-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		n, err := unlinkPrefix(context.Background(), rdb, prefix)
		if err != nil {
			t.Errorf("cleaning up %s:*: %v", prefix, err)
		}
		t.Logf("cleaned up: unlinked %d keys under %s:", n, prefix)
		rdb.Close()
	})
	return rdb, prefix
}

// unlinkPrefix deletes every key under prefix, a thousand at a time.
func unlinkPrefix(ctx context.Context, rdb *redis.Client, prefix string) (int, error) {
	n := 0
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, prefix+":*", 1000).Result()
		if err != nil {
			return n, err
		}
		if len(keys) > 0 {
			if err := rdb.Unlink(ctx, keys...).Err(); err != nil {
				return n, err
			}
			n += len(keys)
		}
		if cursor = next; cursor == 0 {
			return n, nil
		}
	}
}

// seed writes n subscribers: sealed states as the engine seals them, and the subscriber
// index as the engine keeps it.
func seed(ctx context.Context, t testing.TB, store *redisstore.Store, keys *privacy.Keys, n int) {
	t.Helper()
	const chunk = 5000
	type sub struct {
		id  string
		sub hotline.Subscription
	}
	for start := 0; start < n; start += chunk {
		states := make(map[string][]byte, chunk)
		subs := make([]sub, 0, chunk)
		for i := start; i < min(start+chunk, n); i++ {
			st := benchState(i)
			id := keys.MemberID(hotline.SMS, st.Address)
			js := flow.EncodeState(st)
			states[id] = keys.Seal(js, privacy.MemberState(id))
			subs = append(subs, sub{id, hotline.Subscription{Areas: st.Areas, Lang: st.Lang}})
		}
		if err := store.PutMembers(ctx, states); err != nil {
			t.Fatal(err)
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for range 32 {
			wg.Go(func() {
				for i := int(next.Add(1) - 1); i < len(subs); i = int(next.Add(1) - 1) {
					if err := store.SyncSubscriptions(ctx, subs[i].id, hotline.Subscription{}, subs[i].sub); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// procStatus reads VmRSS and VmHWM, in kB, of a process ("self" or a pid).
func procStatus(pid string) (rss, hwm int64) {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm
}

// rssSampler follows a process's resident memory until stopped, keeping the peak.
type rssSampler struct {
	pid  string
	peak atomic.Int64
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(pid string, every time.Duration) *rssSampler {
	s := &rssSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if rss, _ := procStatus(pid); rss > s.peak.Load() {
				s.peak.Store(rss)
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends the sampling and returns the peak VmRSS seen, in kB.
func (s *rssSampler) Stop() int64 {
	close(s.stop)
	<-s.done
	return s.peak.Load()
}

// cpuSeconds is the CPU time this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// machineCPU is the CPU time every process of the machine has used (/proc/stat), in seconds.
func machineCPU() float64 {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	fields := strings.Fields(line)
	busy := 0.0
	for i, f := range fields[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		v, _ := strconv.ParseFloat(f, 64)
		busy += v
	}
	return busy / 100 // USER_HZ
}

// cpuMeter measures the cores used, on average, by this process, by redis-server and by
// everything else on the machine (other tests, other programs) over a phase.
type cpuMeter struct {
	rdb                  *redis.Client
	self, redis, machine float64
	start                time.Time
}

func meterCPU(rdb *redis.Client) *cpuMeter {
	return &cpuMeter{rdb: rdb, self: cpuSeconds(), redis: redisCPU(context.Background(), rdb), machine: machineCPU(), start: time.Now()}
}

// String reports the cores used since the meter started.
func (m *cpuMeter) String() string { return m.per(0) }

// per reports the cores used since the meter started and, when n > 0, the CPU time this
// process and redis-server spent per message for n messages.
func (m *cpuMeter) per(n int) string {
	d := time.Since(m.start).Seconds()
	self, rds, machine := cpuSeconds()-m.self, redisCPU(context.Background(), m.rdb)-m.redis, machineCPU()-m.machine
	s := fmt.Sprintf("%.2f / %.2f / %.2f cores", self/d, rds/d, max(machine-self-rds, 0)/d)
	if n > 0 {
		s += fmt.Sprintf("; %.0f µs CPU per message (this process + redis-server)", 1e6*(self+rds)/float64(n))
	}
	return s
}

// redisCPU is the CPU time redis-server has used (INFO cpu), in seconds.
func redisCPU(ctx context.Context, rdb *redis.Client) float64 {
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0
	}
	total := 0.0
	for _, line := range strings.Split(info, "\r\n") {
		for _, k := range []string{"used_cpu_sys:", "used_cpu_user:"} {
			if v, ok := strings.CutPrefix(line, k); ok {
				f, _ := strconv.ParseFloat(v, 64)
				total += f
			}
		}
	}
	return total
}

func redisMemory(ctx context.Context, rdb *redis.Client) string {
	info, _ := rdb.Info(ctx, "memory").Result()
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "used_memory_human:"); ok {
			return v
		}
	}
	return "?"
}

// report collects the figures for the summary table at the end.
type report struct {
	t    *testing.T
	rows [][3]string
}

func (r *report) add(what, value, target string) {
	r.t.Logf("%-60s %s %s", what, value, target)
	r.rows = append(r.rows, [3]string{what, value, target})
}

func (r *report) print() {
	var b strings.Builder
	b.WriteString("\n| figure | measured | target |\n|---|---|---|\n")
	for _, row := range r.rows {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", row[0], row[1], row[2])
	}
	r.t.Log(b.String())
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }

// TestBroadcastScale measures, with HOTLINE_BENCH_N (100,000) subscribers in a real Redis:
// the preview of a broadcast to six areas and to every area; the enqueue (StartSending, then
// EnqueueBatch until every recipient is queued); the dispatch of the whole queue by one
// Dispatcher to the fake of Twilio with the rate limit off, next to the ceiling of bare
// twilio-go loops against the same fake; and the growth of this process's resident memory
// during the enqueue and dispatch.
func TestBroadcastScale(t *testing.T) {
	rdb, prefix := benchRedis(t)
	ctx := context.Background()
	n := 100_000
	if v := os.Getenv("HOTLINE_BENCH_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			t.Fatalf("HOTLINE_BENCH_N %q: a whole number of at least 1000", v)
		}
	}
	concurrency := benchConcurrency
	if v := os.Getenv("HOTLINE_BENCH_CONCURRENCY"); v != "" {
		var err error
		if concurrency, err = strconv.Atoi(v); err != nil || concurrency < 1 {
			t.Fatalf("HOTLINE_BENCH_CONCURRENCY %q: a whole number of at least 1", v)
		}
	}
	r := &report{t: t}
	t.Logf("%d subscribers under %s: in %s; GOMAXPROCS %d, %s", n, prefix, os.Getenv("REDIS_URL"), runtime.GOMAXPROCS(0), runtime.Version())

	store, err := redisstore.New(rdb, prefix, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := privacy.NewKeys(benchSecret)
	if err != nil {
		t.Fatal(err)
	}
	c, err := content.Load(flows.FS, locales.FS, &places.ZipTable{})
	if err != nil {
		t.Fatal(err)
	}
	langs := c.Flows.Settings().Languages
	svc := broadcast.New(broadcast.Config{
		Store: store, Places: c.Places, Keys: keys, Languages: langs, Rate: 0, CostPerSegment: 0.0083,
	})

	memBefore := redisMemory(ctx, rdb)
	start := time.Now()
	seed(ctx, t, store, keys, n)
	t.Logf("seeded %d subscribers in %v (not a measured figure); Redis used_memory %s → %s", n, time.Since(start).Round(time.Millisecond), memBefore, redisMemory(ctx, rdb))

	// Preview: what POST /admin/broadcasts does (validate, count per language, store a
	// draft), then the preview of the stored draft alone, five times each.
	draftOf := func(areas []string) broadcast.Draft {
		return broadcast.Draft{Text: map[string]string{"es": benchTextES, "en": benchTextEN}, Areas: areas}
	}
	previewFigures := func(name string, areas []string, wantTotal int64) hotline.Broadcast {
		var create, preview []time.Duration
		var b hotline.Broadcast
		for range 5 {
			t0 := time.Now()
			var p broadcast.Preview
			b, p, err = svc.Create(ctx, audit.Admin(audit.ViaCLI), draftOf(areas))
			create = append(create, time.Since(t0))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Recipients["es"] + p.Recipients["en"]; got != wantTotal {
				t.Fatalf("preview of %s: %d recipients, want %d", name, got, wantTotal)
			}
			t0 = time.Now()
			if _, err := svc.Preview(ctx, b); err != nil {
				t.Fatal(err)
			}
			preview = append(preview, time.Since(t0))
		}
		slices.Sort(create)
		slices.Sort(preview)
		r.add(fmt.Sprintf("create + preview, %s (median / max of 5)", name), ms(create[2])+" / "+ms(create[4]), "< 1 s: "+verdict(create[4] < time.Second))
		r.add(fmt.Sprintf("preview of the stored draft, %s (median / max of 5)", name), ms(preview[2])+" / "+ms(preview[4]), "< 1 s: "+verdict(preview[4] < time.Second))
		return b
	}
	multi := previewFigures(fmt.Sprintf("%d areas (SUNIONSTORE)", len(benchAreas)), benchAreas, int64(n))
	previewFigures(`"all" (SCARD)`, nil, int64(n))

	// The ceiling: bare loops of twilio-go CreateMessage against the same fake.
	fake := twiliofake.New()
	defer fake.Close()
	fake.KeepMessages(false)
	const ceilN = 100_000
	m := meterCPU(rdb)
	seqRate := bareLoop(t, fake, 1, ceilN/2)
	seqCPU := m.per(ceilN / 2)
	m = meterCPU(rdb)
	parRate := bareLoop(t, fake, concurrency, ceilN)
	parCPU := m.per(ceilN)
	sender, err := twilio.NewRESTSender(twilio.RESTConfig{
		AccountSID: twiliofake.AccountSID, AuthToken: twiliofake.AuthToken, From: benchFrom, APIBase: fake.URL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	m = meterCPU(rdb)
	senderRate := senderLoop(t, fake, sender, concurrency, ceilN)
	senderCPU := m.per(ceilN)
	r.add("ceiling: bare twilio-go loop, sequential", fmt.Sprintf("%.0f msg/s", seqRate), "")
	r.add("  CPU: this process / redis-server / rest of the machine", seqCPU, "")
	r.add(fmt.Sprintf("ceiling: bare twilio-go loop, %d goroutines", concurrency), fmt.Sprintf("%.0f msg/s", parRate), "")
	r.add("  CPU: this process / redis-server / rest of the machine", parCPU, "")
	r.add(fmt.Sprintf("hotline's RESTSender.Send loop, %d goroutines", concurrency), fmt.Sprintf("%.0f msg/s", senderRate), "")
	r.add("  CPU: this process / redis-server / rest of the machine", senderCPU, "")
	fake.Reset()

	// Memory: everything above is garbage now; the baseline is what stays.
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Logf("cannot reset VmHWM (%v): the peak comes from sampling alone", err)
	}
	baseRSS, _ := procStatus("self")
	sampler := sampleRSS("self", 10*time.Millisecond)

	rounds := 1
	if v := os.Getenv("HOTLINE_BENCH_ROUNDS"); v != "" {
		if rounds, err = strconv.Atoi(v); err != nil || rounds < 1 {
			t.Fatalf("HOTLINE_BENCH_ROUNDS %q: a whole number of at least 1", v)
		}
	}
	var enqueueTimes []time.Duration
	var rates []float64
	for round := 1; round <= rounds; round++ {
		bc := multi
		if round > 1 {
			if bc, _, err = svc.Create(ctx, audit.Admin(audit.ViaCLI), draftOf(benchAreas)); err != nil {
				t.Fatal(err)
			}
		}
		fake.Reset()
		enqueued, frozen, enqueueCPU := enqueueAll(ctx, t, svc, store, rdb, bc.ID, langs, n)
		enqueueTimes = append(enqueueTimes, enqueued)
		rate, dispatchCPU := dispatchAll(ctx, t, store, rdb, prefix, keys, sender, fake, bc.ID, n, concurrency)
		rates = append(rates, rate)
		name := fmt.Sprintf("round %d: ", round)
		if rounds == 1 {
			name = ""
		}
		r.add(fmt.Sprintf("%senqueue %d: StartSending (freeze)", name, n), ms(frozen), "")
		r.add(fmt.Sprintf("%senqueue %d: StartSending + EnqueueBatch until done", name, n), ms(enqueued), "< 3 s: "+verdict(enqueued < 3*time.Second))
		r.add("  CPU: this process / redis-server / rest of the machine", enqueueCPU, "")
		r.add(fmt.Sprintf("%sdispatch %d, 1 process × %d in flight, no rate limit", name, n, concurrency), fmt.Sprintf("%.1f s = %.0f msg/s", float64(n)/rate, rate), "")
		r.add("  CPU: this process / redis-server / rest of the machine", dispatchCPU, "")
	}
	peakRSS := sampler.Stop()
	_, hwm := procStatus("self")
	peakRSS = max(peakRSS, hwm)

	slices.Sort(enqueueTimes)
	slices.Sort(rates)
	if rounds > 1 {
		r.add(fmt.Sprintf("enqueue, median of %d rounds", rounds), ms(enqueueTimes[rounds/2]), "< 3 s: "+verdict(enqueueTimes[rounds/2] < 3*time.Second))
		r.add(fmt.Sprintf("dispatch rate, median / best of %d rounds", rounds), fmt.Sprintf("%.0f / %.0f msg/s", rates[rounds/2], rates[rounds-1]), "")
	}
	rate := rates[rounds-1]
	r.add("dispatch rate (best) / parallel twilio-go ceiling", fmt.Sprintf("%.0f%%", 100*rate/parRate), "≥ 80%: "+verdict(rate >= 0.8*parRate))
	r.add("dispatch rate (best) / sequential twilio-go ceiling", fmt.Sprintf("%.0f%%", 100*rate/seqRate), "")
	growth := float64(peakRSS-baseRSS) / 1024
	r.add("peak RSS growth during enqueue + dispatch (this process, fake included)", fmt.Sprintf("%.1f MB (%.1f → %.1f MB)", growth, float64(baseRSS)/1024, float64(peakRSS)/1024), "< 100 MB: "+verdict(growth < 100))
	r.print()
}

// enqueueAll does what "send" and then the enqueuing worker do: freeze the recipients of
// broadcast id, then queue them a thousand at a time, renewing the lease before each batch
// as the dispatcher does. It returns the time to the last entry queued, the time StartSending
// took, and the CPU used.
func enqueueAll(ctx context.Context, t *testing.T, svc *broadcast.Service, store *redisstore.Store, rdb *redis.Client, id string, langs []string, n int) (time.Duration, time.Duration, string) {
	t.Helper()
	before, err := store.QueueDepth(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := meterCPU(rdb)
	t0 := time.Now()
	if _, err := svc.Send(ctx, id, audit.Admin(audit.ViaCLI)); err != nil {
		t.Fatal(err)
	}
	frozen := time.Since(t0)
	for _, lang := range langs {
		for {
			if ok, err := store.TryLease(ctx, id, "bench", 30*time.Second); err != nil || !ok {
				t.Fatalf("lease: %v %v", ok, err)
			}
			done, err := store.EnqueueBatch(ctx, id, lang, "normal", 1000)
			if err != nil {
				t.Fatal(err)
			}
			if done {
				break
			}
		}
	}
	if _, err := store.FinishEnqueue(ctx, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	enqueued := time.Since(t0)
	cpu := m.per(n)
	depth, err := store.QueueDepth(ctx)
	if err != nil || depth["normal"]-before["normal"] != int64(n) {
		t.Fatalf("queue depth %v, %v; want %d more normal entries", depth, err, n)
	}
	return enqueued, frozen, cpu
}

// dispatchAll runs one Dispatcher, as a worker process does (with concurrency sends in
// flight, the rate limit off), until broadcast id is done, checks that each of the n recipients got
// one message, and returns the rate and the CPU used.
func dispatchAll(ctx context.Context, t *testing.T, store *redisstore.Store, rdb *redis.Client, prefix string, keys *privacy.Keys, sender hotline.Sender, fake *twiliofake.Server, id string, n, concurrency int) (float64, string) {
	t.Helper()
	d := dispatch.New(dispatch.Config{
		Store: store, Keys: keys, Members: bot.New(bot.Config{Store: store, Keys: keys}), Sender: sender,
		Limiter:        ratelimit.New(rdb, prefix+":rate", 0, 1),
		StatusCallback: benchCallback, Consumer: "bench-" + id, Concurrency: concurrency,
	})
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	m := meterCPU(rdb)
	t0 := time.Now()
	go func() { ran <- d.Run(runCtx) }()
	var b hotline.Broadcast
	var err error
	for deadline := time.Now().Add(30 * time.Minute); ; {
		if b, err = store.Broadcast(ctx, id); err != nil {
			t.Fatal(err)
		}
		if b.Status == hotline.Done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not done after 30 minutes: %+v", b.Counts)
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(t0)
	cpu := m.per(n)
	stop()
	<-ran
	if b.Counts.Sent != int64(n) || fake.Count() != n || b.Counts.Failed+b.Counts.SkippedOptedOut != 0 {
		t.Errorf("sent %d, fake accepted %d, failed %d, skipped %d; want %d sent once each", b.Counts.Sent, fake.Count(), b.Counts.Failed, b.Counts.SkippedOptedOut, n)
	}
	return float64(n) / elapsed.Seconds(), cpu
}

// apiBase points twilio-go's requests at the fake: it replaces the scheme and host of each.
type apiBase struct {
	base http.RoundTripper
	host string
}

func (a apiBase) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = "http", a.host, ""
	return a.base.RoundTrip(r)
}

// bareAPI is a single long-lived twilio-go Messages API client talking to fake, with a
// connection pool as large as the hotline's.
func bareAPI(fake *twiliofake.Server) *openapi.ApiService {
	u, _ := url.Parse(fake.URL())
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 256, 256
	c := &twclient.Client{
		Credentials: twclient.NewCredentials(twiliofake.AccountSID, twiliofake.AuthToken),
		HTTPClient:  &http.Client{Transport: apiBase{base: tr, host: u.Host}},
	}
	c.SetAccountSid(twiliofake.AccountSID)
	return openapi.NewApiService(&twclient.RequestHandler{Client: c})
}

// createMessage is one bare CreateMessage of the alert to member i, as the dispatcher
// would send it.
func createMessage(api *openapi.ApiService, i int) error {
	p := &openapi.CreateMessageParams{}
	p.SetTo(fmt.Sprintf("+1505%07d", i))
	p.SetFrom(benchFrom)
	if i%5 < 3 {
		p.SetBody(benchTextES)
	} else {
		p.SetBody(benchTextEN)
	}
	p.SetStatusCallback(benchCallback + "?bc=abcdefgh")
	_, err := api.CreateMessage(p)
	return err
}

// runLoop calls send n times from workers goroutines and returns the rate per second.
func runLoop(t testing.TB, workers, n int, send func(i int) error) float64 {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	t0 := time.Now()
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := send(i); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	return float64(n) / time.Since(t0).Seconds()
}

func bareLoop(t testing.TB, fake *twiliofake.Server, workers, n int) float64 {
	api := bareAPI(fake)
	runLoop(t, workers, min(n, 500), func(i int) error { return createMessage(api, i) }) // warm-up
	return runLoop(t, workers, n, func(i int) error { return createMessage(api, i) })
}

func senderLoop(t testing.TB, fake *twiliofake.Server, s *twilio.RESTSender, workers, n int) float64 {
	send := func(i int) error {
		body := benchTextEN
		if i%5 < 3 {
			body = benchTextES
		}
		_, err := s.Send(context.Background(), hotline.Outbound{To: fmt.Sprintf("+1505%07d", i), Body: body, StatusCallback: benchCallback + "?bc=abcdefgh"})
		return err
	}
	runLoop(t, workers, min(n, 500), send)
	return runLoop(t, workers, n, send)
}

// benchLoop runs send b.N times from workers goroutines and reports messages per second.
func benchLoop(b *testing.B, workers int, send func(i int) error) {
	b.ReportAllocs()
	b.ResetTimer()
	rate := runLoop(b, workers, b.N, send)
	b.ReportMetric(rate, "msg/s")
}

// BenchmarkCeilingSequential is the machine's ceiling for one sender: a bare loop of
// twilio-go CreateMessage calls, one at a time, against the fake.
func BenchmarkCeilingSequential(b *testing.B) {
	fake := twiliofake.New()
	defer fake.Close()
	fake.KeepMessages(false)
	api := bareAPI(fake)
	benchLoop(b, 1, func(i int) error { return createMessage(api, i) })
}

// BenchmarkCeilingParallel is the ceiling with as many calls in flight as a worker keeps
// (HOTLINE_WORKER_CONCURRENCY's default, 8).
func BenchmarkCeilingParallel(b *testing.B) {
	fake := twiliofake.New()
	defer fake.Close()
	fake.KeepMessages(false)
	api := bareAPI(fake)
	benchLoop(b, benchConcurrency, func(i int) error { return createMessage(api, i) })
}

// BenchmarkRESTSenderParallel is the hotline's own sender (a twilio-go client per send
// around a shared transport) in the same loop, 8 in flight.
func BenchmarkRESTSenderParallel(b *testing.B) {
	fake := twiliofake.New()
	defer fake.Close()
	fake.KeepMessages(false)
	s, err := twilio.NewRESTSender(twilio.RESTConfig{
		AccountSID: twiliofake.AccountSID, AuthToken: twiliofake.AuthToken, From: benchFrom, APIBase: fake.URL(),
	})
	if err != nil {
		b.Fatal(err)
	}
	benchLoop(b, benchConcurrency, func(i int) error {
		_, err := s.Send(context.Background(), hotline.Outbound{To: fmt.Sprintf("+1505%07d", i), Body: benchTextES, StatusCallback: benchCallback + "?bc=abcdefgh"})
		return err
	})
}
