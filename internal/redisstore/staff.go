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

// whatsAppField holds, in an organizer's or volunteer's hash, the member id of the WhatsApp
// address linked to their phone. A record written before links existed has none: not linked.
// It lives in the record's own hash, so removing the person removes the link with them.
const whatsAppField = "wa_id"

// setIfExistsScript sets (or, given "", deletes) one field of a hash that exists, and never
// creates one: a person removed while their link was being made must not come back as a
// hash holding a link alone. 1: done; 0: no such record.
var setIfExistsScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
`)

// SetOrganizerWhatsApp links the WhatsApp address with member id waID to organizer id's
// phone, or unlinks it when waID is "". It returns hotline.ErrNotFound when there is no
// such organizer.
func (s *Store) SetOrganizerWhatsApp(ctx context.Context, id, waID string) error {
	return s.setWhatsApp(ctx, s.orgKey(id), waID)
}

// SetVolunteerWhatsApp links or unlinks a volunteer's WhatsApp address, as
// SetOrganizerWhatsApp does an organizer's.
func (s *Store) SetVolunteerWhatsApp(ctx context.Context, id, waID string) error {
	return s.setWhatsApp(ctx, s.volKey(id), waID)
}

func (s *Store) setWhatsApp(ctx context.Context, key, waID string) error {
	n, err := setIfExistsScript.Run(ctx, s.rdb, []string{key}, whatsAppField, waID).Int()
	if err != nil {
		return fmt.Errorf("linking a WhatsApp address: %w", err)
	}
	if n == 0 {
		return hotline.ErrNotFound
	}
	return nil
}
