// Package audit keeps the log of what staff did: sign-ins, broadcasts created, approved, sent
// and cancelled, cases claimed and closed, report verdicts, policy edits and roster changes,
// by SMS, the console or the admin API alike. An organizer reads it at /console/audit.
//
// An entry names staff by name and role and members only by case or report number: never a
// phone number, a member id or a message body.
package audit

import (
	"context"
	"log/slog"
	"time"
)

// Entry is one thing a person on staff did.
type Entry struct {
	At time.Time `json:"at"`
	// Actor is who did it: "organizer:<id>", "volunteer:<id>" or "admin".
	Actor string `json:"actor"`
	// ActorName is their name as the roster had it, kept so the log reads after they leave.
	ActorName string `json:"actor_name,omitempty"`
	// Action is what they did, a dotted name: "signin", "broadcast.approve", "case.claim".
	Action string `json:"action"`
	// Object is what they did it to: "broadcast <id>", "case 7", "report 3",
	// "policy bernalillo-county", "volunteer <id>".
	Object string `json:"object,omitempty"`
	// Via is where: "sms", "console", "api" or "cli".
	Via string `json:"via,omitempty"`
	// Detail is a short note: never a phone number or a member's words.
	Detail string `json:"detail,omitempty"`
}

// Store keeps the log (redisstore.Store): newest first, capped.
type Store interface {
	AppendAudit(ctx context.Context, e Entry) error
	Audit(ctx context.Context, limit int) ([]Entry, error)
}

// Recorder records entries. Recording never fails the action it records: a failure is logged.
type Recorder interface {
	Record(ctx context.Context, e Entry)
}

// Log is the Recorder over a Store.
type Log struct {
	Store Store
	Log   *slog.Logger
	// Now is the clock; tests inject one.
	Now func() time.Time
}

// Record appends e, stamped now when it has no time.
func (l *Log) Record(ctx context.Context, e Entry) {
	if e.At.IsZero() {
		now := time.Now
		if l.Now != nil {
			now = l.Now
		}
		e.At = now().UTC()
	}
	if err := l.Store.AppendAudit(ctx, e); err != nil && l.Log != nil {
		l.Log.Error("audit entry not kept", "action", e.Action, "object", e.Object, "err", err)
	}
}

// Recent returns up to limit entries, newest first.
func (l *Log) Recent(ctx context.Context, limit int) ([]Entry, error) {
	return l.Store.Audit(ctx, limit)
}

// Nop records nothing (tests and tools that act on no one's behalf).
type Nop struct{}

// Record does nothing.
func (Nop) Record(context.Context, Entry) {}
