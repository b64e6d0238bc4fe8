package redistest

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// ClusterEnv names the Redis Cluster tests may use besides the plain Redis, as a URL for
// redis.ParseClusterURL (redis://127.0.0.1:7379, with ?addr=host:port for more seed nodes).
// CI sets it; without it the cluster half of Each is skipped.
const ClusterEnv = "HOTLINE_TEST_CLUSTER_URL"

// Cluster returns a client of the Redis Cluster named by HOTLINE_TEST_CLUSTER_URL and a fresh
// key prefix, or skips the test when the variable is not set. Every key under the prefix, on
// every master, is deleted when the test ends.
func Cluster(t testing.TB) (*redis.ClusterClient, string) {
	t.Helper()
	u := os.Getenv(ClusterEnv)
	if u == "" {
		t.Skip(ClusterEnv + " is not set: no Redis Cluster to test against")
	}
	opt, err := redis.ParseClusterURL(u)
	if err != nil {
		t.Fatalf("redistest: %s: %v", ClusterEnv, err)
	}
	rdb := redis.NewClusterClient(opt)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		rdb.Close()
		t.Fatalf("redistest: the Redis Cluster at %s does not answer: %v", u, err)
	}
	prefix := "test-" + randomHex()
	t.Cleanup(func() {
		ctx := context.Background()
		// SCAN walks one node: every master is walked. ForEachMaster calls its function
		// on the masters at once, hence the lock around the error.
		var mu sync.Mutex
		var failed error
		err := rdb.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
			for iter.Next(ctx) {
				c.Del(ctx, iter.Val())
			}
			if err := iter.Err(); err != nil {
				mu.Lock()
				failed = fmt.Errorf("cleaning %s: %w", c.Options().Addr, err)
				mu.Unlock()
			}
			return nil
		})
		if err == nil {
			err = failed
		}
		if err != nil {
			t.Errorf("redistest: %v", err)
		}
		rdb.Close()
	})
	return rdb, prefix
}

// Each runs fn as a subtest against every Redis the tests have: "redis", the one Open
// returns, and "cluster", the one Cluster returns (skipped without HOTLINE_TEST_CLUSTER_URL).
// Each gets a prefix of its own, cleaned up after. On a cluster, an operation whose keys are
// in different hash slots fails, as it would in production.
func Each(t *testing.T, fn func(t *testing.T, rdb redis.UniversalClient, prefix string)) {
	t.Helper()
	t.Run("redis", func(t *testing.T) {
		rdb, prefix := Open(t)
		fn(t, rdb, prefix)
	})
	t.Run("cluster", func(t *testing.T) {
		rdb, prefix := Cluster(t)
		fn(t, rdb, prefix)
	})
}
