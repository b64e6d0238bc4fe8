package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/hotline"
)

// A broadcast's own keys share the hash tag {b:<id>}; its frozen recipient lists live with the
// subscription sets under {s}, where SUNIONSTORE can build them.
func (s *Store) bcKey(id string) string      { return s.prefix + ":bc:{b:" + id + "}" }
func (s *Store) bcDoneKey(id string) string  { return s.prefix + ":bc:{b:" + id + "}:done" }
func (s *Store) bcFinalKey(id string) string { return s.prefix + ":bc:{b:" + id + "}:final" }
func (s *Store) bcLeaseKey(id string) string { return s.prefix + ":bc:{b:" + id + "}:lease" }
func (s *Store) bcListKey() string           { return s.prefix + ":bcs" }
func (s *Store) bcEnqueueKey() string        { return s.prefix + ":bcq" }
func (s *Store) bcRcptKey(id, lang string) string {
	return s.prefix + ":sub:{s}:bc:" + id + ":" + lang
}

// CreateBroadcast stores a new broadcast.
func (s *Store) CreateBroadcast(ctx context.Context, b hotline.Broadcast) error {
	fields := map[string]any{
		"status": string(b.Status), "areas": strings.Join(b.Areas, ","), "urgent": flagStr(b.Urgent),
		"created_by": b.CreatedBy, "created_at": b.CreatedAt.Unix(),
	}
	if b.Report > 0 {
		fields["report"] = b.Report
	}
	for lang, text := range b.Text {
		fields["text:"+lang] = text
	}
	for lang, n := range b.Recipients {
		fields["rcpt:"+lang] = n
	}
	// Two hash slots (the broadcast's and the list's): a pipeline, not a transaction, so it
	// runs on Redis Cluster; the list is only an index of the hashes.
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.bcKey(b.ID), fields)
		p.ZAdd(ctx, s.bcListKey(), redis.Z{Score: float64(b.CreatedAt.Unix()), Member: b.ID})
		return nil
	})
	if err != nil {
		return fmt.Errorf("storing broadcast: %w", err)
	}
	return nil
}

// ForgetRecipient takes member out of the bookkeeping of every broadcast that may still
// hold them (a member erasing their data): the "already handled" sets, kept 7 days after a
// broadcast ends, and the recipient lists frozen while one is sending. A broadcast still
// sending that meets the member's queue entry later finds no state and skips it.
func (s *Store) ForgetRecipient(ctx context.Context, member string) error {
	// Every broadcast, not only recent ones: a list frozen by one canceled mid-send is kept
	// without expiry (docs/privacy.md). Erasures are rare and broadcasts few (an organizer's
	// alerts), so a pipelined SREM per broadcast is cheap.
	ids, err := s.rdb.ZRange(ctx, s.bcListKey(), 0, -1).Result()
	if err != nil {
		return fmt.Errorf("listing broadcasts: %w", err)
	}
	if len(ids) == 0 {
		return nil
	}
	// One pipeline, not a transaction: each broadcast's keys are in slots of their own.
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			p.SRem(ctx, s.bcDoneKey(id), member)
			for _, lang := range []string{"es", "en"} {
				p.SRem(ctx, s.bcRcptKey(id, lang), member)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("forgetting a recipient: %w", err)
	}
	return nil
}

// Broadcast reads one broadcast.
func (s *Store) Broadcast(ctx context.Context, id string) (hotline.Broadcast, error) {
	m, err := s.rdb.HGetAll(ctx, s.bcKey(id)).Result()
	if err != nil {
		return hotline.Broadcast{}, fmt.Errorf("reading broadcast: %w", err)
	}
	if len(m) == 0 {
		return hotline.Broadcast{}, hotline.ErrNotFound
	}
	return parseBroadcast(id, m), nil
}

