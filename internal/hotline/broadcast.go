package hotline

import (
	"errors"
	"fmt"
	"time"
)

// BroadcastStatus is where a broadcast is in its life.
type BroadcastStatus string

// A broadcast is a draft (or awaits a second organizer's approval), then sending, then done;
// it can be canceled until it is done.
const (
	Draft            BroadcastStatus = "draft"
	AwaitingApproval BroadcastStatus = "awaiting_approval"
	Sending          BroadcastStatus = "sending"
	Done             BroadcastStatus = "done"
	Canceled         BroadcastStatus = "canceled"
)

// Broadcast is an alert to the subscribers of some areas, in each subscriber's language.
type Broadcast struct {
	ID     string
	Status BroadcastStatus
	// Text is the alert per language ("es", "en").
	Text map[string]string
	// Areas are place IDs; empty means every subscriber.
	Areas  []string
	Urgent bool
	// CreatedBy and ApprovedBy are organizer IDs (or "volunteer:<id>", "admin").
	CreatedBy, ApprovedBy string
	// RequestedBy asked to send it while approvals were required: set, with the status
	// awaiting_approval, until another organizer approves it and it is sent.
	RequestedBy       string
	CreatedAt, SentAt time.Time
	DoneAt            time.Time
	// Recipients per language: the preview's count while a draft, the frozen list's count
	// once sending.
	Recipients map[string]int64
	Counts     BroadcastCounts
	// Report is the number of the verified report this draft was written from (0: none), so
	// that the organizers who send it can read the report it comes from.
	Report int64
}

// BroadcastCounts tell how a broadcast is going.
type BroadcastCounts struct {
	Queued          int64 `json:"queued"`
	Sent            int64 `json:"sent"`
	Delivered       int64 `json:"delivered"`
	Failed          int64 `json:"failed"`
	Undelivered     int64 `json:"undelivered"`
	SkippedOptedOut int64 `json:"skipped_opted_out"`
	// SkippedNoTemplate are the skipped recipients (counted in SkippedOptedOut too) who are
	// on WhatsApp, outside the 24-hour window, with no template configured to reach them.
	SkippedNoTemplate int64 `json:"skipped_no_template"`
}

// Organizer is a person allowed to compose and approve broadcasts.
type Organizer struct {
	ID        string
	Name      string
	Phone     string // in clear only in memory; stored sealed
	CreatedAt time.Time
}

// Errors the broadcast store and service return.
var (
	ErrNotFound   = errors.New("not found")
	ErrWrongState = errors.New("not allowed in the broadcast's current status")
	ErrSameActor  = errors.New("the creator cannot approve their own broadcast")
	// ErrApproved is a request to approve, or to ask for approval of, a broadcast someone
	// approved meanwhile.
	ErrApproved = fmt.Errorf("%w (approved already)", ErrWrongState)
)
