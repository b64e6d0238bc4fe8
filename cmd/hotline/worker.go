package main

import (
	"context"
	"fmt"
	"io"

	"github.com/communityhotline/hotline/internal/app"
)

// worker runs only the sender: queued alerts and relays, at the shared rate. Run as many as
// the send rate needs; they share the work through Redis.
func worker(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("worker takes no arguments")
	}
	cfg, err := sharedRedisConfig(getenv, "worker", "it shares the queue with the web processes")
	if err != nil {
		return err
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
	if cfg.MetricsAddr != "" {
		if err := listenMetrics(ctx, cfg.MetricsAddr, a.Metrics(), log); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, "hotline worker sending queued messages")
	go a.Cases().Run(ctx)
	go a.RunJobSweeps(ctx)
	go a.WatchRoster(ctx)
	go a.WatchPolicy(ctx)
	return a.Dispatcher().Run(ctx)
}
