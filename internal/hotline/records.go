package hotline

import (
	"errors"
	"time"
)

// The records the stores keep and the services pass: cases, volunteers, organizers,
// subscriptions, jobs. Sealed fields are sealed by the caller; a store never sees a phone
// number or a message body in clear.

// Case statuses.
const (
	CaseOpen    = "open"
	CaseClaimed = "claimed"
	CaseClosed  = "closed"
)

// CaseRecord is a case as stored. The member's address and messages are sealed by the caller.
type CaseRecord struct {
	N      int64
	Member string // member id
	Lang   string
	Area   string
	Kind   string // "person" or "report"
	Urgent bool
	// Situation is an emergency's situation ("home", "detained", …), named in pages.
	Situation string
	Status    string
	Volunteer string
	// SealedAddress is where relays to the member go; deleted when the case closes.
	SealedAddress []byte
	Opened        time.Time
	Claimed       time.Time
	Closed        time.Time
	Paged         int64
	Verdict       string // reports: "verified" or "false"
	// ClosedBy is the token of the job that closed the case (a member leaving), if one did.
	ClosedBy string
	// Channel is hotline.Voice for a case a call opened (pages say so); "" for one opened by
	// text.
	Channel Channel
}

// VolunteerRecord is a volunteer as stored; the phone is sealed.
type VolunteerRecord struct {
	ID          string
	Name        string
	SealedPhone []byte
	PhoneID     string
	// WhatsAppID is the member id of the WhatsApp address linked to the phone (a code sent
	// by SMS to it was typed on WhatsApp: staff.Linker); "" until linked.
	WhatsAppID string
	Langs      []string
	OnCall     bool
	CreatedAt  time.Time
}

// OrganizerRecord is an organizer as stored.
type OrganizerRecord struct {
	ID          string
	Name        string
	SealedPhone []byte
	PhoneID     string // the member id of the organizer's phone
	// WhatsAppID is the member id of the WhatsApp address linked to the phone, as a
	// volunteer's; "" until linked.
	WhatsAppID string
	TokenHash  string
	// Lang is the language the organizer gets SMS prompts in.
	Lang      string
	CreatedAt time.Time
}

// ErrDuplicate means a person with that phone is on the roster already (as organizer or volunteer).
var ErrDuplicate = errors.New("someone with that phone is on the roster already")

// Subscription is where a member is listed: the areas and the language, and the channel
// alerts reach them on (only WhatsApp is listed apart, so that an alert's preview does not
// count its WhatsApp recipients as SMS; "" is SMS).
type Subscription struct {
	Areas   []string
	Lang    string
	Channel Channel
}

// JobRef names one job.
type JobRef struct {
	Member, Msg string
}

// StoredJob is a job as read by a sweep.
type StoredJob struct {
	Sealed []byte
	// Applied: the process that wrote it applied its effects and returned the reply; only
	// its messages may be left to send.
	Applied bool
}

// InvalidError is a request staff must correct (a bad phone, an unknown area); its message
// says how, and is shown to them as it is.
type InvalidError struct {
	Msg string
	// Suggestions are what was probably meant (the places a misspelt area may be).
	Suggestions []string
}

func (e *InvalidError) Error() string { return e.Msg }
