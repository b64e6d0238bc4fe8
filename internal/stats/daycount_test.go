package stats_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/redistest"
	"github.com/communityhotline/hotline/internal/stats"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// countingStore is the real store, counting round trips.
type countingStore struct {
	*redisstore.Store
	mu    sync.Mutex
	adds  int
	fails bool
}

func (c *countingStore) AddDayCounts(ctx context.Context, day string, in, out int64) error {
	c.mu.Lock()
	c.adds++
	fail := c.fails
	c.mu.Unlock()
	if fail {
		return errors.New("connection refused")
	}
	return c.Store.AddDayCounts(ctx, day, in, out)
}

type fixed []string

func (f fixed) Answer(context.Context, hotline.Inbound) (hotline.Reply, error) {
	return hotline.Reply{Texts: f}, nil
}

type okSender struct{}

func (okSender) Send(context.Context, hotline.Outbound) (string, error) { return "SM", nil }

func TestCountsAreBatchedAndSurviveAFailedFlush(t *testing.T) {
	rdb, prefix := redistest.Open(t)
	s, _ := redisstore.New(rdb, prefix, 0)
	store := &countingStore{Store: s}
	now := time.Date(2026, 5, 1, 23, 0, 0, 0, time.UTC)
	d := stats.New(store, time.UTC, func() time.Time { return now }, nil)
	ctx := context.Background()
	answer, send := d.Answerer(fixed{"a", "b"}), d.Sender(okSender{})
	for range 100 {
		answer.Answer(ctx, hotline.Inbound{})
		send.Send(ctx, hotline.Outbound{})
	}
	d.Wait()
	if store.adds != 0 {
		t.Fatalf("%d round trips for 200 messages within %v, want 0", store.adds, stats.FlushEvery)
	}
	store.fails = true
	now = now.Add(stats.FlushEvery)
	answer.Answer(ctx, hotline.Inbound{})
	d.Wait()
	if store.adds != 1 {
		t.Fatalf("%d flushes once due, want 1", store.adds)
	}
	store.fails = false
	in, out, err := d.Today(ctx)
	if err != nil || in != 101 || out != 302 {
		t.Errorf("today %d in, %d out, %v; want 101, 302 (nothing lost to the failed flush)", in, out, err)
	}
	now = now.Add(2 * time.Hour) // the next day
	if in, out, _ := d.Today(ctx); in != 0 || out != 0 {
		t.Errorf("a new day starts at %d, %d", in, out)
	}
}
