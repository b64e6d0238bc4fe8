package staff_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/redistest"
	"github.com/communityhotline/hotline/internal/staff"
)

type auditTrail struct {
	mu      sync.Mutex
	entries []audit.Entry
}

func (a *auditTrail) Record(_ context.Context, e audit.Entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, e)
}

func newDirectory(t *testing.T) (*staff.Directory, *auditTrail, *[]string) {
	rdb, prefix := redistest.Open(t)
	store, err := redisstore.New(rdb, prefix, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := privacy.NewKeys("test-secret-0123456789")
	trail := &auditTrail{}
	var reopened []string
	d := staff.NewDirectory(staff.DirectoryConfig{Store: store, Keys: keys, Languages: []string{"es", "en"},
		RootToken: "root-token-for-tests", Audit: trail, Roster: staff.New(staff.Config{Source: store}),
		OnVolunteerRemoved: func(_ context.Context, id string) error { reopened = append(reopened, id); return nil }})
	return d, trail, &reopened
}

func TestDirectoryRosterAndTokens(t *testing.T) {
	ctx := context.Background()
	d, trail, reopened := newDirectory(t)
	admin := audit.Admin(audit.ViaAPI)

	org, err := d.AddOrganizer(ctx, admin, " Ana ", "+15055550100", "es")
	if err != nil {
		t.Fatal(err)
	}
	if org.Name != "Ana" || org.Phone != "•••0100" || !strings.HasPrefix(org.Token, "hot_") {
		t.Errorf("organizer added as %+v", org)
	}
	if who, err := d.Authenticate(ctx, org.Token); err != nil || who != org.ID {
		t.Errorf("the organizer's token is %q, %v", who, err)
	}
	if who, err := d.Authenticate(ctx, "root-token-for-tests"); err != nil || who != staff.RootActor {
		t.Errorf("the root token is %q, %v", who, err)
	}
	for _, bad := range []string{"", "hot_nope", "root-token-for-test"} {
		if _, err := d.Authenticate(ctx, bad); !errors.Is(err, staff.ErrUnauthorized) {
			t.Errorf("token %q: %v", bad, err)
		}
	}

	// One phone, one role.
	var invalid *hotline.InvalidError
	if _, err := d.AddVolunteer(ctx, admin, "Ana otra vez", "+15055550100", []string{"es"}); !errors.As(err, &invalid) {
		t.Errorf("an organizer's phone became a volunteer's: %v", err)
	}
	for _, bad := range []struct {
		name, phone string
		langs       []string
	}{
		{"", "+15055550101", []string{"es"}},
		{"Luis", "505-555-0101", []string{"es"}},
		{"Luis", "+15055550101", nil},
		{"Luis", "+15055550101", []string{"fr"}},
	} {
		if _, err := d.AddVolunteer(ctx, admin, bad.name, bad.phone, bad.langs); !errors.As(err, &invalid) {
			t.Errorf("volunteer %+v: %v", bad, err)
		}
	}
	vol, err := d.AddVolunteer(ctx, admin, "Luis", "+15055550101", []string{"es", "en"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddVolunteer(ctx, admin, "Luis 2", "+15055550101", []string{"es"}); !errors.As(err, &invalid) {
		t.Errorf("the same phone twice: %v", err)
	}
	vols, err := d.Volunteers(ctx)
	if err != nil || len(vols) != 1 || vols[0].Phone != "•••0101" || vols[0].OnCall {
		t.Errorf("volunteers: %+v, %v", vols, err)
	}

	if err := d.RemoveVolunteer(ctx, admin, vol.ID); err != nil {
		t.Fatal(err)
	}
	if len(*reopened) != 1 || (*reopened)[0] != vol.ID {
		t.Errorf("the removed volunteer's cases were not given back: %v", *reopened)
	}
	if err := d.RemoveOrganizer(ctx, admin, org.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Authenticate(ctx, org.Token); !errors.Is(err, staff.ErrUnauthorized) {
		t.Errorf("a removed organizer's token still works: %v", err)
	}
	if err := d.RemoveOrganizer(ctx, admin, org.ID); !errors.Is(err, hotline.ErrNotFound) {
		t.Errorf("removing twice: %v", err)
	}

	var actions []string
	for _, e := range trail.entries {
		actions = append(actions, e.Action+" "+strings.Fields(e.Object)[0])
		if e.Actor != "admin" || e.Via != audit.ViaAPI || strings.Contains(e.Detail+e.Object, "555") {
			t.Errorf("audit entry %+v", e)
		}
	}
	if got := strings.Join(actions, ", "); got != "roster.add organizer, roster.add volunteer, roster.remove volunteer, roster.remove organizer" {
		t.Errorf("audit: %s", got)
	}
}
