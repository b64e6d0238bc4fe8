package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/hotline"
)

// The ZIP → county table: one hash, field ZIP, value "countyID|cityID". The {z} hash tag
// keeps it and its import copy in one slot, so the swap by RENAME works on Redis Cluster.
func (s *Store) zipsKey() string { return s.prefix + ":zips:{z}" }

// ReplaceZips swaps in a new ZIP table atomically: readers see the old table or the new one,
// never a mix. Values are "countyID|cityID" (cityID may be empty).
func (s *Store) ReplaceZips(ctx context.Context, zips map[string]string) error {
	tmp := s.zipsKey() + ":importing"
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, tmp)
		if len(zips) > 0 {
			p.HSet(ctx, tmp, zips)
			p.Rename(ctx, tmp, s.zipsKey())
		} else {
			p.Del(ctx, s.zipsKey())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("replacing ZIP table: %w", err)
	}
	return nil
}

// Zips returns the ZIP table.
func (s *Store) Zips(ctx context.Context) (map[string]string, error) {
	m, err := s.rdb.HGetAll(ctx, s.zipsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("loading ZIP table: %w", err)
	}
	return m, nil
}

// subscribersKey is the set of member ids subscribed to area's alerts in lang. A broadcast
// reads one set per area and language, so it never scans members. Every subscription set
// carries the {s} hash tag, so that one SUNIONSTORE can freeze a broadcast's recipients on
// Redis Cluster too.
func (s *Store) subscribersKey(area, lang string) string {
	return s.prefix + ":sub:{s}:" + area + ":" + lang
}

// waSubscribersKey is the set of the members of subscribersKey(area, lang) who are on
// WhatsApp: a second entry for them alone, so that a broadcast's preview can tell how many
// of its recipients get no SMS. A member whose subscription predates this set is counted
// as SMS until their subscription next changes.
func (s *Store) waSubscribersKey(area, lang string) string {
	return s.prefix + ":wasub:{s}:" + area + ":" + lang
}

// AllAreas stands for every area: Subscribers(AllAreas, lang) is everyone subscribed in lang.
const AllAreas = "*"

// areasKey is the set of the areas that have had subscribers in lang. A broadcast to
// everyone unions their sets; a set of every subscriber kept beside them would cost each
// subscriber a second entry (about 80 bytes of Redis memory) for a rare kind of alert.
func (s *Store) areasKey(lang string) string { return s.prefix + ":subareas:{s}:" + lang }

// SyncSubscriptions moves member id from the sets of before to those of after: a new area is
// added, a dropped one removed, a language change moves every area; a WhatsApp member
// (after.Channel) is listed in the WhatsApp sets too, and leaves them with the others
// whatever before.Channel says (a repair knows no channel). It is idempotent, so a
// retried message may run it again. The member's own state is the record of truth; these
// sets are the index a broadcast reads.
func (s *Store) SyncSubscriptions(ctx context.Context, id string, before, after hotline.Subscription) error {
	// Every key here carries {s}: one slot, one master to wait for.
	err := s.promise(ctx, s.areasKey(after.Lang), func(c redis.Cmdable) error {
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, a := range before.Areas {
				if before.Lang != after.Lang || !slices.Contains(after.Areas, a) {
					p.SRem(ctx, s.subscribersKey(a, before.Lang), id)
					p.SRem(ctx, s.waSubscribersKey(a, before.Lang), id)
				}
			}
			for _, a := range after.Areas {
				if a != "" {
					p.SAdd(ctx, s.subscribersKey(a, after.Lang), id)
					if after.Channel == hotline.WhatsApp {
						p.SAdd(ctx, s.waSubscribersKey(a, after.Lang), id)
					}
				}
			}
			if len(after.Areas) > 0 {
				p.SAdd(ctx, s.areasKey(after.Lang), after.Areas)
			}
			return nil
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("updating subscriptions: %w", err)
	}
	return nil
}

// Subscribers returns the member ids subscribed to area in lang (to any area for AllAreas).
func (s *Store) Subscribers(ctx context.Context, area, lang string) ([]string, error) {
	var areas []string
	if area != AllAreas {
		areas = []string{area}
	}
	keys, err := s.areaKeys(ctx, areas, lang)
	if err != nil {
		return nil, err
	}
	ids, err := s.rdb.SUnion(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("reading subscribers: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// SplitZip splits a stored ZIP value into county and city IDs.
func SplitZip(v string) (county, city string) {
	county, city, _ = strings.Cut(v, "|")
	return county, city
}
