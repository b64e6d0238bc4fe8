// Package dispatch sends what waits in the send queue: it turns each sending broadcast's
// frozen recipient list into queue entries, and sends each entry at the shared rate, in the
// recipient's language, after checking once more that they still want it. Several processes
// may run it at once; a dead one's work is taken over.
package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/segment"
)

// Members is what the dispatcher needs of the conversation engine: a member's current state,
// and a safe way to change it when the provider reports an opt-out or a dead number.
type Members interface {
	State(ctx context.Context, id string) (flow.State, error)
	Update(ctx context.Context, id string, change func(st *flow.State) bool) error
}

// Limiter spaces sends out; shared by every process.
type Limiter interface {
	Take(ctx context.Context, n int) error
}

// Config holds a Dispatcher's dependencies and settings.
type Config struct {
	Store *redisstore.Store
	// Keys opens the direct messages (pages, relays) the outbox sealed.
	Keys    *privacy.Keys
	Members Members
	Sender  hotline.Sender
	Limiter Limiter
	// StatusCallback is the URL delivery reports go to (PUBLIC_URL + /twilio/status), or ""
	// for none; the broadcast id is added as ?bc=.
	StatusCallback string
	// GSM sends alerts transliterated to GSM-7.
	GSM bool
	// Consumer names this process in the consumer group; unique per process.
	Consumer string
	// Concurrency is how many sends may be in flight at once in this process.
	Concurrency int
	// ClaimIdle is how long an entry read by another process may sit unacknowledged before
	// this one takes it over (the other is presumed dead).
	ClaimIdle time.Duration
	// MaxAttempts bounds retries of a send that keeps failing for a passing reason.
	MaxAttempts int
	// Backoff is the first retry's delay; it doubles each time, up to a minute.
	Backoff time.Duration
	Log     *slog.Logger
	Now     func() time.Time
	// Sleep waits, or returns early with ctx's error; tests inject one.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rate is the shared send rate in segments per second (0 = unlimited). A process waits
	// its turn for each send; the read batch and the take-over delay follow from it so that
	// an entry waiting its turn is never taken for abandoned.
	Rate float64
	// OnOutcome, when set, is told every send attempt's outcome ("sent", "failed",
	// "skipped", "retry"), for metrics.
	OnOutcome func(outcome string)
}

// Dispatcher runs the send loop.
type Dispatcher struct {
	cfg   Config
	cache sync.Map // broadcast id → *cachedBroadcast
}

// cachedBroadcast is a broadcast as the send path needs it, with what every recipient's
// message shares worked out once.
type cachedBroadcast struct {
	b       hotline.Broadcast
	fetched time.Time
	// msgs is the message per language: the text as sent (in GSM-7 when cfg.GSM) and the
	// segments it takes.
	msgs     map[string]message
	callback string
}

type message struct {
	text     string
	segments int
}

// markTTL is how long a send's in-flight mark lasts from now, with a wait of extra ahead:
// the take-over delay (which covers waiting one's turn and a send) plus that wait.
func (d *Dispatcher) markTTL(extra time.Duration) time.Duration {
	return d.cfg.ClaimIdle + extra
}

