package redisstore

import (
	"context"
	"errors"
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

// TestScriptSetIfExists: a field is set, then deleted given "", on a hash that exists; a hash
// that does not exist is left so (0), never created holding the field alone.
func TestScriptSetIfExists(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		key := s.volKey("v1")
		wantAnswer(t, runScript(t, s, setIfExistsScript, []string{key}, whatsAppField, "wa1"), int64(0))
		if m := hash(t, s, key); m != nil {
			t.Fatalf("a missing record was created: %v", m)
		}
		s.rdb.HSet(ctx, key, "name", "Luis")
		wantAnswer(t, runScript(t, s, setIfExistsScript, []string{key}, whatsAppField, "wa1"), int64(1))
		if m := hash(t, s, key); m[whatsAppField] != "wa1" || m["name"] != "Luis" {
			t.Errorf("after linking: %v", m)
		}
		wantAnswer(t, runScript(t, s, setIfExistsScript, []string{key}, whatsAppField, ""), int64(1))
		if m := hash(t, s, key); len(m) != 1 || m["name"] != "Luis" {
			t.Errorf("after unlinking: %v", m)
		}
	})
}

// A link is stored with the record and read back with the roster; a record written before
// links existed reads as not linked; removing a person removes their link with them.
func TestWhatsAppLinkStoredWithTheRecord(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if err := s.CreateVolunteer(ctx, hotline.VolunteerRecord{ID: "v1", Name: "Luis", PhoneID: "p-luis", Langs: []string{"es"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOrganizer(ctx, hotline.OrganizerRecord{ID: "o1", Name: "Ana", PhoneID: "p-ana", TokenHash: "h1", Lang: "es"}); err != nil {
		t.Fatal(err)
	}
	// An old record: no WhatsApp field at all.
	if _, ok := hash(t, s, s.volKey("v1"))[whatsAppField]; ok {
		t.Fatal("a new record holds a link field")
	}
	if v, _ := s.Volunteer(ctx, "v1"); v.WhatsAppID != "" {
		t.Fatalf("an unlinked volunteer reads as linked to %q", v.WhatsAppID)
	}
	if err := s.SetVolunteerWhatsApp(ctx, "v1", "wa-luis"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOrganizerWhatsApp(ctx, "o1", "wa-ana"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetVolunteerWhatsApp(ctx, "nobody", "wa-x"); !errors.Is(err, hotline.ErrNotFound) {
		t.Errorf("linking no one: %v, want ErrNotFound", err)
	}
	orgs, vols, err := s.Staff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vols) != 1 || vols[0].WhatsAppID != "wa-luis" || len(orgs) != 1 || orgs[0].WhatsAppID != "wa-ana" {
		t.Fatalf("roster read: %+v %+v", orgs, vols)
	}
	if err := s.SetOrganizerWhatsApp(ctx, "o1", ""); err != nil {
		t.Fatal(err)
	}
	if o, _ := s.Organizer(ctx, "o1"); o.WhatsAppID != "" {
		t.Errorf("unlinked organizer still linked to %q", o.WhatsAppID)
	}
	if err := s.DeleteVolunteer(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	if m := hash(t, s, s.volKey("v1")); m != nil {
		t.Errorf("a removed volunteer's record (and link) is still stored: %v", m)
	}
	if err := s.SetVolunteerWhatsApp(ctx, "v1", "wa-luis"); !errors.Is(err, hotline.ErrNotFound) {
		t.Errorf("linking a removed volunteer: %v, want ErrNotFound", err)
	}
}
