package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/hotline"
)

// Staff reads every organizer and volunteer in two pipelined round trips, however many there
// are: the two id sets, then every record. (Organizers and Volunteers read one record a round
// trip, which is fine for the admin API, not for a roster read while messages wait.) A record
// whose id is listed but which is gone (deleted meanwhile) is left out.
func (s *Store) Staff(ctx context.Context) ([]hotline.OrganizerRecord, []hotline.VolunteerRecord, error) {
	var orgIDs, volIDs *redis.StringSliceCmd
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		orgIDs = p.SMembers(ctx, s.orgsKey())
		volIDs = p.SMembers(ctx, s.volsKey())
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("listing staff: %w", err)
	}
	orgs := make([]*redis.MapStringStringCmd, len(orgIDs.Val()))
	vols := make([]*redis.MapStringStringCmd, len(volIDs.Val()))
	if len(orgs)+len(vols) > 0 {
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range orgIDs.Val() {
				orgs[i] = p.HGetAll(ctx, s.orgKey(id))
			}
			for i, id := range volIDs.Val() {
				vols[i] = p.HGetAll(ctx, s.volKey(id))
			}
			return nil
		}); err != nil {
			return nil, nil, fmt.Errorf("reading staff: %w", err)
		}
	}
	var o []hotline.OrganizerRecord
	for i, id := range orgIDs.Val() {
		if m := orgs[i].Val(); len(m) > 0 {
			o = append(o, parseOrganizer(id, m))
		}
	}
	var v []hotline.VolunteerRecord
	for i, id := range volIDs.Val() {
		if m := vols[i].Val(); len(m) > 0 {
			v = append(v, parseVolunteer(id, m))
		}
	}
	return o, v, nil
}

// staffChannel is where a process announces that it changed the staff roster.
func (s *Store) staffChannel() string { return s.prefix + ":staff:changed" }

// AnnounceStaffChange tells every process watching (WatchStaffChanges) that the roster
// changed. Published on a cluster, it reaches the subscribers on every node.
func (s *Store) AnnounceStaffChange(ctx context.Context) error {
	return s.announce(ctx, s.staffChannel(), "a roster change")
}

// WatchStaffChanges calls heard for every roster change announced, until ctx ends. The
// subscription reconnects by itself after a failure; a change announced while it was down is
// missed (the roster's periodic read catches it).
func (s *Store) WatchStaffChanges(ctx context.Context, heard func()) {
	s.watch(ctx, s.staffChannel(), heard)
}

// announce publishes a change on channel, for every process watching it (watch). Published on
// a cluster, it reaches the subscribers on every node.
func (s *Store) announce(ctx context.Context, channel, what string) error {
	if err := s.rdb.Publish(ctx, channel, "1").Err(); err != nil {
		return fmt.Errorf("announcing %s: %w", what, err)
	}
	return nil
}

// watch calls heard for every change announced on channel, until ctx ends. The subscription
// reconnects by itself after a failure; a change announced while it was down is missed, which
// is why every watcher also reads again on a timer.
func (s *Store) watch(ctx context.Context, channel string, heard func()) {
	sub := s.rdb.Subscribe(ctx, channel)
	defer sub.Close()
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ch:
			if !ok {
				return
			}
			heard()
		}
	}
}
