// Package spool keeps inbound messages that could not be handled because Redis failed, in a
// bounded, fsync'd file, and replays them when Redis answers again: a member's STOP or cry
// for help is never lost to an outage. Records are sealed, since they hold a phone number and
// a message body.
//
// Redis may fail for some members only: on a Redis Cluster whose master died, the members
// whose state is on it fail until its replica takes over, the others do not. So each record is
// replayed until it succeeds, with a back-off of its own, and one that keeps failing holds up
// nobody else's: only the later messages of the same sender, which must be answered in order
// (a STOP before the message after it). A record is dropped only when it can never succeed:
// it does not open, or its sender must not be answered (hotline.ErrDoNotAnswer).
package spool

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// ErrFull means the spool holds as much as it may; the message is not kept.
var ErrFull = errors.New("spool is full")

// The back-off of a record that failed: firstRetry after each of its first steadyRetries
// failures, then doubling up to maxRetry. A dead master's replica takes over within seconds
// (Redis Cluster's node timeout and an election), so a record keeps being tried often for
// that long, and is answered soon after; past it, the outage is a long one.
const (
	firstRetry    = 500 * time.Millisecond
	steadyRetries = 20
	maxRetry      = time.Minute
)

// workers is how many senders' records are replayed at once: a replay waits on Redis and on
// the provider, and a backlog after an outage should not take one round trip at a time.
const workers = 4

// attemptTimeout bounds one replay of one record.
const attemptTimeout = 15 * time.Second

// Spool is an append-only file of sealed inbound messages, and a file of the records done
// (replayed or dropped). It is safe for concurrent use within one process; each process must
// have its own directory.
type Spool struct {
	dir      string
	keys     *privacy.Keys
	maxBytes int64
	log      *slog.Logger
	now      func() time.Time

	// mu guards the data file: appends, and the reads and rewrites of a replay.
	mu sync.Mutex
	// replaying makes replays one at a time.
	replaying sync.Mutex
	// doneMu guards the done file, written by a replay's workers.
	doneMu sync.Mutex
	// retry is the back-off of each record that failed, by its message id. Only replays use it.
	retry map[string]backoff
}

type backoff struct {
	failures int
	next     time.Time
}

// Open opens (creating if needed) the spool in dir. maxBytes bounds the data file. now is
// the clock (nil: time.Now).
func Open(dir string, keys *privacy.Keys, maxBytes int64, log *slog.Logger, now func() time.Time) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool directory: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Spool{dir: dir, keys: keys, maxBytes: maxBytes, log: log, now: now, retry: map[string]backoff{}}, nil
}

func (s *Spool) dataPath() string { return filepath.Join(s.dir, "inbound.spool") }
func (s *Spool) donePath() string { return filepath.Join(s.dir, "inbound.done") }

// legacyOffsetPath is where an earlier version kept how far its in-order replay had got:
// every record before that offset is done.
func (s *Spool) legacyOffsetPath() string { return filepath.Join(s.dir, "inbound.offset") }

// record is what a line of the data file holds, sealed. At (Unix milliseconds) is when it was
// spooled; records of an earlier version have none.
type record struct {
	ID, Channel, From, To, Text, OptOutType string
	At                                      int64 `json:",omitempty"`
}

// Append keeps in durably (the file is fsync'd before Append returns).
func (s *Spool) Append(in hotline.Inbound) error {
	plain, err := json.Marshal(record{in.ID, string(in.Channel), in.From, in.To, in.Text, in.OptOutType, s.now().UnixMilli()})
	if err != nil {
		return err
	}
	line := base64.StdEncoding.EncodeToString(s.keys.Seal(plain, privacy.SpoolRecord())) + "\n"
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.dataPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("opening spool: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("reading spool: %w", err)
	}
	if st.Size()+int64(len(line)) > s.maxBytes {
		return ErrFull
	}
	// A crash mid-write can leave a last line without its newline; end it, so that this
	// record is not glued to it (the torn one is then dropped as unreadable, alone).
	if st.Size() > 0 {
		last := make([]byte, 1)
		if r, err := os.Open(s.dataPath()); err == nil {
			r.ReadAt(last, st.Size()-1)
			r.Close()
		}
		if last[0] != '\n' {
			line = "\n" + line
		}
	}
	if _, err := f.WriteString(line); err != nil {
		return fmt.Errorf("writing spool: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing spool: %w", err)
	}
	return nil
}

