package redisstore

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// TestMemoryPerSubscriber measures what one subscriber costs in Redis once their reply log
// has expired: the sealed state (in a shared bucket hash) and their entry in their area's subscription set. It starts a
// redis-server of its own so that nothing else moves used_memory. Run it with
//
//	HOTLINE_BENCH=1 go test -run TestMemoryPerSubscriber -v ./internal/redisstore/
func TestMemoryPerSubscriber(t *testing.T) {
	if os.Getenv("HOTLINE_BENCH") == "" {
		t.Skip("a measurement, not a test: set HOTLINE_BENCH=1")
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer rdb.Close()
	ctx := context.Background()
	for rdb.Ping(ctx).Err() != nil {
		time.Sleep(10 * time.Millisecond)
	}
	s, _ := New(rdb, "hotline", 0)
	keys, _ := privacy.NewKeys("memory-test-secret-0123")
	used := func() int64 {
		v, _ := rdb.InfoMap(ctx, "memory").Result()
		var n int64
		fmt.Sscan(v["Memory"]["used_memory"], &n)
		return n
	}
	// Twenty thousand subscribers, one area each; then as many again of whom every fourth
	// also follows the county around their city (two areas: a longer state, two set entries).
	measure := func(offset, n int, areasOf func(i int) []string) float64 {
		t.Helper()
		before := used()
		states := map[string][]byte{}
		for i := offset; i < offset+n; i++ {
			phone := fmt.Sprintf("+1505%07d", i)
			id := keys.MemberID(hotline.SMS, phone)
			st := flow.State{Lang: []string{"es", "en"}[i%2], Areas: areasOf(i), Address: phone, Active: time.Now().Unix()}
			states[id] = keys.Seal(flow.EncodeState(st), privacy.MemberState(id))
			if err := s.SyncSubscriptions(ctx, id, hotline.Subscription{}, hotline.Subscription{Areas: st.Areas, Lang: st.Lang}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.PutMembers(ctx, states); err != nil {
			t.Fatal(err)
		}
		return float64(used()-before) / float64(n)
	}
	areas := []string{"albuquerque", "bernalillo-county", "santa-fe", "las-cruces", "dona-ana-county"}
	const n = 20000
	one := measure(0, n, func(i int) []string { return []string{areas[i%len(areas)]} })
	mixed := measure(n, n, func(i int) []string {
		if i%4 == 0 {
			return []string{"albuquerque", "bernalillo-county"}
		}
		return []string{areas[i%len(areas)]}
	})
	t.Logf("%d subscribers of one area: %.0f bytes each in Redis (sealed state in a shared bucket hash, one set entry)", n, one)
	t.Logf("%d more, a quarter of them with two areas: %.0f bytes each", n, mixed)
	for _, per := range []float64{one, mixed} {
		if per >= 250 {
			t.Errorf("%.0f bytes per subscriber, goal < 250", per)
		}
	}
}
