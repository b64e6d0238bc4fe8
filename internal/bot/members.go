package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// Members reads and changes members' states outside a conversation: for the workers that
// send and the services that open cases. It is the engine's store, keys and subscription
// index without the flows, so that those services need not hold the engine, which holds them.
type Members struct {
	cfg Config
}

// NewMembers returns Members over cfg's store, keys, clock, conversation TTL, subscription
// index and log (the rest of cfg is not used).
func NewMembers(cfg Config) *Members { return &Members{cfg: withDefaults(cfg)} }

// State returns member id's current state (for a worker deciding whether to send), or
// hotline.ErrNotFound for a member with none: never seen, expired, or erased.
func (e *Members) State(ctx context.Context, id string) (flow.State, error) {
	rec, err := e.cfg.Store.Load(ctx, id, "")
	if err != nil {
		return flow.State{}, err
	}
	if rec.State == nil {
		return flow.State{}, hotline.ErrNotFound
	}
	return e.openState(rec.State, id, privacy.MemberState(id))
}

// Update changes member id's state outside a conversation (a worker learning from the
// provider that the member opted out), with the same compare-and-set as a message, so it
// never overwrites a concurrent reply's state. change returns false to leave it as is. A
// member with no state (never seen, expired, erased) is not brought back: hotline.ErrNotFound.
func (e *Members) Update(ctx context.Context, id string, change func(st *flow.State) bool) error {
	stateCtx := privacy.MemberState(id)
	for attempt := 0; attempt < maxAttempts; attempt++ {
		rec, err := e.cfg.Store.Load(ctx, id, "")
		if err != nil {
			return err
		}
		if rec.State == nil {
			// Never seen, expired or erased: a change from outside a conversation must not
			// bring a member back (an erasure racing a job in another process would).
			return hotline.ErrNotFound
		}
		before, err := e.openState(rec.State, id, stateCtx)
		if err != nil {
			return err
		}
		after := before.Clone()
		if !change(&after) {
			return nil
		}
		if len(after.Areas) == 0 || after.OptedOut {
			after.Address = ""
		}
		stateBytes := flow.EncodeState(after)
		ttl := e.cfg.ConversationTTL
		if after.Durable() {
			ttl = 0
		}
		err = e.cfg.Store.Save(ctx, id, hotline.Commit{Expect: rec.State, State: e.cfg.Keys.Seal(stateBytes, stateCtx), TTL: ttl, Now: e.cfg.Now()})
		if errors.Is(err, hotline.ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		if subscriptionChanged(before, after) {
			e.syncSubscriptions(ctx, id, before, after)
		}
		return nil
	}
	return ErrGaveUp
}

// Create gives member id, who has no state (never seen, expired), the state st, written as
// a message's would be; a member who has one by then is left alone: hotline.ErrConflict.
// It is for a member the hotline must know before their first message (a caller who said
// yes to texts: their first text goes to their case).
func (e *Members) Create(ctx context.Context, id string, st flow.State) error {
	ttl := e.cfg.ConversationTTL
	if st.Durable() {
		ttl = 0
	}
	st.Active = e.cfg.Now().Unix()
	sealed := e.cfg.Keys.Seal(flow.EncodeState(st), privacy.MemberState(id))
	return e.cfg.Store.Save(ctx, id, hotline.Commit{State: sealed, TTL: ttl, Now: e.cfg.Now()})
}

// ErrUnreadableState means a member's stored state does not open (HOTLINE_SECRET changed, or
// the data was damaged). The member is not answered and the state is not overwritten: it may
// hold an opt-out, and starting afresh would silently cancel it.
var ErrUnreadableState = fmt.Errorf("member state cannot be read: %w", hotline.ErrDoNotAnswer)

// openState decodes a member's sealed state; nil is a member never seen.
func (e *Members) openState(sealed []byte, id string, ctx []byte) (flow.State, error) {
	var st flow.State
	if sealed == nil {
		return st, nil
	}
	plain, err := e.cfg.Keys.Open(sealed, ctx)
	if err == nil {
		st, err = flow.DecodeState(plain)
	}
	if err != nil {
		e.cfg.Log.Error("member state unreadable; not answering", "member", privacy.LogRef(id), "err", err)
		return flow.State{}, fmt.Errorf("%w: %v", ErrUnreadableState, err)
	}
	return st, nil
}

// syncSubscriptions brings the subscriber index in line with the member's state after a
// write that changed areas, language or opt-out. Two such writes racing could otherwise apply
// their changes to the index in the wrong order and leave a subscriber out of every list, so
// it syncs to the state as re-read after the write, and again if the state moved meanwhile.
func (e *Members) syncSubscriptions(ctx context.Context, id string, before, after flow.State) {
	if e.cfg.Subscriptions == nil {
		return
	}
	stateCtx := privacy.MemberState(id)
	for range 5 {
		rec, err := e.cfg.Store.Load(ctx, id, "")
		if err != nil {
			e.cfg.Log.Error("subscription index not updated", "member", privacy.LogRef(id), "err", err)
			return
		}
		fresh, err := e.openState(rec.State, id, stateCtx)
		if err != nil {
			return
		}
		// Leave every list before or after names, then join those the fresh state names.
		old := before
		old.Areas = append(append([]string(nil), before.Areas...), after.Areas...)
		if err := e.cfg.Subscriptions(ctx, id, old, fresh); err != nil {
			e.cfg.Log.Error("subscription index not updated", "member", privacy.LogRef(id), "err", err)
			return
		}
		if after.Lang != before.Lang {
			other := after
			other.Areas = old.Areas
			if err := e.cfg.Subscriptions(ctx, id, other, fresh); err != nil {
				e.cfg.Log.Error("subscription index not updated", "member", privacy.LogRef(id), "err", err)
				return
			}
		}
		again, err := e.cfg.Store.Load(ctx, id, "")
		if err != nil || bytes.Equal(again.State, rec.State) {
			return
		}
		before, after = fresh, fresh
	}
}

// resync re-adds a subscriber to the index when a message is answered again: if the process
// died between saving the state and updating the index, Twilio's retry repairs it.
func (e *Members) resync(ctx context.Context, id string, st flow.State) {
	if e.cfg.Subscriptions == nil || len(st.Areas) == 0 {
		return
	}
	if err := e.cfg.Subscriptions(ctx, id, st, st); err != nil {
		e.cfg.Log.Error("subscription index not updated", "member", privacy.LogRef(id), "err", err)
	}
}
