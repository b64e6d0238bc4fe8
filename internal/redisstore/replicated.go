package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis answers a write once its master has it, before any replica does: a master that dies
// right after answering takes the write with it, and its replica, taking over, never had it.
// For most keys that is a blip; for a write a member was promised ("you will get no more
// messages", "done, you get alerts for Taos") it is a broken promise. With WaitForReplica,
// each such write is followed by WAIT 1 on the same connection: the caller goes on, and the
// member is answered, only once a replica has the write, or the wait timed out.

// replication is the Store's setting for promised writes.
type replication struct {
	// timeout is how long a promised write waits for a replica; 0 waits for none.
	timeout time.Duration
	// report is told of each promised write whether a replica confirmed it in time.
	report func(replicated bool)
}

// WaitForReplica makes every promised write wait up to timeout for a replica to have it
// (WAIT 1). A write no replica confirms in time (none is up, or it lags) is kept on the
// master alone, as without waiting, and report is told so; report may be nil. Use it only
// with replicas: without one, every promised write waits the whole timeout.
func (s *Store) WaitForReplica(timeout time.Duration, report func(replicated bool)) {
	if report == nil {
		report = func(bool) {}
	}
	s.repl = replication{timeout: timeout, report: report}
}

// promise runs write, whose commands must all touch keys of key's hash slot, and then waits
// for a replica to have it (when WaitForReplica is on). WAIT counts the writes made on its
// own connection, so write runs on a connection held for the two, to the master of that
// slot. A write the master refuses with a redirect (its slot moved since the client last
// looked) is made again through the cluster client, which follows it, without waiting; a
// master that does not answer fails the write, and has the client read the cluster's map
// again.
func (s *Store) promise(ctx context.Context, key string, write func(c redis.Cmdable) error) error {
	if s.repl.timeout <= 0 {
		return write(s.rdb)
	}
	node, err := s.masterOf(ctx, key)
	if err != nil {
		return err
	}
	conn := node.Conn()
	defer conn.Close()
	err = write(conn)
	switch {
	case isRedirect(err):
		s.reloadMap(ctx)
		s.repl.report(false)
		return write(s.rdb)
	case err != nil && !isReply(err):
		s.reloadMap(ctx)
		return err
	case err != nil && !errors.Is(err, redis.Nil):
		// Refused (a script not loaded yet, which Script.Run then sends whole): nothing
		// was written, so there is nothing to wait for.
		return err
	}
	n, werr := conn.Wait(ctx, 1, s.repl.timeout).Result()
	if werr != nil {
		// The master stopped answering between the write and the wait: whether the write
		// survives depends on whether its replica had it. Failing is the safe answer: the
		// message is spooled, and its replay finds the write if it survived (and answers as
		// before) or makes it again.
		s.reloadMap(ctx)
		s.repl.report(false)
		return fmt.Errorf("waiting for a replica: %w", werr)
	}
	s.repl.report(n >= 1)
	return err
}

// promised is the redis.Scripter a promised script runs on: it waits for a replica after
// the script, as promise does, when WaitForReplica is on.
func (s *Store) promised() redis.Scripter {
	if s.repl.timeout <= 0 {
		return s.rdb
	}
	return waitingScripter{s}
}

// waitingScripter runs scripts through promise, on the master of their first key.
type waitingScripter struct{ s *Store }

func (w waitingScripter) run(ctx context.Context, keys []string, eval func(c redis.Cmdable) *redis.Cmd) *redis.Cmd {
	var cmd *redis.Cmd
	err := w.s.promise(ctx, keys[0], func(c redis.Cmdable) error {
		cmd = eval(c)
		return cmd.Err()
	})
	if cmd == nil {
		cmd = redis.NewCmd(ctx)
		cmd.SetErr(err)
	}
	return cmd
}

func (w waitingScripter) Eval(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return w.run(ctx, keys, func(c redis.Cmdable) *redis.Cmd { return c.Eval(ctx, script, keys, args...) })
}

func (w waitingScripter) EvalSha(ctx context.Context, sha string, keys []string, args ...any) *redis.Cmd {
	return w.run(ctx, keys, func(c redis.Cmdable) *redis.Cmd { return c.EvalSha(ctx, sha, keys, args...) })
}

func (w waitingScripter) EvalRO(ctx context.Context, script string, keys []string, args ...any) *redis.Cmd {
	return w.s.rdb.EvalRO(ctx, script, keys, args...)
}

func (w waitingScripter) EvalShaRO(ctx context.Context, sha string, keys []string, args ...any) *redis.Cmd {
	return w.s.rdb.EvalShaRO(ctx, sha, keys, args...)
}

func (w waitingScripter) ScriptExists(ctx context.Context, hashes ...string) *redis.BoolSliceCmd {
	return w.s.rdb.ScriptExists(ctx, hashes...)
}

func (w waitingScripter) ScriptLoad(ctx context.Context, script string) *redis.StringCmd {
	return w.s.rdb.ScriptLoad(ctx, script)
}

// masterOf is the client of the master serving key: on a single Redis, the Store's own.
func (s *Store) masterOf(ctx context.Context, key string) (*redis.Client, error) {
	switch c := s.rdb.(type) {
	case *redis.ClusterClient:
		return c.MasterForKey(ctx, key)
	case *redis.Client:
		return c, nil
	}
	return nil, errors.New("waiting for replicas needs a Redis client or a Redis Cluster client")
}

// reloadMap has a cluster client read the cluster's map again (at most one read at a time).
func (s *Store) reloadMap(ctx context.Context) {
	if c, ok := s.rdb.(*redis.ClusterClient); ok {
		c.ReloadState(ctx)
	}
}

// isReply reports whether err is Redis's own answer (a miss, a script's error), not a failure
// to reach it or a cluster without a master for the slot (CLUSTERDOWN, TRYAGAIN).
func isReply(err error) bool {
	var rerr redis.Error
	if errors.Is(err, redis.Nil) {
		return true
	}
	if !errors.As(err, &rerr) {
		return false
	}
	msg := rerr.Error()
	return !strings.HasPrefix(msg, "CLUSTERDOWN") && !strings.HasPrefix(msg, "TRYAGAIN")
}

func isRedirect(err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "MOVED ") || strings.HasPrefix(msg, "ASK ")
}
