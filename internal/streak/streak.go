// Package streak logs a run of failures of one thing twice: when the first fails and when
// the thing works again. During an outage a failure repeated for every message would bury
// the log (and its cost) under thousands of identical lines; an operator needs to know when
// it started, when it ended and how many times it failed in between.
package streak

import (
	"log/slog"
	"sync"
	"time"
)

// Log follows the failures of one thing. It is safe for concurrent use.
type Log struct {
	log  *slog.Logger
	what string
	now  func() time.Time

	mu       sync.Mutex
	failures int
	since    time.Time
}

// New returns a Log that names what fails in its lines ("reading the staff roster"). now is
// the clock (nil: time.Now).
func New(log *slog.Logger, what string, now func() time.Time) *Log {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Log{log: log, what: what, now: now}
}

// Fail records a failure. The first of a streak is logged as an error with err and attrs;
// the others are only counted. It reports whether this failure started a streak.
func (l *Log) Fail(err error, attrs ...any) bool {
	l.mu.Lock()
	l.failures++
	first := l.failures == 1
	if first {
		l.since = l.now()
	}
	l.mu.Unlock()
	if first {
		l.log.Error(l.what+" failed; further failures are counted, not logged, until it works again",
			append([]any{"err", err}, attrs...)...)
	}
	return first
}

// OK records a success. After a streak of failures it logs how many there were and for how
// long, and reports true.
func (l *Log) OK() bool {
	l.mu.Lock()
	n, since := l.failures, l.since
	l.failures = 0
	l.mu.Unlock()
	if n == 0 {
		return false
	}
	l.log.Info(l.what+" works again", "failures", n, "for", l.now().Sub(since).Round(time.Millisecond).String())
	return true
}

// Failing reports whether the last outcome recorded was a failure.
func (l *Log) Failing() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failures > 0
}