// Broadcasts lists the most recent broadcasts, newest first.
func (s *Store) Broadcasts(ctx context.Context, limit int64) ([]hotline.Broadcast, error) {
	ids, err := s.rdb.ZRevRange(ctx, s.bcListKey(), 0, limit-1).Result()
	if err != nil {
		return nil, fmt.Errorf("listing broadcasts: %w", err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, s.bcKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing broadcasts: %w", err)
	}
	out := make([]hotline.Broadcast, 0, len(ids))
	for i, id := range ids {
		if m := cmds[i].Val(); len(m) > 0 {
			out = append(out, parseBroadcast(id, m))
		}
	}
	return out, nil
}

func parseBroadcast(id string, m map[string]string) hotline.Broadcast {
	num := func(k string) int64 { n, _ := strconv.ParseInt(m[k], 10, 64); return n }
	when := func(k string) time.Time {
		if n := num(k); n > 0 {
			return time.Unix(n, 0).UTC()
		}
		return time.Time{}
	}
	b := hotline.Broadcast{
		ID: id, Status: hotline.BroadcastStatus(m["status"]), Urgent: m["urgent"] == "1",
		CreatedBy: m["created_by"], ApprovedBy: m["approved_by"], RequestedBy: m["requested_by"],
		CreatedAt: when("created_at"), SentAt: when("sent_at"), DoneAt: when("done_at"),
		Text: map[string]string{}, Recipients: map[string]int64{}, Report: num("report"),
		Counts: hotline.BroadcastCounts{
			Queued: num("queued"), Sent: num("sent"), Delivered: num("delivered"), Failed: num("failed"),
			Undelivered: num("undelivered"), SkippedOptedOut: num("skipped"), SkippedNoTemplate: num("skipped_no_template"),
		},
	}
	if m["areas"] != "" {
		b.Areas = strings.Split(m["areas"], ",")
	}
	for k, v := range m {
		if lang, ok := strings.CutPrefix(k, "text:"); ok {
			b.Text[lang] = v
		}
		if lang, ok := strings.CutPrefix(k, "rcpt:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			b.Recipients[lang] = n
		}
	}
	return b
}

// transitionScript moves a broadcast from one of the allowed statuses to another, atomically,
// so two organizers pressing "send" and "cancel" at once cannot both win. ARGV: the new
// status; an organizer id that must be neither the creator nor whoever asked to send it (for
// approvals) or ""; the number n of allowed statuses, then those n statuses; the remaining
// ARGV pairs are fields to set. Setting approved_by or requested_by needs a broadcast nobody
// has approved: both are decided on what is stored now, not on a copy read before, so two
// tabs pressing "send" and "approve" at once cannot let one person approve their own alert.
// It answers {3, the status it had} when it moved the broadcast, {1, status} when the status
// is not one allowed, {2, status} when the organizer barred is the creator or the requester,
// {4, status} when it was approved already, {0, ""} when the broadcast is gone.
var transitionScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return {0, ''} end
local n = tonumber(ARGV[3])
local ok = false
for i = 4, 3 + n do if ARGV[i] == cur then ok = true end end
if not ok then return {1, cur} end
if ARGV[2] ~= '' and (redis.call('HGET', KEYS[1], 'created_by') == ARGV[2] or redis.call('HGET', KEYS[1], 'requested_by') == ARGV[2]) then return {2, cur} end
for i = 4 + n, #ARGV, 2 do
  if (ARGV[i] == 'approved_by' or ARGV[i] == 'requested_by') and (redis.call('HGET', KEYS[1], 'approved_by') or '') ~= '' then return {4, cur} end
end
redis.call('HSET', KEYS[1], 'status', ARGV[1])
for i = 4 + n, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return {3, cur}
`)

// Transition sets broadcast id's status to `to` if it is one of from, and sets fields.
// notBy, when not empty, must be neither the broadcast's creator nor its requester
// (hotline.ErrSameActor); setting approved_by or requested_by fails with hotline.ErrApproved
// once someone approved it.
func (s *Store) Transition(ctx context.Context, id string, from []hotline.BroadcastStatus, to hotline.BroadcastStatus, notBy string, fields map[string]string) error {
	args := []any{string(to), notBy, len(from)}
	for _, f := range from {
		args = append(args, string(f))
	}
	for k, v := range fields {
		args = append(args, k, v)
	}
	res, err := transitionScript.Run(ctx, s.rdb, []string{s.bcKey(id)}, args...).Slice()
	if err != nil {
		return fmt.Errorf("changing broadcast status: %w", err)
	}
	switch code, _ := res[0].(int64); code {
	case 0:
		return hotline.ErrNotFound
	case 1:
		return fmt.Errorf("%w (it is %s)", hotline.ErrWrongState, res[1])
	case 2:
		return hotline.ErrSameActor
	case 4:
		return hotline.ErrApproved
	}
	return nil
}

// CountRecipients counts the distinct subscribers of areas (every subscriber when empty) in
// lang, without loading them: SCARD for one set, a temporary SUNIONSTORE for several.
func (s *Store) CountRecipients(ctx context.Context, areas []string, lang string) (int64, error) {
	keys, err := s.areaKeys(ctx, areas, lang)
	if err != nil {
		return 0, err
	}
	return s.countUnion(ctx, keys)
}

// CountWhatsAppRecipients counts those of CountRecipients's subscribers who are on WhatsApp
// (as far as the WhatsApp sets know: see waSubscribersKey).
func (s *Store) CountWhatsAppRecipients(ctx context.Context, areas []string, lang string) (int64, error) {
	keys, err := s.setKeys(ctx, areas, lang, s.waSubscribersKey)
	if err != nil {
		return 0, err
	}
	return s.countUnion(ctx, keys)
}

// countUnion counts the distinct members of the sets keys (one slot, {s}).
func (s *Store) countUnion(ctx context.Context, keys []string) (int64, error) {
	if len(keys) == 1 {
		n, err := s.rdb.SCard(ctx, keys[0]).Result()
		if err != nil {
			return 0, fmt.Errorf("counting recipients: %w", err)
		}
		return n, nil
	}
	tmp := s.prefix + ":sub:{s}:tmp:" + randomID()
	var card *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SUnionStore(ctx, tmp, keys...)
		card = p.SCard(ctx, tmp)
		p.Del(ctx, tmp)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("counting recipients: %w", err)
	}
	return card.Val(), nil
}

// areaKeys names the subscription sets of areas in lang; no areas means every area that
// has had subscribers. It never returns an empty list, which SUNION would refuse.
func (s *Store) areaKeys(ctx context.Context, areas []string, lang string) ([]string, error) {
	return s.setKeys(ctx, areas, lang, s.subscribersKey)
}

// setKeys is areaKeys for the sets key names (subscribersKey, or waSubscribersKey).
func (s *Store) setKeys(ctx context.Context, areas []string, lang string, key func(area, lang string) string) ([]string, error) {
	if len(areas) == 0 {
		all, err := s.rdb.SMembers(ctx, s.areasKey(lang)).Result()
		if err != nil {
			return nil, fmt.Errorf("listing areas: %w", err)
		}
		slices.Sort(all)
		areas = all
	}
	// The empty area is never written: an empty set that keeps the list from being empty.
	keys := []string{key("", lang)}
	for _, a := range areas {
		keys = append(keys, key(a, lang))
	}
	return keys, nil
}

// StartSending freezes the broadcast's recipients per language (so a member who subscribes
// during the send neither gets half of it nor delays it), records how many are queued, and
// hands the broadcast to the enqueuers. It is one transaction with the status change.
func (s *Store) StartSending(ctx context.Context, id string, areas []string, langs []string, now time.Time) (map[string]int64, error) {
	sources := map[string][]string{}
	for _, lang := range langs {
		keys, err := s.areaKeys(ctx, areas, lang)
		if err != nil {
			return nil, err
		}
		sources[lang] = keys
	}
	counts := map[string]*redis.IntCmd{}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, lang := range langs {
			counts[lang] = p.SUnionStore(ctx, s.bcRcptKey(id, lang), sources[lang]...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("freezing recipients: %w", err)
	}
	out := map[string]int64{}
	var total int64
	fields := map[string]any{"sent_at": now.Unix()}
	for lang, c := range counts {
		out[lang] = c.Val()
		total += c.Val()
		fields["rcpt:"+lang] = c.Val()
		fields["cursor:"+lang] = "0"
	}
	fields["queued"] = total
	if total == 0 {
		fields["status"] = string(hotline.Done)
		fields["done_at"] = now.Unix()
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.bcKey(id), fields)
		if total > 0 {
			p.SAdd(ctx, s.bcEnqueueKey(), id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("starting broadcast: %w", err)
	}
	return out, nil
}

func flagStr(b bool) string {
	if b {
		return "1"
	}
	return ""
}

// ErrLeaseHeld means another worker is enqueueing the broadcast.
var ErrLeaseHeld = errors.New("another worker holds the lease")
