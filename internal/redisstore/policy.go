package redisstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// policyChangesCap is how many policy changes the change log keeps: years of corrections.
const policyChangesCap = 2000

// The organizers' corrections of the places file: one hash field per place id, whose value
// is the corrected entry as the caller encodes it, and the change log, newest first. Both
// carry the same hash tag, so that an edit and its log line are written in one transaction on
// a Redis Cluster too.
func (s *Store) policyEditsKey() string   { return s.prefix + ":{policy}:edits" }
func (s *Store) policyChangesKey() string { return s.prefix + ":{policy}:changes" }
func (s *Store) policyChannel() string    { return s.prefix + ":policy:changed" }

// PolicyEdits returns every stored correction, by place id.
func (s *Store) PolicyEdits(ctx context.Context) (map[string]string, error) {
	m, err := s.rdb.HGetAll(ctx, s.policyEditsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("reading policy edits: %w", err)
	}
	return m, nil
}

// PutPolicyEdit stores next as the correction of place id and adds change to the change log,
// both or neither, provided the stored correction is still prev ("" for none): two organizers
// correcting one entry at once must not log an "old" value that was not the one replaced. It
// reports false, storing nothing, when the correction changed since the caller read prev.
func (s *Store) PutPolicyEdit(ctx context.Context, id, prev, next, change string) (bool, error) {
	err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		cur, err := tx.HGet(ctx, s.policyEditsKey(), id).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		if cur != prev {
			return redis.TxFailedErr
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, s.policyEditsKey(), id, next)
			p.LPush(ctx, s.policyChangesKey(), change)
			p.LTrim(ctx, s.policyChangesKey(), 0, policyChangesCap-1)
			return nil
		})
		return err
	}, s.policyEditsKey())
	if errors.Is(err, redis.TxFailedErr) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("storing the policy edit of %s: %w", id, err)
	}
	return true, nil
}

// PolicyChanges returns up to limit entries of the change log, newest first.
func (s *Store) PolicyChanges(ctx context.Context, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	out, err := s.rdb.LRange(ctx, s.policyChangesKey(), 0, int64(limit)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading the policy change log: %w", err)
	}
	return out, nil
}

// AnnouncePolicyChange tells every process watching (WatchPolicyChanges) that a correction
// was stored.
func (s *Store) AnnouncePolicyChange(ctx context.Context) error {
	return s.announce(ctx, s.policyChannel(), "a policy edit")
}

// WatchPolicyChanges calls heard for every correction announced, until ctx ends. A change
// announced while the subscription was down is missed; the periodic reload catches it.
func (s *Store) WatchPolicyChanges(ctx context.Context, heard func()) {
	s.watch(ctx, s.policyChannel(), heard)
}
