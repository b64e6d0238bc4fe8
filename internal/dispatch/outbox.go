package dispatch

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/segment"
)

// Outbox is a hotline.Sender for messages to one person — a page, a relay, a notice. It sends
// at once, as before, so a relay arrives in the time a webhook takes and in the order it was
// written; when the provider fails for a passing reason (a 429, a 5xx, a timeout) it queues
// the message, sealed, for a worker to send ahead of every alert with backoff and retries,
// instead of losing it. A refusal (an invalid number, an opt-out) is returned as before.
// Send returns "" as the provider id of a queued message.
type Outbox struct {
	Sender hotline.Sender
	Store  Store
	Keys   *privacy.Keys
	Log    *slog.Logger
	// OnQueued, when set, is told of each message queued for a retry, for metrics.
	OnQueued func()
}

// directMessage is what an outbox entry holds, sealed.
type directMessage struct {
	To       string `json:"t"`
	Body     string `json:"b"`
	Member   string `json:"m,omitempty"`
	Callback string `json:"c,omitempty"`
	// A template (hotline.Outbound.ContentSid) and its variables.
	ContentSid string `json:"cs,omitempty"`
	Variables  string `json:"cv,omitempty"`
}

// directIDs are 128 random bits: ids are remembered for a day once sent, and a collision
// would silently skip a message.
var directIDs = base32.StdEncoding.WithPadding(base32.NoPadding)

// Send sends m, or queues it when the provider fails for a passing reason.
func (o Outbox) Send(ctx context.Context, m hotline.Outbound) (string, error) {
	sid, err := o.Sender.Send(ctx, m)
	if err == nil || hotline.SendErrorKindOf(err) != hotline.Retry {
		return sid, err
	}
	if qerr := o.queue(context.WithoutCancel(ctx), m); qerr != nil {
		return "", errors.Join(err, qerr)
	}
	if o.Log != nil {
		o.Log.Warn("send failed for a passing reason; queued for retry", "err", err)
	}
	if o.OnQueued != nil {
		o.OnQueued()
	}
	return "", nil
}

func (o Outbox) queue(ctx context.Context, m hotline.Outbound) error {
	var raw [16]byte
	rand.Read(raw[:])
	return o.queueAs(ctx, directIDs.EncodeToString(raw[:]), m)
}

// onceInflight is how long SendOnce holds a message while it sends: twice what the
// provider's client waits for an answer (twilio.DefaultSendTimeout, 10 s), so that no other
// process sends it meanwhile. It is also how long a page waits, in the queue, when the
// attempt that held it failed without letting go (its master died mid-failover): a shorter
// hold gets that page to the volunteer sooner.
const onceInflight = 20 * time.Second

// SendOnce sends m unless a message with id was sent already (effects.Queue): at once, and
// when that cannot be done now — the provider fails for a passing reason, or another process
// holds the message — queued under id for the workers, who send it once. A refusal (an
// invalid number, an opt-out) is final: recorded, logged, not retried. An error means m was
// neither sent nor queued.
func (o Outbox) SendOnce(ctx context.Context, id string, m hotline.Outbound) error {
	done, err := o.Store.DirectDone(ctx, id)
	if err != nil || done {
		return err
	}
	mine, err := o.Store.TryDirectInflight(ctx, id, onceInflight)
	if err != nil {
		return err
	}
	if !mine {
		// Another process is sending it, or died sending it: the workers settle which.
		return o.queueAs(ctx, id, m)
	}
	_, err = o.Sender.Send(ctx, m)
	if err != nil && hotline.SendErrorKindOf(err) == hotline.Retry {
		o.Store.ReleaseDirectInflight(context.WithoutCancel(ctx), id)
		if qerr := o.queueAs(context.WithoutCancel(ctx), id, m); qerr != nil {
			return errors.Join(err, qerr)
		}
		if o.OnQueued != nil {
			o.OnQueued()
		}
		return nil
	}
	if err != nil && o.Log != nil {
		o.Log.Error("message refused", "queued", id, "err", err)
	}
	if ferr := o.Store.FinishDirect(context.WithoutCancel(ctx), id); ferr != nil && o.Log != nil {
		// Sent, but not recorded: a re-run of its job would send it again.
		o.Log.Error("recording a sent message", "queued", id, "err", ferr)
	}
	return nil
}

