package app

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/communityhotline/hotline/internal/hotline"
)

// consoleSender prints outbound messages instead of sending them: local mode's sender, so
// a broadcast can be tried on a laptop with no Twilio account.
type consoleSender struct {
	mu  sync.Mutex
	w   io.Writer
	seq atomic.Int64
}

func (c *consoleSender) Send(ctx context.Context, m hotline.Outbound) (string, error) {
	sid := fmt.Sprintf("SMLOCAL%025d", c.seq.Add(1))
	c.mu.Lock()
	defer c.mu.Unlock()
	body := m.Body
	if m.ContentSid != "" {
		body = "[template " + m.ContentSid + "] " + m.ContentVariables
	}
	fmt.Fprintf(c.w, "[outbound to %s] %s\n", maskAddress(m.To), strings.ReplaceAll(body, "\n", "\n    "))
	return sid, nil
}

// maskAddress keeps the last two digits, even on a developer's console.
func maskAddress(a string) string {
	if len(a) < 4 {
		return "••"
	}
	return a[:len(a)-len(strings.TrimLeft(a, "whatsapp:+"))] + strings.Repeat("•", len(strings.TrimLeft(a, "whatsapp:+"))-2) + a[len(a)-2:]
}