// Handler handles a replayed message. An error wrapping hotline.ErrDoNotAnswer drops the
// record; any other error has it tried again later.
type Handler func(ctx context.Context, in hotline.Inbound) error

// Result is what one pass of Replay did.
type Result struct {
	// Replayed counts records handled; Dropped, records that can never be (unreadable, or a
	// sender who must not be answered); Waiting, records left for a later pass (failed now,
	// waiting out their back-off, or behind an earlier message of their sender that is).
	Replayed, Dropped, Waiting int
	// Longest is the longest a record replayed in this pass had waited since it was spooled.
	Longest time.Duration
	// Err is the last failure, if any.
	Err error
}

// pending is a record still to replay: its place in the data file and what it holds.
type pending struct {
	offset int64
	size   int
	in     hotline.Inbound
	at     time.Time
}

// Replay hands each spooled message not yet done and not waiting out a back-off to h, the
// messages of one sender in the order they came, several senders at once. A record h handles
// is marked done (fsync'd) at once, so a crash repeats at most the records in hand, which the
// engine's MessageSid de-duplication makes harmless. A record h fails is tried again after its
// back-off, and the sender's later records wait behind it. When every record is done the
// files are removed; when most are, the data file is rewritten with the rest.
func (s *Spool) Replay(ctx context.Context, h Handler) (Result, error) {
	s.replaying.Lock()
	defer s.replaying.Unlock()
	recs, size, res, err := s.pendingRecords()
	if err != nil {
		return res, err
	}
	// One queue per sender, in the order their messages came.
	var order []string
	bySender := map[string][]pending{}
	for _, p := range recs {
		k := string(p.in.Channel) + "\x00" + p.in.From
		if _, ok := bySender[k]; !ok {
			order = append(order, k)
		}
		bySender[k] = append(bySender[k], p)
	}
	var mu sync.Mutex
	work := make(chan []pending)
	var wg sync.WaitGroup
	for range min(workers, len(order)) {
		wg.Go(func() {
			for queue := range work {
				r := s.replaySender(ctx, queue, h)
				mu.Lock()
				res.Replayed += r.Replayed
				res.Dropped += r.Dropped
				res.Waiting += r.Waiting
				res.Longest = max(res.Longest, r.Longest)
				if r.Err != nil {
					res.Err = r.Err
				}
				mu.Unlock()
			}
		})
	}
	for _, k := range order {
		work <- bySender[k]
	}
	close(work)
	wg.Wait()
	if err := s.tidy(size, res.Waiting == 0); err != nil {
		return res, err
	}
	return res, nil
}

// replaySender replays one sender's records in order, stopping at the first that fails or
// waits out its back-off.
func (s *Spool) replaySender(ctx context.Context, queue []pending, h Handler) Result {
	var res Result
	replayed := map[string]bool{}
	for i, p := range queue {
		if replayed[p.in.ID] {
			// The same message spooled twice (a webhook retried while Redis failed): it was
			// just answered; a second replay would send the member its reply again.
			if err := s.markDone(p.offset); err != nil {
				res.Err = err
				res.Waiting += len(queue) - i
				return res
			}
			continue
		}
		if b, ok := s.backoffOf(p.in.ID); ok && s.now().Before(b.next) {
			res.Waiting += len(queue) - i
			return res
		}
		actx, cancel := context.WithTimeout(ctx, attemptTimeout)
		err := h(actx, p.in)
		cancel()
		switch {
		case err == nil:
			res.Replayed++
			if !p.at.IsZero() {
				res.Longest = max(res.Longest, s.now().Sub(p.at))
			}
		case errors.Is(err, hotline.ErrDoNotAnswer):
			res.Dropped++
			s.log.Warn("spooled message dropped: its sender must not be answered", "msg_id", p.in.ID, "err", err)
		default:
			n := s.failed(p.in.ID)
			// The 1st, 4th, 16th, 64th… failure: a record failing for an hour writes a
			// handful of lines, not one every back-off.
			if n&(n-1) == 0 && n%3 == 1 {
				s.log.Warn("spooled message not replayed yet; will retry", "msg_id", p.in.ID, "failures", n, "err", err)
			}
			res.Waiting += len(queue) - i
			res.Err = err
			return res
		}
		s.forget(p.in.ID)
		replayed[p.in.ID] = true
		if err := s.markDone(p.offset); err != nil {
			// Not recorded: the record will be replayed again, and answered from the reply
			// log. Stop this sender rather than replay its next message twice too.
			res.Err = err
			res.Waiting += len(queue) - i - 1
			return res
		}
	}
	return res
}

