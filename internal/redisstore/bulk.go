package redisstore

import (
	"context"
	"fmt"
)

// putMembersBatch is how many members one pipeline of PutMembers writes.
const putMembersBatch = 1000

// PutMembers writes many members' sealed states at once, in pipelines of a thousand, as
// durable states (those of subscribers and opted-out members). It is for imports and load tests, never for a running
// hotline: it overwrites whatever the members had, without the compare-and-set of Save, and
// keeps no reply log. The subscriber index is not touched; SyncSubscriptions builds it.
func (s *Store) PutMembers(ctx context.Context, states map[string][]byte) error {
	pending := 0
	p := s.rdb.Pipeline()
	flush := func() error {
		if pending == 0 {
			return nil
		}
		pending = 0
		if _, err := p.Exec(ctx); err != nil {
			return fmt.Errorf("writing members: %w", err)
		}
		return nil
	}
	for id, st := range states {
		p.HSet(ctx, s.bucketKey(id), id, st)
		p.Del(ctx, s.memberKey(id))
		if pending++; pending == putMembersBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}
