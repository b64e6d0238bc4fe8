// Package staff knows who the hotline's staff are: organizers and volunteers, whose phones
// reach their commands instead of the member menus. It owns the roster in memory (Roster),
// the one SMS router that tells staff from members (Router), the roster as people manage it
// and the tokens that act for them (Directory), and console sign-in and sessions.
//
// Every inbound message is checked against the roster before anything else, so the roster is
// kept in memory and read from Redis at most every MaxAge, in the background.
//
// A roster read that fails never fails a message: the last good copy is served instead, and
// the failure is logged once per streak. On Redis Cluster the roster's keys sit on one or two
// masters; when one of them dies, a read through to Redis on every message would fail every
// member's message for as long as its replica takes over, not only the third whose state is
// on it.
package staff

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/streak"
)

// Source reads the whole roster (redisstore.Store).
type Source interface {
	Staff(ctx context.Context) ([]hotline.OrganizerRecord, []hotline.VolunteerRecord, error)
}

// DefaultMaxAge is how long a roster change made by another process may take to reach this one.
const DefaultMaxAge = 30 * time.Second

// retryAfter is how long a failed read keeps the next one from being tried, so that during an
// outage messages do not queue behind reads that will fail too.
const retryAfter = time.Second

// readTimeout bounds a read made in the background, which no message's deadline bounds.
const readTimeout = 5 * time.Second

// Config holds a Roster's dependencies.
type Config struct {
	Source Source
	Log    *slog.Logger
	// MaxAge is how old the copy may get before it is read again (DefaultMaxAge if 0).
	MaxAge time.Duration
	// Now is the clock; tests inject one.
	Now func() time.Time
	// Announce, when set, tells the other processes that this one changed the roster
	// (redisstore.Store.AnnounceStaffChange); they call Heard.
	Announce func(ctx context.Context) error
}

// Roster is the staff roster, kept in memory. It is safe for concurrent use.
type Roster struct {
	cfg     Config
	failing *streak.Log

	cur atomic.Pointer[snapshot]
	// changes counts the changes this process made (Changed); a copy read before the last
	// of them is not served.
	changes atomic.Int64
	// reading is set while a background read runs, so that only one does.
	reading atomic.Bool
	// readMu makes reads one at a time: messages waiting for the first copy share one read.
	readMu sync.Mutex
	// nextTry is when a read may be tried again after one failed (Unix nanoseconds).
	nextTry atomic.Int64
	// background tracks background reads, for tests.
	background sync.WaitGroup
}

type snapshot struct {
	organizers map[string]hotline.OrganizerRecord // by phone id
	volunteers map[string]hotline.VolunteerRecord // by phone id
	// The same people by the member id of their linked WhatsApp address, for those linked.
	organizersWA map[string]hotline.OrganizerRecord
	volunteersWA map[string]hotline.VolunteerRecord
	read         time.Time
	// changes is Roster.changes when the read began.
	changes int64
}

// New returns a Roster that has read nothing yet: the first lookup reads it, or call Load.
func New(cfg Config) *Roster {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	return &Roster{cfg: cfg, failing: streak.New(cfg.Log, "reading the staff roster (the last good copy is served meanwhile)", cfg.Now)}
}

// Organizer returns the organizer whose phone has member id phoneID, if any. It fails only
// when no copy of the roster could ever be read: telling staff from members is then
// impossible, and a caller must not guess (a volunteer's words would reach the member menus).
func (r *Roster) Organizer(ctx context.Context, phoneID string) (hotline.OrganizerRecord, bool, error) {
	s, err := r.snapshot(ctx)
	if err != nil {
		return hotline.OrganizerRecord{}, false, err
	}
	o, ok := s.organizers[phoneID]
	return o, ok, nil
}

// Organizers returns every organizer, in no set order; it fails as Organizer does.
func (r *Roster) Organizers(ctx context.Context) ([]hotline.OrganizerRecord, error) {
	s, err := r.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]hotline.OrganizerRecord, 0, len(s.organizers))
	for _, o := range s.organizers {
		out = append(out, o)
	}
	return out, nil
}

