package staff

import (
	"context"
	"errors"
	"testing"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// heard records who answered a message and the member id it carried.
type heard struct {
	who, memberID string
}

type recordingAnswerer struct{ got *[]heard }

func (r recordingAnswerer) Answer(_ context.Context, in hotline.Inbound) (hotline.Reply, error) {
	*r.got = append(*r.got, heard{"member", in.MemberID})
	return hotline.Reply{Texts: []string{"member menu"}}, nil
}
func (r recordingAnswerer) Command(_ context.Context, v hotline.VolunteerRecord, in hotline.Inbound) ([]string, error) {
	*r.got = append(*r.got, heard{"volunteer " + v.Name, in.MemberID})
	return nil, nil
}

type organizerAnswerer struct{ got *[]heard }

func (r organizerAnswerer) Answer(_ context.Context, o hotline.OrganizerRecord, in hotline.Inbound) ([]string, error) {
	*r.got = append(*r.got, heard{"organizer " + o.Name, in.MemberID})
	return nil, nil
}

func TestRouterSendsEachPhoneToItsRole(t *testing.T) {
	keys, err := privacy.NewKeys("test-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	const orgPhone, volPhone, memberPhone = "+15055550101", "+15055550102", "+15055550103"
	org := ana
	org.PhoneID = keys.MemberID(hotline.SMS, orgPhone)
	vol := luis
	vol.PhoneID = keys.MemberID(hotline.SMS, volPhone)
	src := &fakeSource{}
	src.set([]hotline.OrganizerRecord{org}, []hotline.VolunteerRecord{vol}, nil)
	var got []heard
	r := Router{Keys: keys, Roster: New(Config{Source: src}), Organizers: organizerAnswerer{&got},
		Volunteers: recordingAnswerer{&got}, Members: recordingAnswerer{&got}}
	for _, phone := range []string{orgPhone, volPhone, memberPhone} {
		if _, err := r.Answer(context.Background(), hotline.Inbound{ID: "SM1", Channel: hotline.SMS, From: phone, Text: "hola"}); err != nil {
			t.Fatal(err)
		}
	}
	want := []heard{
		{"organizer Ana", org.PhoneID},
		{"volunteer Luis", vol.PhoneID},
		{"member", keys.MemberID(hotline.SMS, memberPhone)},
	}
	if len(got) != len(want) {
		t.Fatalf("answered by %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d answered by %+v, want %+v", i, got[i], want[i])
		}
	}
}

// With no roster ever read, nobody can tell staff from members: the message fails rather
// than send a volunteer's words to the member menus.
func TestRouterFailsWithoutAnyRoster(t *testing.T) {
	keys, _ := privacy.NewKeys("test-secret-0123456789")
	src := &fakeSource{}
	src.set(nil, nil, errors.New("master down"))
	var got []heard
	r := Router{Keys: keys, Roster: New(Config{Source: src}), Organizers: organizerAnswerer{&got},
		Volunteers: recordingAnswerer{&got}, Members: recordingAnswerer{&got}}
	if _, err := r.Answer(context.Background(), hotline.Inbound{ID: "SM1", Channel: hotline.SMS, From: "+15055550103"}); err == nil {
		t.Fatal("no error with no roster")
	}
	if len(got) != 0 {
		t.Errorf("answered by %+v", got)
	}
}
