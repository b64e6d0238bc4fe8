package redisstore

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

// TestClaimStaffMessageOnce: of many deliveries of one message at the same instant, exactly
// one is told to answer it; the others, and a later retry, get the reply it saved.
func TestClaimStaffMessageOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	var first atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			ok, _, err := s.ClaimStaffMessage(ctx, "vol:1", "SM1")
			if err != nil {
				t.Error(err)
			}
			if ok {
				first.Add(1)
			}
		})
	}
	wg.Wait()
	if n := first.Load(); n != 1 {
		t.Fatalf("%d deliveries were told to answer, want 1", n)
	}
	if err := s.SaveStaffReply(ctx, "vol:1", "SM1", "You have case 4."); err != nil {
		t.Fatal(err)
	}
	ok, reply, err := s.ClaimStaffMessage(ctx, "vol:1", "SM1")
	if err != nil || ok || reply != "You have case 4." {
		t.Errorf("retry: %v, %q, %v; want the saved reply", ok, reply, err)
	}
	// Another sender's message of the same id is its own.
	if ok, _, err := s.ClaimStaffMessage(ctx, "org:2", "SM1"); err != nil || !ok {
		t.Errorf("another scope: %v, %v", ok, err)
	}
	// A reply is never saved for a message nobody claimed (it would outlive any TTL).
	if err := s.SaveStaffReply(ctx, "vol:1", "SM9", "x"); err != nil {
		t.Fatal(err)
	}
	if ok, _, _ := s.ClaimStaffMessage(ctx, "vol:1", "SM9"); !ok {
		t.Error("a reply saved without a claim made the message look answered")
	}
}
