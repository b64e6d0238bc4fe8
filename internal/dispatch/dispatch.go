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
	"strconv"
	"sync"
	"time"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/segment"
	"github.com/communityhotline/hotline/internal/whatsapp"
)

// Members is what the dispatcher needs of the conversation engine: a member's current state
// (for a direct message; an alert's recipients are read a batch at a time, see openState),
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
	Store Store
	// Keys opens the states of an alert's recipients (sealed as the engine seals them) and
	// the direct messages (pages, relays) the outbox sealed.
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
	// "skipped", "skipped_no_template", "retry"), for metrics.
	OnOutcome func(outcome string)
	// WhatsApp is how alerts and queued messages reach members on WhatsApp. Its zero value
	// sends them as text, paced with SMS: right only for a hotline without WhatsApp.
	WhatsApp WhatsApp
}

// WhatsApp is what the dispatcher needs to send on WhatsApp: its own pace, its 24-hour
// window and the templates that go outside it.
type WhatsApp struct {
	// Templates are the alert templates by language (whatsapp.Alert); outside the window, a
	// member whose language has none is skipped and counted (skipped_no_template).
	Templates whatsapp.Templates
	// Windows says when a member last wrote on WhatsApp; nil: their state's Active alone,
	// which a member at home does not keep (so they would all be outside the window).
	Windows Windows
	// Limiter and Rate pace WhatsApp messages, one unit a message whatever its length
	// (Meta counts messages, not segments); nil: they take their segments of Limiter.
	Limiter Limiter
	Rate    float64
}

// Windows says when a member last wrote on WhatsApp (redisstore.Store).
type Windows interface {
	WhatsAppLastWrote(ctx context.Context, member string) (time.Time, error)
}

// Dispatcher runs the send loop.
type Dispatcher struct {
	cfg   Config
	cache sync.Map // broadcast id → *cachedBroadcast
	rec   *recorder
}

// readBatch is how many queue entries a sender reads, claims and checks at a time when sends
// do not wait their turn: each costs two round trips a batch instead of several a message.
// A batch is sent within a few milliseconds, so an urgent alert waits behind at most that.
const readBatch = 32

// recheckAfter is how long after it was read an entry may wait (for its turn, a backoff,
// its batch-mates) and still be sent without a second look: past it, its recipient's state
// is read again (they may have opted out meanwhile) and its claim renewed, or found lost.
const recheckAfter = 100 * time.Millisecond

// freshFor is recheckAfter, or less when the take-over delay is short: a claim made when an
// entry is read lasts the take-over delay, and must be renewed well before it ends.
func (d *Dispatcher) freshFor() time.Duration { return min(recheckAfter, d.cfg.ClaimIdle/4) }

// cachedBroadcast is a broadcast as the send path needs it, with what every recipient's
// message shares worked out once.
type cachedBroadcast struct {
	b       hotline.Broadcast
	fetched time.Time
	// msgs is the message per language: the text as sent by SMS (in GSM-7 when cfg.GSM)
	// and the segments it takes, and as sent on WhatsApp.
	msgs     map[string]message
	callback string
}

// message is an alert's text in one language, worked out once for each channel.
type message struct {
	// text and segments are the SMS message.
	text     string
	segments int
	// wa is the text as written, for WhatsApp, which has no GSM-7 to fit: accents, ñ and
	// ¿¡ go as the organizer wrote them; waVariables is the alert template's variables.
	wa, waVariables string
}

// markTTL is how long a send's in-flight mark lasts from now, with a wait of extra ahead:
// the take-over delay (which covers waiting one's turn and a send) plus that wait.
func (d *Dispatcher) markTTL(extra time.Duration) time.Duration {
	return d.cfg.ClaimIdle + extra
}

