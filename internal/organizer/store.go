package organizer

import (
	"context"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/staff"
)

// Store is what the organizers' SMS commands need of the store (redisstore.Store).
type Store interface {
	// Source reads the whole roster, for a service built without a roster of its own (tests).
	staff.Source
	ClaimStaffMessage(ctx context.Context, scope, sid string) (bool, string, error)
	ComposeState(ctx context.Context, orgID string) (map[string]string, error)
	Organizer(ctx context.Context, id string) (hotline.OrganizerRecord, error)
	Organizers(ctx context.Context) ([]hotline.OrganizerRecord, error)
	SaveComposeState(ctx context.Context, orgID string, m map[string]string, ttl time.Duration) error
	SaveStaffReply(ctx context.Context, scope, sid, reply string) error
}
