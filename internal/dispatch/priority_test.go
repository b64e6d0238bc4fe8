package dispatch

import (
	"fmt"
	"testing"

	"github.com/communityhotline/hotline/internal/hotline"
)

// TestSplitByPriority: the entries a read returns, most urgent first, go now up to the end
// of the first priority that filled its share of the read; the rest wait.
func TestSplitByPriority(t *testing.T) {
	entries := func(priorities ...string) []hotline.QueueEntry {
		var out []hotline.QueueEntry
		for i, p := range priorities {
			out = append(out, hotline.QueueEntry{Priority: p, ID: fmt.Sprint(i)})
		}
		return out
	}
	for _, c := range []struct {
		name      string
		read      []hotline.QueueEntry
		batch     int
		now, rest int
		full      string
	}{
		{"nothing read", nil, 2, 0, 0, ""},
		{"no priority full", entries("direct", "urgent", "normal"), 2, 3, 0, ""},
		{"the least urgent full: nothing waits", entries("urgent", "normal", "normal"), 2, 3, 0, "normal"},
		{"urgent full: ordinary ones wait", entries("direct", "urgent", "urgent", "normal", "normal"), 2, 3, 2, "urgent"},
		{"direct full: the rest waits", entries("direct", "urgent", "normal"), 1, 1, 2, "direct"},
	} {
		t.Run(c.name, func(t *testing.T) {
			now, rest, full := splitByPriority(c.read, c.batch)
			if len(now) != c.now || len(rest) != c.rest || full.Priority != c.full {
				t.Errorf("now %d, rest %d, full %q; want %d, %d, %q", len(now), len(rest), full.Priority, c.now, c.rest, c.full)
			}
		})
	}
}
