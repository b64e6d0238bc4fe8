package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// WhatsApp's 24-hour window and the messages held until a member writes again
// (internal/whatsapp). Both keys are the member's own, under their bucket's hash tag, so
// Erase removes them with the rest and one MULTI covers both on Redis Cluster.

// waWroteKey holds when member last wrote on WhatsApp (Unix seconds), for as long as a
// window can be open. A member's state keeps no Active while they are at home, which is
// where most subscribers are: this key is what says their window is open.
func (s *Store) waWroteKey(id string) string { return s.memberKey(id) + ":wa" }

// waHeldKey is the list of messages held for member (sealed by the caller), oldest first.
func (s *Store) waHeldKey(id string) string { return s.memberKey(id) + ":wah" }

// waWroteTTL keeps the record of a member's last message as long as WhatsApp's window lasts;
// a member not seen in it is outside the window, whether the key expired or never was.
const waWroteTTL = 24 * time.Hour

// WhatsAppWrote records that member wrote on WhatsApp at now and takes, in the same MULTI,
// the messages held for them (sealed, oldest first; nil when none), which are no longer
// kept: the caller sends them.
func (s *Store) WhatsAppWrote(ctx context.Context, member string, now time.Time) ([][]byte, error) {
	var held *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.waWroteKey(member), now.Unix(), waWroteTTL)
		held = p.LRange(ctx, s.waHeldKey(member), 0, -1)
		p.Del(ctx, s.waHeldKey(member))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recording a WhatsApp message: %w", err)
	}
	var out [][]byte
	for _, v := range held.Val() {
		out = append(out, []byte(v))
	}
	return out, nil
}

// WhatsAppLastWrote returns when member last wrote on WhatsApp, within the last 24 hours;
// the zero time when they have not (or it is not known).
func (s *Store) WhatsAppLastWrote(ctx context.Context, member string) (time.Time, error) {
	v, err := s.rdb.Get(ctx, s.waWroteKey(member)).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reading a WhatsApp window: %w", err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, nil // not a time this version wrote: no window known
	}
	return time.Unix(n, 0), nil
}

// ForgetWhatsAppWindow forgets when member last wrote on WhatsApp: Twilio reported their
// window closed, so what follows goes as a template.
func (s *Store) ForgetWhatsAppWindow(ctx context.Context, member string) error {
	if err := s.rdb.Del(ctx, s.waWroteKey(member)).Err(); err != nil {
		return fmt.Errorf("forgetting a WhatsApp window: %w", err)
	}
	return nil
}

// holdScript appends ARGV[1] to the held list KEYS[1] unless it holds ARGV[2] already, and
// keeps the list ARGV[3] ms from now. It answers the list's length after, or -1 when full.
var holdScript = redis.NewScript(`
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
local n = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return n
`)

// HoldForWhatsApp keeps sealed for member until they next write (WhatsAppWrote), for ttl
// after the last one held, and returns how many are held now, this one included; 0, and
// nothing held, when most are held already. The write is one a volunteer was promised
// (their reply reaches the member), so with HOTLINE_REDIS_WAIT it waits for a replica.
func (s *Store) HoldForWhatsApp(ctx context.Context, member string, sealed []byte, most int64, ttl time.Duration) (int64, error) {
	n, err := holdScript.Run(ctx, s.promised(), []string{s.waHeldKey(member)}, sealed, most, ttl.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("holding a WhatsApp message: %w", err)
	}
	return max(n, 0), nil
}

// UnholdForWhatsApp takes sealed back out of member's held messages: the template that was to
// announce it could not be sent, and the message is sent or queued again as a whole.
func (s *Store) UnholdForWhatsApp(ctx context.Context, member string, sealed []byte) error {
	if err := s.rdb.LRem(ctx, s.waHeldKey(member), 1, sealed).Err(); err != nil {
		return fmt.Errorf("releasing a held WhatsApp message: %w", err)
	}
	return nil
}
