package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

func newSpool(t *testing.T, max int64) *Spool {
	keys, err := privacy.NewKeys("spool-test-secret-0123")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.TempDir(), keys, max, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func msg(id, text string) hotline.Inbound {
	return hotline.Inbound{ID: id, Channel: hotline.SMS, From: "+15055550100", Text: text}
}

func TestReplayInOrderOnceAndResume(t *testing.T) {
	s := newSpool(t, 1<<20)
	for i, text := range []string{"ALTO", "hola", "ayuda"} {
		if err := s.Append(msg("SM"+string(rune('a'+i)), text)); err != nil {
			t.Fatal(err)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(s.dir, "inbound.spool"))
	if strings.Contains(string(raw), "5055550100") || strings.Contains(string(raw), "ALTO") {
		t.Fatal("the spool file holds a number or a body in clear")
	}
	var got []string
	down := errors.New("redis down")
	fail := true
	h := func(_ context.Context, in hotline.Inbound) ([]string, error) {
		if in.Text == "hola" && fail {
			return nil, down
		}
		got = append(got, in.Text)
		return nil, nil
	}
	if n, err := s.Replay(context.Background(), h); n != 1 || !errors.Is(err, down) {
		t.Fatalf("first replay: %d, %v", n, err)
	}
	if !s.Pending() {
		t.Fatal("nothing pending after a paused replay")
	}
	fail = false
	if n, err := s.Replay(context.Background(), h); n != 2 || err != nil {
		t.Fatalf("second replay: %d, %v", n, err)
	}
	if strings.Join(got, ",") != "ALTO,hola,ayuda" {
		t.Errorf("replayed %v, want each once, in order", got)
	}
	if s.Pending() {
		t.Error("still pending after a full replay")
	}
	if n, _ := s.Replay(context.Background(), h); n != 0 {
		t.Errorf("a third replay replayed %d", n)
	}
}

func TestFull(t *testing.T) {
	s := newSpool(t, 300)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = s.Append(msg("SM1", strings.Repeat("x", 50)))
	}
	if !errors.Is(err, ErrFull) {
		t.Errorf("err = %v, want ErrFull", err)
	}
}

// TestTornRecordDoesNotEatTheNext: a crash mid-write leaves half a line; the next message
// must still be replayed.
func TestTornRecordDoesNotEatTheNext(t *testing.T) {
	s := newSpool(t, 1<<20)
	if err := s.Append(msg("SM1", "hola")); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(filepath.Join(s.dir, "inbound.spool"), os.O_APPEND|os.O_WRONLY, 0o600)
	f.WriteString("AAAAtorn")
	f.Close()
	if err := s.Append(msg("SM2", "PARAR")); err != nil {
		t.Fatal(err)
	}
	var got []string
	s.Replay(context.Background(), func(_ context.Context, in hotline.Inbound) ([]string, error) {
		got = append(got, in.Text)
		return nil, nil
	})
	if strings.Join(got, ",") != "hola,PARAR" {
		t.Errorf("replayed %v, want hola,PARAR", got)
	}
}

// TestPoisonRecordIsSkipped: a record that fails every replay is skipped after a few tries,
// so the ones behind it are not held up for ever.
func TestPoisonRecordIsSkipped(t *testing.T) {
	s := newSpool(t, 1<<20)
	s.Append(msg("SM1", "poison"))
	s.Append(msg("SM2", "PARAR"))
	var got []string
	h := func(_ context.Context, in hotline.Inbound) ([]string, error) {
		if in.Text == "poison" {
			return nil, errors.New("cannot render")
		}
		got = append(got, in.Text)
		return nil, nil
	}
	for range maxFailures {
		s.Replay(context.Background(), h)
	}
	if strings.Join(got, ",") != "PARAR" || s.Pending() {
		t.Errorf("replayed %v, pending %v", got, s.Pending())
	}
}
