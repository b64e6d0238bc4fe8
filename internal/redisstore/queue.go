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

// The send queue: one stream per priority, all under the {q} hash tag so that one
// XREADGROUP can wait on all three on Redis Cluster too.
const senderGroup = "senders"

func (s *Store) streamKey(priority string) string { return s.prefix + ":q:{q}:" + priority }

// EnsureQueue creates the streams and the consumer group if they do not exist.
func (s *Store) EnsureQueue(ctx context.Context) error {
	for _, p := range hotline.Priorities {
		err := s.rdb.XGroupCreateMkStream(ctx, s.streamKey(p), senderGroup, "0").Err()
		if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
			return fmt.Errorf("creating the send queue: %w", err)
		}
	}
	return nil
}

// ackScript acknowledges the entries ARGV[2…] of stream KEYS[1] for group ARGV[1], then
// trims off the head of the stream every entry the group is done with: all those before the
// oldest entry still pending, or, with none pending, all those delivered. Trimming a stream's
// head drops whole blocks of entries at a time, where deleting entries one by one (XDEL) cost
// more than the rest of a send's work in Redis. An entry is never trimmed before it is
// acknowledged: only the group's own bookkeeping (delivered, pending) decides.
var ackScript = redis.NewScript(`
if #ARGV > 1 then redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2)) end
local minid = redis.call('XPENDING', KEYS[1], ARGV[1])[2]
if not minid then
  local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
  for _, g in ipairs(groups) do
    local f = {}
    for i = 1, #g, 2 do f[g[i]] = g[i + 1] end
    if f['name'] == ARGV[1] then
      local ms, seq = string.match(f['last-delivered-id'], '^(%d+)-(%d+)$')
      minid = ms .. '-' .. (tonumber(seq) + 1)
    end
  end
end
if minid then redis.call('XTRIM', KEYS[1], 'MINID', minid) end
return 1
`)

// Read acknowledges done (entries the consumer is finished with: each one's outcome must be
// recorded already), then returns up to count new entries of each of priorities (all of
// hotline.Priorities when none are named) for consumer, most urgent first, in one round trip. Only
// when none of them has any does it wait, up to block, in a second. When it fails, done may
// or may not be acknowledged; acknowledging again is harmless.
//
// Reading several priorities at once may take entries of a lower one while a higher one has
// more waiting; a reader that finds entries of a higher priority reads only that far the next
// time (the dispatcher does), so an urgent alert waits behind at most one read of others.
func (s *Store) Read(ctx context.Context, consumer string, count int64, block time.Duration, done []hotline.QueueEntry, priorities ...string) ([]hotline.QueueEntry, error) {
	if len(priorities) == 0 {
		priorities = hotline.Priorities
	}
	streams := make([]string, 0, 2*len(priorities))
	for _, p := range priorities {
		streams = append(streams, s.streamKey(p))
	}
	for range priorities {
		streams = append(streams, ">")
	}
	args := &redis.XReadGroupArgs{Group: senderGroup, Consumer: consumer, Streams: streams, Count: count, Block: -1}
	var read *redis.XStreamSliceCmd
	cmds, _ := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		s.ackInto(ctx, p, done)
		read = p.XReadGroup(ctx, args)
		return nil
	})
	// The read stands whatever became of the acknowledgement (reading again would leave
	// what it read to be taken over); one Redis forgot the script of is made again.
	if noScript(cmds) {
		if err := s.Ack(ctx, done...); err != nil {
			return nil, err
		}
	}
	xs, err := read.Result()
	if errors.Is(err, redis.Nil) && block > 0 {
		args.Block = block
		xs, err = s.rdb.XReadGroup(ctx, args).Result()
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("reading the send queue: %w", err)
	}
	var out []hotline.QueueEntry
	for _, p := range priorities { // most urgent first, whatever order Redis answers in
		for _, st := range xs {
			if st.Stream == s.streamKey(p) {
				out = append(out, toEntries(p, []redis.XStream{st})...)
			}
		}
	}
	return out, nil
}

// Claim takes over entries another consumer read but has not acknowledged for minIdle: the
// work of a worker that died.
func (s *Store) Claim(ctx context.Context, consumer string, minIdle time.Duration, count int64) ([]hotline.QueueEntry, error) {
	var out []hotline.QueueEntry
	for _, p := range hotline.Priorities {
		msgs, _, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: s.streamKey(p), Group: senderGroup, Consumer: consumer, MinIdle: minIdle, Start: "0-0", Count: count,
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("claiming stale entries: %w", err)
		}
		out = append(out, toEntries(p, []redis.XStream{{Messages: msgs}})...)
	}
	return out, nil
}

