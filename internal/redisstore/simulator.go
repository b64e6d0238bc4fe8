package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// The console simulator's conversation logs. The simulator's store is opened with the sandbox's
// own prefix (<prefix>:sandbox), so these keys sit beside the sandbox members' state and apart
// from every real member's; each is one list, so no operation needs a hash tag.

func (s *Store) simLogKey(convo string) string { return s.prefix + ":simlog:" + convo }

// AppendSimLog adds sealed lines to a simulator conversation's log, keeps only its last keep
// lines, and forgets the whole log ttl after the last line.
func (s *Store) AppendSimLog(ctx context.Context, convo string, ttl time.Duration, keep int64, sealed ...[]byte) error {
	if len(sealed) == 0 {
		return nil
	}
	key := s.simLogKey(convo)
	vals := make([]any, len(sealed))
	for i, v := range sealed {
		vals[i] = v
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, key, vals...)
		p.LTrim(ctx, key, -keep, -1)
		p.PExpire(ctx, key, ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("saving a simulator conversation: %w", err)
	}
	return nil
}

// SimLog returns a simulator conversation's sealed lines, oldest first; none when it is
// unknown or forgotten.
func (s *Store) SimLog(ctx context.Context, convo string) ([][]byte, error) {
	vals, err := s.rdb.LRange(ctx, s.simLogKey(convo), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading a simulator conversation: %w", err)
	}
	out := make([][]byte, len(vals))
	for i, v := range vals {
		out[i] = []byte(v)
	}
	return out, nil
}
