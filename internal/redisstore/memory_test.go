package redisstore

import (
	"context"
	"encoding/json"
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
// has expired: the sealed state and their entries in two subscription sets. It starts a
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
	const n = 20000
	before := used()
	states := map[string][]byte{}
	areas := []string{"albuquerque", "bernalillo-county", "santa-fe", "las-cruces", "dona-ana-county"}
	for i := range n {
		phone := fmt.Sprintf("+1505%07d", i)
		id := keys.MemberID(hotline.SMS, phone)
		st := flow.State{Lang: []string{"es", "en"}[i%2], Areas: []string{areas[i%len(areas)]}, Address: phone, Active: time.Now().Unix()}
		plain, _ := json.Marshal(st)
		states[id] = keys.Seal(plain, []byte(id+":s"))
		if err := s.SyncSubscriptions(ctx, id, Subscription{}, Subscription{Areas: st.Areas, Lang: st.Lang}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutMembers(ctx, states); err != nil {
		t.Fatal(err)
	}
	per := float64(used()-before) / n
	t.Logf("%d subscribers: %.0f bytes each in Redis (sealed state %d bytes + two set entries)", n, per, len(states[keys.MemberID(hotline.SMS, "+15050000000")]))
}
