package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/staff"
)

// The console's keys: sign-in codes, attempt counters, sessions and the day's message counts.
// Each operation touches one key, so none needs a hash tag on Redis Cluster.

func (s *Store) signinCodeKey(phoneID string) string { return s.prefix + ":console:code:" + phoneID }
func (s *Store) attemptKey(bucket string) string     { return s.prefix + ":console:limit:" + bucket }
func (s *Store) sessionKey(idHash string) string     { return s.prefix + ":console:session:" + idHash }
func (s *Store) dayCountKey(day string) string       { return s.prefix + ":stats:day:" + day }

// SaveSigninCode keeps a code's hash for phoneID, with no tries used, replacing any earlier code.
func (s *Store) SaveSigninCode(ctx context.Context, phoneID, hash string, ttl time.Duration) error {
	key := s.signinCodeKey(phoneID)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, key)
		p.HSet(ctx, key, "h", hash, "tries", 0)
		p.PExpire(ctx, key, ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("saving a sign-in code: %w", err)
	}
	return nil
}

// checkCodeScript compares a code's hash in one step, so that two guesses at once cannot both
// use the same try: 1 right (the code is deleted), 0 wrong, -1 no code (or the last try used).
var checkCodeScript = redis.NewScript(`
local h = redis.call('HGET', KEYS[1], 'h')
if not h then return -1 end
if h == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
if tries >= tonumber(ARGV[2]) then redis.call('DEL', KEYS[1]) return -1 end
return 0
`)

// CheckSigninCode compares hash with phoneID's code (staff.CodeStore).
func (s *Store) CheckSigninCode(ctx context.Context, phoneID, hash string, maxTries int) (staff.CodeResult, error) {
	n, err := checkCodeScript.Run(ctx, s.rdb, []string{s.signinCodeKey(phoneID)}, hash, maxTries).Int()
	if err != nil {
		return staff.CodeGone, fmt.Errorf("checking a sign-in code: %w", err)
	}
	switch n {
	case 1:
		return staff.CodeOK, nil
	case 0:
		return staff.CodeWrong, nil
	}
	return staff.CodeGone, nil
}

// attemptScript counts in a fixed window that starts with the first count.
var attemptScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`)

// CountAttempt adds one to bucket's counter for window and returns the count (staff.CodeStore).
func (s *Store) CountAttempt(ctx context.Context, bucket string, window time.Duration) (int64, error) {
	n, err := attemptScript.Run(ctx, s.rdb, []string{s.attemptKey(bucket)}, window.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("counting attempts: %w", err)
	}
	return n, nil
}

// Attempts returns the count of the counter bucket, 0 when it has none (staff.CodeStore).
func (s *Store) Attempts(ctx context.Context, bucket string) (int64, error) {
	n, err := s.rdb.Get(ctx, s.attemptKey(bucket)).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading attempts: %w", err)
	}
	return n, nil
}

// SaveSession keeps a console session under the hash of its id (staff.SessionStore).
func (s *Store) SaveSession(ctx context.Context, idHash string, sess staff.Session, ttl time.Duration) error {
	raw, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	if err := s.rdb.Set(ctx, s.sessionKey(idHash), raw, ttl).Err(); err != nil {
		return fmt.Errorf("saving a console session: %w", err)
	}
	return nil
}

// Session returns the console session under idHash, or hotline.ErrNotFound.
func (s *Store) Session(ctx context.Context, idHash string) (staff.Session, error) {
	raw, err := s.rdb.Get(ctx, s.sessionKey(idHash)).Bytes()
	if errors.Is(err, redis.Nil) {
		return staff.Session{}, hotline.ErrNotFound
	}
	if err != nil {
		return staff.Session{}, fmt.Errorf("reading a console session: %w", err)
	}
	var sess staff.Session
	if err := json.Unmarshal(raw, &sess); err != nil {
		return staff.Session{}, fmt.Errorf("reading a console session: %w", err)
	}
	return sess, nil
}

// DeleteSession ends a console session.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if err := s.rdb.Del(ctx, s.sessionKey(idHash)).Err(); err != nil {
		return fmt.Errorf("deleting a console session: %w", err)
	}
	return nil
}

// dayCountTTL keeps a day's counts a little past the day, whatever the time zone.
const dayCountTTL = 3 * 24 * time.Hour

// AddDayCounts adds messages in and out to day's counts (day as YYYY-MM-DD), in one round trip.
func (s *Store) AddDayCounts(ctx context.Context, day string, in, out int64) error {
	key := s.dayCountKey(day)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, key, "in", in)
		p.HIncrBy(ctx, key, "out", out)
		p.Expire(ctx, key, dayCountTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("adding to the day's message counts: %w", err)
	}
	return nil
}

// DayCounts returns day's messages in and out.
func (s *Store) DayCounts(ctx context.Context, day string) (in, out int64, err error) {
	vals, err := s.rdb.HMGet(ctx, s.dayCountKey(day), "in", "out").Result()
	if err != nil {
		return 0, 0, fmt.Errorf("reading the day's message counts: %w", err)
	}
	var n [2]int64
	for i, v := range vals {
		if str, ok := v.(string); ok {
			fmt.Sscan(str, &n[i])
		}
	}
	return n[0], n[1], nil
}

// SubscriberCounts returns, per language in langs, how many members take alerts for each area
// that has had any: counts only, for the console's overview. Every key carries {s}, so one
// pipeline serves it on Redis Cluster too.
func (s *Store) SubscriberCounts(ctx context.Context, langs []string) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	for _, lang := range langs {
		areas, err := s.rdb.SMembers(ctx, s.areasKey(lang)).Result()
		if err != nil {
			return nil, fmt.Errorf("listing areas with subscribers: %w", err)
		}
		cmds := make(map[string]*redis.IntCmd, len(areas))
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, a := range areas {
				cmds[a] = p.SCard(ctx, s.subscribersKey(a, lang))
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("counting subscribers: %w", err)
		}
		out[lang] = map[string]int64{}
		for a, c := range cmds {
			if n := c.Val(); n > 0 {
				out[lang][a] = n
			}
		}
	}
	return out, nil
}
