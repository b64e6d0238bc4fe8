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

// Jobs: what a member's message promised beyond its reply (docs/durable-effects.md). The
// commit script writes a job into the hash of the member's bucket, with a lease, in the same
// call as the state; the process that committed runs it and deletes it; a process that finds
// a job whose lease is gone takes it over. Fields are "<member id>/<message id>"; values are
// sealed by the caller.

func (s *Store) jobsKey(bucket string) string { return s.prefix + ":fx:{" + bucket + "}" }
func (s *Store) jobLeaseKey(member, msg string) string {
	return s.jobsKey(bucketOf(member)) + ":l:" + member + "/" + msg
}

// appliedSuffix marks, beside a job, that its effects were applied and its member answered:
// what is left is sending.
const appliedSuffix = "#a"

// Buckets lists every bucket a member can be in, for a sweep of the jobs.
func Buckets() []string {
	out := make([]string, memberBuckets)
	for i := range out {
		out[i] = strconv.FormatUint(uint64(i), 16)
	}
	return out
}

// BucketsWithJobs returns the buckets that hold at least one job, in one pipelined round
// trip (one per node on a cluster). A bucket whose node does not answer is left out, and
// err says so: a sweep does what it can reach.
func (s *Store) BucketsWithJobs(ctx context.Context) ([]string, error) {
	buckets := Buckets()
	cmds := make([]*redis.IntCmd, len(buckets))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, b := range buckets {
			cmds[i] = p.HLen(ctx, s.jobsKey(b))
		}
		return nil
	})
	var out []string
	for i, c := range cmds {
		if n, cerr := c.Result(); cerr == nil && n > 0 {
			out = append(out, buckets[i])
		}
	}
	if err != nil {
		return out, fmt.Errorf("listing jobs: %w", err)
	}
	return out, nil
}

// Jobs returns the jobs of a bucket.
func (s *Store) Jobs(ctx context.Context, bucket string) (map[hotline.JobRef]hotline.StoredJob, error) {
	m, err := s.rdb.HGetAll(ctx, s.jobsKey(bucket)).Result()
	if err != nil {
		return nil, fmt.Errorf("reading jobs: %w", err)
	}
	out := make(map[hotline.JobRef]hotline.StoredJob, len(m))
	for f, v := range m {
		if strings.HasSuffix(f, appliedSuffix) {
			continue
		}
		member, msg, ok := strings.Cut(f, "/")
		if !ok {
			continue
		}
		_, applied := m[f+appliedSuffix]
		out[hotline.JobRef{Member: member, Msg: msg}] = hotline.StoredJob{Sealed: []byte(v), Applied: applied}
	}
	return out, nil
}

// MarkJobApplied records that job r's effects were applied and its member answered.
//
// It also renews the job's lease for lease: the process goes on to send the job's messages.
// A job finished meanwhile (taken over and done) gets no mark, which would keep its bucket in
// every sweep.
func (s *Store) MarkJobApplied(ctx context.Context, r hotline.JobRef, lease time.Duration) error {
	err := markAppliedScript.Run(ctx, s.rdb, []string{s.jobsKey(bucketOf(r.Member)), s.jobLeaseKey(r.Member, r.Msg)},
		jobField(r), max(lease.Milliseconds(), 1)).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("marking a job applied: %w", err)
	}
	return nil
}

