package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
)

// migrate moves a deployment's members from the key layout before bucket hashes into this
// one (docs/deploy.md, "Upgrading"). Until it has run, serve and worker refuse to start:
// they would not see any member, so every opt-out would be forgotten. It is safe to run
// again and beside a running hotline.
func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var preferOld bool
	dryRun, err := parseDryRun("migrate", "moved", args, stderr, func(f *flag.FlagSet) {
		f.BoolVar(&preferOld, "prefer-old", false, "for members with a state in both layouts and an opt-out on neither side, keep the old layout's (written by an old-version process after a first migration); needs HOTLINE_SECRET")
	})
	if err != nil {
		return err
	}
	cfg, err := sharedRedisConfig(getenv, "migrate", "it moves the members of a deployed hotline")
	if err != nil {
		return err
	}
	settle, err := conflictSettler(cfg, getenv)
	if err != nil {
		return err
	}
	if preferOld && settle == nil {
		return errors.New("migrate --prefer-old needs HOTLINE_SECRET (and HOTLINE_SEALING_SECRETS, if any), exactly as the hotline has them: it opens both states of a conflict, so that an opt-out on either side is never cancelled")
	}
	store, closeStore, err := openDeployedStore(cfg, stderr)
	if err != nil {
		return err
	}
	defer closeStore()
	rep, err := store.MigrateLayout(ctx, redisstore.MigrateOptions{DryRun: dryRun, Settle: settle, PreferOld: preferOld})
	if err != nil {
		return err
	}
	printMigration(stdout, rep)
	return migrationErr(rep, settle != nil)
}

// conflictSettler returns what decides a member's conflict (a state in both layouts), from
// the hotline's secrets; nil when HOTLINE_SECRET is not set, as a first migration, with no
// conflict, needs no secret. Local mode would fall back to the local secret, which opens
// nothing of a deployment.
func conflictSettler(cfg config.Config, getenv func(string) string) (redisstore.Settle, error) {
	if strings.TrimSpace(getenv("HOTLINE_SECRET")) == "" {
		return nil, nil
	}
	keys, err := privacy.NewKeys(cfg.Secret, cfg.SealingSecrets...)
	if err != nil {
		return nil, fmt.Errorf("HOTLINE_SECRET: %w", err)
	}
	return settleByOptOut(keys), nil
}

// settleByOptOut decides a conflict by opening both states: when exactly one side is opted
// out, that side is kept, whatever the operator prefers, because keeping the other would
// text a member who asked not to be texted. Both opted out or neither is Undecided (for
// --prefer-old to settle); a side that does not open is Unreadable, since it may hold an
// opt-out. Nothing opened leaves this function.
func settleByOptOut(keys *privacy.Keys) redisstore.Settle {
	return func(id string, old, current []byte) redisstore.Verdict {
		o, err := openMemberState(keys, id, old)
		if err != nil {
			return redisstore.Unreadable
		}
		c, err := openMemberState(keys, id, current)
		switch {
		case err != nil:
			return redisstore.Unreadable
		case o.OptedOut && !c.OptedOut:
			return redisstore.KeepOld
		case c.OptedOut && !o.OptedOut:
			return redisstore.KeepCurrent
		}
		return redisstore.Undecided
	}
}

// openMemberState opens and decodes member id's sealed state, as the bot does.
func openMemberState(keys *privacy.Keys, id string, sealed []byte) (flow.State, error) {
	plain, err := keys.Open(sealed, privacy.MemberState(id))
	if err != nil {
		return flow.State{}, err
	}
	defer clear(plain)
	return flow.DecodeState(plain)
}

// migrationErr is a pass's exit status: an error while a conflict is left, since Redis is
// then not marked (by this pass) and the migration is not done. It says what settles them.
func migrationErr(r redisstore.MigrationReport, opened bool) error {
	if r.Conflicts == 0 {
		return nil
	}
	var why []string
	if !r.Marked && !r.DryRun {
		why = append(why, "Redis is not marked with the new layout until none is left, so serve and worker do not start")
	}
	switch {
	case !opened:
		why = append(why, "set HOTLINE_SECRET (and HOTLINE_SEALING_SECRETS, if any) as the hotline has them and run migrate again: it then opens both states and keeps an opt-out on either side")
	case r.Unreadable > 0:
		why = append(why, fmt.Sprintf("for %d, a state does not open with HOTLINE_SECRET and HOTLINE_SEALING_SECRETS: check they are the hotline's (such a conflict is never settled, as the state may hold an opt-out)", r.Unreadable))
	}
	if r.Changed > 0 {
		why = append(why, fmt.Sprintf("for %d, the new state was written while migrate ran: run it again", r.Changed))
	}
	if undecided := r.Conflicts - r.Unreadable - r.Changed; opened && undecided > 0 {
		why = append(why, fmt.Sprintf("for %d, neither side is opted out: a process of the old version wrote after a migration (or this one ran late). Stop every old-version process, then run `hotline migrate --prefer-old` to keep the old layout's state", undecided))
	}
	return fmt.Errorf("%d %s a state in both layouts, both kept: %s (docs/deploy.md)",
		r.Conflicts, plural(r.Conflicts, "member has", "members have"), strings.Join(why, "; "))
}

// printMigration writes what a pass did (or would do), one count a line.
func printMigration(w io.Writer, r redisstore.MigrationReport) {
	verb, settled := "moved", "settled"
	if r.DryRun {
		verb, settled = "would move", "would be settled"
		fmt.Fprintln(w, "dry run: nothing written")
	}
	fmt.Fprintf(w, "durable members (subscribed or opted out) %s: %d\n", verb, r.Durable)
	fmt.Fprintf(w, "conversations %s (keeping their TTL): %d\n", verb, r.Conversations)
	fmt.Fprintf(w, "members with a state in both layouts %s by keeping the opted-out side: %d\n", settled, r.SettledAuto)
	fmt.Fprintf(w, "members with a state in both layouts %s for the old layout's (--prefer-old): %d\n", settled, r.SettledPreferOld)
	fmt.Fprintf(w, "members with a state in both layouts, both kept (conflicts): %d", r.Conflicts)
	if r.Unreadable > 0 {
		fmt.Fprintf(w, " (%d do not open)", r.Unreadable)
	}
	fmt.Fprintln(w)
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
