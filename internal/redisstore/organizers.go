package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/hotline"
)

// Organizers: a hash each, a set of ids, and two indexes — by token hash (API calls) and by
// phone-derived member id (SMS compose). The phone is stored sealed; the token only hashed.
func (s *Store) orgKey(id string) string          { return s.prefix + ":org:" + id }
func (s *Store) orgsKey() string                  { return s.prefix + ":orgs" }
func (s *Store) orgTokenKey(hash string) string   { return s.prefix + ":orgtok:" + hash }
func (s *Store) orgPhoneKey(member string) string { return s.prefix + ":orgby:" + member }

// CreateOrganizer stores a new organizer and its indexes.
func (s *Store) CreateOrganizer(ctx context.Context, o hotline.OrganizerRecord) error {
	ok, err := s.rdb.SetNX(ctx, s.orgPhoneKey(o.PhoneID), o.ID, 0).Result()
	if err != nil {
		return fmt.Errorf("storing organizer: %w", err)
	}
	if !ok {
		return hotline.ErrDuplicate
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.orgKey(o.ID), "name", o.Name, "phone", o.SealedPhone, "phone_id", o.PhoneID,
			"token", o.TokenHash, "lang", o.Lang, "created_at", o.CreatedAt.Unix())
		if o.WhatsAppID != "" {
			p.HSet(ctx, s.orgKey(o.ID), whatsAppField, o.WhatsAppID)
		}
		p.SAdd(ctx, s.orgsKey(), o.ID)
		p.Set(ctx, s.orgTokenKey(o.TokenHash), o.ID, 0)
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing organizer: %w", err)
	}
	return nil
}

// Organizer reads one organizer.
func (s *Store) Organizer(ctx context.Context, id string) (hotline.OrganizerRecord, error) {
	m, err := s.rdb.HGetAll(ctx, s.orgKey(id)).Result()
	if err != nil {
		return hotline.OrganizerRecord{}, fmt.Errorf("reading organizer: %w", err)
	}
	if len(m) == 0 {
		return hotline.OrganizerRecord{}, hotline.ErrNotFound
	}
	return parseOrganizer(id, m), nil
}

func parseOrganizer(id string, m map[string]string) hotline.OrganizerRecord {
	created, _ := strconv.ParseInt(m["created_at"], 10, 64)
	return hotline.OrganizerRecord{ID: id, Name: m["name"], SealedPhone: []byte(m["phone"]), PhoneID: m["phone_id"],
		WhatsAppID: m[whatsAppField], TokenHash: m["token"], Lang: m["lang"], CreatedAt: time.Unix(created, 0).UTC()}
}

// Organizers lists every organizer.
func (s *Store) Organizers(ctx context.Context) ([]hotline.OrganizerRecord, error) {
	ids, err := s.rdb.SMembers(ctx, s.orgsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("listing organizers: %w", err)
	}
	var out []hotline.OrganizerRecord
	for _, id := range ids {
		o, err := s.Organizer(ctx, id)
		if errors.Is(err, hotline.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// OrganizerByToken finds the organizer whose token hashes to hash.
func (s *Store) OrganizerByToken(ctx context.Context, hash string) (string, error) {
	id, err := s.rdb.Get(ctx, s.orgTokenKey(hash)).Result()
	if errors.Is(err, redis.Nil) {
		return "", hotline.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("looking up token: %w", err)
	}
	return id, nil
}

// OrganizerByPhone finds the organizer whose phone has member id phoneID.
func (s *Store) OrganizerByPhone(ctx context.Context, phoneID string) (string, error) {
	id, err := s.rdb.Get(ctx, s.orgPhoneKey(phoneID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", hotline.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("looking up organizer phone: %w", err)
	}
	return id, nil
}

// DeleteOrganizer removes an organizer and its indexes; its token stops working at once.
func (s *Store) DeleteOrganizer(ctx context.Context, id string) error {
	o, err := s.Organizer(ctx, id)
	if err != nil {
		return err
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		// One key per DEL: the three are in different hash slots.
		p.Del(ctx, s.orgTokenKey(o.TokenHash))
		p.Del(ctx, s.orgPhoneKey(o.PhoneID))
		p.Del(ctx, s.orgKey(id))
		p.SRem(ctx, s.orgsKey(), id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("deleting organizer: %w", err)
	}
	return nil
}

// composeKey holds an organizer's SMS conversation while composing an alert.
func (s *Store) composeKey(orgID string) string { return s.prefix + ":orgc:" + orgID }

// ComposeState returns an organizer's compose conversation (empty when none).
func (s *Store) ComposeState(ctx context.Context, orgID string) (map[string]string, error) {
	m, err := s.rdb.HGetAll(ctx, s.composeKey(orgID)).Result()
	if err != nil {
		return nil, fmt.Errorf("reading compose state: %w", err)
	}
	return m, nil
}

// SaveComposeState replaces an organizer's compose conversation; it expires after ttl.
func (s *Store) SaveComposeState(ctx context.Context, orgID string, m map[string]string, ttl time.Duration) error {
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.composeKey(orgID))
		if len(m) > 0 {
			p.HSet(ctx, s.composeKey(orgID), m)
			p.Expire(ctx, s.composeKey(orgID), ttl)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("saving compose state: %w", err)
	}
	return nil
}
