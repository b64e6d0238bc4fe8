package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/hotline"
)

// The bookkeeping of each recipient's message of a broadcast, done for a batch of queue
// entries at a time: a sender claims a batch and reads its recipients' states in one round
// trip, and outcomes are recorded in groups in another. Each broadcast's keys share its hash
// tag, so each script below runs once per broadcast in the batch, all in one pipeline, on a
// single Redis as on Redis Cluster.
//
// A claim is an in-flight mark per message naming its holder, one sender of one process,
// for the take-over delay: two entries for the same recipient (an enqueue that crashed
// queues a batch twice), read by two senders or taken over from a consumer still waiting,
// cannot both be sent. The holder renews its claim before every wait.

// claimSendsScript claims, for holder ARGV[1], each recipient's message of one broadcast:
// 0 if the holder may send it (its in-flight mark now names the holder, for ARGV[2] ms), 1 if
// the recipient has an outcome already, 2 if another holder's mark is on it or the recipient
// came earlier in this call. A holder's own mark is renewed, so the same call keeps a claim
// alive before a wait. A mark written by a worker from before marks named their holder ("1")
// is another's.
// KEYS: the done set, then the in-flight mark of each member ARGV[3], ARGV[4]...
var claimSendsScript = redis.NewScript(`
local out, seen = {}, {}
for i = 2, #KEYS do
  local member = ARGV[i + 1]
  if redis.call('SISMEMBER', KEYS[1], member) == 1 then
    out[i - 1] = 1
  elseif seen[member] then
    out[i - 1] = 2
  else
    seen[member] = true
    local holder = redis.call('GET', KEYS[i])
    if holder and holder ~= ARGV[1] then
      out[i - 1] = 2
    else
      redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
      out[i - 1] = 0
    end
  end
end
return out
`)

// recordScript records the outcomes of recipients of one broadcast, each once (a recipient
// with an outcome already is not counted again), lifts their in-flight marks KEYS[3…], and
// marks the broadcast done when that accounts for every recipient (completeLua). It answers
// 1 when it completed the broadcast. A skip for want of a WhatsApp template
// (skipped_no_template) is counted as a skip too, so that completeLua, in this version and
// the one before it, accounts for it with the others.
// KEYS: the broadcast, its done set, then the members' in-flight marks.
// ARGV: now (Unix seconds), then for each outcome: its name, how many members, the members.
var recordScript = redis.NewScript(`
if #KEYS > 2 then redis.call('DEL', unpack(KEYS, 3)) end
local i = 2
while i <= #ARGV do
  local outcome, n = ARGV[i], tonumber(ARGV[i + 1])
  local added = redis.call('SADD', KEYS[2], unpack(ARGV, i + 2, i + 1 + n))
  if added > 0 then
    redis.call('HINCRBY', KEYS[1], outcome, added)
    if outcome == 'skipped_no_template' then redis.call('HINCRBY', KEYS[1], 'skipped', added) end
  end
  i = i + 2 + n
end
` + completeLua)

// byBroadcast groups the indexes of entries by broadcast, in order of first appearance, so
// a batch runs one script per broadcast.
func byBroadcast(n int, bc func(i int) string) (order []string, groups map[string][]int) {
	groups = map[string][]int{}
	for i := range n {
		id := bc(i)
		if _, ok := groups[id]; !ok {
			order = append(order, id)
		}
		groups[id] = append(groups[id], i)
	}
	return order, groups
}

// ClaimSends claims the messages of entries (all of broadcasts, none direct) for holder
// (one sender of one process) for ttl, and reads each recipient's durable state, all in one
// round trip. Claiming a message again renews the claim.
//
// The state read is the durable one only (a field of the member's bucket): every
// subscriber's and every opted-out member's state is durable, so a member without one
// follows no area and may not be sent an alert, whether they unsubscribed, erased their
// data or never existed.
func (s *Store) ClaimSends(ctx context.Context, holder string, entries []hotline.QueueEntry, ttl time.Duration) ([]hotline.PreparedSend, error) {
	if ttl < time.Millisecond {
		return nil, fmt.Errorf("claiming sends: a claim of %v would not last", ttl)
	}
	order, groups := byBroadcast(len(entries), func(i int) string { return entries[i].BC })
	claims := make(map[string]*redis.Cmd, len(order))
	states := make([]*redis.StringCmd, len(entries))
	_, err := s.pipelineScripts(ctx, func(p redis.Pipeliner) {
		for _, id := range order {
			idx := groups[id]
			keys := make([]string, 0, len(idx)+1)
			args := make([]any, 0, len(idx)+2)
			keys = append(keys, s.bcDoneKey(id))
			args = append(args, holder, ttl.Milliseconds())
			for _, i := range idx {
				keys = append(keys, s.inflightKey(id, entries[i].Member))
				args = append(args, entries[i].Member)
			}
			claims[id] = claimSendsScript.EvalSha(ctx, p, keys, args...)
		}
		for i, e := range entries {
			states[i] = p.HGet(ctx, s.bucketKey(e.Member), e.Member)
		}
	}, claimSendsScript)
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("claiming sends: %w", err)
	}
	out := make([]hotline.PreparedSend, len(entries))
	for _, id := range order {
		res, err := claims[id].Int64Slice()
		if err != nil || len(res) != len(groups[id]) {
			return nil, fmt.Errorf("claiming sends: %d messages: %v %w", len(groups[id]), res, err)
		}
		for j, i := range groups[id] {
			out[i].Claim = hotline.SendClaim(res[j])
		}
	}
	for i, c := range states {
		b, err := c.Bytes()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return nil, fmt.Errorf("claiming sends: reading a recipient: %w", err)
		default:
			out[i].State = b
		}
	}
	return out, nil
}

