package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/communityhotline/hotline/internal/metrics"
	"github.com/communityhotline/hotline/internal/web"
)

// listenMetrics starts the private metrics listener on addr (HOTLINE_METRICS_ADDR), which
// serves only GET /metrics, until ctx ends. It returns once the port is bound, so a bad
// address fails the command at start rather than going unnoticed. A worker serves no other
// HTTP, so this is also how its send counters reach the scraper.
func listenMetrics(ctx context.Context, addr string, reg *metrics.Registry, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", web.MetricsHandler(reg))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 10 * time.Second}
	go func() {
		if err := serveUntilDone(ctx, srv, ln); err != nil && err != http.ErrServerClosed {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	log.Info("metrics", "addr", ln.Addr().String())
	return nil
}
