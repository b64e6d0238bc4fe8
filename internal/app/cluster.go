package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClusterStateReload is how old the client's map of the cluster (which master serves which
// slots) may get before it is read again, whatever happens. go-redis's default is a minute.
const ClusterStateReload = 5 * time.Second

// reloadOnFailure makes a Redis Cluster client read the cluster's map again whenever a
// command fails for a reason other than Redis's answer: go-redis reads it again on MOVED,
// but a master that died answers nothing, so without this the client kept sending that
// master's slots to the dead address for up to a minute after its replica had taken over
// (measured: 60 s of failed messages instead of the 4 s the cluster took). go-redis runs
// one reload at a time, so a burst of failures costs one CLUSTER SLOTS, not one each.
type reloadOnFailure struct{ c *redis.ClusterClient }

func (h reloadOnFailure) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h reloadOnFailure) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if mapMayBeStale(err) {
			h.c.ReloadState(ctx)
		}
		return err
	}
}

func (h reloadOnFailure) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if mapMayBeStale(err) {
			h.c.ReloadState(ctx)
		}
		return err
	}
}

// mapMayBeStale reports whether err may come from sending a command to a node that no longer
// serves its slot: anything but an ordinary answer of Redis (a miss, a script's error, a
// wrong type). CLUSTERDOWN and TRYAGAIN, Redis's own answers during a failover, count too.
func mapMayBeStale(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) {
		return false
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		return strings.HasPrefix(msg, "CLUSTERDOWN") || strings.HasPrefix(msg, "TRYAGAIN")
	}
	return true
}

// FollowFailovers makes c re-read the cluster's map whenever a command fails, as the
// hotline's own client does (tests' clients use it too).
func FollowFailovers(c *redis.ClusterClient) { c.AddHook(reloadOnFailure{c}) }
