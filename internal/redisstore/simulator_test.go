package redisstore

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestSimLogKeepsTheLastLinesForADay: lines come back oldest first, only the last keep of
// them, and the log expires ttl after its last line.
func TestSimLogKeepsTheLastLinesForADay(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		for i := range 5 {
			if err := s.AppendSimLog(ctx, "c1", time.Hour, 3, []byte(fmt.Sprint("line", i))); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.SimLog(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%s", got) != "[line2 line3 line4]" {
			t.Errorf("log %s, want the last 3 lines", got)
		}
		if ttl := s.rdb.PTTL(ctx, s.simLogKey("c1")).Val(); ttl <= 59*time.Minute || ttl > time.Hour {
			t.Errorf("the log expires in %v, want an hour", ttl)
		}
		if other, err := s.SimLog(ctx, "c2"); err != nil || len(other) != 0 {
			t.Errorf("an unknown conversation: %q, %v", other, err)
		}
	})
}
