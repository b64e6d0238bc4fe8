package dispatch

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
)

// recorder writes the outcomes of every sender of a process to Redis in groups, so that
// the senders share round trips (group commit). A sender whose outcome finds no write under
// way writes it at once, itself; outcomes that arrive meanwhile wait, and when the write
// ends the first of their senders is handed the next write, which takes them all. Nothing
// is handed to a goroutine of its own: on a busy machine waking one costs about as much as
// the round trip saved.
//
// A sender waits until its outcome is written before it sends again, as it did when each
// wrote its own. So a crash can leave at most one message per sender sent and unrecorded
// (the process that takes its entry over sends it again), the same bound as before: writing
// outcomes later, while the next message goes out, doubled it and bought no measurable rate
// (docs/performance.md, "Broadcast dispatch").
type recorder struct {
	store Store
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	writing bool
	pending []*pendingOutcome
}

type pendingOutcome struct {
	hotline.SendOutcome
	// turn is told, first, that its sender is to make the next write (errLead), if it is,
	// then how the write of the outcome went.
	turn chan error
}

// errLead tells a waiting sender that the next write is its to make.
var errLead = errors.New("write the outcomes waiting")

func newRecorder(store Store, log *slog.Logger, now func() time.Time) *recorder {
	return &recorder{store: store, log: log, now: now}
}

// record writes o and returns once it is written (nil) or failed to be. The write is not
// cut off by the process being told to stop: a send that is done must be recorded.
func (r *recorder) record(o hotline.SendOutcome) error {
	p := &pendingOutcome{SendOutcome: o, turn: make(chan error, 2)}
	r.mu.Lock()
	r.pending = append(r.pending, p)
	lead := !r.writing
	r.writing = true
	r.mu.Unlock()
	if !lead {
		if err := <-p.turn; err != errLead {
			return err
		}
	}
	r.write()
	return <-p.turn
}

// write writes every outcome waiting in one round trip, then hands the next write to the
// first sender waiting, if any.
func (r *recorder) write() {
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	r.mu.Unlock()

	outcomes := make([]hotline.SendOutcome, len(batch))
	for i, p := range batch {
		outcomes[i] = p.SendOutcome
	}
	errs, err := r.store.RecordOutcomes(context.Background(), outcomes, r.now())
	if err != nil {
		// The entries are not acknowledged: another process takes them over later and,
		// finding any outcome that was recorded after all, skips it.
		r.log.Error("recording send outcomes", "outcomes", len(outcomes), "err", err)
	}
	for i, p := range batch {
		p.turn <- errs[i]
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) == 0 {
		r.writing = false
		return
	}
	r.pending[0].turn <- errLead
}
