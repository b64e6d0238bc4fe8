package redisstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/redistest"
)

func TestPolicyEditsAndChangeLog(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := context.Background()
		s, err := New(rdb, prefix, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if m, err := s.PolicyEdits(ctx); err != nil || len(m) != 0 {
			t.Fatalf("edits before any = %v, %v", m, err)
		}
		if ok, err := s.PutPolicyEdit(ctx, "taos-county", "", "v1", "c1"); !ok || err != nil {
			t.Fatalf("first edit = %v, %v", ok, err)
		}
		// A writer who read the entry before v1 was stored is refused, and nothing is logged.
		if ok, err := s.PutPolicyEdit(ctx, "taos-county", "", "other", "c-other"); ok || err != nil {
			t.Fatalf("stale edit = %v, %v; want refused", ok, err)
		}
		if ok, err := s.PutPolicyEdit(ctx, "taos-county", "v1", "v2", "c2"); !ok || err != nil {
			t.Fatalf("second edit = %v, %v", ok, err)
		}
		if ok, err := s.PutPolicyEdit(ctx, "luna-county", "", "w1", "c3"); !ok || err != nil {
			t.Fatalf("other entry = %v, %v", ok, err)
		}
		m, err := s.PolicyEdits(ctx)
		if err != nil || len(m) != 2 || m["taos-county"] != "v2" || m["luna-county"] != "w1" {
			t.Errorf("edits = %v, %v", m, err)
		}
		log, err := s.PolicyChanges(ctx, 2)
		if err != nil || fmt.Sprint(log) != "[c3 c2]" {
			t.Errorf("changes(2) = %v, %v; want newest first", log, err)
		}
		if all, _ := s.PolicyChanges(ctx, 10); len(all) != 3 {
			t.Errorf("changes = %v, want 3", all)
		}
	})
}

func TestPolicyChangeAnnounced(t *testing.T) {
	s, _ := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	heard := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() { s.WatchPolicyChanges(ctx, func() { heard <- struct{}{} }); close(done) }()
	// The subscription starts asynchronously: announce until it is heard.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(5 * time.Second)
	for {
		if err := s.AnnouncePolicyChange(ctx); err != nil {
			t.Fatal(err)
		}
		select {
		case <-heard:
			cancel()
			<-done
			return
		case <-deadline:
			t.Fatal("the announcement was never heard")
		case <-tick.C:
		}
	}
}
