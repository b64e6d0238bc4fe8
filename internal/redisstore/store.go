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
	// repl is whether promised writes wait for a replica (replicated.go).
	repl replication
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

// The reply log is kept in generations of half the reply retention each: a message's reply
// goes into the current generation's hash, which expires a whole retention after it was
// made. A retried message is looked up in the current generation, and, within retryWindow of
// its start or end, in the neighbouring one too. So a retry is recognised for at least
// retryWindow (Twilio retries within minutes), and usually far longer, even between processes
// whose clocks differ by less than that; and a reply is kept at most the whole retention,
// with no per-entry trimming: the commit script stays short.
func (s *Store) replyGen(now time.Time) int64 {
	return now.Unix() / s.genSeconds()
}
func (s *Store) genSeconds() int64            { return max(int64(s.replyTTL/time.Second)/2, 1) }
func (s *Store) genStart(gen int64) time.Time { return time.Unix(gen*s.genSeconds(), 0) }

// retryWindow is how long after a message a retry of it is always recognised.
const retryWindow = time.Hour

func (s *Store) repliesKey(id string, gen int64) string {
	return s.memberKey(id) + ":r:" + strconv.FormatInt(gen, 10)
}

// maxRepliesPerGen bounds one generation of a member's reply log. The hourly reply cap keeps
// real members far below it; past it a reply is not recorded, so only a retry of such a
// message would be answered afresh.
const maxRepliesPerGen = 512

// Load reads a member's state and, in the same round trip, whether msgID was answered.
func (s *Store) Load(ctx context.Context, id, msgID string) (hotline.MemberRecord, error) {
	var durable, conversation, reply, older *redis.StringCmd
	gen := s.replyGen(time.Now())
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		durable = p.HGet(ctx, s.bucketKey(id), id)
		conversation = p.Get(ctx, s.memberKey(id))
		if msgID != "" {
			reply = p.HGet(ctx, s.repliesKey(id, gen), msgID)
			older = p.HGet(ctx, s.repliesKey(id, gen-1), msgID)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return hotline.MemberRecord{}, fmt.Errorf("loading member: %w", err)
	}
	var m hotline.MemberRecord
	m.State = firstValue(durable, conversation)
	if msgID != "" {
		m.Reply = firstValue(reply, older)
	}
	return m, nil
}

// firstValue is the first of cmds that found a value, nil if none did.
func firstValue(cmds ...*redis.StringCmd) []byte {
	for _, c := range cmds {
		if b, err := c.Bytes(); err == nil {
			return b
		}
	}
	return nil
}

// countsKey holds one member's message counts for the hour of now: field "h" for the hour,
// "m<minute>" for each minute of it. One key an hour, rather than one a minute and one an
// hour, keeps counting to two commands a message (three for the hour's first).
func (s *Store) countsKey(id string, now time.Time) string {
	return s.memberKey(id) + ":q:" + strconv.FormatInt(now.Unix()/3600, 10)
}
func minuteField(now time.Time) string { return "m" + strconv.Itoa(now.Minute()) }

// countsTTL keeps an hour's counts until the hour is over, and a little longer.
const countsTTL = 2 * time.Hour

// countScript is the commit script's first half, for a message dropped without flow work:
// a retry of a message answered before gets {1, reply}; any other message is counted and
// gets {0, minute, hour}.
// KEYS: reply log (this generation), reply log (the neighbouring one), this hour's counts.
// ARGV: message id, look in the neighbouring generation (1/0), this minute's field, counts' TTL.
var countScript = redis.NewScript(`
if ARGV[1] ~= '' then
  local done = redis.call('HGET', KEYS[1], ARGV[1])
  if not done and ARGV[2] == '1' then done = redis.call('HGET', KEYS[2], ARGV[1]) end
  if done then return {1, done} end
end
local h = redis.call('HINCRBY', KEYS[3], 'h', 1)
if h == 1 then redis.call('EXPIRE', KEYS[3], ARGV[4]) end
local m = redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
return {0, m, h}
`)

