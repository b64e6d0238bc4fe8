package main

// The send rate of two `hotline worker` processes sharing HOTLINE_SEND_RATE=50 through Redis,
// measured over 30 s against the local fake of Twilio (docs/performance-broadcasts.md). It
// takes about a minute, so it runs only when asked:
//
//	HOTLINE_BENCH=1 REDIS_URL=redis://127.0.0.1:6379/0 go test -run TestBenchSendRateTwoWorkers -v ./cmd/hotline/

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/content"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/segment"
	"github.com/communityhotline/hotline/internal/twiliofake"
	"github.com/communityhotline/hotline/locales"
)

// TestBenchSendRateTwoWorkers queues an alert for 3000 subscribers, starts two worker
// processes with HOTLINE_SEND_RATE=50 (one-segment messages, so 50 messages a second between
// them), and counts what the fake of Twilio accepts from 5 s to 35 s after both started: the
// rate must be within 5% of 50 a second, and nobody may get the alert twice.
func TestBenchSendRateTwoWorkers(t *testing.T) {
	if os.Getenv("HOTLINE_BENCH") != "1" || testing.Short() {
		t.Skip("a 40-second benchmark: set HOTLINE_BENCH=1 (and REDIS_URL), without -short, to run it")
	}
	redisURL := os.Getenv("REDIS_URL")
	if redisURL == "" {
		t.Skip("needs a real Redis: set REDIS_URL")
	}
	const (
		subscribers = 3000
		rate        = 50.0
		secret      = "bench-secret-0123456789abcdef"
		warmUp      = 5 * time.Second
		window      = 30 * time.Second
		// One segment each: the limiter counts segments, the rate is in messages.
		textES = "Alerta: retén en la avenida Central. Envíe DERECHOS."
		textEN = "Alert: checkpoint on Central Ave. Text RIGHTS."
	)
	for _, text := range []string{textES, textEN} {
		if n := segment.Count(text).Segments; n != 1 {
			t.Fatalf("%q is %d segments; the test needs 1", text, n)
		}
	}
	ctx := context.Background()
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "bench-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		n := 0
		var cursor uint64
		for {
			keys, next, err := rdb.Scan(context.Background(), cursor, prefix+":*", 1000).Result()
			if err != nil {
				t.Errorf("cleaning up: %v", err)
				break
			}
			if len(keys) > 0 {
				rdb.Unlink(context.Background(), keys...)
				n += len(keys)
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		t.Logf("cleaned up: unlinked %d keys under %s:", n, prefix)
		rdb.Close()
	})

	// Subscribers, sealed as the engine seals them, and the subscriber index.
	store, err := redisstore.New(rdb, prefix, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := privacy.NewKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string][]byte{}
	for i := range subscribers {
		st := flow.State{Lang: []string{"es", "en"}[i%2], Areas: []string{"albuquerque"}, Address: fmt.Sprintf("+1505%07d", i)}
		id := keys.MemberID(hotline.SMS, st.Address)
		js := flow.EncodeState(st)
		states[id] = keys.Seal(js, privacy.MemberState(id))
		if err := store.SyncSubscriptions(ctx, id, hotline.Subscription{}, hotline.Subscription{Areas: st.Areas, Lang: st.Lang}); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.PutMembers(ctx, states); err != nil {
		t.Fatal(err)
	}

	// The alert, sent as an organizer sends it: the workers find it and queue it.
	c, err := content.Load(flows.FS, locales.FS, &places.ZipTable{})
	if err != nil {
		t.Fatal(err)
	}
	svc := broadcast.New(broadcast.Config{Store: store, Places: c.Places, Keys: keys, Languages: c.Flows.Settings().Languages})
	bc, _, err := svc.Create(ctx, audit.Admin(audit.ViaCLI), broadcast.Draft{Text: map[string]string{"es": textES, "en": textEN}, Areas: []string{"albuquerque"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Send(ctx, bc.ID, audit.Admin(audit.ViaCLI)); err != nil {
		t.Fatal(err)
	}

	fake := twiliofake.New()
	t.Cleanup(fake.Close)
	env := []string{
		"HOTLINE_TEST_RUN_MAIN=worker", "REDIS_URL=" + redisURL, "HOTLINE_KEY_PREFIX=" + prefix,
		"HOTLINE_SECRET=" + secret, "HOTLINE_CONTACT=505-555-0199", "LOG_FORMAT=text",
		"TWILIO_ACCOUNT_SID=" + twiliofake.AccountSID, "TWILIO_AUTH_TOKEN=" + twiliofake.AuthToken,
		"TWILIO_FROM=+15055550000", "TWILIO_API_BASE=" + fake.URL(), "PUBLIC_URL=http://127.0.0.1:9",
		"HOTLINE_SEND_RATE=" + strconv.FormatFloat(rate, 'f', -1, 64),
	}
	var workers []*exec.Cmd
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), env...)
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
			t.Fatalf("worker did not start: %v", err)
		}
		go io.Copy(io.Discard, out)
		workers = append(workers, cmd)
	}
	t0 := time.Now()
	time.Sleep(time.Until(t0.Add(warmUp)))
	n0, s0 := fake.Count(), time.Now()
	time.Sleep(time.Until(t0.Add(warmUp + window)))
	n1, s1 := fake.Count(), time.Now()

	var rss []string
	for _, w := range workers {
		pid := strconv.Itoa(w.Process.Pid)
		cur, peak := benchProcStatus(pid)
		rss = append(rss, fmt.Sprintf("pid %s VmRSS %.1f MB, VmHWM %.1f MB", pid, float64(cur)/1024, float64(peak)/1024))
		w.Process.Signal(syscall.SIGTERM)
	}
	for _, w := range workers {
		w.Wait()
	}

	measured := float64(n1-n0) / s1.Sub(s0).Seconds()
	errPct := 100 * (measured - rate) / rate
	t.Logf("2 worker processes, HOTLINE_SEND_RATE=%g: %d messages in %.3f s = %.2f msg/s (%+.2f%%; expected %.0f)",
		rate, n1-n0, s1.Sub(s0).Seconds(), measured, errPct, rate*s1.Sub(s0).Seconds())
	t.Logf("first %v: %d messages; by the end: %d of %d", warmUp, n0, fake.Count(), subscribers)
	for _, line := range rss {
		t.Logf("worker memory: %s", line)
	}
	if math.Abs(errPct) > 5 {
		t.Errorf("rate %.2f msg/s is %+.2f%% off %g", measured, errPct, rate)
	}
	if n1 >= subscribers {
		t.Errorf("the queue ran dry (%d sent of %d): the rate is not measured at its limit", n1, subscribers)
	}
	seen := map[string]bool{}
	for _, m := range fake.Messages() {
		if seen[m.To] {
			t.Errorf("%s got the alert twice", m.To)
		}
		seen[m.To] = true
	}
}

// benchProcStatus reads VmRSS and VmHWM, in kB, of process pid.
func benchProcStatus(pid string) (rss, hwm int64) {
	raw, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, _ := strings.Cut(line, ":")
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
