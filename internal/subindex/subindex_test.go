package subindex

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
)

// fakeIndex is the subscriber index in memory, whose writes fail while down is set.
type fakeIndex struct {
	mu   sync.Mutex
	sets map[string][]string // area/lang → member ids
	down bool
}

func (f *fakeIndex) SyncSubscriptions(_ context.Context, id string, before, after hotline.Subscription) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return errors.New("dial tcp 127.0.0.1:7101: connect: connection refused")
	}
	for _, a := range before.Areas {
		if before.Lang != after.Lang || !slices.Contains(after.Areas, a) {
			k := a + "/" + before.Lang
			f.sets[k] = slices.DeleteFunc(f.sets[k], func(m string) bool { return m == id })
		}
	}
	for _, a := range after.Areas {
		k := a + "/" + after.Lang
		if !slices.Contains(f.sets[k], id) {
			f.sets[k] = append(f.sets[k], id)
		}
	}
	return nil
}

func (f *fakeIndex) in(key, id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Contains(f.sets[key], id)
}

func TestRepairedOnceRedisTakesWrites(t *testing.T) {
	idx := &fakeIndex{sets: map[string][]string{"abq/es": {"m1"}}}
	states := map[string]hotline.Subscription{}
	var mu sync.Mutex
	state := func(_ context.Context, id string) (hotline.Subscription, error) {
		mu.Lock()
		defer mu.Unlock()
		return states[id], nil
	}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	r := New(idx, state, nil, func() time.Time { return now })
	r.manual = true
	ctx := context.Background()

	// m1 moves from Albuquerque to Taos in Spanish, m2 subscribes to Taos in English, while
	// the index's master is down. Their states say so.
	idx.down = true
	states["m1"] = hotline.Subscription{Areas: []string{"taos"}, Lang: "es"}
	states["m2"] = hotline.Subscription{Areas: []string{"taos"}, Lang: "en"}
	if err := r.Sync(ctx, "m1", hotline.Subscription{Areas: []string{"abq"}, Lang: "es"}, states["m1"]); err == nil {
		t.Fatal("Sync hid the failure from the caller")
	}
	r.Sync(ctx, "m2", hotline.Subscription{}, states["m2"])
	// m2 then changes language before the repair: the repair follows the state as it is.
	states["m2"] = hotline.Subscription{Areas: []string{"taos"}, Lang: "es"}
	r.Sync(ctx, "m2", hotline.Subscription{Areas: []string{"taos"}, Lang: "en"}, states["m2"])

	now = now.Add(firstRetry)
	if n := r.RepairDue(ctx); n != 2 {
		t.Fatalf("%d pending while the index is down, want 2", n)
	}
	now = now.Add(time.Second) // past the back-off of a second failure
	idx.down = false
	if n := r.RepairDue(ctx); n != 0 {
		t.Fatalf("%d pending once the index takes writes", n)
	}
	for _, c := range []struct {
		key, id string
		in      bool
	}{{"abq/es", "m1", false}, {"taos/es", "m1", true}, {"taos/en", "m2", false}, {"taos/es", "m2", true}} {
		if idx.in(c.key, c.id) != c.in {
			t.Errorf("%s in %s: %v, want %v", c.id, c.key, !c.in, c.in)
		}
	}
}

func TestBackoff(t *testing.T) {
	idx := &fakeIndex{sets: map[string][]string{}, down: true}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	reads := 0
	r := New(idx, func(context.Context, string) (hotline.Subscription, error) {
		reads++
		return hotline.Subscription{Areas: []string{"taos"}, Lang: "es"}, nil
	}, nil, func() time.Time { return now })
	r.manual = true
	r.Sync(context.Background(), "m1", hotline.Subscription{}, hotline.Subscription{Areas: []string{"taos"}, Lang: "es"})
	r.RepairDue(context.Background())
	if reads != 0 {
		t.Fatal("repaired before the first back-off")
	}
	now = now.Add(firstRetry)
	r.RepairDue(context.Background())
	now = now.Add(2*firstRetry - time.Millisecond)
	r.RepairDue(context.Background())
	if reads != 1 {
		t.Fatalf("%d repairs tried, want 1 within the back-off", reads)
	}
}
