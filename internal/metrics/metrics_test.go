package metrics

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestWrite(t *testing.T) {
	r := New()
	r.Counter("hotline_inbound_messages_total", "Inbound messages.", "", "").Add(3)
	r.Counter("hotline_sends_total", "Sends by outcome.", "outcome", "sent").Inc()
	r.Counter("hotline_sends_total", "Sends by outcome.", "outcome", "failed").Add(2)
	h := r.Histogram("hotline_webhook_seconds", "Webhook latency.", []float64{0.01, 0.1, 1})
	h.Observe(5 * time.Millisecond)
	h.Observe(50 * time.Millisecond)
	h.Observe(2 * time.Second)
	r.Gauge("hotline_queue_depth", "Queued sends.", "priority", func(context.Context) (map[string]float64, error) {
		return map[string]float64{"normal": 7, "urgent": 0}, nil
	})
	var b strings.Builder
	if err := r.Write(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# TYPE hotline_inbound_messages_total counter\nhotline_inbound_messages_total 3\n",
		`hotline_sends_total{outcome="failed"} 2`, `hotline_sends_total{outcome="sent"} 1`,
		`hotline_webhook_seconds_bucket{le="0.01"} 1`, `hotline_webhook_seconds_bucket{le="0.1"} 2`,
		`hotline_webhook_seconds_bucket{le="+Inf"} 3`, "hotline_webhook_seconds_count 3", "hotline_webhook_seconds_sum 2.055",
		`hotline_queue_depth{priority="normal"} 7`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}
