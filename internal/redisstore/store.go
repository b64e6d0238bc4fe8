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

// memberBuckets is how many hashes the durable members are spread over. Packing members
// into shared hashes is what keeps a subscriber's cost near 200 bytes: a key of their own
// would cost Redis's per-key overhead (about 250 bytes) on top of the state. With values of
// at most 64 bytes and at most 128 members per hash, Redis keeps each hash as a flat
// listpack; past that it still works, only less compactly. Changing the number moves every
// member to another hash: it needs a migration (docs/design.md).
const memberBuckets = 1024

// bucketOf is member id's bucket, which is also the hash tag of all the member's keys, so
// that one script can touch them on Redis Cluster. Ids are already uniform (keyed hashes);
// FNV-1a spreads test ids and any other form just as well.
func bucketOf(id string) string {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return strconv.FormatUint(uint64(h%memberBuckets), 16)
}

// The keys of one member. The id is already a keyed hash of the address. A durable state
// (a subscriber's, an opt-out) is a field of the bucket hash, kept until changed; any other
// state is a key of its own that expires with the conversation. A member is in one or the
// other, never both.
func (s *Store) bucketKey(id string) string { return s.prefix + ":mb:{" + bucketOf(id) + "}" }
func (s *Store) memberKey(id string) string { return s.prefix + ":m:{" + bucketOf(id) + "}:" + id }
func (s *Store) repliesKey(id string) string {
	return s.memberKey(id) + ":r"
}
func (s *Store) answeredKey(id string) string {
	return s.memberKey(id) + ":rt"
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
	return s.memberKey(id) + ":q:" + strconv.FormatInt(now.Unix()/60, 10)
}
func (s *Store) hourKey(id string, now time.Time) string {
	return s.memberKey(id) + ":q:h" + strconv.FormatInt(now.Unix()/3600, 10)
}

func (s *Store) load(ctx context.Context, id, msgID string, now time.Time) (hotline.MemberRecord, error) {
	var durable, conversation, reply *redis.StringCmd
	var minute, hour *redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		durable = p.HGet(ctx, s.bucketKey(id), id)
		conversation = p.Get(ctx, s.memberKey(id))
		if msgID != "" {
			reply = p.HGet(ctx, s.repliesKey(id), msgID)
		}
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
	for _, c := range []*redis.StringCmd{durable, conversation} {
		if b, err := c.Bytes(); err == nil {
			m.State = b
			break
		}
	}
	if reply != nil {
		if r, err := reply.Bytes(); err == nil {
			m.Reply = r
		}
	}
	return m, nil
}

// commitScript writes a member's new state if nobody wrote since it was read, and records
// the reply to the message that caused it, in one atomic step. It returns {0} on success,
// {1, reply} when the message was answered meanwhile (a concurrent retry), and {2} when the
// state moved on (the member's messages raced; re-read and retry). A durable state (TTL 0)
// goes into the bucket hash and leaves the member's own key; any other goes into the
// member's own key, with the TTL, and leaves the bucket. Without a message id (an update
// from a worker, say) only the state is written.
// The reply log is trimmed only once it holds more than 64 replies (most members never get
// there, so the common commit stays cheap): replies older than the retention go, and past
// 256 the oldest go too, so a flood cannot grow it without bound. Twilio retries within
// minutes, far inside both limits.
var commitScript = redis.NewScript(`
if ARGV[5] ~= '' then
  local done = redis.call('HGET', KEYS[3], ARGV[5])
  if done then return {1, done} end
end
local inBucket = true
local cur = redis.call('HGET', KEYS[1], ARGV[4])
if not cur then
  inBucket = false
  cur = redis.call('GET', KEYS[2])
end
if (cur or '') ~= ARGV[1] then return {2} end
if ARGV[3] == '0' then
  redis.call('HSET', KEYS[1], ARGV[4], ARGV[2])
  if cur and not inBucket then redis.call('DEL', KEYS[2]) end
else
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
  if inBucket then redis.call('HDEL', KEYS[1], ARGV[4]) end
end
if ARGV[5] == '' then return {0} end
local now = tonumber(ARGV[7])
local keep = tonumber(ARGV[8])
redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
redis.call('ZADD', KEYS[4], now, ARGV[5])
if redis.call('ZCARD', KEYS[4]) > 64 then
  local old = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now - keep, 'LIMIT', 0, 256)
  if #old > 0 then
    redis.call('HDEL', KEYS[3], unpack(old))
    redis.call('ZREM', KEYS[4], unpack(old))
  end
  local over = redis.call('ZCARD', KEYS[4]) - 256
  if over > 0 then
    local popped = redis.call('ZPOPMIN', KEYS[4], over)
    for i = 1, #popped, 2 do redis.call('HDEL', KEYS[3], popped[i]) end
  end
end
redis.call('EXPIRE', KEYS[3], keep)
redis.call('EXPIRE', KEYS[4], keep)
return {0}
`)

// Save applies c to member id atomically; see hotline.MemberStore.
func (s *Store) Save(ctx context.Context, id string, c hotline.Commit) error {
	if len(c.State) == 0 {
		return errors.New("saving member: empty state")
	}
	ttl := int64(0)
	if c.TTL > 0 {
		ttl = max(int64(c.TTL/time.Second), 1)
	}
	res, err := commitScript.Run(ctx, s.rdb,
		[]string{s.bucketKey(id), s.memberKey(id), s.repliesKey(id), s.answeredKey(id)},
		c.Expect, c.State, ttl, id, c.MsgID, c.Reply, c.Now.Unix(), int64(s.replyTTL/time.Second)).Slice()
	if err != nil {
		return fmt.Errorf("saving member: %w", err)
	}
	if len(res) == 0 {
		return fmt.Errorf("saving member: unexpected answer %v", res)
	}
	switch code, _ := res[0].(int64); code {
	case 0:
		return nil
	case 1:
		if len(res) < 2 {
			return fmt.Errorf("saving member: unexpected answer %v", res)
		}
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
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HDel(ctx, s.bucketKey(id), id)
		p.Del(ctx, s.memberKey(id), s.repliesKey(id), s.answeredKey(id), s.minuteKey(id, now), s.hourKey(id, now))
		return nil
	})
	if err != nil {
		return fmt.Errorf("erasing member: %w", err)
	}
	return nil
}
