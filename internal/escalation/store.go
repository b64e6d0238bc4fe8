package escalation

import (
	"context"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/staff"
)

// Store is what cases and volunteers need of the store (redisstore.Store): cases and their
// transcripts, the volunteer roster and who is on call, the organizers to notify, staff
// message de-duplication, and erasing a member.
type Store interface {
	// Source reads the whole roster, for a service built without a roster of its own (tests).
	staff.Source
	AckWaiting(ctx context.Context, n int64, now time.Time, every time.Duration) (bool, error)
	AppendTranscript(ctx context.Context, n int64, sealed []byte) error
	AppendTranscriptOnce(ctx context.Context, n int64, token string, sealed []byte) error
	Case(ctx context.Context, n int64) (hotline.CaseRecord, error)
	ClaimCase(ctx context.Context, n int64, volunteer string, now time.Time) (bool, string, error)
	ClaimStaffMessage(ctx context.Context, scope, sid string) (bool, string, error)
	CloseCase(ctx context.Context, n int64, verdict string, now time.Time, retention time.Duration) error
	CloseCaseBy(ctx context.Context, n int64, verdict, token string, now time.Time, retention time.Duration) error
	CreateVolunteer(ctx context.Context, v hotline.VolunteerRecord) error
	DeleteCase(ctx context.Context, n int64) error
	DeleteVolunteer(ctx context.Context, id string) error
	DropMemberJobs(ctx context.Context, member, keep string) error
	DueCases(ctx context.Context, now, next time.Time) ([]int64, error)
	Erase(ctx context.Context, id string) error
	ForgetRecipient(ctx context.Context, member string) error
	MarkUrgent(ctx context.Context, n int64, situation, token string) (bool, error)
	MemberCases(ctx context.Context, member string) ([]int64, error)
	OnCall(ctx context.Context, langs ...string) ([]string, error)
	OpenCaseOnce(ctx context.Context, c hotline.CaseRecord, due time.Time, token string, first []byte) (int64, error)
	OpenCases(ctx context.Context) ([]hotline.CaseRecord, error)
	OrganizerByPhone(ctx context.Context, phoneID string) (string, error)
	ReopenCase(ctx context.Context, n int64, volunteer string, now time.Time) error
	SaveStaffReply(ctx context.Context, scope, sid, reply string) error
	SetCaseAddress(ctx context.Context, n int64, from, to string, sealed []byte) (bool, error)
	SetOnCall(ctx context.Context, v hotline.VolunteerRecord, on bool) error
	Transcript(ctx context.Context, n int64) ([][]byte, error)
	Volunteer(ctx context.Context, id string) (hotline.VolunteerRecord, error)
	VolunteerByPhone(ctx context.Context, phoneID string) (string, error)
	VolunteerCases(ctx context.Context, volunteer string) ([]int64, error)
	Volunteers(ctx context.Context) ([]hotline.VolunteerRecord, error)
}
