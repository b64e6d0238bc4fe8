package spool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newSpool(t *testing.T, max int64) (*Spool, *clock) {
	t.Helper()
	return openSpool(t, t.TempDir(), max)
}

func openSpool(t *testing.T, dir string, max int64) (*Spool, *clock) {
	t.Helper()
	keys, err := privacy.NewKeys("spool-test-secret-0123")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	s, err := Open(dir, keys, max, nil, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

const (
	alice = "+15055550100"
	bob   = "+15055550101"
)

func msg(id, from, text string) hotline.Inbound {
	return hotline.Inbound{ID: id, Channel: hotline.SMS, From: from, Text: text}
}

// recorder is a handler that records what it handled and fails what fail says.
type recorder struct {
	mu   sync.Mutex
	got  []string
	fail func(in hotline.Inbound) error
}

func (r *recorder) handle(_ context.Context, in hotline.Inbound) error {
	if r.fail != nil {
		if err := r.fail(in); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, in.Text)
	return nil
}

func (r *recorder) texts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

func appendAll(t *testing.T, s *Spool, msgs ...hotline.Inbound) {
	t.Helper()
	for _, m := range msgs {
		if err := s.Append(m); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReplayInOrderOnceAndResume(t *testing.T) {
	s, c := newSpool(t, 1<<20)
	appendAll(t, s, msg("SMa", alice, "ALTO"), msg("SMb", alice, "hola"), msg("SMc", alice, "ayuda"))
	raw, _ := os.ReadFile(filepath.Join(s.dir, "inbound.spool"))
	if strings.Contains(string(raw), "5055550100") || strings.Contains(string(raw), "ALTO") {
		t.Fatal("the spool file holds a number or a body in clear")
	}
	down := errors.New("redis down")
	fail := true
	r := &recorder{fail: func(in hotline.Inbound) error {
		if in.Text == "hola" && fail {
			return down
		}
		return nil
	}}
	res, err := s.Replay(context.Background(), r.handle)
	if err != nil || res.Replayed != 1 || res.Waiting != 2 || !errors.Is(res.Err, down) {
		t.Fatalf("first replay: %+v, %v", res, err)
	}
	if !s.Pending() {
		t.Fatal("nothing pending after a replay that left records")
	}
	fail = false
	c.add(firstRetry)
	if res, err := s.Replay(context.Background(), r.handle); err != nil || res.Replayed != 2 || res.Waiting != 0 {
		t.Fatalf("second replay: %+v, %v", res, err)
	}
	if got := strings.Join(r.texts(), ","); got != "ALTO,hola,ayuda" {
		t.Errorf("replayed %s, want each once, in order", got)
	}
	if s.Pending() {
		t.Error("still pending after a full replay")
	}
	if res, _ := s.Replay(context.Background(), r.handle); res.Replayed != 0 {
		t.Errorf("a third replay replayed %d", res.Replayed)
	}
}

// TestAFailingRecordHoldsUpOnlyItsSender: a record whose member's Redis master is down (it
// fails pass after pass) is never skipped, holds up its sender's later messages, which must
// come after it, and nobody else's.
func TestAFailingRecordHoldsUpOnlyItsSender(t *testing.T) {
	s, c := newSpool(t, 1<<20)
	appendAll(t, s, msg("SM1", alice, "PARAR"), msg("SM2", bob, "hola"), msg("SM3", alice, "hola"), msg("SM4", bob, "1"))
	slotDown := true
	r := &recorder{fail: func(in hotline.Inbound) error {
		if in.From == alice && slotDown {
			return errors.New("dial tcp 127.0.0.1:7102: connect: connection refused")
		}
		return nil
	}}
	for range 30 { // half an hour of passes
		if _, err := s.Replay(context.Background(), r.handle); err != nil {
			t.Fatal(err)
		}
		c.add(time.Minute)
	}
	if got := strings.Join(r.texts(), ","); got != "hola,1" {
		t.Fatalf("with Alice's slot down, replayed %s; want Bob's two messages only", got)
	}
	slotDown = false
	res, err := s.Replay(context.Background(), r.handle)
	if err != nil || res.Replayed != 2 || res.Dropped != 0 {
		t.Fatalf("once the slot is back: %+v, %v", res, err)
	}
	if got := strings.Join(r.texts(), ","); got != "hola,1,PARAR,hola" {
		t.Errorf("replayed %s; want Alice's in order after Bob's", got)
	}
	if s.Pending() {
		t.Error("still pending")
	}
}

// TestBackoff: a record that failed is not tried again before its back-off ends; it is tried
// every firstRetry for steadyRetries failures (a failover's few seconds), then less and less
// often.
func TestBackoff(t *testing.T) {
	s, c := newSpool(t, 1<<20)
	appendAll(t, s, msg("SM1", alice, "hola"))
	tries := 0
	h := func(context.Context, hotline.Inbound) error { tries++; return errors.New("CLUSTERDOWN") }
	var waits []time.Duration
	for range steadyRetries {
		waits = append(waits, firstRetry)
	}
	for _, wait := range append(waits, 2*firstRetry, 4*firstRetry) {
		before := tries
		s.Replay(context.Background(), h)
		if tries != before+1 {
			t.Fatalf("not tried once when due (wait %v)", wait)
		}
		c.add(wait - time.Millisecond)
		s.Replay(context.Background(), h)
		if tries != before+1 {
			t.Fatalf("tried again before its back-off of %v ended", wait)
		}
		c.add(time.Millisecond)
	}
}

// TestDropOnlyWhatCanNeverSucceed: a sender who must not be answered and a record that does
// not open are dropped; a record that fails for any other reason is kept.
func TestDropOnlyWhatCanNeverSucceed(t *testing.T) {
	s, _ := newSpool(t, 1<<20)
	appendAll(t, s, msg("SM1", alice, "unreadable state"))
	f, _ := os.OpenFile(filepath.Join(s.dir, "inbound.spool"), os.O_APPEND|os.O_WRONLY, 0o600)
	f.WriteString("bm90IGEgcmVjb3Jk\n") // base64, but not sealed with the key
	f.Close()
	appendAll(t, s, msg("SM2", bob, "cannot render"))
	r := &recorder{fail: func(in hotline.Inbound) error {
		switch in.Text {
		case "unreadable state":
			return fmt.Errorf("member state cannot be read: %w", hotline.ErrDoNotAnswer)
		case "cannot render":
			return fmt.Errorf("%w: rendering", hotline.ErrContent)
		}
		return nil
	}}
	res, err := s.Replay(context.Background(), r.handle)
	if err != nil || res.Dropped != 2 || res.Waiting != 1 {
		t.Fatalf("%+v, %v; want 2 dropped, 1 waiting", res, err)
	}
	if !s.Pending() {
		t.Error("the record that may yet succeed was not kept")
	}
}

// TestTornRecordDoesNotEatTheNext: a crash mid-write leaves half a line; the next message
// must still be replayed.
func TestTornRecordDoesNotEatTheNext(t *testing.T) {
	s, _ := newSpool(t, 1<<20)
	appendAll(t, s, msg("SM1", alice, "hola"))
	f, _ := os.OpenFile(filepath.Join(s.dir, "inbound.spool"), os.O_APPEND|os.O_WRONLY, 0o600)
	f.WriteString("AAAAtorn")
	f.Close()
	appendAll(t, s, msg("SM2", alice, "PARAR"))
	r := &recorder{}
	s.Replay(context.Background(), r.handle)
	if got := strings.Join(r.texts(), ","); got != "hola,PARAR" {
		t.Errorf("replayed %s, want hola,PARAR", got)
	}
	if s.Pending() {
		t.Error("still pending")
	}
}

// TestTornLastRecordIsDropped: a half-written last line, left by a process that died while
// appending, is dropped rather than kept pending for ever.
func TestTornLastRecordIsDropped(t *testing.T) {
	s, _ := newSpool(t, 1<<20)
	appendAll(t, s, msg("SM1", alice, "hola"))
	f, _ := os.OpenFile(filepath.Join(s.dir, "inbound.spool"), os.O_APPEND|os.O_WRONLY, 0o600)
	f.WriteString("AAAAtorn")
	f.Close()
	r := &recorder{}
	if res, _ := s.Replay(context.Background(), r.handle); res.Replayed != 1 || res.Dropped != 1 || s.Pending() {
		t.Errorf("%+v, pending %v", res, s.Pending())
	}
}

// TestDoneSurvivesARestart: what was replayed is recorded on disk, so a new process on the
// same folder replays only the rest; a message spooled twice is answered once.
func TestDoneSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir, 1<<20)
	appendAll(t, s, msg("SM1", alice, "one"), msg("SM2", bob, "two"), msg("SM2", bob, "two"), msg("SM3", bob, "three"))
	r := &recorder{fail: func(in hotline.Inbound) error {
		if in.Text == "three" {
			return errors.New("down")
		}
		return nil
	}}
	s.Replay(context.Background(), r.handle)
	again, _ := openSpool(t, dir, 1<<20)
	r2 := &recorder{}
	if _, err := again.Replay(context.Background(), r2.handle); err != nil {
		t.Fatal(err)
	}
	first := r.texts()
	slices.Sort(first) // two senders, replayed side by side
	if got := strings.Join(first, ",") + " | " + strings.Join(r2.texts(), ","); got != "one,two | three" {
		t.Errorf("replayed %s; want one and two, then after the restart three", got)
	}
}

// TestLegacyProgress: a spool left by the version that replayed strictly in order (an offset
// file) resumes after that offset.
func TestLegacyProgress(t *testing.T) {
	dir := t.TempDir()
	s, _ := openSpool(t, dir, 1<<20)
	appendAll(t, s, msg("SM1", alice, "one"))
	st, _ := os.Stat(filepath.Join(dir, "inbound.spool"))
	appendAll(t, s, msg("SM2", alice, "two"))
	os.WriteFile(filepath.Join(dir, "inbound.offset"), []byte(fmt.Sprint(st.Size())), 0o600)
	r := &recorder{}
	s.Replay(context.Background(), r.handle)
	if got := strings.Join(r.texts(), ","); got != "two" {
		t.Errorf("replayed %s, want two", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "inbound.offset")); !errors.Is(err, os.ErrNotExist) {
		t.Error("the old progress file was left")
	}
}

// TestCompaction: a record that fails for hours while hundreds are replayed does not keep
// the replayed ones on disk until the spool is full.
func TestCompaction(t *testing.T) {
	s, c := newSpool(t, 1<<20)
	appendAll(t, s, msg("SM0", alice, "stuck"))
	r := &recorder{fail: func(in hotline.Inbound) error {
		if in.Text == "stuck" {
			return errors.New("down")
		}
		return nil
	}}
	for i := range 300 {
		appendAll(t, s, msg(fmt.Sprintf("SMx%d", i), fmt.Sprintf("+1505556%04d", i), "ok"))
		if i%50 == 49 {
			s.Replay(context.Background(), r.handle)
			c.add(time.Minute)
		}
	}
	st, err := os.Stat(filepath.Join(s.dir, "inbound.spool"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 1000 {
		t.Errorf("the spool holds %d bytes for one waiting record", st.Size())
	}
	if n := len(r.texts()); n != 300 {
		t.Errorf("replayed %d, want 300", n)
	}
	r.fail = nil
	if res, _ := s.Replay(context.Background(), r.handle); res.Replayed != 1 || s.Pending() {
		t.Errorf("after compaction the waiting record: %+v, pending %v", res, s.Pending())
	}
}

// TestSendersInParallel: a slow sender does not hold up the others.
func TestSendersInParallel(t *testing.T) {
	s, _ := newSpool(t, 1<<20)
	appendAll(t, s, msg("SM1", alice, "slow"), msg("SM2", bob, "fast"))
	fastDone := make(chan struct{})
	h := func(_ context.Context, in hotline.Inbound) error {
		if in.Text == "slow" {
			select {
			case <-fastDone:
			case <-time.After(5 * time.Second):
				return errors.New("bob's message waited behind alice's")
			}
			return nil
		}
		close(fastDone)
		return nil
	}
	if res, err := s.Replay(context.Background(), h); err != nil || res.Replayed != 2 {
		t.Errorf("%+v, %v", res, err)
	}
}

func TestFull(t *testing.T) {
	s, _ := newSpool(t, 300)
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		err = s.Append(msg("SM1", alice, strings.Repeat("x", 50)))
	}
	if !errors.Is(err, ErrFull) {
		t.Errorf("err = %v, want ErrFull", err)
	}
}
