// Package spool keeps inbound messages that could not be handled because Redis was down, in
// a bounded, fsync'd file, and replays them in order, once, when Redis is back: a member's
// STOP or cry for help is never lost to an outage. Records are sealed, since they hold a
// phone number and a message body.
package spool

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// maxFailures is how many replays of one record may fail before it is skipped.
const maxFailures = 5

// ErrFull means the spool holds as much as it may; the message is not kept.
var ErrFull = errors.New("spool is full")

// Spool is an append-only file of sealed inbound messages and a file recording how far the
// replay has got. It is safe for concurrent use within one process; each process must have
// its own directory.
type Spool struct {
	mu sync.Mutex
	// failures counts failed replays of the record at an offset, so that one record that
	// can never be handled (not an outage: the replay runs only while Redis answers) does
	// not hold up every record after it.
	failures map[int64]int
	dir      string
	keys     *privacy.Keys
	maxBytes int64
	log      *slog.Logger
}

// Open opens (creating if needed) the spool in dir. maxBytes bounds the file.
func Open(dir string, keys *privacy.Keys, maxBytes int64, log *slog.Logger) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool directory: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Spool{dir: dir, keys: keys, maxBytes: maxBytes, log: log, failures: map[int64]int{}}, nil
}

func (s *Spool) dataPath() string   { return filepath.Join(s.dir, "inbound.spool") }
func (s *Spool) offsetPath() string { return filepath.Join(s.dir, "inbound.offset") }

type record struct {
	ID, Channel, From, To, Text, OptOutType string
}

// Append keeps in durably (the file is fsync'd before Append returns).
func (s *Spool) Append(in hotline.Inbound) error {
	plain, err := json.Marshal(record{in.ID, string(in.Channel), in.From, in.To, in.Text, in.OptOutType})
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
	// record is not glued to it (the torn one is then skipped as unreadable, alone).
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

// Handler handles a replayed message, returning its reply texts.
type Handler func(ctx context.Context, in hotline.Inbound) ([]string, error)

// Replay hands every spooled message not yet replayed to h, in order, recording progress
// after each (fsync'd) so a crash mid-replay repeats at most the message in hand — and the
// engine's MessageSid de-duplication makes that repeat a no-op. It stops at the first error
// (Redis still down, most likely) and resumes there next time. When everything is replayed,
// the spool is emptied. It returns how many messages it replayed.
func (s *Spool) Replay(ctx context.Context, h Handler) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.Open(s.dataPath())
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("opening spool: %w", err)
	}
	defer f.Close()
	offset := s.readOffset()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, err
	}
	r := bufio.NewReader(f)
	n := 0
	for {
		line, err := r.ReadString('\n')
		if errors.Is(err, io.EOF) {
			break // a partial last line (a crash mid-write) is left for the next append to finish
		}
		if err != nil {
			return n, err
		}
		in, ok := s.decode(line)
		if ok {
			if _, err := h(ctx, in); err != nil {
				if s.failures[offset]++; s.failures[offset] < maxFailures {
					return n, err
				}
				s.log.Error("spooled message failed every replay; skipped", "offset", offset, "msg_id", in.ID, "err", err)
			} else {
				n++
			}
			delete(s.failures, offset)
		} else {
			s.log.Error("spool record unreadable; skipped", "offset", offset)
		}
		offset += int64(len(line))
		if err := s.writeOffset(offset); err != nil {
			return n, err
		}
	}
	if st, err := f.Stat(); err == nil && offset >= st.Size() {
		// Everything replayed: start the files afresh.
		os.Remove(s.dataPath())
		os.Remove(s.offsetPath())
	}
	return n, nil
}

// Pending reports whether anything waits to be replayed.
func (s *Spool) Pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := os.Stat(s.dataPath())
	return err == nil && st.Size() > s.readOffset()
}

func (s *Spool) decode(line string) (hotline.Inbound, bool) {
	sealed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(line))
	if err != nil {
		return hotline.Inbound{}, false
	}
	plain, err := s.keys.Open(sealed, privacy.SpoolRecord())
	if err != nil {
		return hotline.Inbound{}, false
	}
	var r record
	if err := json.Unmarshal(plain, &r); err != nil {
		return hotline.Inbound{}, false
	}
	return hotline.Inbound{ID: r.ID, Channel: hotline.Channel(r.Channel), From: r.From, To: r.To, Text: r.Text, OptOutType: r.OptOutType}, true
}

func (s *Spool) readOffset() int64 {
	b, err := os.ReadFile(s.offsetPath())
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n
}

func (s *Spool) writeOffset(n int64) error {
	tmp := s.offsetPath() + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(strconv.FormatInt(n, 10)); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	return os.Rename(tmp, s.offsetPath())
}

// Run replays the spool every interval while anything is pending, until ctx ends. ready
// says whether Redis answers, so a replay is not attempted into an outage.
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
		n, err := s.Replay(ctx, h)
		if n > 0 {
			s.log.Info("replayed spooled messages", "count", n)
		}
		if err != nil {
			s.log.Warn("spool replay paused", "err", err)
		}
	}
}