// New returns a Dispatcher with defaults filled in.
func New(cfg Config) *Dispatcher {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.ClaimIdle <= 0 {
		cfg.ClaimIdle = 30 * time.Second
	}
	// With a rate limit, every sender in this process may wait behind all the others for a
	// message of up to 10 segments: an entry read but not yet sent must not look abandoned
	// to another process before that, or both would send it.
	if cfg.Rate > 0 {
		if wait := time.Duration(2 * float64(cfg.Concurrency) * 10 / cfg.Rate * float64(time.Second)); cfg.ClaimIdle < wait {
			cfg.ClaimIdle = wait
		}
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.OnOutcome == nil {
		cfg.OnOutcome = func(string) {}
	}
	return &Dispatcher{cfg: cfg}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run sends until ctx is done, then returns once the sends in flight have finished (a send
// is never cut off halfway; an entry not acknowledged is taken over by another process).
func (d *Dispatcher) Run(ctx context.Context) error {
	if err := d.cfg.Store.EnsureQueue(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() { d.enqueueLoop(ctx) })
	wg.Go(func() { d.claimLoop(ctx) })
	for range d.cfg.Concurrency {
		wg.Go(func() { d.sendLoop(ctx) })
	}
	wg.Wait()
	return nil
}

// enqueueLoop turns sending broadcasts' recipient lists into queue entries, a batch at a
// time, holding a lease so only one process enqueues a broadcast and a dead one's work
// resumes from its last saved cursor.
func (d *Dispatcher) enqueueLoop(ctx context.Context) {
	const lease = 30 * time.Second
	for ctx.Err() == nil {
		ids, err := d.cfg.Store.PendingEnqueues(ctx)
		if err != nil {
			d.cfg.Log.Error("listing broadcasts to enqueue", "err", err)
		}
		for _, id := range ids {
			if err := d.enqueue(ctx, id, lease); err != nil && ctx.Err() == nil {
				d.cfg.Log.Error("enqueueing broadcast", "bc", id, "err", err)
			}
		}
		if d.cfg.Sleep(ctx, 200*time.Millisecond) != nil {
			return
		}
	}
}

func (d *Dispatcher) enqueue(ctx context.Context, id string, lease time.Duration) error {
	ok, err := d.cfg.Store.TryLease(ctx, id, d.cfg.Consumer, lease)
	if err != nil || !ok {
		return err
	}
	b, err := d.cfg.Store.Broadcast(ctx, id)
	if err != nil {
		return err
	}
	priority := "normal"
	if b.Urgent {
		priority = "urgent"
	}
	for lang := range b.Text {
		for {
			if ok, err := d.cfg.Store.TryLease(ctx, id, d.cfg.Consumer, lease); err != nil || !ok {
				return err // lost the lease: another process goes on from the saved cursor
			}
			done, err := d.cfg.Store.EnqueueBatch(ctx, id, lang, priority, 1000)
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	}
	_, err = d.cfg.Store.FinishEnqueue(ctx, id, d.cfg.Now())
	return err
}

// claimLoop takes over entries another process read and never acknowledged.
func (d *Dispatcher) claimLoop(ctx context.Context) {
	for d.cfg.Sleep(ctx, d.cfg.ClaimIdle/3) == nil {
		entries, err := d.cfg.Store.Claim(ctx, d.cfg.Consumer, d.cfg.ClaimIdle, 100)
		if err != nil {
			d.cfg.Log.Error("claiming stale queue entries", "err", err)
			continue
		}
		for _, e := range entries {
			d.handle(ctx, e)
		}
	}
}

func (d *Dispatcher) sendLoop(ctx context.Context) {
	for ctx.Err() == nil {
		// Read one entry at a time when sends wait their turn (so no entry waits behind
		// its batch-mates), a few when they do not.
		batch := int64(4)
		if d.cfg.Rate > 0 {
			batch = 1
		}
		entries, err := d.cfg.Store.Read(ctx, d.cfg.Consumer, batch, time.Second)
		if err != nil {
			if ctx.Err() == nil {
				d.cfg.Log.Error("reading the send queue", "err", err)
				d.cfg.Sleep(ctx, time.Second)
			}
			continue
		}
		for _, e := range entries {
			d.handle(ctx, e)
		}
	}
}

// broadcast returns the broadcast, cached for a second: every entry needs its text and
// status, and a cancel should stop the sending within about a second.
func (d *Dispatcher) broadcast(ctx context.Context, id string) (*cachedBroadcast, error) {
	now := d.cfg.Now()
	if c, ok := d.cache.Load(id); ok && now.Sub(c.(*cachedBroadcast).fetched) < time.Second {
		return c.(*cachedBroadcast), nil
	}
	b, err := d.cfg.Store.Broadcast(ctx, id)
	if err != nil {
		return nil, err
	}
	c := &cachedBroadcast{b: b, fetched: now, msgs: make(map[string]message, len(b.Text))}
	for lang, text := range b.Text {
		if d.cfg.GSM {
			text = segment.ToGSM(text)
		}
		c.msgs[lang] = message{text: text, segments: max(segment.Count(text).Segments, 1)}
	}
	if d.cfg.StatusCallback != "" {
		c.callback = d.cfg.StatusCallback + "?bc=" + id
	}
	d.cache.Store(id, c)
	return c, nil
}

// message returns the message for a recipient in lang, queued for queuedLang: in their
// language, else in the one they were queued for.
func (c *cachedBroadcast) message(lang, queuedLang string) message {
	if m := c.msgs[lang]; m.text != "" {
		return m
	}
	if m, ok := c.msgs[queuedLang]; ok {
		return m
	}
	return message{segments: 1}
}

// handle sends one entry, or decides not to, and acknowledges it once its outcome is
// recorded. If ctx ends first, the entry stays unacknowledged for another process.
func (d *Dispatcher) handle(ctx context.Context, e redisstore.QueueEntry) {
	if e.Direct != "" {
		d.handleDirect(ctx, e)
		return
	}
	outcome, ok := d.process(ctx, e)
	if !ok {
		return
	}
	if outcome != "" {
		d.cfg.OnOutcome(string(outcome))
		// Recorded even when the process is told to stop meanwhile: the send is done.
		if _, err := d.cfg.Store.Finish(context.WithoutCancel(ctx), e.BC, e.Member, outcome, d.cfg.Now()); err != nil {
			d.cfg.Log.Error("recording send outcome", "bc", e.BC, "err", err)
			return
		}
	}
	// Written even when ctx ends meanwhile, like the outcome. Should it be lost all the
	// same, the entry is taken over later and skipped as handled.
	if err := d.cfg.Store.Ack(context.WithoutCancel(ctx), e); err != nil {
		d.cfg.Log.Error("acknowledging queue entry", "bc", e.BC, "err", err)
	}
}

// process returns the outcome to record ("" for none: a duplicate or canceled entry) and
// whether the entry is finished with.
func (d *Dispatcher) process(ctx context.Context, e redisstore.QueueEntry) (redisstore.Outcome, bool) {
	c, err := d.broadcast(ctx, e.BC)
	if errors.Is(err, hotline.ErrNotFound) {
		return "", true
	}
	if err != nil {
		d.cfg.Log.Error("reading broadcast", "bc", e.BC, "err", err)
		return "", false
	}
	b := c.b
	if b.Status == hotline.Canceled {
		return "", true
	}
	if done, err := d.cfg.Store.Handled(ctx, e.BC, e.Member); err != nil || done {
		return "", err == nil
	}
	st, err := d.cfg.Members.State(ctx, e.Member)
	if errors.Is(err, hotline.ErrNotFound) {
		// Erased (or expired) since the recipients were frozen.
		return redisstore.OutcomeSkipped, true
	}
	if errors.Is(err, hotline.ErrDoNotAnswer) {
		// A state that does not open (a lost secret, damage) may hold an opt-out: skip the
		// member rather than leave the entry to be taken over and retried for ever, which
		// would keep the broadcast from ever being done.
		return redisstore.OutcomeSkipped, true
	}
	if err != nil {
		d.cfg.Log.Error("reading member", "bc", e.BC, "err", err)
		return "", false
	}
	// Checked again at send time: the member may have opted out or left the area since the
	// list was frozen.
	if st.OptedOut || !wants(st, b.Areas) || st.Address == "" {
		return redisstore.OutcomeSkipped, true
	}
	if st.Undeliverable {
		return redisstore.OutcomeFailed, true
	}
	// Only one consumer sends a given message: an entry taken over while its first holder
	// still waits or retries stays with the first. The holder keeps its mark fresh before
	// every wait; if it dies, the mark expires with the take-over delay and the entry goes
	// to another process.
	if ok, err := d.cfg.Store.TryInflight(ctx, e.BC, e.Member, d.markTTL(0)); err != nil || !ok {
		return "", false
	}
	m := c.message(st.Lang, e.Lang)
	res, err := d.deliver(ctx, delivery{
		out:      hotline.Outbound{To: st.Address, Body: m.text, StatusCallback: c.callback},
		segments: m.segments,
		refresh:  func(ttl time.Duration) { d.cfg.Store.RefreshInflight(ctx, e.BC, e.Member, ttl) },
		handled:  func() (bool, error) { return d.cfg.Store.Handled(ctx, e.BC, e.Member) },
	})
	if res == resultGaveUp {
		d.cfg.Log.Error("send failed after retries", "bc", e.BC, "attempts", d.cfg.MaxAttempts, "err", err)
	}
	if outcome, finished, ok := res.settled(); ok {
		return outcome, finished
	}
	switch hotline.SendErrorKindOf(err) {
	case hotline.OptedOut:
		d.markOptedOut(ctx, e.Member)
		return redisstore.OutcomeSkipped, true
	case hotline.Undeliverable:
		d.update(ctx, e.Member, func(st *flow.State) bool { st.Undeliverable = true; return true })
		return redisstore.OutcomeFailed, true
	default:
		d.cfg.Log.Error("send refused", "bc", e.BC, "err", err)
		return redisstore.OutcomeFailed, true
	}
}

// delivery is one message for deliver to send, with the hooks that keep its in-flight mark
// and tell whether another process has handled it meanwhile.
type delivery struct {
	out      hotline.Outbound
	segments int
	refresh  func(ttl time.Duration)
	handled  func() (bool, error)
}

// sendResult is how deliver ended.
type sendResult int

const (
	resultSent    sendResult = iota
	resultRefused            // the provider refused for good; the error says why
	resultGaveUp             // passing failures outlasted MaxAttempts
	resultStopped            // ctx ended (or a check failed): leave the entry to be taken over
	resultHandled            // another process handled it while this one waited
)

// settled is the entry's outcome and whether it is finished with, for every ending but a
// refusal (ok false), which each kind of entry handles its own way.
func (res sendResult) settled() (outcome redisstore.Outcome, finished, ok bool) {
	switch res {
	case resultSent:
		return redisstore.OutcomeSent, true, true
	case resultHandled:
		return "", true, true
	case resultStopped:
		return "", false, true
	case resultGaveUp:
		return redisstore.OutcomeFailed, true, true
	}
	return "", false, false
}

// deliver sends dl.out at the shared rate, waiting out passing failures (429, 5xx,
// timeouts) with doubling, jittered backoff up to MaxAttempts tries.
func (d *Dispatcher) deliver(ctx context.Context, dl delivery) (sendResult, error) {
	checked := d.cfg.Now()
	for attempt := 1; ; attempt++ {
		dl.refresh(d.markTTL(0))
		if err := d.cfg.Limiter.Take(ctx, dl.segments); err != nil {
			return resultStopped, nil
		}
		// An entry that waited (for its turn, or a backoff) may have been handled by another
		// process meanwhile: check again just before sending. No extra round trip when
		// nothing waited.
		if d.cfg.Now().Sub(checked) > 100*time.Millisecond {
			done, err := dl.handled()
			if err != nil {
				return resultStopped, nil
			}
			if done {
				return resultHandled, nil
			}
			checked = d.cfg.Now()
		}
		// A send under way finishes even when the process is told to stop: cutting it could
		// leave the message delivered but unrecorded, and so sent twice. The sender's own
		// timeout still bounds it.
		_, err := d.cfg.Sender.Send(context.WithoutCancel(ctx), dl.out)
		if err == nil {
			return resultSent, nil
		}
		if hotline.SendErrorKindOf(err) != hotline.Retry {
			return resultRefused, err
		}
		d.cfg.OnOutcome("retry")
		if attempt >= d.cfg.MaxAttempts {
			return resultGaveUp, err
		}
		backoff := min(d.cfg.Backoff<<(attempt-1), time.Minute)
		backoff += time.Duration(rand.Int64N(int64(backoff)/2 + 1))
		dl.refresh(d.markTTL(backoff))
		if d.cfg.Sleep(ctx, backoff) != nil {
			return resultStopped, nil
		}
	}
}

// markOptedOut records what the provider said: the member blocked the hotline's number.
func (d *Dispatcher) markOptedOut(ctx context.Context, member string) {
	d.update(ctx, member, func(st *flow.State) bool {
		st.OptOut()
		return true
	})
}

func (d *Dispatcher) update(ctx context.Context, member string, change func(st *flow.State) bool) {
	if err := d.cfg.Members.Update(ctx, member, change); err != nil {
		d.cfg.Log.Error("updating member after a provider error", "err", err)
	}
}

// wants reports whether a member in state st still follows one of areas (any area when
// areas is empty).
func wants(st flow.State, areas []string) bool {
	if len(areas) == 0 {
		return len(st.Areas) > 0
	}
	for _, a := range st.Areas {
		if slices.Contains(areas, a) {
			return true
		}
	}
	return false
}
