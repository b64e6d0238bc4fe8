// Package stats counts the messages the hotline takes in and sends out each day, for the
// console's overview. Counting must cost a member's message nothing: increments are kept in
// memory and added to Redis in one round trip every few seconds, never on the webhook's path.
package stats

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
)

// FlushEvery is how often counts kept in memory are added to Redis. A process that dies
// loses at most this long's counts: the overview is a gauge, not a ledger.
const FlushEvery = 5 * time.Second

// Store keeps the day's counts (redisstore.Store).
type Store interface {
	AddDayCounts(ctx context.Context, day string, in, out int64) error
	DayCounts(ctx context.Context, day string) (in, out int64, err error)
}

// Day counts messages in and out per day, in Loc.
type Day struct {
	store Store
	loc   *time.Location
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex
	pending map[string]*[2]int64 // day → in, out not yet in Redis
	last    time.Time
	// flushing is set while a background flush runs, so that only one does.
	flushing atomic.Bool
	wg       sync.WaitGroup
}

// New returns a Day counter. loc is the hotline's time zone (nil: UTC); now is the clock (nil: time.Now).
func New(store Store, loc *time.Location, now func() time.Time, log *slog.Logger) *Day {
	if loc == nil {
		loc = time.UTC
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Day{store: store, loc: loc, now: now, log: log, pending: map[string]*[2]int64{}, last: now()}
}

// In counts one message received.
func (d *Day) In() { d.add(0, 1) }

// Out counts n messages sent.
func (d *Day) Out(n int) { d.add(1, int64(n)) }

func (d *Day) add(which int, n int64) {
	now := d.now()
	day := now.In(d.loc).Format(time.DateOnly)
	d.mu.Lock()
	c := d.pending[day]
	if c == nil {
		c = &[2]int64{}
		d.pending[day] = c
	}
	c[which] += n
	due := now.Sub(d.last) >= FlushEvery
	if due {
		d.last = now
	}
	d.mu.Unlock()
	if due && d.flushing.CompareAndSwap(false, true) {
		d.wg.Go(func() {
			defer d.flushing.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			d.Flush(ctx)
		})
	}
}

// Flush adds what is kept in memory to Redis; what fails to go is kept for the next flush.
func (d *Day) Flush(ctx context.Context) error {
	d.mu.Lock()
	pending := d.pending
	d.pending = map[string]*[2]int64{}
	d.mu.Unlock()
	var firstErr error
	for day, c := range pending {
		if err := d.store.AddDayCounts(ctx, day, c[0], c[1]); err != nil {
			d.mu.Lock()
			if p := d.pending[day]; p != nil {
				p[0], p[1] = p[0]+c[0], p[1]+c[1]
			} else {
				d.pending[day] = c
			}
			d.mu.Unlock()
			if firstErr == nil {
				firstErr = err
				d.log.Warn("message counts not saved; kept for the next try", "err", err)
			}
		}
	}
	return firstErr
}

// Today returns today's messages in and out, this process's unsaved counts included.
func (d *Day) Today(ctx context.Context) (in, out int64, err error) {
	if err := d.Flush(ctx); err != nil {
		return 0, 0, err
	}
	return d.store.DayCounts(ctx, d.now().In(d.loc).Format(time.DateOnly))
}

// Wait waits for a background flush (tests, and shutdown before a last Flush).
func (d *Day) Wait() { d.wg.Wait() }

// Sender counts each message next sends.
func (d *Day) Sender(next hotline.Sender) hotline.Sender { return countingSender{next: next, d: d} }

type countingSender struct {
	next hotline.Sender
	d    *Day
}

func (c countingSender) Send(ctx context.Context, m hotline.Outbound) (string, error) {
	sid, err := c.next.Send(ctx, m)
	if err == nil {
		c.d.Out(1)
	}
	return sid, err
}

// Answerer counts each inbound message and the replies answered to it in the webhook's reply.
func (d *Day) Answerer(next hotline.Answerer) hotline.Answerer {
	return countingAnswerer{next: next, d: d}
}

type countingAnswerer struct {
	next hotline.Answerer
	d    *Day
}

func (c countingAnswerer) Answer(ctx context.Context, in hotline.Inbound) (hotline.Reply, error) {
	c.d.In()
	reply, err := c.next.Answer(ctx, in)
	if err == nil && len(reply.Texts) > 0 {
		c.d.Out(len(reply.Texts))
	}
	return reply, err
}
