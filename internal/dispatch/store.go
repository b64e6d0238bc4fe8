package dispatch

import (
	"context"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
)

// Store is what the dispatcher and the outbox need of the store (redisstore.Store): the send
// queue, broadcasts' recipients and outcomes, and the marks that send a message once.
type Store interface {
	Ack(ctx context.Context, entries ...hotline.QueueEntry) error
	Broadcast(ctx context.Context, id string) (hotline.Broadcast, error)
	Claim(ctx context.Context, consumer string, minIdle time.Duration, count int64) ([]hotline.QueueEntry, error)
	ClaimSends(ctx context.Context, holder string, entries []hotline.QueueEntry, ttl time.Duration) ([]hotline.PreparedSend, error)
	DirectDone(ctx context.Context, id string) (bool, error)
	EnqueueBatch(ctx context.Context, id, lang, priority string, batch int64) (bool, error)
	EnqueueDirect(ctx context.Context, id string, sealed []byte) error
	EnsureQueue(ctx context.Context) error
	FinishDirect(ctx context.Context, id string) error
	FinishEnqueue(ctx context.Context, id string, now time.Time) (bool, error)
	PendingEnqueues(ctx context.Context) ([]string, error)
	Read(ctx context.Context, consumer string, count int64, block time.Duration, done []hotline.QueueEntry, priorities ...string) ([]hotline.QueueEntry, error)
	RecordOutcomes(ctx context.Context, outcomes []hotline.SendOutcome, now time.Time) ([]error, error)
	RefreshDirectInflight(ctx context.Context, id string, ttl time.Duration) error
	ReleaseDirectInflight(ctx context.Context, id string) error
	TryDirectInflight(ctx context.Context, id string, ttl time.Duration) (bool, error)
	TryLease(ctx context.Context, id, owner string, ttl time.Duration) (bool, error)
}
