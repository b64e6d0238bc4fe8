package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/communityhotline/hotline/internal/redisstore"
)

// migrate moves a deployment's members from the key layout before bucket hashes into this
// one (docs/deploy.md, "Upgrading"). Until it has run, serve and worker refuse to start:
// they would not see any member, so every opt-out would be forgotten. It is safe to run
// again and beside a running hotline.
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var preferOld bool
	dryRun, err := parseDryRun("migrate", "moved", args, stderr, func(f *flag.FlagSet) {
		f.BoolVar(&preferOld, "prefer-old", false, "for members with a state in both layouts, keep the old layout's (written by an old-version process after a first migration)")
	})
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
	rep, err := store.MigrateLayout(ctx, dryRun, preferOld)
	if err != nil {
		return err
	}
	printMigration(stdout, rep)
	return migrationErr(rep)
}

// migrationErr is a pass's exit status: an error while a conflict is left, since Redis is
// then not marked (by this pass) and the migration is not done.
func migrationErr(r redisstore.MigrationReport) error {
	if r.Conflicts == 0 {
		return nil
	}
	unmarked := ""
	if !r.Marked && !r.DryRun {
		unmarked = "; Redis is not marked with the new layout until none is left, so serve and worker do not start"
	}
	return fmt.Errorf("%d members have a state in both layouts, both kept%s: a process of the old version wrote after a migration (or this one ran late). Stop every old-version process, then run `hotline migrate --prefer-old` to keep the old layout's state (docs/deploy.md)", r.Conflicts, unmarked)
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
	fmt.Fprintf(w, "members with a state in both layouts, both kept (conflicts): %d\n", r.Conflicts)
	fmt.Fprintf(w, "old keys deleted: %d\n", r.OldKeysDeleted)
	fmt.Fprintf(w, "areas registered for alerts to everyone: %d\n", r.AreaRegistrations)
	fmt.Fprintf(w, "old sets of every subscriber deleted: %d\n", r.AllAreaSetsDeleted)
	switch {
	case r.DryRun:
	case r.Conflicts > 0 && r.Marked:
		fmt.Fprintln(w, "not done: conflicts are left; Redis stays marked with the new layout by an earlier pass, so serve and worker run meanwhile")
	case r.Conflicts > 0:
		fmt.Fprintln(w, "not done: conflicts are left, so Redis is not marked with the new layout and serve and worker do not start")
	case r.Marked:
		fmt.Fprintln(w, "done: Redis is marked with the new layout; serve and worker may start")
	}
}
