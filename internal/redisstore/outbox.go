package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/hotline"
)

// The outbox: messages to one person (a page, a relay, a notice) that the provider failed to
// take for a passing reason wait in the direct stream, ahead of every alert, as an id and a
// sealed value; a worker sends them with retries.

func (s *Store) directKey(id, what string) string { return s.prefix + ":out:" + id + ":" + what }

// directDoneFor is how long a sent direct message is remembered, so that an entry taken
// over after its sender died between the send and the acknowledgement is not sent again.
// It outlives every take-over delay by far.
const directDoneFor = 24 * time.Hour

// EnqueueDirect queues direct message id, whose recipient and text are in sealed.
func (s *Store) EnqueueDirect(ctx context.Context, id string, sealed []byte) error {
	err := s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: s.streamKey(hotline.Priorities[0]), Values: []any{"d", id, "v", sealed}}).Err()
	if err != nil {
		return fmt.Errorf("queueing a message: %w", err)
	}
	return nil
}

// TryDirectInflight marks direct message id as being sent by this process for ttl, unless
// another holds it, as ClaimSends does for an alert.
func (s *Store) TryDirectInflight(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.directKey(id, "if"), 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("marking a send in flight: %w", err)
	}
	return ok, nil
}

// RefreshDirectInflight extends this process's mark on a direct message it is still sending.
func (s *Store) RefreshDirectInflight(ctx context.Context, id string, ttl time.Duration) error {
	if err := s.rdb.PExpire(ctx, s.directKey(id, "if"), ttl).Err(); err != nil {
		return fmt.Errorf("extending a send in flight: %w", err)
	}
	return nil
}

// ReleaseDirectInflight lifts this process's mark on a direct message it failed to send, so a
// worker need not wait for it to expire.
func (s *Store) ReleaseDirectInflight(ctx context.Context, id string) error {
	if err := s.rdb.Del(ctx, s.directKey(id, "if")).Err(); err != nil {
		return fmt.Errorf("releasing a send in flight: %w", err)
	}
	return nil
}

// DirectDone reports whether direct message id has been sent (or given up on).
func (s *Store) DirectDone(ctx context.Context, id string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.directKey(id, "done")).Result()
	if err != nil {
		return false, fmt.Errorf("checking a queued message: %w", err)
	}
	return n == 1, nil
}

// FinishDirect records that direct message id needs no more sending, and lifts its
// in-flight mark.
func (s *Store) FinishDirect(ctx context.Context, id string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.directKey(id, "done"), 1, directDoneFor)
		p.Del(ctx, s.directKey(id, "if"))
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording a sent message: %w", err)
	}
	return nil
}