// Volunteer returns the volunteer whose phone has member id phoneID, if any; it fails as
// Organizer does. The record's OnCall is as of the copy: ask Redis when it matters.
func (r *Roster) Volunteer(ctx context.Context, phoneID string) (hotline.VolunteerRecord, bool, error) {
	s, err := r.snapshot(ctx)
	if err != nil {
		return hotline.VolunteerRecord{}, false, err
	}
	v, ok := s.volunteers[phoneID]
	return v, ok, nil
}

// Changed tells the roster that this process has just changed it (added or removed someone):
// the next lookup reads it again first, so that an organizer added a moment ago is one at
// once. Other processes hear of it (Announce) and do the same; one that misses the news
// (its subscription down) sees the change within MaxAge.
func (r *Roster) Changed() {
	r.changes.Add(1)
	if r.cfg.Announce != nil {
		ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
		defer cancel()
		if err := r.cfg.Announce(ctx); err != nil {
			// The others read the roster again within MaxAge all the same.
			r.cfg.Log.Warn("roster change not announced to the other processes", "err", err)
		}
	}
}

// Heard marks the copy stale because another process announced a change: the next message
// reads the roster through, so a volunteer just added is not taken for a member anywhere.
func (r *Roster) Heard() { r.changes.Add(1) }

// Load reads the roster now. On failure the copy already held, if any, stays in use.
func (r *Roster) Load(ctx context.Context) error {
	r.readMu.Lock()
	defer r.readMu.Unlock()
	return r.read(ctx)
}

// snapshot returns the copy to answer from, reading it first when there is none or this
// process changed the roster since, and in the background when it is old.
func (r *Roster) snapshot(ctx context.Context) (*snapshot, error) {
	cur := r.cur.Load()
	if cur == nil || cur.changes < r.changes.Load() {
		if cur != nil && !r.mayTry() {
			return cur, nil // a read failed a moment ago: serve the copy
		}
		r.readMu.Lock()
		// Another message's read may have brought a fresh enough copy meanwhile.
		if fresh := r.cur.Load(); fresh != nil && fresh.changes >= r.changes.Load() {
			r.readMu.Unlock()
			return fresh, nil
		}
		err := r.read(ctx)
		r.readMu.Unlock()
		if fresh := r.cur.Load(); fresh != nil {
			return fresh, nil
		}
		return nil, err
	}
	if r.cfg.Now().Sub(cur.read) > r.cfg.MaxAge && r.mayTry() && r.reading.CompareAndSwap(false, true) {
		r.background.Go(func() {
			defer r.reading.Store(false)
			ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
			defer cancel()
			r.Load(ctx)
		})
	}
	return cur, nil
}

// read reads the roster and keeps it; readMu is held.
func (r *Roster) read(ctx context.Context) error {
	changes := r.changes.Load()
	orgs, vols, err := r.cfg.Source.Staff(ctx)
	if err != nil {
		r.nextTry.Store(r.cfg.Now().Add(retryAfter).UnixNano())
		age := "none read yet"
		if cur := r.cur.Load(); cur != nil {
			age = r.cfg.Now().Sub(cur.read).Round(time.Second).String()
		}
		r.failing.Fail(err, "copy_age", age)
		return err
	}
	s := &snapshot{
		organizers:   make(map[string]hotline.OrganizerRecord, len(orgs)),
		volunteers:   make(map[string]hotline.VolunteerRecord, len(vols)),
		organizersWA: map[string]hotline.OrganizerRecord{},
		volunteersWA: map[string]hotline.VolunteerRecord{},
		read:         r.cfg.Now(), changes: changes,
	}
	for _, o := range orgs {
		s.organizers[o.PhoneID] = o
		if o.WhatsAppID != "" {
			s.organizersWA[o.WhatsAppID] = o
		}
	}
	for _, v := range vols {
		s.volunteers[v.PhoneID] = v
		if v.WhatsAppID != "" {
			s.volunteersWA[v.WhatsAppID] = v
		}
	}
	r.cur.Store(s)
	r.failing.OK()
	return nil
}

func (r *Roster) mayTry() bool { return r.cfg.Now().UnixNano() >= r.nextTry.Load() }