func toEntries(priority string, res []redis.XStream) []hotline.QueueEntry {
	var out []hotline.QueueEntry
	for _, st := range res {
		for _, m := range st.Messages {
			out = append(out, toEntry(priority, m))
		}
	}
	return out
}

func toEntry(priority string, m redis.XMessage) hotline.QueueEntry {
	e := hotline.QueueEntry{Priority: priority, ID: m.ID}
	e.BC, _ = m.Values["bc"].(string)
	e.Member, _ = m.Values["m"].(string)
	e.Lang, _ = m.Values["l"].(string)
	e.Direct, _ = m.Values["d"].(string)
	if v, ok := m.Values["v"].(string); ok {
		e.Sealed = []byte(v)
	}
	return e
}

// Ack removes handled entries from the queue (see ackScript).
func (s *Store) Ack(ctx context.Context, entries ...hotline.QueueEntry) error {
	_, err := s.pipelineScripts(ctx, func(p redis.Pipeliner) { s.ackInto(ctx, p, entries) }, ackScript)
	if err != nil {
		return fmt.Errorf("acknowledging: %w", err)
	}
	return nil
}

// ackInto queues on p the acknowledgement of entries and the trimming of what that frees:
// one script per priority, however many entries.
func (s *Store) ackInto(ctx context.Context, p redis.Pipeliner, entries []hotline.QueueEntry) {
	for _, pr := range hotline.Priorities {
		var args []any
		for _, e := range entries {
			if e.Priority == pr {
				if args == nil {
					args = append(args, senderGroup)
				}
				args = append(args, e.ID)
			}
		}
		if args != nil {
			ackScript.EvalSha(ctx, p, []string{s.streamKey(pr)}, args...)
		}
	}
}

// QueueDepth is how many entries wait in each priority, read or not: those not yet
// delivered to a consumer and those delivered but not acknowledged. Acknowledged entries stay
// in a stream until the oldest entry before them is acknowledged too (ackScript), so the
// stream's length counts them as well; the group's own counts (Redis 7: "lag") do not, and
// are used when Redis gives them.
func (s *Store) QueueDepth(ctx context.Context) (map[string]int64, error) {
	lengths := map[string]*redis.IntCmd{}
	groups := map[string]*redis.XInfoGroupsCmd{}
	// The group's counts may be missing (an older Redis, a stream not made yet): the
	// lengths alone are then the answer, and only their errors count.
	s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, pr := range hotline.Priorities {
			lengths[pr] = p.XLen(ctx, s.streamKey(pr))
			groups[pr] = p.XInfoGroups(ctx, s.streamKey(pr))
		}
		return nil
	})
	out := map[string]int64{}
	for _, pr := range hotline.Priorities {
		if err := lengths[pr].Err(); err != nil {
			return nil, fmt.Errorf("reading queue depth: %w", err)
		}
		out[pr] = lengths[pr].Val()
		for _, g := range groups[pr].Val() {
			if g.Name == senderGroup && g.Lag >= 0 {
				out[pr] = min(out[pr], g.Pending+g.Lag)
			}
		}
	}
	return out, nil
}

// PendingEnqueues lists the broadcasts whose recipients are not all queued yet.
func (s *Store) PendingEnqueues(ctx context.Context) ([]string, error) {
	ids, err := s.rdb.SMembers(ctx, s.bcEnqueueKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("listing broadcasts to enqueue: %w", err)
	}
	return ids, nil
}

// TryLease gives owner the right to enqueue broadcast id for ttl, unless someone else holds
// it; the holder renews it with the same call.
func (s *Store) TryLease(ctx context.Context, id, owner string, ttl time.Duration) (bool, error) {
	ok, err := leaseScript.Run(ctx, s.rdb, []string{s.bcLeaseKey(id)}, owner, ttl.Milliseconds()).Bool()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("taking the enqueue lease: %w", err)
	}
	return ok, nil
}

var leaseScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// EnqueueBatch queues up to batch more recipients of broadcast id in lang, resuming from the
// cursor saved by the last batch, and saves the new cursor. It reports whether lang is fully
// queued. A crash between queueing and saving the cursor queues a batch twice; the
// per-broadcast done set makes the second copy a no-op.
func (s *Store) EnqueueBatch(ctx context.Context, id, lang, priority string, batch int64) (bool, error) {
	cursorField := "cursor:" + lang
	cur, err := s.rdb.HGet(ctx, s.bcKey(id), cursorField).Result()
	if errors.Is(err, redis.Nil) || cur == "done" {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading enqueue cursor: %w", err)
	}
	cursor, _ := strconv.ParseUint(cur, 10, 64)
	members, next, err := s.rdb.SScan(ctx, s.bcRcptKey(id, lang), cursor, "", batch).Result()
	if err != nil {
		return false, fmt.Errorf("reading recipients: %w", err)
	}
	newCur := strconv.FormatUint(next, 10)
	if next == 0 {
		newCur = "done"
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range members {
			p.XAdd(ctx, &redis.XAddArgs{Stream: s.streamKey(priority), Values: []any{"bc", id, "m", m, "l", lang}})
		}
		p.HSet(ctx, s.bcKey(id), cursorField, newCur)
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("queueing recipients: %w", err)
	}
	return next == 0, nil
}

// FinishEnqueue marks broadcast id fully queued; it may already be done if the workers were
// fast.
func (s *Store) FinishEnqueue(ctx context.Context, id string, now time.Time) (bool, error) {
	if err := s.rdb.HSet(ctx, s.bcKey(id), "enqueued", "1").Err(); err != nil {
		return false, fmt.Errorf("finishing enqueue: %w", err)
	}
	if err := s.rdb.SRem(ctx, s.bcEnqueueKey(), id).Err(); err != nil {
		return false, fmt.Errorf("finishing enqueue: %w", err)
	}
	done, err := completeScript.Run(ctx, s.rdb, []string{s.bcKey(id)}, now.Unix()).Bool()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("finishing enqueue: %w", err)
	}
	if done {
		s.cleanUp(ctx, id)
	}
	return done, nil
}

// completeLua marks a broadcast done once every queued recipient is accounted for.
const completeLua = `
local f = redis.call('HMGET', KEYS[1], 'status', 'enqueued', 'queued', 'sent', 'failed', 'skipped')
if f[1] == 'sending' and f[2] == '1' and
   (tonumber(f[4] or '0') + tonumber(f[5] or '0') + tonumber(f[6] or '0')) >= tonumber(f[3] or '0') then
  redis.call('HSET', KEYS[1], 'status', 'done', 'done_at', ARGV[1])
  return 1
end
return 0
`

var completeScript = redis.NewScript(completeLua)

// inflightKey marks member's message of broadcast id as being sent, in the broadcast's slot;
// it holds the name of the consumer sending it (claimSendsScript).
func (s *Store) inflightKey(id, member string) string { return s.bcKey(id) + ":if:" + member }

// StopBroadcast takes a canceled broadcast out of the enqueuers' list and cleans up after
// it; entries already queued are dropped unsent by the workers.
func (s *Store) StopBroadcast(ctx context.Context, id string) error {
	if err := s.rdb.SRem(ctx, s.bcEnqueueKey(), id).Err(); err != nil {
		return fmt.Errorf("stopping broadcast: %w", err)
	}
	s.cleanUp(ctx, id)
	return nil
}

// broadcastRetention is how long a finished broadcast's per-recipient bookkeeping is kept
// (for late status callbacks and redelivered entries).
const broadcastRetention = 7 * 24 * time.Hour

// cleanUp drops a finished broadcast's frozen recipient lists, which hold member ids, and
// lets its bookkeeping expire.
func (s *Store) cleanUp(ctx context.Context, id string) {
	s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, lang := range []string{"es", "en"} {
			p.Del(ctx, s.bcRcptKey(id, lang))
		}
		p.Expire(ctx, s.bcDoneKey(id), broadcastRetention)
		p.Expire(ctx, s.bcFinalKey(id), broadcastRetention)
		return nil
	})
}

// callbackScript counts a delivery report once per message: Twilio may report a message's
// final status more than once.
var callbackScript = redis.NewScript(`
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
`)

// CountDelivery records a final delivery status ("delivered", "failed", "undelivered") of
// message sid of broadcast id.
func (s *Store) CountDelivery(ctx context.Context, id, sid, field string) error {
	if exists, err := s.rdb.Exists(ctx, s.bcKey(id)).Result(); err != nil || exists == 0 {
		if err != nil {
			return fmt.Errorf("counting delivery: %w", err)
		}
		return nil // a callback for a broadcast we no longer know: nothing to count
	}
	err := callbackScript.Run(ctx, s.rdb, []string{s.bcKey(id), s.bcFinalKey(id)}, sid, field, int64(broadcastRetention/time.Second)).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("counting delivery: %w", err)
	}
	return nil
}

// randomID is 40 random bits in lowercase base32: short enough to type in an SMS.
func randomID() string { return hotline.NewID() }