// pendingRecords reads the records not done yet. Records that do not open are marked done
// (dropped) on the way, and so is a last line without its newline, which only a crash in
// the middle of an append leaves (appends hold mu, as this read does). size is how much of
// the data file was read.
func (s *Spool) pendingRecords() (recs []pending, size int64, res Result, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := os.ReadFile(s.dataPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, res, nil
	}
	if err != nil {
		return nil, 0, res, fmt.Errorf("reading spool: %w", err)
	}
	done, err := s.doneOffsets()
	if err != nil {
		return nil, 0, res, err
	}
	var offset int64
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte{'\n'})
		n := len(line) + 1
		if len(rest) == 0 && len(line) == len(data) {
			n = len(line) // the last line, without its newline
		}
		if !done[offset] && len(bytes.TrimSpace(line)) > 0 {
			if in, at, ok := s.decode(line); ok && n > len(line) {
				recs = append(recs, pending{offset: offset, size: n, in: in, at: at})
			} else {
				s.log.Error("spool record unreadable; dropped", "offset", offset)
				res.Dropped++
				if err := s.markDone(offset); err != nil {
					return nil, 0, res, err
				}
			}
		}
		offset += int64(n)
		data = rest
	}
	return recs, offset, res, nil
}

// doneOffsets reads the offsets of the records done.
func (s *Spool) doneOffsets() (map[int64]bool, error) {
	done := map[int64]bool{}
	if b, err := os.ReadFile(s.legacyOffsetPath()); err == nil {
		// An earlier version's in-order progress: everything before it is done.
		upTo, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		f, err := os.Open(s.dataPath())
		if err == nil {
			var off int64
			r := bufio.NewReader(f)
			for off < upTo {
				line, err := r.ReadBytes('\n')
				if len(line) == 0 {
					break
				}
				done[off] = true
				off += int64(len(line))
				if err != nil {
					break
				}
			}
			f.Close()
		}
	}
	f, err := os.Open(s.donePath())
	if errors.Is(err, os.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the spool's progress: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// A torn last line (a crash mid-append) is not a number and is skipped: its record
		// is replayed again, harmlessly.
		if n, err := strconv.ParseInt(sc.Text(), 10, 64); err == nil {
			done[n] = true
		}
	}
	return done, sc.Err()
}

