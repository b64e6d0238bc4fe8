package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/staff"
)

// TestScriptCheckCode: right → 1 and the code is gone; wrong → 0 until the last try, which
// answers -1 and deletes the code; no code → -1.
func TestScriptCheckCode(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		key := s.signinCodeKey("phone1")
		wantAnswer(t, runScript(t, s, checkCodeScript, []string{key}, "h1", 3), int64(-1))
		if err := s.SaveSigninCode(ctx, "phone1", "h1", time.Minute); err != nil {
			t.Fatal(err)
		}
		wantAnswer(t, runScript(t, s, checkCodeScript, []string{key}, "bad", 3), int64(0))
		wantAnswer(t, runScript(t, s, checkCodeScript, []string{key}, "bad", 3), int64(0))
		wantAnswer(t, runScript(t, s, checkCodeScript, []string{key}, "bad", 3), int64(-1))
		wantAnswer(t, runScript(t, s, checkCodeScript, []string{key}, "h1", 3), int64(-1))
		s.SaveSigninCode(ctx, "phone1", "h2", time.Minute)
		wantAnswer(t, runScript(t, s, checkCodeScript, []string{key}, "h2", 3), int64(1))
		if n := s.rdb.Exists(ctx, key).Val(); n != 0 {
			t.Error("a used code is still stored")
		}
	})
}

// TestScriptAttempt: the counter counts, and its window starts with the first count only.
func TestScriptAttempt(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		key := s.attemptKey("b")
		wantAnswer(t, runScript(t, s, attemptScript, []string{key}, 60000), int64(1))
		s.rdb.PExpire(ctx, key, 5*time.Second)
		wantAnswer(t, runScript(t, s, attemptScript, []string{key}, 60000), int64(2))
		if ttl := s.rdb.PTTL(ctx, key).Val(); ttl > 5*time.Second || ttl <= 0 {
			t.Errorf("a later count moved the window: ttl %v", ttl)
		}
	})
}

func TestSigninCodeAndCounts(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	s.SaveSigninCode(ctx, "p", "h", time.Minute)
	if r, err := s.CheckSigninCode(ctx, "p", "x", 5); err != nil || r != staff.CodeWrong {
		t.Fatalf("wrong code: %v %v", r, err)
	}
	if r, _ := s.CheckSigninCode(ctx, "p", "h", 5); r != staff.CodeOK {
		t.Fatalf("right code: %v", r)
	}
	if r, _ := s.CheckSigninCode(ctx, "p", "h", 5); r != staff.CodeGone {
		t.Fatalf("used code: %v", r)
	}
	for i := int64(1); i <= 3; i++ {
		if n, err := s.CountAttempt(ctx, "x", time.Minute); err != nil || n != i {
			t.Fatalf("count %d: %d %v", i, n, err)
		}
	}
}

func TestSessionSaveReadDelete(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if _, err := s.Session(ctx, "h"); !errors.Is(err, hotline.ErrNotFound) {
		t.Fatalf("missing session: %v", err)
	}
	want := staff.Session{Person: staff.Person{Actor: "organizer:o1", Role: "organizer", Name: "Ana", Lang: "es", PhoneID: "pid"}, CSRF: "tok",
		Seen: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := s.SaveSession(ctx, "h", want, time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := s.Session(ctx, "h")
	if err != nil || got != want {
		t.Fatalf("session %+v %v, want %+v", got, err, want)
	}
	if ttl := s.rdb.TTL(ctx, s.sessionKey("h")).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("session ttl %v", ttl)
	}
	s.DeleteSession(ctx, "h")
	if _, err := s.Session(ctx, "h"); !errors.Is(err, hotline.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
}

func TestDayCounts(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if in, out, err := s.DayCounts(ctx, "2026-01-02"); err != nil || in != 0 || out != 0 {
		t.Fatalf("empty day: %d %d %v", in, out, err)
	}
	s.AddDayCounts(ctx, "2026-01-02", 3, 5)
	s.AddDayCounts(ctx, "2026-01-02", 1, 0)
	if in, out, _ := s.DayCounts(ctx, "2026-01-02"); in != 4 || out != 5 {
		t.Errorf("day counts %d %d, want 4 5", in, out)
	}
}

func TestSubscriberCounts(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	s.SyncSubscriptions(ctx, "m1", hotline.Subscription{}, hotline.Subscription{Areas: []string{"a", "b"}, Lang: "es"})
	s.SyncSubscriptions(ctx, "m2", hotline.Subscription{}, hotline.Subscription{Areas: []string{"a"}, Lang: "es"})
	s.SyncSubscriptions(ctx, "m3", hotline.Subscription{}, hotline.Subscription{Areas: []string{"a"}, Lang: "en"})
	s.SyncSubscriptions(ctx, "m2", hotline.Subscription{Areas: []string{"a"}, Lang: "es"}, hotline.Subscription{Lang: "es"})
	got, err := s.SubscriberCounts(ctx, []string{"es", "en"})
	if err != nil {
		t.Fatal(err)
	}
	if got["es"]["a"] != 1 || got["es"]["b"] != 1 || got["en"]["a"] != 1 || len(got["es"]) != 2 {
		t.Errorf("counts %v", got)
	}
}
