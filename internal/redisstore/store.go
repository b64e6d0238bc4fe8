// Package redisstore holds every Redis key and script of the hotline in one place, so that
// the key layout (docs/design.md) can be read and reviewed here and nowhere else.
//
// Every key starts with the configured prefix. Keys that one operation touches carry the
// same hash tag ({member id}), so the same code runs on a single Redis and on Redis Cluster.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/hotline"
)

// Store is the hotline's Redis data. It holds only opaque, already-sealed values: it never
// sees a phone number or a message body in clear.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	// replyTTL is how long an answered message id is remembered, to answer a retried
	// webhook the same way.
	replyTTL time.Duration
}

// DefaultReplyTTL covers Twilio's retries with a wide margin.
const DefaultReplyTTL = 48 * time.Hour

// New returns a Store using rdb, with every key under prefix.
func New(rdb redis.UniversalClient, prefix string, replyTTL time.Duration) (*Store, error) {
	if err := ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	if replyTTL <= 0 {
		replyTTL = DefaultReplyTTL
	}
	return &Store{rdb: rdb, prefix: prefix, replyTTL: replyTTL}, nil
}

// ValidatePrefix refuses a key prefix that would break hash tags or key parsing.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return errors.New("the key prefix must not be empty")
	}
	if strings.ContainsAny(prefix, "{} \t\r\n") {
		return fmt.Errorf("the key prefix %q must not contain braces or spaces: they would break Redis Cluster hash tags", prefix)
	}
	return nil
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.rdb.Ping(ctx).Err()
}

// The keys of one member. The id is already a keyed hash of the address.
func (s *Store) memberKey(id string) string  { return s.prefix + ":m:{" + id + "}" }
func (s *Store) repliesKey(id string) string { return s.prefix + ":m:{" + id + "}:r" }
func (s *Store) answeredKey(id string) string {
	return s.prefix + ":m:{" + id + "}:rt"
}

// Load reads a member's state and, in the same round trip, whether msgID was answered.
func (s *Store) Load(ctx context.Context, id, msgID string) (hotline.MemberRecord, error) {
	return s.load(ctx, id, msgID, time.Time{})
}

// LoadCounting is Load for an inbound message: in the same round trip it counts the message
// against the member's per-minute and per-hour limits.
func (s *Store) LoadCounting(ctx context.Context, id, msgID string, now time.Time) (hotline.MemberRecord, error) {
	return s.load(ctx, id, msgID, now)
}

// The counters of one member's messages, per minute and per hour.
func (s *Store) minuteKey(id string, now time.Time) string {
	return s.prefix + ":m:{" + id + "}:q:" + strconv.FormatInt(now.Unix()/60, 10)
}
func (s *Store) hourKey(id string, now time.Time) string {
	return s.prefix + ":m:{" + id + "}:q:h" + strconv.FormatInt(now.Unix()/3600, 10)
}

func (s *Store) load(ctx context.Context, id, msgID string, now time.Time) (hotline.MemberRecord, error) {
	var hm *redis.SliceCmd
	var reply *redis.StringCmd
	var minute, hour *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		hm = p.HMGet(ctx, s.memberKey(id), "v", "s")
		reply = p.HGet(ctx, s.repliesKey(id), msgID)
		if !now.IsZero() {
			minute = p.Incr(ctx, s.minuteKey(id, now))
			p.Expire(ctx, s.minuteKey(id, now), 2*time.Minute)
			hour = p.Incr(ctx, s.hourKey(id, now))
			p.Expire(ctx, s.hourKey(id, now), 2*time.Hour)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return hotline.MemberRecord{}, fmt.Errorf("loading member: %w", err)
	}
	var m hotline.MemberRecord
	if minute != nil {
		m.MinuteCount, m.HourCount = minute.Val(), hour.Val()
	}
	vals := hm.Val()
	if v, ok := vals[0].(string); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return hotline.MemberRecord{}, fmt.Errorf("member version %q: %w", v, err)
		}
		m.Version = n
	}
	if st, ok := vals[1].(string); ok {
		m.State = []byte(st)
	}
	if r, err := reply.Bytes(); err == nil {
		m.Reply = r
	} else if !errors.Is(err, redis.Nil) {
		return hotline.MemberRecord{}, fmt.Errorf("loading reply: %w", err)
	}
	return m, nil
}

