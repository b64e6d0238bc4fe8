package redisstore

import (
	"context"
	"testing"
	"time"
)

// TestScriptHold: a message is held up to the limit, the list lives ttl from the last one
// held, and past the limit nothing is added (-1).
func TestScriptHold(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		key := s.waHeldKey("m1")
		wantAnswer(t, runScript(t, s, holdScript, []string{key}, "a", 2, 60_000), int64(1))
		wantAnswer(t, runScript(t, s, holdScript, []string{key}, "b", 2, 120_000), int64(2))
		wantTTL(t, s, key, 2*time.Minute)
		wantAnswer(t, runScript(t, s, holdScript, []string{key}, "c", 2, 60_000), int64(-1))
		if got := s.rdb.LRange(context.Background(), key, 0, -1).Val(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
			t.Errorf("held %q, want [a b]", got)
		}
		wantTTL(t, s, key, 2*time.Minute) // a refused one does not extend the list's life
	})
}

// TestWhatsAppWindowAndHeld: a member's last message is remembered for the window and no
// longer; what was held is taken once, in order, with the record of the message; erasing
// the member removes both.
func TestWhatsAppWindowAndHeld(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if last, err := s.WhatsAppLastWrote(ctx, "m1"); err != nil || !last.IsZero() {
			t.Fatalf("a member never seen: %v, %v", last, err)
		}
		for i, v := range []string{"first", "second"} {
			n, err := s.HoldForWhatsApp(ctx, "m1", []byte(v), 2, time.Hour)
			if err != nil || n != int64(i+1) {
				t.Fatalf("holding %s: %d, %v", v, n, err)
			}
		}
		if n, err := s.HoldForWhatsApp(ctx, "m1", []byte("third"), 2, time.Hour); n != 0 || err != nil {
			t.Fatalf("a third past a limit of 2: %d, %v; want 0 (refused)", n, err)
		}
		if err := s.UnholdForWhatsApp(ctx, "m1", []byte("second")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.HoldForWhatsApp(ctx, "m1", []byte("third"), 2, time.Hour); err != nil {
			t.Fatal(err)
		}

		now := time.Unix(1_800_000_000, 0)
		held, err := s.WhatsAppWrote(ctx, "m1", now)
		if err != nil || len(held) != 2 || string(held[0]) != "first" || string(held[1]) != "third" {
			t.Fatalf("taken %q, %v; want [first third]", held, err)
		}
		if held, err := s.WhatsAppWrote(ctx, "m1", now); err != nil || len(held) != 0 {
			t.Fatalf("taken again %q, %v; want nothing", held, err)
		}
		if last, err := s.WhatsAppLastWrote(ctx, "m1"); err != nil || !last.Equal(now) {
			t.Fatalf("last wrote %v, %v; want %v", last, err, now)
		}
		wantTTL(t, s, s.waWroteKey("m1"), 24*time.Hour)

		if err := s.ForgetWhatsAppWindow(ctx, "m1"); err != nil {
			t.Fatal(err)
		}
		if last, _ := s.WhatsAppLastWrote(ctx, "m1"); !last.IsZero() {
			t.Errorf("window still known after ForgetWhatsAppWindow: %v", last)
		}

		s.WhatsAppWrote(ctx, "m1", now)
		s.HoldForWhatsApp(ctx, "m1", []byte("kept"), 2, time.Hour)
		if err := s.Erase(ctx, "m1"); err != nil {
			t.Fatal(err)
		}
		wantTTL(t, s, s.waWroteKey("m1"), gone)
		wantTTL(t, s, s.waHeldKey("m1"), gone)
	})
}
