package redisstore

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
)

func TestStaffReadsEveryone(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0).UTC()
	for _, o := range []hotline.OrganizerRecord{
		{ID: "o1", Name: "Ana", SealedPhone: []byte{1, 2}, PhoneID: "p-ana", TokenHash: "h1", Lang: "es", CreatedAt: now},
		{ID: "o2", Name: "Olga", SealedPhone: []byte{3}, PhoneID: "p-olga", TokenHash: "h2", Lang: "en", CreatedAt: now},
	} {
		if err := s.CreateOrganizer(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []hotline.VolunteerRecord{
		{ID: "v1", Name: "Luis", SealedPhone: []byte{4}, PhoneID: "p-luis", Langs: []string{"es", "en"}, CreatedAt: now},
		{ID: "v2", Name: "Ben", SealedPhone: []byte{5}, PhoneID: "p-ben", Langs: []string{"en"}, CreatedAt: now},
	} {
		if err := s.CreateVolunteer(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteOrganizer(ctx, "o2"); err != nil {
		t.Fatal(err)
	}
	// A volunteer listed but whose record is gone (deleted between the two reads) is left out.
	s.rdb.Del(ctx, s.volKey("v2"))

	orgs, vols, err := s.Staff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(orgs) != 1 || orgs[0].Name != "Ana" || orgs[0].PhoneID != "p-ana" || orgs[0].Lang != "es" || !orgs[0].CreatedAt.Equal(now) {
		t.Errorf("organizers: %+v", orgs)
	}
	if len(vols) != 1 || vols[0].Name != "Luis" || !slices.Equal(vols[0].Langs, []string{"es", "en"}) || string(vols[0].SealedPhone) != "\x04" {
		t.Errorf("volunteers: %+v", vols)
	}
}