// markDone records, durably, that the record at offset is done.
func (s *Spool) markDone(offset int64) error {
	s.doneMu.Lock()
	defer s.doneMu.Unlock()
	f, err := os.OpenFile(s.donePath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("recording spool progress: %w", err)
	}
	defer f.Close()
	// A leading newline ends a line a crash may have torn, so this one parses.
	if _, err := f.WriteString("\n" + strconv.FormatInt(offset, 10) + "\n"); err != nil {
		return fmt.Errorf("recording spool progress: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("recording spool progress: %w", err)
	}
	return nil
}

// tidy removes the files once every record is done, or rewrites the data file with only the
// records still to replay once they are the smaller part, so that one record failing for
// hours cannot keep a growing file of done ones until the spool is full. read is how much of
// the data file the pass read; allDone says it left nothing waiting.
func (s *Spool) tidy(read int64, allDone bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := os.Stat(s.dataPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading spool: %w", err)
	}
	if allDone && st.Size() == read {
		// Nothing was appended since the pass read the file: start the files afresh.
		os.Remove(s.dataPath())
		os.Remove(s.donePath())
		os.Remove(s.legacyOffsetPath())
		clear(s.retry)
		return nil
	}
	done, err := s.doneOffsets()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(s.dataPath())
	if err != nil {
		return fmt.Errorf("reading spool: %w", err)
	}
	var keep []byte
	var doneBytes int
	var offset int64
	for len(data) > 0 {
		line, rest, found := bytes.Cut(data, []byte{'\n'})
		n := len(line)
		if found {
			n++
		}
		if done[offset] {
			doneBytes += n
		} else {
			keep = append(keep, data[:n]...)
		}
		offset += int64(n)
		data = rest
	}
	if doneBytes <= len(keep) {
		return nil
	}
	tmp := s.dataPath() + ".tmp"
	if err := writeSynced(tmp, keep); err != nil {
		return fmt.Errorf("compacting spool: %w", err)
	}
	// The progress file names offsets of the old file: it goes first, so a crash between the
	// two steps replays some done records again (answered from the reply log) rather than
	// skip records of the new file.
	if err := os.Remove(s.donePath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("compacting spool: %w", err)
	}
	os.Remove(s.legacyOffsetPath())
	if err := os.Rename(tmp, s.dataPath()); err != nil {
		return fmt.Errorf("compacting spool: %w", err)
	}
	return nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (s *Spool) backoffOf(id string) (backoff, bool) {
	s.doneMu.Lock()
	defer s.doneMu.Unlock()
	b, ok := s.retry[id]
	return b, ok
}

// failed records a failure of record id and returns how many it has had.
func (s *Spool) failed(id string) int {
	s.doneMu.Lock()
	defer s.doneMu.Unlock()
	b := s.retry[id]
	b.failures++
	wait := firstRetry
	if extra := b.failures - steadyRetries; extra > 0 {
		wait = maxRetry
		if extra < 10 {
			wait = min(firstRetry<<extra, maxRetry)
		}
	}
	b.next = s.now().Add(wait)
	s.retry[id] = b
	return b.failures
}

func (s *Spool) forget(id string) {
	s.doneMu.Lock()
	defer s.doneMu.Unlock()
	delete(s.retry, id)
}

// Pending reports whether anything waits to be replayed.
func (s *Spool) Pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := os.Stat(s.dataPath())
	return err == nil && st.Size() > 0
}

func (s *Spool) decode(line []byte) (hotline.Inbound, time.Time, bool) {
	sealed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(line)))
	if err != nil {
		return hotline.Inbound{}, time.Time{}, false
	}
	plain, err := s.keys.Open(sealed, privacy.SpoolRecord())
	if err != nil {
		return hotline.Inbound{}, time.Time{}, false
	}
	var r record
	if err := json.Unmarshal(plain, &r); err != nil {
		return hotline.Inbound{}, time.Time{}, false
	}
	var at time.Time
	if r.At > 0 {
		at = time.UnixMilli(r.At)
	}
	return hotline.Inbound{ID: r.ID, Channel: hotline.Channel(r.Channel), From: r.From, To: r.To, Text: r.Text, OptOutType: r.OptOutType}, at, true
}

// Run replays the spool every interval while anything is pending, until ctx ends. ready
// says whether Redis answers at all, so that no pass is tried into a complete outage; a
// Redis that answers for some keys only (a cluster missing a master) is met record by record.
func (s *Spool) Run(ctx context.Context, every time.Duration, ready func(context.Context) error, h Handler) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !s.Pending() || ready(ctx) != nil {
			continue
		}
		res, err := s.Replay(ctx, h)
		if res.Replayed > 0 || res.Dropped > 0 {
			s.log.Info("replayed spooled messages", "count", res.Replayed, "dropped", res.Dropped,
				"waiting", res.Waiting, "longest_wait", res.Longest.Round(time.Millisecond).String())
		}
		if err != nil {
			s.log.Error("spool replay failed", "err", err)
		}
	}
}