// commitScript writes a member's new state if nobody wrote since it was read, and records
// the reply to the message that caused it, in one atomic step. It returns {0, version} on
// success, {1, reply} when the message was answered meanwhile (a concurrent retry), and
// {2, version} when the state moved on (the member's messages raced; re-read and retry).
// Without a message id (an update from a worker, say) only the state is written.
// The reply log is trimmed only once it holds more than 64 replies (most members never get
// there, so the common commit stays cheap): replies older than the retention go, and past
// 256 the oldest go too, so a flood cannot grow it without bound. Twilio retries within
// minutes, far inside both limits.
var commitScript = redis.NewScript(`
if ARGV[4] ~= '' then
  local done = redis.call('HGET', KEYS[2], ARGV[4])
  if done then return {1, done} end
end
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then return {2, v} end
redis.call('HSET', KEYS[1], 'v', v + 1, 's', ARGV[2])
if ARGV[3] == '0' then redis.call('PERSIST', KEYS[1]) else redis.call('EXPIRE', KEYS[1], ARGV[3]) end
if ARGV[4] == '' then return {0, v + 1} end
local now = tonumber(ARGV[6])
local keep = tonumber(ARGV[7])
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
redis.call('ZADD', KEYS[3], now, ARGV[4])
if redis.call('ZCARD', KEYS[3]) > 64 then
  local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - keep, 'LIMIT', 0, 256)
  if #old > 0 then
    redis.call('HDEL', KEYS[2], unpack(old))
    redis.call('ZREM', KEYS[3], unpack(old))
  end
  local over = redis.call('ZCARD', KEYS[3]) - 256
  if over > 0 then
    local popped = redis.call('ZPOPMIN', KEYS[3], over)
    for i = 1, #popped, 2 do redis.call('HDEL', KEYS[2], popped[i]) end
  end
end
redis.call('EXPIRE', KEYS[2], keep)
redis.call('EXPIRE', KEYS[3], keep)
return {0, v + 1}
`)

// Save applies c to member id atomically; see hotline.MemberStore.
func (s *Store) Save(ctx context.Context, id string, c hotline.Commit) error {
	ttl := int64(0)
	if c.TTL > 0 {
		ttl = max(int64(c.TTL/time.Second), 1)
	}
	res, err := commitScript.Run(ctx, s.rdb,
		[]string{s.memberKey(id), s.repliesKey(id), s.answeredKey(id)},
		c.Expect, c.State, ttl, c.MsgID, c.Reply, c.Now.Unix(), int64(s.replyTTL/time.Second)).Slice()
	if err != nil {
		return fmt.Errorf("saving member: %w", err)
	}
	if len(res) != 2 {
		return fmt.Errorf("saving member: unexpected answer %v", res)
	}
	switch code, _ := res[0].(int64); code {
	case 0:
		return nil
	case 1:
		r, _ := res[1].(string)
		return &hotline.AnsweredError{Reply: []byte(r)}
	case 2:
		return hotline.ErrConflict
	default:
		return fmt.Errorf("saving member: unexpected code %d", code)
	}
}

// Erase deletes everything the store holds under member id's own keys (its subscription
// entries are the caller's, through SyncSubscriptions).
func (s *Store) Erase(ctx context.Context, id string) error {
	now := time.Now()
	if err := s.rdb.Del(ctx, s.memberKey(id), s.repliesKey(id), s.answeredKey(id),
		s.minuteKey(id, now), s.hourKey(id, now)).Err(); err != nil {
		return fmt.Errorf("erasing member: %w", err)
	}
	return nil
}
