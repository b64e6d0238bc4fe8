package main

import (
	"context"
	"fmt"
	"io"

	"github.com/communityhotline/hotline/internal/redisstore"
)

// migrate moves a deployment's members from the key layout before bucket hashes into this
// one (docs/deploy.md, "Upgrading"). Until it has run, serve and worker refuse to start:
// they would not see any member, so every opt-out would be forgotten. It is safe to run
// again and beside a running hotline.
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	dryRun, err := parseDryRun("migrate", "moved", args, stderr)
	if err != nil {
		return err
	}
	cfg, err := sharedRedisConfig(getenv, "migrate", "it moves the members of a deployed hotline")
	if err != nil {
		return err
	}
	store, closeStore, err := openDeployedStore(cfg, stderr)
	if err != nil {
		return err
	}
	defer closeStore()
	rep, err := store.MigrateLayout(ctx, dryRun)
	if err != nil {
		return err
	}
	printMigration(stdout, rep)
	return nil
}

// printMigration writes what a pass did (or would do), one count a line.
func printMigration(w io.Writer, r redisstore.MigrationReport) {
	verb := "moved"
	if r.DryRun {
		verb = "would move"
		fmt.Fprintln(w, "dry run: nothing written")
	}
	fmt.Fprintf(w, "durable members (subscribed or opted out) %s: %d\n", verb, r.Durable)
	fmt.Fprintf(w, "conversations %s (keeping their TTL): %d\n", verb, r.Conversations)
	fmt.Fprintf(w, "members left as they are (they have written since the upgrade): %d\n", r.AlreadyPresent)
	fmt.Fprintf(w, "old keys deleted: %d\n", r.OldKeysDeleted)
	fmt.Fprintf(w, "areas registered for alerts to everyone: %d\n", r.AreaRegistrations)
	fmt.Fprintf(w, "old sets of every subscriber deleted: %d\n", r.AllAreaSetsDeleted)
	if !r.DryRun {
		fmt.Fprintln(w, "done: Redis is marked with the new layout; serve and worker may start")
	}
}
