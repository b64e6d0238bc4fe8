package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// StaffReplyTTL is how long a staff message's reply is kept for a retried webhook: Twilio
// retries within minutes.
const StaffReplyTTL = time.Hour

// staffMessageKey records one message from a volunteer or organizer (scope names them, never
// by phone) and, once answered, the reply it got.
func (s *Store) staffMessageKey(scope, sid string) string {
	return s.prefix + ":staffmsg:" + scope + ":" + sid
}

// ClaimStaffMessage records, atomically, that message sid from scope is being answered. It
// reports true to the first delivery only; a retried webhook (or one arriving while the
// first is still being answered) gets false and the reply saved for the first, "" while
// there is none yet. Reading and then writing, as before, let two deliveries of one message
// both act on it: a volunteer's words relayed twice.
func (s *Store) ClaimStaffMessage(ctx context.Context, scope, sid string) (bool, string, error) {
	key := s.staffMessageKey(scope, sid)
	ok, err := s.rdb.SetNX(ctx, key, "", StaffReplyTTL).Result()
	if err != nil {
		return false, "", fmt.Errorf("claiming a staff message: %w", err)
	}
	if ok {
		return true, "", nil
	}
	reply, err := s.rdb.Get(ctx, key).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, "", fmt.Errorf("reading a staff message's reply: %w", err)
	}
	return false, reply, nil
}

// SaveStaffReply keeps the reply message sid from scope got, for a retried webhook.
func (s *Store) SaveStaffReply(ctx context.Context, scope, sid, reply string) error {
	if err := s.rdb.SetArgs(ctx, s.staffMessageKey(scope, sid), reply, redis.SetArgs{KeepTTL: true, Mode: "XX"}).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("saving a staff message's reply: %w", err)
	}
	return nil
}
