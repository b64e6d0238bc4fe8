package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/redistest"
)

// hasReplicas reports whether every master behind rdb has a replica connected.
func hasReplicas(t *testing.T, rdb redis.UniversalClient) bool {
	t.Helper()
	ctx := context.Background()
	connected := func(ctx context.Context, c *redis.Client) error {
		info, err := c.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if strings.Contains(info, "connected_slaves:0") {
			return errors.New("no replica")
		}
		return nil
	}
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, connected) == nil
	case *redis.Client:
		return connected(ctx, c) == nil
	}
	return false
}

// TestPromisedWritesWaitForAReplica: with WaitForReplica on, a member's commit, a change of
// subscriptions, an erasure and an alert's outcome each wait for a replica, and say whether
// one confirmed in time; without a replica each waits the whole timeout and is still made.
func TestPromisedWritesWaitForAReplica(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	replicas := hasReplicas(t, s.rdb)
	const timeout = 50 * time.Millisecond
	var mu sync.Mutex
	var reports []bool
	s.WaitForReplica(timeout, func(ok bool) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, ok)
	})
	now := time.Now()
	writes := []struct {
		name  string
		write func() error
	}{
		{"commit", func() error {
			return s.Save(ctx, "m1", hotline.Commit{State: []byte("s1"), MsgID: "SM1", Reply: []byte("r1"), Now: now})
		}},
		{"a commit's second script run (its SHA now known)", func() error {
			return s.Save(ctx, "m2", hotline.Commit{State: []byte("s2"), MsgID: "SM2", Reply: []byte("r2"), Now: now})
		}},
		{"subscriptions", func() error {
			return s.SyncSubscriptions(ctx, "m1", hotline.Subscription{}, hotline.Subscription{Areas: []string{"taos"}, Lang: "es"})
		}},
		{"erasure", func() error { return s.Erase(ctx, "m2") }},
		{"an alert's outcome", func() error {
			errs, err := s.RecordOutcomes(ctx, []hotline.SendOutcome{{Entry: hotline.QueueEntry{BC: "bc1", Member: "m1"}, Outcome: hotline.OutcomeSent}}, now)
			if err == nil && errs[0] != nil {
				err = errs[0]
			}
			return err
		}},
	}
	for _, w := range writes {
		mu.Lock()
		reports = nil
		mu.Unlock()
		began := time.Now()
		if err := w.write(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		took := time.Since(began)
		mu.Lock()
		got := append([]bool(nil), reports...)
		mu.Unlock()
		if len(got) != 1 || got[0] != replicas {
			t.Errorf("%s: reports %v, want [%v] (replicas: %v)", w.name, got, replicas, replicas)
		}
		if !replicas && took < timeout {
			t.Errorf("%s took %v with no replica to wait for: it did not wait", w.name, took)
		}
		if replicas && took > timeout {
			t.Errorf("%s took %v: the replica did not confirm within the timeout", w.name, took)
		}
	}
	// The writes were made, waiting or not.
	m, err := s.Load(ctx, "m1", "SM1")
	if err != nil || string(m.State) != "s1" || string(m.Reply) != "r1" {
		t.Errorf("m1 after the commit: %+v, %v", m, err)
	}
	if ids, _ := s.Subscribers(ctx, "taos", "es"); len(ids) != 1 {
		t.Errorf("subscribers of taos: %v", ids)
	}
	if m, _ := s.Load(ctx, "m2", ""); m.State != nil {
		t.Errorf("m2 not erased: %+v", m)
	}
	if done, _ := s.rdb.SIsMember(ctx, s.bcDoneKey("bc1"), "m1").Result(); !done {
		t.Error("the alert's outcome was not recorded")
	}
}

// BenchmarkPromisedSave is a member's commit, serial, with and without waiting for a replica:
// on a cluster (HOTLINE_TEST_CLUSTER_URL), the cost of HOTLINE_REDIS_WAIT per message.
func BenchmarkPromisedSave(b *testing.B) {
	for _, wait := range []time.Duration{0, 100 * time.Millisecond} {
		name := "no wait"
		if wait > 0 {
			name = "wait"
		}
		b.Run(name, func(b *testing.B) {
			rdb, prefix := redistest.OpenUniversal(b)
			s, err := New(rdb, prefix, time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			if wait > 0 {
				s.WaitForReplica(wait, nil)
			}
			ctx := context.Background()
			state := []byte(strings.Repeat("s", 60))
			reply := []byte(strings.Repeat("r", 500))
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				id := fmt.Sprintf("bench-%d", i) // a new member each time: every commit writes
				if err := s.Save(ctx, id, hotline.Commit{State: state, TTL: time.Hour, MsgID: "SM1", Reply: reply, Now: time.Now()}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