// markAppliedScript marks a job that still exists applied and renews its lease; it answers 1,
// or 0 for a job that is gone.
// KEYS: the bucket's jobs, the job's lease. ARGV: the job's field, the lease (ms).
var markAppliedScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1] .. '#a', '1')
redis.call('SET', KEYS[2], 'w', 'PX', ARGV[2])
return 1
`)

// RenewJobLease keeps job r leased to this process for lease more, while it sends.
func (s *Store) RenewJobLease(ctx context.Context, r hotline.JobRef, lease time.Duration) error {
	if err := s.rdb.Set(ctx, s.jobLeaseKey(r.Member, r.Msg), "w", lease).Err(); err != nil {
		return fmt.Errorf("renewing a job's lease: %w", err)
	}
	return nil
}

// dropMemberJobsScript deletes every job of one member but one (the erasure running now).
// KEYS: the bucket's jobs. ARGV: "<member>/", the field to keep.
var dropMemberJobsScript = redis.NewScript(`
local n = 0
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, #ARGV[1]) == ARGV[1] and f ~= ARGV[2] and f ~= ARGV[2] .. '#a' then
    redis.call('HDEL', KEYS[1], f)
    n = n + 1
  end
end
return n
`)

// DropMemberJobs deletes member's jobs but keep's (the erasure being carried out): a job
// still waiting from before an erasure must not bring back what it erased.
func (s *Store) DropMemberJobs(ctx context.Context, member, keep string) error {
	keepField := jobField(hotline.JobRef{Member: member, Msg: keep})
	if err := dropMemberJobsScript.Run(ctx, s.rdb, []string{s.jobsKey(bucketOf(member))}, member+"/", keepField).Err(); err != nil {
		return fmt.Errorf("dropping jobs: %w", err)
	}
	return nil
}

// TrySweepLease makes owner the one process that sweeps jobs for ttl (or extends its turn):
// one sweeper is enough, and each would cost Redis a command per bucket.
func (s *Store) TrySweepLease(ctx context.Context, owner string, ttl time.Duration) (bool, error) {
	ok, err := leaseScript.Run(ctx, s.rdb, []string{s.prefix + ":fx:sweeper"}, owner, ttl.Milliseconds()).Bool()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("taking the sweep lease: %w", err)
	}
	return ok, nil
}

// takeJobScript leases a job whose lease is gone, counting the attempt: the lease lasts
// ARGV[1] ms doubled for each earlier attempt, up to ARGV[2] ms — the backoff of a job that
// keeps failing. It answers the attempt number (1 for the first take-over), or 0 when the
// job is leased or gone.
// KEYS: the bucket's jobs, the job's lease, the job's attempt count. ARGV: base lease (ms),
// longest lease (ms), field.
var takeJobScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[3]) == 0 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local n = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], 86400000)
local lease = tonumber(ARGV[1]) * (2 ^ math.min(n - 1, 20))
lease = math.min(lease, tonumber(ARGV[2]))
redis.call('SET', KEYS[2], n, 'PX', math.floor(lease))
return n
`)

// TakeJob leases job r unless another process holds it; it reports the attempt number (0:
// not taken). lease is the first take-over's lease; each later one doubles it, up to
// maxLease.
func (s *Store) TakeJob(ctx context.Context, r hotline.JobRef, lease, maxLease time.Duration) (int64, error) {
	lk := s.jobLeaseKey(r.Member, r.Msg)
	n, err := takeJobScript.Run(ctx, s.rdb, []string{s.jobsKey(bucketOf(r.Member)), lk, lk + ":n"},
		lease.Milliseconds(), maxLease.Milliseconds(), jobField(r)).Int64()
	if err != nil {
		return 0, fmt.Errorf("taking a job: %w", err)
	}
	return n, nil
}

// FinishJob deletes job r, its lease and its attempt count: it is done (or can never be).
func (s *Store) FinishJob(ctx context.Context, r hotline.JobRef) error {
	lk := s.jobLeaseKey(r.Member, r.Msg)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HDel(ctx, s.jobsKey(bucketOf(r.Member)), jobField(r), jobField(r)+appliedSuffix)
		p.Del(ctx, lk, lk+":n")
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("finishing a job: %w", err)
	}
	return nil
}

// JobBucket is the bucket member id's jobs are kept in.
func JobBucket(member string) string { return bucketOf(member) }

// jobField is job r's field in its bucket's hash.
func jobField(r hotline.JobRef) string { return r.Member + "/" + r.Msg }
