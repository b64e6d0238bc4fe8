package redisstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/audit"
)

// auditCap is how many audit entries are kept: months of a busy hotline's staff actions.
const auditCap = 10000

func (s *Store) auditKey() string { return s.prefix + ":audit" }

// AppendAudit adds an entry to the audit log, newest first, keeping the last auditCap.
func (s *Store) AppendAudit(ctx context.Context, e audit.Entry) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, s.auditKey(), raw)
		p.LTrim(ctx, s.auditKey(), 0, auditCap-1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("appending to the audit log: %w", err)
	}
	return nil
}

// Audit returns up to limit audit entries, newest first.
func (s *Store) Audit(ctx context.Context, limit int) ([]audit.Entry, error) {
	raws, err := s.rdb.LRange(ctx, s.auditKey(), 0, int64(limit)-1).Result()
	if err != nil {
		return nil, fmt.Errorf("reading the audit log: %w", err)
	}
	out := make([]audit.Entry, 0, len(raws))
	for _, raw := range raws {
		var e audit.Entry
		if json.Unmarshal([]byte(raw), &e) == nil {
			out = append(out, e)
		}
	}
	return out, nil
}
