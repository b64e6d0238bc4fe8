// Package subindex keeps the subscriber index (the sets an alert is sent from) in step with
// members' states when Redis fails to take an update of it.
//
// A member's state is the record of truth and is written first; the index is written after.
// On a Redis Cluster the whole index is in one hash slot, so while its master is down and its
// replica takes over, every member who subscribes is told "done" and saved as subscribed, yet
// left out of the index: no alert would ever reach them. Sync remembers such members and
// brings their index entries in line with their state as soon as Redis takes the write,
// retrying with a back-off; nothing else would ever repair them.
//
// What it remembers is in memory: a process that stops before the repair is done loses it.
package subindex

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/streak"
)

// Index is where members are listed by area and language (redisstore.Store).
type Index interface {
	SyncSubscriptions(ctx context.Context, id string, before, after hotline.Subscription) error
}

// State reads where member id's state says they are subscribed now (nothing for a member
// who has none, erased or expired).
type State func(ctx context.Context, id string) (hotline.Subscription, error)

// The back-off of a repair that failed: firstRetry, doubling up to maxRetry.
const (
	firstRetry = 250 * time.Millisecond
	maxRetry   = 30 * time.Second
)

// Repairer updates the index and repairs what it could not update. It is safe for
// concurrent use.
type Repairer struct {
	index   Index
	state   State
	failing *streak.Log
	now     func() time.Time

	mu      sync.Mutex
	pending map[string]*repair
	running bool
	// manual leaves repairs to RepairDue calls (tests); otherwise a goroutine runs them
	// while any are pending.
	manual bool
}

// repair is what one member's index entries need: leaving the sets named in stale (language
// → areas), then joining those their state names.
type repair struct {
	stale    map[string][]string
	failures int
	next     time.Time
}

// New returns a Repairer. now is the clock (nil: time.Now).
func New(index Index, state State, log *slog.Logger, now func() time.Time) *Repairer {
	if now == nil {
		now = time.Now
	}
	return &Repairer{index: index, state: state, now: now, pending: map[string]*repair{},
		failing: streak.New(log, "updating the subscriber index (members are kept and repaired once it takes writes)", now)}
}

// Sync moves member id in the index from before to after (a bot.SubscriptionSync, once the
// states are turned into subscriptions). When Redis fails it returns the error, and the
// member is repaired later from their state, whatever it is by then.
func (r *Repairer) Sync(ctx context.Context, id string, before, after hotline.Subscription) error {
	err := r.index.SyncSubscriptions(ctx, id, before, after)
	if err == nil {
		return nil
	}
	r.failing.Fail(err)
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pending[id]
	if p == nil {
		p = &repair{stale: map[string][]string{}, next: r.now().Add(firstRetry)}
		r.pending[id] = p
	}
	for _, s := range []hotline.Subscription{before, after} {
		for _, a := range s.Areas {
			if !slices.Contains(p.stale[s.Lang], a) {
				p.stale[s.Lang] = append(p.stale[s.Lang], a)
			}
		}
	}
	if !r.running && !r.manual {
		r.running = true
		go r.run()
	}
	return err
}

// Pending is how many members wait for a repair.
func (r *Repairer) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}

// run repairs until nothing is pending.
func (r *Repairer) run() {
	t := time.NewTicker(firstRetry)
	defer t.Stop()
	for range t.C {
		if r.RepairDue(context.Background()) == 0 {
			return
		}
	}
}

// RepairDue tries the repairs whose back-off is over and returns how many members still wait.
func (r *Repairer) RepairDue(ctx context.Context) int {
	r.mu.Lock()
	due := map[string]map[string][]string{}
	for id, p := range r.pending {
		if !r.now().Before(p.next) {
			due[id] = cloneStale(p.stale)
		}
	}
	r.mu.Unlock()
	for id, stale := range due {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := r.repairOne(ctx, id, stale)
		cancel()
		r.mu.Lock()
		p := r.pending[id]
		switch {
		case err == nil && sameStale(p.stale, stale):
			delete(r.pending, id)
		case err == nil:
			// Sync failed for this member again meanwhile: repair that too, at once.
		default:
			p.failures++
			p.next = r.now().Add(min(firstRetry<<min(p.failures, 10), maxRetry))
		}
		r.mu.Unlock()
		if err != nil {
			r.failing.Fail(err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		r.running = false
		r.failing.OK()
	}
	return len(r.pending)
}

// repairOne takes member id out of the stale sets their state no longer names and puts them
// in those it does.
func (r *Repairer) repairOne(ctx context.Context, id string, stale map[string][]string) error {
	now, err := r.state(ctx, id)
	if err != nil {
		return err
	}
	for lang, areas := range stale {
		if err := r.index.SyncSubscriptions(ctx, id, hotline.Subscription{Areas: areas, Lang: lang}, now); err != nil {
			return err
		}
	}
	return r.index.SyncSubscriptions(ctx, id, now, now)
}

func cloneStale(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

func sameStale(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
