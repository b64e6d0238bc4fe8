// Package metrics keeps the hotline's counters and histograms and writes them in the
// Prometheus text format for GET /metrics. It is a few dozen lines rather than a dependency:
// the hotline needs counters, one histogram kind and gauges read at scrape time.
package metrics

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Registry holds every metric. Its zero value is not usable; call New.
type Registry struct {
	mu       sync.Mutex
	counters map[string]*counterVec
	hists    map[string]*Histogram
	gauges   map[string]gauge
	help     map[string]string
}

type gauge struct {
	label string
	read  func(ctx context.Context) (map[string]float64, error)
}

// New returns an empty Registry.
func New() *Registry {
	return &Registry{counters: map[string]*counterVec{}, hists: map[string]*Histogram{}, gauges: map[string]gauge{}, help: map[string]string{}}
}

type counterVec struct {
	label  string
	mu     sync.Mutex
	values map[string]*atomic.Int64
}

// Counter is a monotonically increasing count, possibly one of a labelled family.
type Counter struct{ v *atomic.Int64 }

// Inc adds one.
func (c Counter) Inc() { c.v.Add(1) }

// Add adds n.
func (c Counter) Add(n int64) { c.v.Add(n) }

// Counter returns the counter name (with label=value when label is not empty), creating it.
func (r *Registry) Counter(name, help, label, value string) Counter {
	r.mu.Lock()
	vec, ok := r.counters[name]
	if !ok {
		vec = &counterVec{label: label, values: map[string]*atomic.Int64{}}
		r.counters[name] = vec
		r.help[name] = help
	}
	r.mu.Unlock()
	vec.mu.Lock()
	defer vec.mu.Unlock()
	v, ok := vec.values[value]
	if !ok {
		v = &atomic.Int64{}
		vec.values[value] = v
	}
	return Counter{v}
}

// Histogram counts observations into buckets (seconds).
type Histogram struct {
	bounds []float64
	counts []atomic.Int64 // one per bound, plus +Inf
	sum    atomic.Int64   // microseconds
}

// Histogram returns the histogram name with the given upper bounds, creating it.
func (r *Registry) Histogram(name, help string, bounds []float64) *Histogram {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.hists[name]; ok {
		return h
	}
	h := &Histogram{bounds: bounds, counts: make([]atomic.Int64, len(bounds)+1)}
	r.hists[name], r.help[name] = h, help
	return h
}

// Observe records one duration.
func (h *Histogram) Observe(d time.Duration) {
	s := d.Seconds()
	i := sort.SearchFloat64s(h.bounds, s)
	h.counts[i].Add(1)
	h.sum.Add(d.Microseconds())
}

// Gauge registers a value read at scrape time, as a family labelled label (the map's keys)
// or a single value (key "").
func (r *Registry) Gauge(name, help, label string, read func(ctx context.Context) (map[string]float64, error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gauges[name], r.help[name] = gauge{label: label, read: read}, help
}

// Write writes every metric in the Prometheus text exposition format.
func (r *Registry) Write(ctx context.Context, w io.Writer) error {
	r.mu.Lock()
	names := make([]string, 0, len(r.help))
	for n := range r.help {
		names = append(names, n)
	}
	r.mu.Unlock()
	slices.Sort(names)
	var b strings.Builder
	for _, name := range names {
		r.mu.Lock()
		vec, isCounter := r.counters[name]
		h, isHist := r.hists[name]
		g, isGauge := r.gauges[name]
		help := r.help[name]
		r.mu.Unlock()
		fmt.Fprintf(&b, "# HELP %s %s\n", name, help)
		switch {
		case isCounter:
			fmt.Fprintf(&b, "# TYPE %s counter\n", name)
			vec.mu.Lock()
			keys := make([]string, 0, len(vec.values))
			for k := range vec.values {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "%s%s %d\n", name, labels(vec.label, k), vec.values[k].Load())
			}
			vec.mu.Unlock()
		case isHist:
			fmt.Fprintf(&b, "# TYPE %s histogram\n", name)
			var cum int64
			for i, bound := range h.bounds {
				cum += h.counts[i].Load()
				fmt.Fprintf(&b, "%s_bucket{le=\"%g\"} %d\n", name, bound, cum)
			}
			cum += h.counts[len(h.bounds)].Load()
			fmt.Fprintf(&b, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n", name, cum, name, float64(h.sum.Load())/1e6, name, cum)
		case isGauge:
			fmt.Fprintf(&b, "# TYPE %s gauge\n", name)
			vals, err := g.read(ctx)
			if err != nil {
				continue // a gauge that cannot be read is left out, not reported as zero
			}
			keys := make([]string, 0, len(vals))
			for k := range vals {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				v := vals[k]
				if math.IsNaN(v) {
					continue
				}
				fmt.Fprintf(&b, "%s%s %g\n", name, labels(g.label, k), v)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func labels(label, value string) string {
	if label == "" {
		return ""
	}
	return fmt.Sprintf("{%s=%q}", label, value)
}
