package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/communityhotline/hotline/internal/app"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/spool"
	"github.com/communityhotline/hotline/internal/web"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("serve takes no arguments; it is configured by environment variables (hotline help)")
	}
	cfg, err := config.Parse(getenv)
	if err != nil {
		return fmt.Errorf("settings:\n%w", err)
	}
	log := app.NewLogger(cfg, stderr)
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	// Runs before Close: the messages of jobs carried out here go out (or are queued) first.
	defer a.DrainJobs()
	// A Redis still in the old key layout would look empty: every member, opt-outs
	// included, forgotten. One GET once migrated.
	if err := a.Store().CheckLayout(ctx); err != nil {
		return err
	}
	deps, err := a.WebDeps()
	if err != nil {
		return err
	}
	// Read the staff roster before the first message, so that no message waits for it; if
	// this fails the first message tries again.
	a.LoadRoster(ctx)
	if cfg.MetricsAddr != "" {
		if err := listenMetrics(ctx, cfg.MetricsAddr, a.Metrics(), log); err != nil {
			return err
		}
	}
	sp, err := spool.Open(cfg.SpoolDir, a.Keys(), cfg.SpoolMaxBytes, log, nil)
	if err != nil {
		return err
	}
	deps.Spool = sp
	host := ""
	if cfg.Local() {
		// Without signature checks anyone who can reach the port could impersonate members,
		// so local mode answers only this machine.
		host = "127.0.0.1"
		log.Warn("local mode: TWILIO_AUTH_TOKEN is not set, so webhook signatures are NOT checked and only 127.0.0.1 is served")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(cfg.Port)))
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           web.NewServer(deps),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		// Twilio gives up after 15 s; answering later is useless.
		WriteTimeout: 14 * time.Second,
		IdleTimeout:  60 * time.Second,
	}
	go a.RefreshZips(ctx, time.Minute)
	// Often, so that a record's first retry comes soon after its back-off (half a second)
	// ends; a tick with nothing spooled costs one stat.
	go sp.Run(ctx, 250*time.Millisecond, a.Store().Ping, a.Replay)
	// Every process may take over what a dead one promised; one at a time does (a lease).
	go a.RunJobSweeps(ctx)
	go a.WatchRoster(ctx)
	go a.WatchPolicy(ctx)
	workerCtx, stopWorker := context.WithCancel(context.Background())
	workerDone := make(chan struct{})
	if cfg.Worker {
		go func() {
			go a.Cases().Run(workerCtx)
			a.Dispatcher().Run(workerCtx)
			close(workerDone)
		}()
	} else {
		close(workerDone)
	}
	defer func() { stopWorker(); <-workerDone }()
	log.Info("serving", "addr", ln.Addr().String(), "local_mode", cfg.Local(), "worker", cfg.Worker,
		"admin_api", cfg.AdminToken != "", "send_rate", cfg.SendRate, "approvals", cfg.Approvals)
	metricsAt := "GET /metrics"
	if cfg.MetricsAddr != "" {
		metricsAt = "GET /metrics on " + cfg.MetricsAddr
	}
	fmt.Fprintf(stdout, "hotline listening on http://%s (POST /twilio/sms, POST /twilio/voice, GET /healthz, GET /readyz; %s); staff console: http://%s/console/\n", ln.Addr(), metricsAt, ln.Addr())
	return serveUntilDone(ctx, srv, ln)
}

// serveUntilDone serves on ln until ctx ends, then stops accepting and lets the requests in
// flight finish (up to 15 s) before returning.
func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