// Count counts message msgID against member id's limits, as the commit script does, for a
// message dropped without flow work. A retry of a message answered before is not counted:
// Count returns *hotline.AnsweredError with the reply (and no state).
func (s *Store) Count(ctx context.Context, id, msgID string, now time.Time) (minute, hour int64, err error) {
	gen := s.replyGen(now)
	other, look := s.otherGen(gen, now)
	res, err := countScript.Run(ctx, s.rdb,
		[]string{s.repliesKey(id, gen), s.repliesKey(id, other), s.countsKey(id, now)},
		msgID, look, minuteField(now), int64(countsTTL/time.Second)).Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("counting a message: %w", err)
	}
	if len(res) == 2 {
		r, _ := res[1].(string)
		return 0, 0, &hotline.AnsweredError{Reply: []byte(r)}
	}
	if len(res) != 3 {
		return 0, 0, fmt.Errorf("counting a message: unexpected answer %v", res)
	}
	minute, _ = res[1].(int64)
	hour, _ = res[2].(int64)
	return minute, hour, nil
}

// otherGen is the generation a retry at now is looked for in besides gen, its own: the one
// before, early in gen (the message came before the change of generation); the one after,
// late in gen (another process whose clock runs a little ahead may have recorded it there).
// look is "0" in the middle of a generation, where one look is enough.
func (s *Store) otherGen(gen int64, now time.Time) (other int64, look string) {
	switch {
	case now.Sub(s.genStart(gen)) < retryWindow:
		return gen - 1, "1"
	case s.genStart(gen+1).Sub(now) < retryWindow:
		return gen + 1, "1"
	}
	return gen - 1, "0"
}

// commitScript is a message's one round trip: it recognises a message answered before,
// counts the message against the member's limits, and writes the member's new state if
// nobody wrote since the state it was worked out from, together with the reply. It answers
// {0} on success; {1, reply, state} for a message answered before; {2, state} when the
// state is not the expected one (the member's messages raced, or the caller's copy was
// stale: step again from this state); {3, minute, hour, state} past a limit. A durable state
// (TTL 0) goes into the bucket hash and leaves the member's own key; any other goes into the
// member's own key, with the TTL, and leaves the bucket.
//
// With a job (ARGV[15] not empty) it also records, in the member's slot, what the step
// promised beyond the reply, under a lease of ARGV[16] ms (docs/durable-effects.md).
//
// KEYS: bucket, member key, reply log (this generation), reply log (the neighbouring
// generation, see otherGen), this hour's counts, the bucket's jobs, the job's lease.
// ARGV: expected state, new state, TTL, member id, message id, reply, reply log TTL, count
// (1/0), minute limit, hour limit, reply log bound, look in the neighbouring generation (1/0),
// this minute's field in the counts, the counts' TTL, sealed job, job lease (ms).
var commitScript = redis.NewScript(`
local durableNext = ARGV[3] == '0'
local function current()
  -- Look first where the new state goes: a member usually stays where they were.
  if durableNext then
    local cur = redis.call('HGET', KEYS[1], ARGV[4])
    if cur then return cur, true end
    return redis.call('GET', KEYS[2]) or '', false
  end
  local cur = redis.call('GET', KEYS[2])
  if cur then return cur, false end
  cur = redis.call('HGET', KEYS[1], ARGV[4])
  if cur then return cur, true end
  return '', false
end
if ARGV[5] ~= '' then
  local done = redis.call('HGET', KEYS[3], ARGV[5])
  if not done and ARGV[12] == '1' then done = redis.call('HGET', KEYS[4], ARGV[5]) end
  if done then return {1, done, (current())} end
end
if ARGV[8] == '1' then
  local h = redis.call('HINCRBY', KEYS[5], 'h', 1)
  if h == 1 then redis.call('EXPIRE', KEYS[5], ARGV[14]) end
  local m = redis.call('HINCRBY', KEYS[5], ARGV[13], 1)
  local ml, hl = tonumber(ARGV[9]), tonumber(ARGV[10])
  if (ml > 0 and m > ml) or (hl > 0 and h > hl) then return {3, m, h, (current())} end
end
local cur, inBucket = current()
if cur ~= ARGV[1] then return {2, cur} end
if durableNext then
  redis.call('HSET', KEYS[1], ARGV[4], ARGV[2])
  if cur ~= '' and not inBucket then redis.call('DEL', KEYS[2]) end
else
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
  if inBucket then redis.call('HDEL', KEYS[1], ARGV[4]) end
end
if ARGV[5] ~= '' then
  local n = redis.call('HLEN', KEYS[3])
  if n < tonumber(ARGV[11]) then
    redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
    if n == 0 then redis.call('EXPIRE', KEYS[3], ARGV[7]) end
  end
end
if ARGV[15] and ARGV[15] ~= '' then
  redis.call('HSET', KEYS[6], ARGV[4] .. '/' .. ARGV[5], ARGV[15])
  redis.call('SET', KEYS[7], '0', 'PX', ARGV[16])
end
return {0}
`)

