// Package redistest gives each test a real Redis and a key prefix of its own.
//
// The Redis is, in order of preference: REDIS_URL when set; else a redis-server started on a
// free port for this test binary when one is installed; else the embedded miniredis, which
// the test log says plainly. CI sets REDIS_URL, so CI always tests against real Redis.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

var (
	once    sync.Once
	addr    string // host:port of the shared server, or "" for miniredis
	kind    string
	openErr error
	server  *exec.Cmd
)

// Main runs the tests of a package and then stops the redis-server Open may have started.
// Call it from TestMain: func TestMain(m *testing.M) { redistest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if server != nil {
		server.Process.Kill()
		server.Wait()
	}
	os.Exit(code)
}

// Open returns a client and a fresh key prefix. Every key under the prefix is deleted when
// the test ends.
func Open(t testing.TB) (*redis.Client, string) {
	t.Helper()
	once.Do(start)
	if openErr != nil {
		t.Fatalf("redistest: %v", openErr)
	}
	var rdb *redis.Client
	if addr == "" {
		m := miniredis.RunT(t)
		rdb = redis.NewClient(&redis.Options{Addr: m.Addr()})
		t.Log("redistest: no REDIS_URL and no redis-server installed: using the embedded miniredis")
	} else {
		opt, err := redis.ParseURL(addr)
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		rdb = redis.NewClient(opt)
	}
	prefix := "test-" + randomHex()
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	return rdb, prefix
}

// OpenUniversal is Open, but on the Redis Cluster HOTLINE_TEST_CLUSTER_URL names when it is set
// (CI sets it): a test of the store then proves that no operation spans hash slots, with the
// slots spread over several masters. Every key under the prefix is deleted when the test ends.
func OpenUniversal(t testing.TB) (redis.UniversalClient, string) {
	t.Helper()
	u := os.Getenv("HOTLINE_TEST_CLUSTER_URL")
	if u == "" {
		return Open(t)
	}
	opt, err := redis.ParseClusterURL(u)
	if err != nil {
		t.Fatalf("redistest: HOTLINE_TEST_CLUSTER_URL: %v", err)
	}
	rdb := redis.NewClusterClient(opt)
	prefix := "test-" + randomHex()
	t.Cleanup(func() {
		ctx := context.Background()
		for _, k := range Keys(t, rdb, prefix+":*") {
			rdb.Del(ctx, k)
		}
		rdb.Close()
	})
	return rdb, prefix
}

// Keys lists the keys matching pattern. SCAN walks one server: on a Redis Cluster every
// master is walked.
func Keys(t testing.TB, rdb redis.UniversalClient, pattern string) []string {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var keys []string
	scan := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	default:
		t.Fatalf("redistest: cannot list the keys of a %T", rdb)
	}
	if err != nil {
		t.Fatalf("redistest: listing keys: %v", err)
	}
	return keys
}

// URL returns the redis:// URL of the Redis tests use. With the embedded one, it starts a
// miniredis for this test (it listens on TCP, so other processes can share it too).
func URL(t testing.TB) string {
	once.Do(start)
	if openErr != nil {
		t.Fatalf("redistest: %v", openErr)
	}
	if addr == "" {
		return "redis://" + miniredis.RunT(t).Addr() + "/0"
	}
	return addr
}

// Kind says which Redis the tests use: "REDIS_URL", "redis-server" or "miniredis".
func Kind() string { once.Do(start); return kind }

func start() {
	if u := os.Getenv("REDIS_URL"); u != "" {
		addr, kind = u, "REDIS_URL"
		return
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		kind = "miniredis"
		return
	}
	port, err := freePort()
	if err != nil {
		openErr = err
		return
	}
	// Main stops this server when the tests end; a test package that uses Open without
	// Main leaves it running until the machine stops, harmlessly on its own port.
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		openErr = fmt.Errorf("starting redis-server: %w", err)
		return
	}
	server = cmd
	addr, kind = fmt.Sprintf("redis://127.0.0.1:%d/0", port), "redis-server"
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer rdb.Close()
	for i := 0; i < 100; i++ {
		if rdb.Ping(context.Background()).Err() == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	openErr = fmt.Errorf("redis-server on port %d did not answer", port)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
