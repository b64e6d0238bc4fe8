// Package policyedit lets organizers correct the county and city entries of the places file
// while the hotline runs: a corrected entry answers members at once, on every process.
//
// The shipped flows/data/places.toml stays the base. A correction is kept in Redis, one per
// place, laid over the file in memory (places.Directory.Overlay: one atomic swap, no lock and
// no Redis read on a member's message), with a change log of who changed what from what to
// what. ExportTOML writes the file with the corrections in it, for review and a commit; once
// the file shipped has an entry checked later than its correction, the file wins.
//
// A correction is held to the rules the shipped file is: the places validator, and the
// policy answer's SMS budget (actions.CheckPolicyAnswer). It also needs a source address and
// the policy's as-of date.
package policyedit

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/places"
)

// ErrNotFound means no place has the id given.
var ErrNotFound = errors.New("no such place")

// InvalidError is a correction refused: each problem has a reason a page can say in the
// organizer's language and an English sentence an organizer can act on.
type InvalidError struct {
	Problems []Problem
}

func (e *InvalidError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Msg
	}
	return "the correction was not saved: " + strings.Join(msgs, "; ")
}

// Store keeps corrections and the change log (redisstore.Store). Values are opaque to it.
type Store interface {
	PolicyEdits(ctx context.Context) (map[string]string, error)
	// PutPolicyEdit stores next and logs change, unless the stored value is no longer prev
	// ("" for none); it then reports false and stores nothing.
	PutPolicyEdit(ctx context.Context, id, prev, next, change string) (bool, error)
	PolicyChanges(ctx context.Context, limit int) ([]string, error)
	AnnouncePolicyChange(ctx context.Context) error
}

// Config is what a Service needs.
type Config struct {
	// Places is the directory members' lookups read; the Service lays corrections over it.
	Places *places.Directory
	// Shipped is the places file as shipped (flows/data/places.toml), for ExportTOML.
	Shipped []byte
	// Texts renders the policy answer, to hold a correction to its SMS budget (the catalog).
	Texts actions.Texts
	Store Store
	Audit audit.Recorder
	// StaleAfter is how long since an entry's last check before it is flagged stale
	// (HOTLINE_POLICY_STALE_DAYS).
	StaleAfter time.Duration
	// Now is the clock; "today" for a check is its date. Tests inject one.
	Now func() time.Time
	// Location is where "today" is: New Mexico's (nil: UTC), so that a check made in the
	// evening there is not dated the next day.
	Location *time.Location
	Log      *slog.Logger
}

// Actor is who makes a correction, as the audit log and the change log name them: never a
// phone number.
type Actor struct {
	// ID is "organizer:<id>" or "admin", as audit.Entry.Actor.
	ID   string
	Name string
	Role string
	// Via is "console", "api", "sms" or "cli".
	Via string
}

// Change is a correction: the new value of every editable fact of an entry. A form starts
// from ChangeOf(the entry) and changes what it must. The entry's checked date becomes today.
type Change struct {
	DHSList          bool
	DOJList          bool
	PolicyEN         string
	PolicyES         string
	PolicyDate       string // YYYY-MM-DD, YYYY-MM or YYYY, as the source gives it; required
	PolicyDateApprox bool
	Source           string // a short label, required with SourceURL
	SourceURL        string // a full http(s) address; required
	Verified         bool
}

// Entry is a county, city or place as it is in force.
type Entry struct {
	ID     string
	Name   string
	Kind   places.Kind
	County string // the county's id, for a city or place
	places.Facts
	// Edited is true when a correction is in force; EditedBy, EditedRole and EditedAt say
	// whose and when.
	Edited     bool
	EditedBy   string
	EditedRole string
	EditedAt   time.Time
	// Stale is true when the entry was last checked more than Config.StaleAfter ago.
	Stale bool
}

// ChangeOf is e's facts as a Change, for a form to start from.
func ChangeOf(e Entry) Change {
	f := e.Facts
	return Change{DHSList: f.DHSList, DOJList: f.DOJList, PolicyEN: f.PolicyEN, PolicyES: f.PolicyES,
		PolicyDate: f.PolicyDate, PolicyDateApprox: f.PolicyDateApprox, Source: f.Source, SourceURL: f.SourceURL, Verified: f.Verified}
}

// FieldChange is one field of a correction: its name in the places file, old and new value.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// ChangeRecord is one line of the change log.
type ChangeRecord struct {
	At        time.Time     `json:"at"`
	Actor     string        `json:"actor"`
	ActorName string        `json:"actor_name,omitempty"`
	Role      string        `json:"role,omitempty"`
	Via       string        `json:"via,omitempty"`
	Place     string        `json:"place"`
	Fields    []FieldChange `json:"fields"`
}

// Service is the organizers' corrections of the places data.
type Service struct {
	cfg Config

	// mu orders reloads, so that an older read of the store never replaces a newer one.
	mu sync.Mutex
	// raw is the store's content last laid; records the corrections in force, by place id.
	raw     map[string]string
	records map[string]record
}

// New returns a Service; call Reload before serving so that members get the corrections.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Audit == nil {
		cfg.Audit = audit.Nop{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, records: map[string]record{}}
}
