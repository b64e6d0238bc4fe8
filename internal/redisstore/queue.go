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

// Queue priorities, most urgent first: messages to one person (pages, relays, notices) that
// failed for a passing reason when first sent, urgent alerts, ordinary alerts. The first is
// named "direct", not "replies" (the name it had before it was used), so that a worker from
// before its entries existed never reads one and drops it as an unknown broadcast.
var Priorities = []string{"direct", "urgent", "normal"}

func (s *Store) streamKey(priority string) string { return s.prefix + ":q:{q}:" + priority }

// QueueEntry is one message waiting to be sent.
type QueueEntry struct {
	Priority string
	ID       string // the stream entry id
	BC       string // the broadcast id
	Member   string
	Lang     string
	// Direct is the id of a message to one person (a page, a relay), whose recipient and
	// text are sealed in Sealed; BC, Member and Lang are empty then.
	Direct string
	Sealed []byte
}

// EnsureQueue creates the streams and the consumer group if they do not exist.
func (s *Store) EnsureQueue(ctx context.Context) error {
	for _, p := range Priorities {
		err := s.rdb.XGroupCreateMkStream(ctx, s.streamKey(p), senderGroup, "0").Err()
		if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
			return fmt.Errorf("creating the send queue: %w", err)
		}
	}
	return nil
}

// Read returns up to count entries for consumer, taking every entry of a higher priority
// before any of a lower one, and waiting up to block when all are empty.
func (s *Store) Read(ctx context.Context, consumer string, count int64, block time.Duration) ([]QueueEntry, error) {
	for _, p := range Priorities {
		res, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: senderGroup, Consumer: consumer, Streams: []string{s.streamKey(p), ">"}, Count: count, Block: -1,
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("reading the send queue: %w", err)
		}
		if entries := toEntries(p, res); len(entries) > 0 {
			return entries, nil
		}
	}
	streams := make([]string, 0, 2*len(Priorities))
	for _, p := range Priorities {
		streams = append(streams, s.streamKey(p))
	}
	for range Priorities {
		streams = append(streams, ">")
	}
	res, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: senderGroup, Consumer: consumer, Streams: streams, Count: count, Block: block,
	}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("reading the send queue: %w", err)
	}
	var out []QueueEntry
	for _, st := range res {
		out = append(out, toEntries(st.Stream[strings.LastIndex(st.Stream, ":")+1:], []redis.XStream{st})...)
	}
	return out, nil
}

// Claim takes over entries another consumer read but has not acknowledged for minIdle: the
// work of a worker that died.
func (s *Store) Claim(ctx context.Context, consumer string, minIdle time.Duration, count int64) ([]QueueEntry, error) {
	var out []QueueEntry
	for _, p := range Priorities {
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

func toEntries(priority string, res []redis.XStream) []QueueEntry {
	var out []QueueEntry
	for _, st := range res {
		for _, m := range st.Messages {
			e := QueueEntry{Priority: priority, ID: m.ID}
			e.BC, _ = m.Values["bc"].(string)
			e.Member, _ = m.Values["m"].(string)
			e.Lang, _ = m.Values["l"].(string)
			e.Direct, _ = m.Values["d"].(string)
			if v, ok := m.Values["v"].(string); ok {
				e.Sealed = []byte(v)
			}
			out = append(out, e)
		}
	}
	return out
}

// Ack removes a handled entry from the queue.
func (s *Store) Ack(ctx context.Context, e QueueEntry) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, s.streamKey(e.Priority), senderGroup, e.ID)
		p.XDel(ctx, s.streamKey(e.Priority), e.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("acknowledging: %w", err)
	}
	return nil
}

// QueueDepth is how many entries wait in each priority, read or not.
func (s *Store) QueueDepth(ctx context.Context) (map[string]int64, error) {
	cmds := map[string]*redis.IntCmd{}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, pr := range Priorities {
			cmds[pr] = p.XLen(ctx, s.streamKey(pr))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading queue depth: %w", err)
	}
	out := map[string]int64{}
	for pr, c := range cmds {
		out[pr] = c.Val()
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

// finishScript records the outcome for one recipient once: a second report for the same
// member (a redelivered entry) changes nothing. The send's in-flight mark, whose name holds
// the member id, goes with it.
var finishScript = redis.NewScript(`
redis.call('DEL', KEYS[3])
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return -1 end
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
ARGV[1] = ARGV[3]
` + completeLua)

// inflightKey marks member's message of broadcast id as being sent, in the broadcast's slot.
func (s *Store) inflightKey(id, member string) string { return s.bcKey(id) + ":if:" + member }

// TryInflight marks member's message of broadcast id as being sent by this process, for
// ttl, unless another holds it: two consumers that both hold the entry (a take-over while
// the first was still retrying) cannot both send it.
func (s *Store) TryInflight(ctx context.Context, id, member string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, s.inflightKey(id, member), 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("marking a send in flight: %w", err)
	}
	return ok, nil
}

// RefreshInflight extends this process's mark on a message it is still sending.
func (s *Store) RefreshInflight(ctx context.Context, id, member string, ttl time.Duration) error {
	if err := s.rdb.PExpire(ctx, s.inflightKey(id, member), ttl).Err(); err != nil {
		return fmt.Errorf("extending a send in flight: %w", err)
	}
	return nil
}

// Outcome is what happened to one recipient.
type Outcome string

// The outcomes a recipient's entry can have; each is counted once.
const (
	OutcomeSent    Outcome = "sent"
	OutcomeFailed  Outcome = "failed"
	OutcomeSkipped Outcome = "skipped"
)

// Handled reports whether member already has an outcome for broadcast id.
func (s *Store) Handled(ctx context.Context, id, member string) (bool, error) {
	ok, err := s.rdb.SIsMember(ctx, s.bcDoneKey(id), member).Result()
	if err != nil {
		return false, fmt.Errorf("checking recipient: %w", err)
	}
	return ok, nil
}

// finishRetry and finishRetryFor: see Finish.
const (
	finishRetry    = 200 * time.Millisecond
	finishRetryFor = time.Minute
)

// Finish counts the outcome for member of broadcast id, once, and reports whether that
// completed the broadcast. The message may have gone out already, and an outcome that is not
// recorded has its entry taken over and the message sent a second time; so while Redis
// cannot be reached (the broadcast's master dying, its replica taking over) Finish tries
// again every finishRetry, for up to finishRetryFor or until ctx ends.
func (s *Store) Finish(ctx context.Context, id, member string, o Outcome, now time.Time) (bool, error) {
	var n int64
	var err error
	for deadline := time.Now().Add(finishRetryFor); ; {
		n, err = finishScript.Run(ctx, s.promised(), []string{s.bcKey(id), s.bcDoneKey(id), s.inflightKey(id, member)}, member, string(o), now.Unix()).Int64()
		if err == nil || isReply(err) || time.Now().After(deadline) {
			break
		}
		t := time.NewTimer(finishRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, fmt.Errorf("recording outcome: %w", err)
		case <-t.C:
		}
	}
	if err != nil {
		return false, fmt.Errorf("recording outcome: %w", err)
	}
	if n == 1 {
		s.cleanUp(ctx, id)
	}
	return n == 1, nil
}

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
