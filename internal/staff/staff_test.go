package staff

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
)

// fakeSource is a roster in memory that can be made to fail, as a Redis whose master holding
// the roster's keys has died.
type fakeSource struct {
	mu    sync.Mutex
	orgs  []hotline.OrganizerRecord
	vols  []hotline.VolunteerRecord
	err   error
	reads atomic.Int64
	// gate, when set, holds every read until it is closed.
	gate chan struct{}
}

func (f *fakeSource) Staff(ctx context.Context) ([]hotline.OrganizerRecord, []hotline.VolunteerRecord, error) {
	f.reads.Add(1)
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.orgs, f.vols, f.err
}

func (f *fakeSource) set(orgs []hotline.OrganizerRecord, vols []hotline.VolunteerRecord, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.orgs, f.vols, f.err = orgs, vols, err
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var (
	ana  = hotline.OrganizerRecord{ID: "o1", Name: "Ana", PhoneID: "phone-ana", Lang: "es"}
	luis = hotline.VolunteerRecord{ID: "v1", Name: "Luis", PhoneID: "phone-luis", Langs: []string{"es"}}
	olga = hotline.OrganizerRecord{ID: "o2", Name: "Olga", PhoneID: "phone-olga", Lang: "en"}
)

func newRoster(src *fakeSource) (*Roster, *clock, *bytes.Buffer) {
	c := &clock{now: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	var logs bytes.Buffer
	r := New(Config{Source: src, Log: slog.New(slog.NewTextHandler(&logs, nil)), Now: c.Now})
	return r, c, &logs
}

func isOrganizer(t *testing.T, r *Roster, phoneID string) bool {
	t.Helper()
	_, ok, err := r.Organizer(context.Background(), phoneID)
	if err != nil {
		t.Fatalf("Organizer(%s): %v", phoneID, err)
	}
	return ok
}

func TestReadOnceThenInTheBackgroundWhenOld(t *testing.T) {
	src := &fakeSource{orgs: []hotline.OrganizerRecord{ana}, vols: []hotline.VolunteerRecord{luis}}
	r, c, _ := newRoster(src)
	ctx := context.Background()
	if !isOrganizer(t, r, "phone-ana") || isOrganizer(t, r, "phone-luis") {
		t.Fatal("Ana is not an organizer, or Luis is")
	}
	if v, ok, _ := r.Volunteer(ctx, "phone-luis"); !ok || v.Name != "Luis" {
		t.Fatalf("Luis: %+v %v", v, ok)
	}
	for range 100 {
		r.Volunteer(ctx, "phone-member")
	}
	if n := src.reads.Load(); n != 1 {
		t.Fatalf("%d reads for 102 lookups within MaxAge, want 1", n)
	}

	// Olga is added by another process: seen once the copy is older than MaxAge, read in the
	// background while the lookup that noticed is answered from the old copy.
	src.set([]hotline.OrganizerRecord{ana, olga}, []hotline.VolunteerRecord{luis}, nil)
	c.add(DefaultMaxAge + time.Second)
	if isOrganizer(t, r, "phone-olga") {
		t.Error("the lookup that found the copy old waited for the read")
	}
	r.background.Wait()
	if !isOrganizer(t, r, "phone-olga") {
		t.Error("Olga is not an organizer after the background read")
	}
	if n := src.reads.Load(); n != 2 {
		t.Errorf("%d reads, want 2", n)
	}
}

// TestLastGoodCopyWhenRedisFails: a roster read that fails fails no message: the copy is
// served, the failure is logged once for the whole streak, and reads are not tried for
// every message meanwhile.
func TestLastGoodCopyWhenRedisFails(t *testing.T) {
	src := &fakeSource{orgs: []hotline.OrganizerRecord{ana}}
	r, c, logs := newRoster(src)
	if !isOrganizer(t, r, "phone-ana") {
		t.Fatal("Ana is not an organizer")
	}
	src.set(nil, nil, errors.New("CLUSTERDOWN The cluster is down"))
	c.add(DefaultMaxAge + time.Second)
	for range 10 { // 10 s of messages, 1,000 a second
		for range 1000 {
			if !isOrganizer(t, r, "phone-ana") || isOrganizer(t, r, "phone-member") {
				t.Fatal("the last good copy was not served")
			}
		}
		r.background.Wait()
		c.add(time.Second)
	}
	if n := src.reads.Load(); n > 12 {
		t.Errorf("%d reads tried during 10 s of failures, want about one a second", n)
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d error lines for one streak of failures:\n%s", n, logs.String())
	}
	src.set([]hotline.OrganizerRecord{ana, olga}, nil, nil)
	isOrganizer(t, r, "phone-ana")
	r.background.Wait()
	if !isOrganizer(t, r, "phone-olga") {
		t.Error("the roster was not read again once Redis answered")
	}
	if !strings.Contains(logs.String(), "works again") {
		t.Errorf("the end of the streak is not logged:\n%s", logs.String())
	}
	// The whole list, for notices, comes from the same copy.
	orgs, err := r.Organizers(context.Background())
	if err != nil || len(orgs) != 2 {
		t.Errorf("organizers %v, %v; want Ana and Olga", orgs, err)
	}
}

// TestChangedIsSeenAtOnce: after this process adds someone, the next lookup reads first; if
// that read fails, the old copy is served rather than an error.
func TestChangedIsSeenAtOnce(t *testing.T) {
	src := &fakeSource{orgs: []hotline.OrganizerRecord{ana}}
	r, c, _ := newRoster(src)
	isOrganizer(t, r, "phone-ana")
	src.set([]hotline.OrganizerRecord{ana, olga}, nil, nil)
	r.Changed()
	if !isOrganizer(t, r, "phone-olga") {
		t.Fatal("an organizer this process added is not one at once")
	}
	src.set(nil, nil, errors.New("connection refused"))
	r.Changed()
	if !isOrganizer(t, r, "phone-olga") {
		t.Fatal("a failed read after a change did not serve the last good copy")
	}
	reads := src.reads.Load()
	isOrganizer(t, r, "phone-olga")
	if src.reads.Load() != reads {
		t.Error("a read was tried again within a second of one failing")
	}
	c.add(2 * time.Second)
	src.set([]hotline.OrganizerRecord{ana}, nil, nil)
	if isOrganizer(t, r, "phone-olga") {
		t.Error("the change was not read once Redis answered")
	}
}

// TestNoCopyIsAnError: with no copy ever read, a lookup cannot tell staff from members and
// says so, rather than send a volunteer's words to the member menus.
func TestNoCopyIsAnError(t *testing.T) {
	src := &fakeSource{err: errors.New("connection refused")}
	r, _, _ := newRoster(src)
	if _, _, err := r.Organizer(context.Background(), "phone-ana"); err == nil {
		t.Fatal("a lookup with no roster ever read succeeded")
	}
	if err := r.Load(context.Background()); err == nil {
		t.Fatal("Load succeeded")
	}
}

// TestFirstReadIsShared: messages that arrive together before the first copy wait for one read.
func TestFirstReadIsShared(t *testing.T) {
	src := &fakeSource{orgs: []hotline.OrganizerRecord{ana}, gate: make(chan struct{})}
	r, _, _ := newRoster(src)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() { isOrganizer(t, r, "phone-ana") })
	}
	for src.reads.Load() == 0 { // the first read has begun; the others queue behind it
		runtime.Gosched()
	}
	close(src.gate)
	wg.Wait()
	if n := src.reads.Load(); n != 1 {
		t.Errorf("%d reads for 20 concurrent first lookups, want 1", n)
	}
}
