package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/audit"
)

func TestAuditKeepsNewestFirst(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	at := time.Unix(1_800_000_000, 0).UTC()
	for i, action := range []string{"signin", "broadcast.create", "case.claim"} {
		if err := s.AppendAudit(ctx, audit.Entry{At: at.Add(time.Duration(i) * time.Minute), Actor: "admin", Action: action, Object: "case 7"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Audit(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Action != "case.claim" || got[1].Action != "broadcast.create" || !got[0].At.Equal(at.Add(2*time.Minute)) || got[0].Object != "case 7" {
		t.Errorf("audit: %+v", got)
	}
}
