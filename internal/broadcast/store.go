package broadcast

import (
	"context"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
)

// Store is what broadcasts and the organizer roster need of the store (redisstore.Store).
type Store interface {
	Broadcast(ctx context.Context, id string) (hotline.Broadcast, error)
	Broadcasts(ctx context.Context, limit int64) ([]hotline.Broadcast, error)
	CountRecipients(ctx context.Context, areas []string, lang string) (int64, error)
	CountWhatsAppRecipients(ctx context.Context, areas []string, lang string) (int64, error)
	CreateBroadcast(ctx context.Context, b hotline.Broadcast) error
	CreateOrganizer(ctx context.Context, o hotline.OrganizerRecord) error
	DeleteOrganizer(ctx context.Context, id string) error
	Organizer(ctx context.Context, id string) (hotline.OrganizerRecord, error)
	OrganizerByToken(ctx context.Context, hash string) (string, error)
	Organizers(ctx context.Context) ([]hotline.OrganizerRecord, error)
	StartSending(ctx context.Context, id string, areas []string, langs []string, now time.Time) (map[string]int64, error)
	StopBroadcast(ctx context.Context, id string) error
	Transition(ctx context.Context, id string, from []hotline.BroadcastStatus, to hotline.BroadcastStatus, notBy string, fields map[string]string) error
	VolunteerByPhone(ctx context.Context, phoneID string) (string, error)
}
