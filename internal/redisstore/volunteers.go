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

// Volunteers: a hash each, a set of ids, a phone index, and one on-call set per language
// (the on-call sets share the {v} hash tag, so one SUNION reads several on Redis Cluster).
func (s *Store) volKey(id string) string          { return s.prefix + ":vol:" + id }
func (s *Store) volsKey() string                  { return s.prefix + ":vols" }
func (s *Store) volPhoneKey(member string) string { return s.prefix + ":volby:" + member }
func (s *Store) onCallKey(lang string) string     { return s.prefix + ":oncall:{v}:" + lang }

// CreateVolunteer stores a new volunteer.
func (s *Store) CreateVolunteer(ctx context.Context, v hotline.VolunteerRecord) error {
	ok, err := s.rdb.SetNX(ctx, s.volPhoneKey(v.PhoneID), v.ID, 0).Result()
	if err != nil {
		return fmt.Errorf("storing volunteer: %w", err)
	}
	if !ok {
		return hotline.ErrDuplicate
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.volKey(v.ID), "name", v.Name, "phone", v.SealedPhone, "phone_id", v.PhoneID,
			"langs", strings.Join(v.Langs, ","), "on", flagStr(v.OnCall), "created_at", v.CreatedAt.Unix())
		if v.WhatsAppID != "" {
			p.HSet(ctx, s.volKey(v.ID), whatsAppField, v.WhatsAppID)
		}
		p.SAdd(ctx, s.volsKey(), v.ID)
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing volunteer: %w", err)
	}
	return nil
}

// Volunteer reads one volunteer.
func (s *Store) Volunteer(ctx context.Context, id string) (hotline.VolunteerRecord, error) {
	m, err := s.rdb.HGetAll(ctx, s.volKey(id)).Result()
	if err != nil {
		return hotline.VolunteerRecord{}, fmt.Errorf("reading volunteer: %w", err)
	}
	if len(m) == 0 {
		return hotline.VolunteerRecord{}, hotline.ErrNotFound
	}
	return parseVolunteer(id, m), nil
}

func parseVolunteer(id string, m map[string]string) hotline.VolunteerRecord {
	created, _ := strconv.ParseInt(m["created_at"], 10, 64)
	v := hotline.VolunteerRecord{ID: id, Name: m["name"], SealedPhone: []byte(m["phone"]), PhoneID: m["phone_id"],
		WhatsAppID: m[whatsAppField], OnCall: m["on"] == "1", CreatedAt: time.Unix(created, 0).UTC()}
	if m["langs"] != "" {
		v.Langs = strings.Split(m["langs"], ",")
	}
	return v
}

// Volunteers lists every volunteer.
func (s *Store) Volunteers(ctx context.Context) ([]hotline.VolunteerRecord, error) {
	ids, err := s.rdb.SMembers(ctx, s.volsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("listing volunteers: %w", err)
	}
	var out []hotline.VolunteerRecord
	for _, id := range ids {
		v, err := s.Volunteer(ctx, id)
		if errors.Is(err, hotline.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// VolunteerByPhone finds the volunteer whose phone has member id phoneID.
func (s *Store) VolunteerByPhone(ctx context.Context, phoneID string) (string, error) {
	id, err := s.rdb.Get(ctx, s.volPhoneKey(phoneID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", hotline.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("looking up volunteer phone: %w", err)
	}
	return id, nil
}

// SetOnCall puts a volunteer on or off call in each of their languages.
func (s *Store) SetOnCall(ctx context.Context, v hotline.VolunteerRecord, on bool) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.volKey(v.ID), "on", flagStr(on))
		for _, lang := range v.Langs {
			if on {
				p.SAdd(ctx, s.onCallKey(lang), v.ID)
			} else {
				p.SRem(ctx, s.onCallKey(lang), v.ID)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("changing on-call: %w", err)
	}
	return nil
}

// OnCall lists the volunteers on call who speak one of langs.
func (s *Store) OnCall(ctx context.Context, langs ...string) ([]string, error) {
	keys := make([]string, len(langs))
	for i, l := range langs {
		keys[i] = s.onCallKey(l)
	}
	ids, err := s.rdb.SUnion(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("listing volunteers on call: %w", err)
	}
	return ids, nil
}

// DeleteVolunteer removes a volunteer everywhere.
func (s *Store) DeleteVolunteer(ctx context.Context, id string) error {
	v, err := s.Volunteer(ctx, id)
	if err != nil {
		return err
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.volPhoneKey(v.PhoneID))
		p.Del(ctx, s.volKey(id))
		p.SRem(ctx, s.volsKey(), id)
		for _, lang := range v.Langs {
			p.SRem(ctx, s.onCallKey(lang), id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("deleting volunteer: %w", err)
	}
	return nil
}
