// Package ratelimit paces outbound SMS across every worker process through Redis.
//
// Carriers and Twilio limit a sender in segments per second, not in messages, and every
// worker sends from the same numbers, so the limit must be one budget shared by all of them.
// A Limiter keeps that budget in a single Redis key with the generic cell rate algorithm
// (GCRA): the key holds the "theoretical arrival time" (TAT), the moment at which every
// segment reserved so far will have been paid for at the configured rate.
//
// Take is a reservation, not a question: one Lua script reads Redis's clock, advances the
// TAT by n intervals and answers how long the caller must wait before sending. The caller
// then sleeps that long on its own. Nobody polls, so a hundred waiting workers cost Redis one
// call each, and the rate stays exact however many workers share the key, because every
// segment is given its own slot by one atomic script.
//
// Only Redis's clock is read (TIME inside the script) and only durations cross the network,
// so processes whose clocks disagree still share one schedule. The script touches one key, so
// it runs unchanged on Redis Cluster; it needs Redis 5 or later, where a script may write
// after reading TIME. The embedded miniredis runs it too (TIME is supported in its Lua), which
// TestMiniredis checks; miniredis does not count TTLs down by itself, so there the key does
// not expire unless a test fast-forwards it.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// MaxWait is the longest wait Take accepts. A longer one means a misconfigured rate, a huge
// n or a corrupt key rather than a busy hotline (ten workers each holding a ten-segment
// message wait under two minutes at one segment per second), so Take refuses it with
// ErrWaitTooLong instead of reserving slots nobody will use.
const MaxWait = time.Hour

var (
	// ErrInvalid is returned by Take for a number of segments that is not positive.
	ErrInvalid = errors.New("ratelimit: the number of segments must be positive")
	// ErrWaitTooLong is returned by Take when the wait would be longer than MaxWait. Nothing
	// is reserved.
	ErrWaitTooLong = errors.New("ratelimit: the wait would be longer than MaxWait")
)

// Limiter paces segments at a rate shared by every process that uses the same key.
// It is safe for concurrent use.
type Limiter struct {
	rdb      redis.UniversalClient
	key      string
	rate     float64 // segments per second; 0 means unlimited
	interval float64 // microseconds per segment
	burst    int
}

// New returns a Limiter that lets rate segments per second go, counted across every process
// using key, with up to burst segments at once (1 if burst ≤ 0). key is the whole Redis key,
// prefix included. Every process sharing key should use the same rate and burst: each
// process spaces its own reservations with its own values.
//
// A rate ≤ 0 (or infinite, or NaN) means unlimited: Take then never calls Redis, and rdb may
// be nil.
func New(rdb redis.UniversalClient, key string, rate float64, burst int) *Limiter {
	if burst <= 0 {
		burst = 1
	}
	if !(rate > 0) || math.IsInf(rate, 1) {
		return &Limiter{burst: burst}
	}
	return &Limiter{rdb: rdb, key: key, rate: rate, interval: 1e6 / rate, burst: burst}
}

// Rate returns the rate in segments per second, 0 when unlimited.
func (l *Limiter) Rate() float64 { return l.rate }

// takeScript reserves ARGV[3] segments on the schedule kept in KEYS[1] and returns
// {reserved, wait}: reserved is 1 when the slots were taken, 0 when the wait was longer than
// the caller accepts (then nothing changes), and wait is in microseconds.
//
// KEYS[1] holds the TAT in microseconds of Redis time. ARGV[1] is the interval in
// microseconds per segment, ARGV[2] the burst, ARGV[4] the longest acceptable wait in
// microseconds.
//
// The segments may go once the TAT, advanced by them, is no more than burst intervals ahead
// of now. A TAT in the past means the limiter was idle; idle time is not saved up beyond the
// burst, so the TAT starts again from now. The TAT is written with %.0f because tostring
// would print 1.8e+15 and lose the microseconds. The key lives until the TAT plus a second:
// once the TAT is past, a missing key means the same as the stored one.
var takeScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local maxwait = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local newtat = tat + n * interval
local wait = math.ceil(newtat - burst * interval - now)
if wait < 0 then wait = 0 end
if wait > maxwait then return {0, wait} end
redis.call('SET', KEYS[1], string.format('%.0f', newtat), 'PX', math.ceil((newtat - now) / 1000) + 1000)
return {1, wait}
`)

// Take blocks until n segments may be sent, then returns nil. All n segments go at once: a
// message of more than burst segments waits until its last segment's slot, so over time the
// rate is exact and only that one message exceeds the burst (Twilio spaces the segments of
// one message itself).
//
// Take makes one Redis round trip, then sleeps without calling Redis again. When ctx is done
// during the sleep, Take returns ctx.Err() at once, but the reserved slots stay consumed: the
// schedule cannot give them back without undoing later reservations, and losing a few
// seconds of sending to a cancelled worker is harmless. When ctx has a deadline that the wait
// would pass, Take reserves nothing and returns an error wrapping context.DeadlineExceeded
// without sleeping; a wait longer than MaxWait is refused the same way with ErrWaitTooLong.
// n ≤ 0 is refused with ErrInvalid.
func (l *Limiter) Take(ctx context.Context, n int) error {
	if n <= 0 {
		return fmt.Errorf("taking %d segments: %w", n, ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.rate == 0 {
		return nil
	}
	limit, byDeadline := MaxWait, false
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d < limit {
			limit, byDeadline = max(d, 0), true
		}
	}
	// The interval is written without an exponent: the Lua of miniredis reads "1e+06" as nil.
	res, err := takeScript.Run(ctx, l.rdb, []string{l.key},
		strconv.FormatFloat(l.interval, 'f', -1, 64), l.burst, n, limit.Microseconds(),
	).Int64Slice()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("ratelimit: reserving %d segments: %w", n, err)
	}
	if len(res) != 2 {
		return fmt.Errorf("ratelimit: reserving %d segments: unexpected reply %v", n, res)
	}
	wait := time.Duration(res[1]) * time.Microsecond
	if res[0] == 0 {
		if byDeadline {
			return fmt.Errorf("ratelimit: %d segments would wait %v, past the deadline: %w", n, wait, context.DeadlineExceeded)
		}
		return fmt.Errorf("ratelimit: %d segments would wait %v: %w", n, wait, ErrWaitTooLong)
	}
	if wait <= 0 {
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