// Save applies c to member id atomically, in one round trip; see hotline.MemberStore.
func (s *Store) Save(ctx context.Context, id string, c hotline.Commit) error {
	if len(c.State) == 0 {
		return errors.New("saving member: empty state")
	}
	ttl := int64(0)
	if c.TTL > 0 {
		ttl = max(int64(c.TTL/time.Second), 1)
	}
	count := "0"
	if c.Count {
		count = "1"
	}
	gen := s.replyGen(c.Now)
	// A retry is looked for in a neighbouring generation only near the change of
	// generation: Twilio retries within minutes, and a second look would cost every message
	// a command.
	other, previous := s.otherGen(gen, c.Now)
	if len(c.Job) > 0 && (c.MsgID == "" || strings.Contains(id, "/")) {
		return errors.New("saving member: a job needs a message id, and a member id without '/'")
	}
	res, err := commitScript.Run(ctx, s.promised(),
		[]string{s.bucketKey(id), s.memberKey(id), s.repliesKey(id, gen), s.repliesKey(id, other),
			s.countsKey(id, c.Now), s.jobsKey(bucketOf(id)), s.jobLeaseKey(id, c.MsgID)},
		c.Expect, c.State, ttl, id, c.MsgID, c.Reply, int64(s.replyTTL/time.Second), count,
		c.MinuteLimit, c.HourLimit, maxRepliesPerGen, previous, minuteField(c.Now), int64(countsTTL/time.Second),
		c.Job, max(c.JobLease.Milliseconds(), 1)).Slice()
	if err != nil {
		return fmt.Errorf("saving member: %w", err)
	}
	bad := fmt.Errorf("saving member: unexpected answer %v", res)
	if len(res) == 0 {
		return bad
	}
	str := func(i int) []byte {
		if v, ok := res[i].(string); ok && v != "" {
			return []byte(v)
		}
		return nil
	}
	switch code, _ := res[0].(int64); {
	case code == 0:
		return nil
	case code == 1 && len(res) == 3:
		return &hotline.AnsweredError{Reply: str(1), State: str(2)}
	case code == 2 && len(res) == 2:
		return &hotline.ConflictError{State: str(1)}
	case code == 3 && len(res) == 4:
		minute, _ := res[1].(int64)
		hour, _ := res[2].(int64)
		return &hotline.LimitedError{Minute: minute, Hour: hour, State: str(3)}
	default:
		return bad
	}
}

// Erase deletes everything the store holds under member id's own keys (its subscription
// entries are the caller's, through SyncSubscriptions).
func (s *Store) Erase(ctx context.Context, id string) error {
	now := time.Now()
	err := s.promise(ctx, s.bucketKey(id), func(c redis.Cmdable) error {
		_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HDel(ctx, s.bucketKey(id), id)
			// A reply log lives a whole retention after its first reply, which spans three
			// generations; the one after the current covers a clock a little ahead. Counts
			// live two hours past their hour's start.
			gen := s.replyGen(now)
			keys := []string{s.memberKey(id), s.memberCasesKey(id), s.caseTokensKey(id), s.waWroteKey(id), s.waHeldKey(id)}
			for g := gen - 2; g <= gen+1; g++ {
				keys = append(keys, s.repliesKey(id, g))
			}
			for h := -2; h <= 1; h++ {
				keys = append(keys, s.countsKey(id, now.Add(time.Duration(h)*time.Hour)))
			}
			p.Del(ctx, keys...)
			return nil
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("erasing member: %w", err)
	}
	return nil
}