func (o Outbox) queueAs(ctx context.Context, id string, m hotline.Outbound) error {
	plain, err := json.Marshal(directMessage{To: m.To, Body: m.Body, Member: m.Member, Callback: m.StatusCallback,
		ContentSid: m.ContentSid, Variables: m.ContentVariables})
	if err != nil {
		return fmt.Errorf("encoding a queued message: %w", err)
	}
	return o.Store.EnqueueDirect(ctx, id, o.Keys.Seal(plain, privacy.QueuedMessage(id)))
}

// handleDirect sends a queued direct message, or decides not to, and removes it from the
// queue once that is recorded. If ctx ends first, the entry stays for another process.
func (d *Dispatcher) handleDirect(ctx context.Context, e hotline.QueueEntry) {
	outcome, ok := d.processDirect(ctx, e)
	if !ok {
		return
	}
	if outcome != "" {
		d.cfg.OnOutcome(string(outcome))
		if err := d.cfg.Store.FinishDirect(context.WithoutCancel(ctx), e.Direct); err != nil {
			d.cfg.Log.Error("recording send outcome", "queued", e.Direct, "err", err)
			return
		}
	}
	if err := d.cfg.Store.Ack(context.WithoutCancel(ctx), e); err != nil {
		d.cfg.Log.Error("acknowledging queue entry", "queued", e.Direct, "err", err)
	}
}

// stillWanted reports whether a queued message to member (empty for a volunteer or an
// organizer) may still go: not once they have opted out, erased their data, or have a state
// that does not open (it may hold an opt-out).
func (d *Dispatcher) stillWanted(ctx context.Context, member string) (bool, error) {
	if member == "" {
		return true, nil
	}
	st, err := d.cfg.Members.State(ctx, member)
	switch {
	case errors.Is(err, hotline.ErrDoNotAnswer), errors.Is(err, hotline.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return !st.OptedOut, nil
}

func (d *Dispatcher) processDirect(ctx context.Context, e hotline.QueueEntry) (hotline.Outcome, bool) {
	if done, err := d.cfg.Store.DirectDone(ctx, e.Direct); err != nil || done {
		return "", err == nil
	}
	var m directMessage
	plain, err := d.cfg.Keys.Open(e.Sealed, privacy.QueuedMessage(e.Direct))
	if err == nil {
		err = json.Unmarshal(plain, &m)
	}
	if err != nil || m.To == "" {
		// Sealed with a secret since retired, or damaged: it can never be sent.
		d.cfg.Log.Error("queued message unreadable; dropped", "queued", e.Direct, "err", err)
		return hotline.OutcomeFailed, true
	}
	if wanted, err := d.stillWanted(ctx, m.Member); err != nil || !wanted {
		if err != nil {
			d.cfg.Log.Error("reading member", "queued", e.Direct, "err", err)
			return "", false
		}
		return hotline.OutcomeSkipped, true
	}
	if ok, err := d.cfg.Store.TryDirectInflight(ctx, e.Direct, d.markTTL(0)); err != nil || !ok {
		return "", false
	}
	res, err := d.deliver(ctx, delivery{
		out: hotline.Outbound{To: m.To, Body: m.Body, Member: m.Member, StatusCallback: m.Callback,
			ContentSid: m.ContentSid, ContentVariables: m.Variables},
		segments: max(segment.Count(m.Body).Segments, 1),
		wa:       hotline.ChannelOf(m.To) == hotline.WhatsApp,
		checked:  d.cfg.Now(),
		hold: func(ttl time.Duration) (sendResult, bool) {
			d.cfg.Store.RefreshDirectInflight(ctx, e.Direct, ttl)
			return 0, true
		},
		// After a wait, the message may have been sent by another process, or its member
		// may have opted out or erased their data meanwhile: either way it is done with.
		recheck: func() (sendResult, bool) {
			done, err := d.cfg.Store.DirectDone(ctx, e.Direct)
			if err == nil && !done {
				var wanted bool
				wanted, err = d.stillWanted(ctx, m.Member)
				done = !wanted
			}
			switch {
			case err != nil:
				return resultStopped, false
			case done:
				return resultHandled, false
			}
			return 0, true
		},
	})
	if res == resultGaveUp {
		d.cfg.Log.Error("message not sent after retries", "queued", e.Direct, "attempts", d.cfg.MaxAttempts, "err", err)
	}
	if outcome, finished, ok := res.settled(); ok {
		return outcome, finished
	}
	if hotline.SendErrorKindOf(err) == hotline.OptedOut && m.Member != "" {
		d.markOptedOut(ctx, m.Member)
		return hotline.OutcomeSkipped, true
	}
	d.cfg.Log.Error("message refused", "queued", e.Direct, "err", err)
	return hotline.OutcomeFailed, true
}