// New returns a Dispatcher with defaults filled in. Store, Keys, Members, Sender and Limiter
// are required.
func New(cfg Config) *Dispatcher {
	if cfg.Store == nil || cfg.Keys == nil || cfg.Members == nil || cfg.Sender == nil || cfg.Limiter == nil {
		panic("dispatch: Config needs a Store, Keys, Members, a Sender and a Limiter")
	}
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
	// The same for a WhatsApp message, one unit each at WhatsApp's rate.
	if cfg.WhatsApp.Limiter != nil && cfg.WhatsApp.Rate > 0 {
		if wait := time.Duration(2 * float64(cfg.Concurrency) / cfg.WhatsApp.Rate * float64(time.Second)); cfg.ClaimIdle < wait {
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
	return &Dispatcher{cfg: cfg, rec: newRecorder(cfg.Store, cfg.Log, cfg.Now)}
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
	// Each sender claims messages in a name of its own, so that two senders of one
	// process never both hold a recipient's message (two entries for one recipient).
	wg.Go(func() { d.claimLoop(ctx, d.cfg.Consumer+"/takeover") })
	for i := range d.cfg.Concurrency {
		wg.Go(func() { d.sendLoop(ctx, d.cfg.Consumer+"/"+strconv.Itoa(i)) })
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

// claimLoop takes over entries another process read and never acknowledged, sending them as
// holder.
func (d *Dispatcher) claimLoop(ctx context.Context, holder string) {
	for d.cfg.Sleep(ctx, d.cfg.ClaimIdle/3) == nil {
		readAt := d.cfg.Now()
		entries, err := d.cfg.Store.Claim(ctx, d.cfg.Consumer, d.cfg.ClaimIdle, 100)
		if err != nil {
			d.cfg.Log.Error("claiming stale queue entries", "err", err)
			continue
		}
		d.ack(ctx, d.sendAll(ctx, holder, entries, readAt, nil))
	}
}

// sendLoop reads and sends entries as holder until ctx ends.
func (d *Dispatcher) sendLoop(ctx context.Context, holder string) {
	// done holds the entries of the last batch that are finished with; they are
	// acknowledged with the next read, in the same round trip.
	var done []hotline.QueueEntry
	// A read takes entries of every priority at once. When one priority fills its part of
	// it, more of that priority may be waiting: the less urgent entries read with it wait
	// in later (read at laterAt), and the next reads take that priority and the more
	// urgent ones only (the first upTo), until a read does not fill it; then the entries
	// waiting go with that read's.
	var later []hotline.QueueEntry
	var laterAt time.Time
	upTo := len(hotline.Priorities)
	for ctx.Err() == nil {
		// Read one entry at a time when sends wait their turn (so no entry waits behind
		// its batch-mates), a batch when they do not.
		batch := readBatch
		if d.cfg.Rate > 0 || d.cfg.WhatsApp.Limiter != nil && d.cfg.WhatsApp.Rate > 0 {
			batch = 1
		}
		block := time.Second
		if len(later) > 0 {
			block = 0 // never wait on the more urgent alone while the less urgent wait
		}
		readAt := d.cfg.Now()
		entries, err := d.cfg.Store.Read(ctx, d.cfg.Consumer, int64(batch), block, done, hotline.Priorities[:upTo]...)
		if err != nil {
			if ctx.Err() == nil {
				d.cfg.Log.Error("reading the send queue", "err", err)
				d.cfg.Sleep(ctx, time.Second)
			}
			continue
		}
		upTo = len(hotline.Priorities)
		if now, rest, full := splitByPriority(entries, batch); len(rest) > 0 {
			if len(later) == 0 {
				laterAt = readAt
			}
			later = append(later, rest...)
			entries, upTo = now, priorityOf(full)+1
		} else if len(later) > 0 {
			entries, readAt, later = append(entries, later...), laterAt, nil
			slices.SortStableFunc(entries, func(a, b hotline.QueueEntry) int { return priorityOf(a) - priorityOf(b) })
		}
		done = d.sendAll(ctx, holder, entries, readAt, done[:0])
	}
	d.ack(ctx, done)
}

// splitByPriority splits entries, most urgent first, after the first priority that has
// batch of them, the most a read takes of one: full is its last entry.
func splitByPriority(entries []hotline.QueueEntry, batch int) (now, rest []hotline.QueueEntry, full hotline.QueueEntry) {
	for i := 0; i < len(entries); {
		j := i
		for j < len(entries) && entries[j].Priority == entries[i].Priority {
			j++
		}
		if j-i >= batch {
			return entries[:j], entries[j:], entries[j-1]
		}
		i = j
	}
	return entries, nil, hotline.QueueEntry{}
}

// priorityOf is e's place in hotline.Priorities, most urgent 0.
func priorityOf(e hotline.QueueEntry) int { return slices.Index(hotline.Priorities, e.Priority) }

// ack acknowledges entries that are finished with, even when ctx has ended: their outcomes
// are recorded. Should it fail, the entries are taken over later and skipped as done.
func (d *Dispatcher) ack(ctx context.Context, entries []hotline.QueueEntry) {
	if len(entries) == 0 {
		return
	}
	if err := d.cfg.Store.Ack(context.WithoutCancel(ctx), entries...); err != nil {
		d.cfg.Log.Error("acknowledging queue entries", "entries", len(entries), "err", err)
	}
}

// sendAll sends entries, read at readAt, most urgent first as read, and returns done with
// the alert entries that are finished with (their outcomes recorded) appended, to be
// acknowledged. The alerts are claimed for holder and their recipients read in one round
// trip; each outcome is recorded with those of the other senders. An entry whose send was
// not settled (ctx ended, Redis failed, another holds it) is not returned: it stays
// unacknowledged, to be taken over.
func (d *Dispatcher) sendAll(ctx context.Context, holder string, entries []hotline.QueueEntry, readAt time.Time, done []hotline.QueueEntry) []hotline.QueueEntry {
	alerts := make([]hotline.QueueEntry, 0, len(entries))
	for _, e := range entries {
		if e.Direct != "" {
			d.handleDirect(ctx, e)
		} else {
			alerts = append(alerts, e)
		}
	}
	if len(alerts) == 0 || ctx.Err() != nil {
		return done
	}
	prepared, err := d.cfg.Store.ClaimSends(ctx, holder, alerts, d.markTTL(0))
	if err != nil {
		if ctx.Err() == nil {
			d.cfg.Log.Error("claiming sends", "entries", len(alerts), "err", err)
		}
		return done
	}
	for i, e := range alerts {
		if ctx.Err() != nil {
			break
		}
		outcome, ok := d.process(ctx, holder, e, prepared[i], readAt)
		switch {
		case !ok:
		case outcome == "":
			done = append(done, e)
		default:
			d.cfg.OnOutcome(string(outcome))
			// Recorded even when the process is told to stop meanwhile: the send is done.
			if err := d.rec.record(hotline.SendOutcome{Entry: e, Outcome: outcome}); err != nil {
				d.cfg.Log.Error("recording send outcome", "bc", e.BC, "err", err)
			} else {
				done = append(done, e)
			}
		}
	}
	return done
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
		m := message{text: text, wa: text, waVariables: whatsapp.AlertVariables(text)}
		if d.cfg.GSM {
			m.text = segment.ToGSM(text)
		}
		m.segments = max(segment.Count(m.text).Segments, 1)
		c.msgs[lang] = m
	}
	if d.cfg.StatusCallback != "" {
		c.callback = d.cfg.StatusCallback + "?bc=" + id
	}
	d.cache.Store(id, c)
	return c, nil
}

// message returns the message for a recipient in lang, queued for queuedLang: in their
// language, else in the one they were queued for; and the language it is in.
func (c *cachedBroadcast) message(lang, queuedLang string) (message, string) {
	if m := c.msgs[lang]; m.text != "" {
		return m, lang
	}
	if m, ok := c.msgs[queuedLang]; ok {
		return m, queuedLang
	}
	return message{segments: 1}, lang
}

// process sends the message of entry e, claimed for holder as p with its recipient's state,
// and read at readAt, or decides not to. It returns the outcome to record ("" for none: a
// duplicate or canceled entry) and whether the entry is finished with.
func (d *Dispatcher) process(ctx context.Context, holder string, e hotline.QueueEntry, p hotline.PreparedSend, readAt time.Time) (hotline.Outcome, bool) {
	c, err := d.broadcast(ctx, e.BC)
	if errors.Is(err, hotline.ErrNotFound) {
		return "", true
	}
	if err != nil {
		d.cfg.Log.Error("reading broadcast", "bc", e.BC, "err", err)
		return "", false
	}
	if c.b.Status == hotline.Canceled {
		return "", true
	}
	st, end, ok := d.verdict(e, c.b, p)
	if !ok {
		outcome, finished, _ := end.settled()
		return outcome, finished
	}
	// Only one holder sends a given message: its claim lasts the take-over delay and is
	// renewed before every wait. If the holder dies, the claim expires with the take-over
	// delay and the entry goes to another process.
	claim := func(ttl time.Duration) (hotline.PreparedSend, error) {
		p, err := d.cfg.Store.ClaimSends(ctx, holder, []hotline.QueueEntry{e}, ttl)
		if err != nil {
			return hotline.PreparedSend{}, err
		}
		return p[0], nil
	}
	m, lang := c.message(st.Lang, e.Lang)
	dl := delivery{
		out:      hotline.Outbound{To: st.Address, Body: m.text, StatusCallback: c.callback},
		segments: m.segments,
		checked:  readAt,
		hold: func(ttl time.Duration) (sendResult, bool) {
			switch p, err := claim(ttl); {
			case err != nil || p.Claim == hotline.ClaimHeld:
				return resultStopped, false
			case p.Claim == hotline.ClaimDone:
				return resultHandled, false
			}
			return 0, true
		},
		// After a wait, the message may have been handled by another process, or its
		// recipient may have opted out, left the area or erased their data meanwhile.
		recheck: func() (sendResult, bool) {
			p, err := claim(d.markTTL(0))
			if err != nil {
				return resultStopped, false
			}
			_, end, ok := d.verdict(e, c.b, p)
			return end, ok
		},
	}
	if hotline.ChannelOf(st.Address) == hotline.WhatsApp {
		how, err := d.onWhatsApp(ctx, e.Member, st, lang)
		if err != nil {
			d.cfg.Log.Error("reading a WhatsApp window; the alert waits", "bc", e.BC, "err", err)
			return "", false
		}
		switch how.Action {
		case whatsapp.Skip:
			return hotline.OutcomeSkippedNoTemplate, true
		case whatsapp.Template:
			dl.out.Body, dl.out.ContentSid, dl.out.ContentVariables = "", how.ContentSid, m.waVariables
		default:
			dl.out.Body = m.wa
		}
		if c.callback != "" {
			dl.out.StatusCallback = whatsapp.StatusCallback(c.callback, d.cfg.Keys, e.Member)
		}
		dl.wa = true
	}
	res, err := d.deliver(ctx, dl)
	if res == resultGaveUp {
		d.cfg.Log.Error("send failed after retries", "bc", e.BC, "attempts", d.cfg.MaxAttempts, "err", err)
	}
	if outcome, finished, ok := res.settled(); ok {
		return outcome, finished
	}
	switch hotline.SendErrorKindOf(err) {
	case hotline.OptedOut:
		d.markOptedOut(ctx, e.Member)
		return hotline.OutcomeSkipped, true
	case hotline.Undeliverable:
		d.update(ctx, e.Member, func(st *flow.State) bool { st.Undeliverable = true; return true })
		return hotline.OutcomeFailed, true
	default:
		d.cfg.Log.Error("send refused", "bc", e.BC, "err", err)
		return hotline.OutcomeFailed, true
	}
}

// onWhatsApp decides how an alert in lang goes to member, in state st, on WhatsApp: as text
// inside their window, as the alert template outside it, or not at all. The window is the
// later of the state's Active and the record of their last WhatsApp message.
func (d *Dispatcher) onWhatsApp(ctx context.Context, member string, st flow.State, lang string) (whatsapp.Decision, error) {
	var seen time.Time
	if d.cfg.WhatsApp.Windows != nil {
		var err error
		if seen, err = d.cfg.WhatsApp.Windows.WhatsAppLastWrote(ctx, member); err != nil {
			return whatsapp.Decision{}, err
		}
	}
	return whatsapp.Decide(whatsapp.LastInbound(st.Active, seen), d.cfg.Now(), hotline.WhatsApp, whatsapp.Alert, lang, d.cfg.WhatsApp.Templates), nil
}

// verdict says whether broadcast b may go now to the recipient of e, prepared as p: true
// with their state, or how the delivery ends. The recipient is checked at send time, for
// they may have opted out, left the area or erased their data since the list was frozen.
func (d *Dispatcher) verdict(e hotline.QueueEntry, b hotline.Broadcast, p hotline.PreparedSend) (flow.State, sendResult, bool) {
	switch p.Claim {
	case hotline.ClaimDone:
		return flow.State{}, resultHandled, false
	case hotline.ClaimHeld:
		return flow.State{}, resultStopped, false
	}
	st, err := openState(d.cfg.Keys, e.Member, p.State)
	switch {
	case errors.Is(err, hotline.ErrNotFound):
		// Erased, or following no area any more.
		return st, resultUnwanted, false
	case err != nil:
		// A state that does not open (a lost secret, damage) may hold an opt-out: skip the
		// member rather than leave the entry to be taken over and retried for ever, which
		// would keep the broadcast from ever being done.
		d.cfg.Log.Error("member state unreadable; alert not sent", "bc", e.BC, "err", err)
		return st, resultUnwanted, false
	case st.OptedOut || !wants(st, b.Areas) || st.Address == "":
		return st, resultUnwanted, false
	case st.Undeliverable:
		return st, resultUndeliverable, false
	}
	return st, 0, true
}

// delivery is one message for deliver to send, with the hooks that keep its claim and
// check it again after a wait.
type delivery struct {
	out      hotline.Outbound
	segments int
	// wa sends it at WhatsApp's pace (Config.WhatsApp) rather than SMS's.
	wa bool
	// checked is when the message was read, or its claim and recipient last checked.
	checked time.Time
	// hold claims the message, or renews this process's claim, for ttl before a wait: true,
	// or how its delivery ends when the claim is lost (another process has the message, or
	// has handled it).
	hold func(ttl time.Duration) (sendResult, bool)
	// recheck, after a wait, says whether the message may still go (true), or how its
	// delivery ends.
	recheck func() (sendResult, bool)
}

// sendResult is how deliver ended.
type sendResult int

const (
	resultSent          sendResult = iota
	resultRefused                  // the provider refused for good; the error says why
	resultGaveUp                   // passing failures outlasted MaxAttempts
	resultStopped                  // ctx ended (or a check failed): leave the entry to be taken over
	resultHandled                  // another process handled it while this one waited
	resultUnwanted                 // the recipient opted out, left or erased their data while it waited
	resultUndeliverable            // the recipient's number was found dead while it waited
)

// settled is the entry's outcome and whether it is finished with, for every ending but a
// refusal (ok false), which each kind of entry handles its own way.
func (res sendResult) settled() (outcome hotline.Outcome, finished, ok bool) {
	switch res {
	case resultSent:
		return hotline.OutcomeSent, true, true
	case resultHandled:
		return "", true, true
	case resultStopped:
		return "", false, true
	case resultGaveUp, resultUndeliverable:
		return hotline.OutcomeFailed, true, true
	case resultUnwanted:
		return hotline.OutcomeSkipped, true, true
	}
	return "", false, false
}

// deliver sends dl.out at the shared rate, waiting out passing failures (429, 5xx,
// timeouts) with doubling, jittered backoff up to MaxAttempts tries.
func (d *Dispatcher) deliver(ctx context.Context, dl delivery) (sendResult, error) {
	checked := dl.checked
	limiter, rate, units := d.cfg.Limiter, d.cfg.Rate, dl.segments
	if dl.wa && d.cfg.WhatsApp.Limiter != nil {
		limiter, rate, units = d.cfg.WhatsApp.Limiter, d.cfg.WhatsApp.Rate, 1
	}
	for attempt := 1; ; attempt++ {
		// Waiting one's turn can take long (the take-over delay follows the rate, so the
		// wait is shorter than it): claim the message first, so that it stays this
		// process's however long the wait.
		if rate > 0 {
			if end, ok := dl.hold(d.markTTL(0)); !ok {
				return end, nil
			}
		}
		if err := limiter.Take(ctx, units); err != nil {
			return resultStopped, nil
		}
		// An entry that waited (for its turn, a backoff, its batch-mates) may have been
		// handled by another process, or become unwanted, meanwhile: check again just
		// before sending. No extra round trip when nothing waited.
		if d.cfg.Now().Sub(checked) > d.freshFor() {
			if end, ok := dl.recheck(); !ok {
				return end, nil
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
		if end, ok := dl.hold(d.markTTL(backoff)); !ok {
			return end, nil
		}
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
