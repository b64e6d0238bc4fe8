package streak

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestOneLineAtEachEndOfAStreak(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	l := New(slog.New(slog.NewTextHandler(&buf, nil)), "reading the roster", func() time.Time { return now })
	if l.OK() {
		t.Error("a success with no failure before it ended a streak")
	}
	for i := range 1000 {
		if first := l.Fail(errors.New("CLUSTERDOWN")); first != (i == 0) {
			t.Fatalf("failure %d: first = %v", i, first)
		}
	}
	if !l.Failing() {
		t.Error("not failing after failures")
	}
	now = now.Add(4200 * time.Millisecond)
	if !l.OK() || l.OK() {
		t.Error("OK did not end the streak exactly once")
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines for a streak of 1000 failures:\n%s", len(lines), buf.String())
	}
	for _, want := range []string{"level=ERROR", "reading the roster failed", "CLUSTERDOWN"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("first line lacks %q: %s", want, lines[0])
		}
	}
	for _, want := range []string{"level=INFO", "works again", "failures=1000", "for=4.2s"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("last line lacks %q: %s", want, lines[1])
		}
	}
}