// byOutcome groups the members of outcomes[idx] by outcome, in order of first appearance.
func byOutcome(outcomes []hotline.SendOutcome, idx []int) ([]hotline.Outcome, map[hotline.Outcome][]any) {
	var kinds []hotline.Outcome
	members := map[hotline.Outcome][]any{}
	for _, i := range idx {
		o := outcomes[i].Outcome
		if _, ok := members[o]; !ok {
			kinds = append(kinds, o)
		}
		members[o] = append(members[o], outcomes[i].Entry.Member)
	}
	return kinds, members
}

// RecordOutcomes records outcomes (each counted once per recipient, with the in-flight
// mark lifted), in one round trip. It returns one error per outcome: nil when it is
// recorded. An entry is to be acknowledged (Read, Ack) only once its outcome is recorded, so
// that an entry taken over after a crash is skipped as done. A broadcast that this completes
// has its recipient lists cleaned up.
func (s *Store) RecordOutcomes(ctx context.Context, outcomes []hotline.SendOutcome, now time.Time) ([]error, error) {
	order, groups := byBroadcast(len(outcomes), func(i int) string { return outcomes[i].Entry.BC })
	type record struct {
		keys []string
		args []any
	}
	records := make(map[string]record, len(order))
	for _, id := range order {
		idx := groups[id]
		keys := make([]string, 0, len(idx)+2)
		keys = append(keys, s.bcKey(id), s.bcDoneKey(id))
		for _, i := range idx {
			keys = append(keys, s.inflightKey(id, outcomes[i].Entry.Member))
		}
		args := make([]any, 0, len(idx)+7)
		args = append(args, now.Unix())
		kinds, members := byOutcome(outcomes, idx)
		for _, o := range kinds {
			args = append(args, string(o), len(members[o]))
			args = append(args, members[o]...)
		}
		records[id] = record{keys, args}
	}
	// The messages have gone out: an outcome not recorded has its entry taken over and the
	// message sent a second time. So while Redis cannot be reached (the broadcast's master
	// dying, its replica taking over) the outcomes are tried again every outcomeRetry, for up
	// to outcomeRetryFor or until ctx ends. Recording is idempotent per recipient.
	results := make(map[string]*redis.Cmd, len(order))
	var err error
	for deadline := time.Now().Add(outcomeRetryFor); ; {
		if s.repl.timeout > 0 {
			// Promised: each broadcast's outcomes wait for a replica (one slot each).
			err = nil
			for _, id := range order {
				results[id] = recordScript.Run(ctx, s.promised(), records[id].keys, records[id].args...)
				if e := results[id].Err(); e != nil && !isReply(e) {
					err = e
				}
			}
		} else {
			_, err = s.pipelineScripts(ctx, func(p redis.Pipeliner) {
				for _, id := range order {
					results[id] = recordScript.EvalSha(ctx, p, records[id].keys, records[id].args...)
				}
			}, recordScript)
		}
		if err == nil || isReply(err) || time.Now().After(deadline) {
			break
		}
		t := time.NewTimer(outcomeRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			deadline = time.Time{}
		case <-t.C:
		}
		if deadline.IsZero() {
			break
		}
	}
	errs := make([]error, len(outcomes))
	for _, id := range order {
		done, rerr := results[id].Int64()
		if rerr != nil {
			rerr = fmt.Errorf("recording outcomes: %w", rerr)
		} else if done == 1 {
			s.cleanUp(ctx, id)
		}
		for _, i := range groups[id] {
			errs[i] = rerr
		}
	}
	if err != nil && !isReply(err) {
		return errs, fmt.Errorf("recording outcomes: %w", err)
	}
	return errs, nil
}

// outcomeRetry and outcomeRetryFor: see RecordOutcomes.
const (
	outcomeRetry    = 200 * time.Millisecond
	outcomeRetryFor = time.Minute
)

// pipelineScripts runs the commands fn queues in one round trip. Scripts run in a pipeline
// with EVALSHA; when Redis has forgotten one (a restart, SCRIPT FLUSH), it loads scripts and
// runs the whole pipeline again, so every command queued this way must be safe to repeat.
func (s *Store) pipelineScripts(ctx context.Context, fn func(p redis.Pipeliner), scripts ...*redis.Script) ([]redis.Cmder, error) {
	cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error { fn(p); return nil })
	if !noScript(cmds) {
		return cmds, err
	}
	for _, sc := range scripts {
		if err := sc.Load(ctx, s.rdb).Err(); err != nil {
			return cmds, fmt.Errorf("loading a script: %w", err)
		}
	}
	return s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error { fn(p); return nil })
}

func noScript(cmds []redis.Cmder) bool {
	for _, c := range cmds {
		if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			return true
		}
	}
	return false
}
