package bot

import (
	"container/list"
	"sync"
	"time"

	"github.com/communityhotline/hotline/internal/flow"
)

// How many members an engine remembers, and for how long. A conversation's messages come
// seconds to minutes apart, so a few minutes is enough for almost every reply to find the
// member here; keeping more, or longer, would only hold more members' states (and
// subscribers' numbers) in the process's memory. At about 300 bytes a member the cache
// stays under 3 MB.
const (
	recentMembers = 10_000
	recentFor     = 5 * time.Minute
)

// recentStates remembers the sealed state each member was last seen in, with its opened
// form, so that the next message can step from it and commit in one round trip. It is only
// a guess: the commit compares the sealed state with the stored one and refuses a stale
// guess, handing back the real state. So it needs no invalidation when another process (or
// a worker, or an erasure) changes a member.
type recentStates struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	byID  map[string]*list.Element
	order list.List // by when each was put: front the newest, back the oldest
}

type recentState struct {
	id     string
	sealed []byte
	st     flow.State
	at     time.Time
	// heldUntil is when the limit the member passed resets (zero: none passed): until
	// then their messages are counted and dropped without flow work.
	heldUntil time.Time
}

func newRecentStates(max int, ttl time.Duration) *recentStates {
	return &recentStates{max: max, ttl: ttl, byID: make(map[string]*list.Element, max)}
}

// get returns member id's remembered state; ok is false (and the state zero, the guess for
// a member never seen) when there is none or it is older than the TTL. The state must not
// be modified: it is shared.
func (r *recentStates) get(id string, now time.Time) (sealed []byte, st flow.State, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	el, found := r.byID[id]
	if !found {
		return nil, flow.State{}, false
	}
	e := el.Value.(*recentState)
	if now.Sub(e.at) > r.ttl {
		r.order.Remove(el)
		delete(r.byID, id)
		return nil, flow.State{}, false
	}
	return e.sealed, e.st, true
}

// put remembers member id's state as sealed (st is its opened form); nil sealed forgets it.
func (r *recentStates) put(id string, sealed []byte, st flow.State, now time.Time) {
	if sealed == nil {
		r.drop(id)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, found := r.byID[id]; found {
		e := el.Value.(*recentState)
		e.sealed, e.st, e.at = sealed, st, now
		if !now.Before(e.heldUntil) {
			e.heldUntil = time.Time{}
		}
		r.order.MoveToFront(el)
		r.expire(now)
		return
	}
	r.byID[id] = r.order.PushFront(&recentState{id: id, sealed: sealed, st: st, at: now})
	r.expire(now)
}

// expire forgets the oldest past the bound, and everyone not seen for the TTL: a state (with
// a subscriber's number, or an answer the member typed) is kept in memory no longer than the
// TTL, whether or not the member writes again. r.mu is held.
func (r *recentStates) expire(now time.Time) {
	for oldest := r.order.Back(); oldest != nil; oldest = r.order.Back() {
		e := oldest.Value.(*recentState)
		if r.order.Len() <= r.max && now.Sub(e.at) <= r.ttl {
			break
		}
		r.order.Remove(oldest)
		delete(r.byID, e.id)
	}
}

// drop forgets member id.
func (r *recentStates) drop(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, found := r.byID[id]; found {
		r.order.Remove(el)
		delete(r.byID, id)
	}
}

// hold marks member id as over a limit until until (the member must be remembered).
func (r *recentStates) hold(id string, until time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, found := r.byID[id]; found {
		el.Value.(*recentState).heldUntil = until
	}
}

// held reports whether member id passed a limit that has not reset by now.
func (r *recentStates) held(id string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	el, found := r.byID[id]
	return found && now.Before(el.Value.(*recentState).heldUntil)
}

// sweep forgets the states older than the TTL, for a process that has stopped getting
// messages (put does the same on every message).
func (r *recentStates) sweep(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire(now)
}
