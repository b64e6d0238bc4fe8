package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/communityhotline/hotline/internal/app"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/redisstore"
)

// errUsage marks an error in how the command was called; run prints the usage with it.
var errUsage = errors.New("usage")

// run is the whole program, with the environment and stdio passed in so that tests drive the
// same path as a real start.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help", "-h", "--help":
		printHelp(stdout)
		return nil
	case "serve":
		tuneGC(getenv)
		return serve(ctx, args, getenv, stdout, stderr)
	case "simulate":
		return simulate(ctx, args, getenv, stdin, stdout, stderr)
	case "worker":
		tuneGC(getenv)
		return worker(ctx, args, getenv, stdout, stderr)
	case "broadcast":
		return broadcastCLI(ctx, args, getenv, stdout, stderr)
	case "policy":
		return policyCLI(ctx, args, getenv, stdout, stderr)
	case "import-zips":
		return importZips(ctx, args, getenv, stdout, stderr)
	case "reseal":
		return reseal(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrate(ctx, args, getenv, stdout, stderr)
	case "check":
		return check(args, getenv, stdout, stderr)
	case "loadtest":
		return loadtest(ctx, args, getenv, stdout, stderr)
	}
	printHelp(stderr)
	return fmt.Errorf("unknown command %q", cmd)
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `hotline: a bilingual (Spanish/English) hotline and alert network, by SMS, WhatsApp and phone call.

Usage:
  hotline [serve]                  run the webhook server (the default)
  hotline simulate [--from +1505…] [--channel sms|whatsapp|voice]
                                   each line of stdin is an inbound message (or, on voice, a
                                   key pressed or words said); replies are printed with their
                                   encoding and segment count (voice: the keys listened for)
  hotline check [--flows DIR] [--locales DIR]
                                   validate flows and messages (the built-in ones, or edited
                                   copies in DIR) and print every message's cost; exits
                                   non-zero on a problem
  hotline worker                   only send queued alerts (several may run; needs REDIS_URL)
  hotline broadcast create|approve|send|status|cancel …
                                   compose and send alerts through the admin API
                                   (HOTLINE_URL, HOTLINE_TOKEN); "hotline broadcast" for usage
  hotline policy list|export      list the county and city entries as in force (STALE ones
                                   flagged), or write places.toml with the organizers'
                                   corrections to stdout, to review and commit (needs REDIS_URL)
  hotline import-zips FILE.csv     load a ZIP → county table (columns zipcode,county[,city])
                                   into REDIS_URL's Redis, reporting rows it cannot match
  hotline reseal [--dry-run]       re-seal every sealed value in REDIS_URL's Redis with the
                                   newest of HOTLINE_SEALING_SECRETS, beside a running hotline;
                                   says when the old sealing secrets may be removed
  hotline migrate [--dry-run]      move REDIS_URL's members from the key layout before bucket
                                   hashes; required once when upgrading such a deployment
                                   (serve and worker refuse to start until then); safe to
                                   run again and beside a running hotline
  hotline loadtest --url URL …     send signed webhooks at a set rate; print throughput, latency
  hotline help                     this text

Settings (environment variables):
`)
	for _, s := range config.Settings {
		def := ""
		if s.Default != "" {
			def = " (default " + s.Default + ")"
		}
		fmt.Fprintf(w, "  %-30s %s%s\n", s.Name, s.Meaning, def)
	}
}

// sharedRedisConfig parses the settings of a command that works on a deployment's Redis
// (cmd, for the error), which it refuses to run without: an embedded Redis would hold
// nothing of the deployment's, and why says what that would mean for this command.
func sharedRedisConfig(getenv func(string) string, cmd, why string) (config.Config, error) {
	cfg, err := config.Parse(getenv)
	if err != nil {
		return cfg, fmt.Errorf("settings:\n%w", err)
	}
	if cfg.RedisURL == "" {
		return cfg, fmt.Errorf("%s needs REDIS_URL: %s", cmd, why)
	}
	return cfg, nil
}

// parseDryRun parses the flags of the maintenance commands (migrate, reseal): --dry-run,
// which says what they would do and writes nothing, and any a command adds with more.
func parseDryRun(cmd, what string, args []string, stderr io.Writer, more ...func(*flag.FlagSet)) (bool, error) {
	fset := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fset.SetOutput(stderr)
	dryRun := fset.Bool("dry-run", false, "count what would be "+what+", and write nothing")
	for _, add := range more {
		add(fset)
	}
	if err := fset.Parse(args); err != nil {
		return false, err
	}
	if fset.NArg() > 0 {
		return false, fmt.Errorf("usage: hotline %s [flags] (hotline %s -h)", cmd, cmd)
	}
	return *dryRun, nil
}

// openDeployedStore opens the Redis cfg names and the store on it, for a maintenance command;
// the function returned closes them.
func openDeployedStore(cfg config.Config, stderr io.Writer) (*redisstore.Store, func(), error) {
	rdb, closeRedis, err := app.OpenRedis(cfg, app.NewLogger(cfg, stderr))
	if err != nil {
		return nil, nil, err
	}
	store, err := redisstore.New(rdb, cfg.KeyPrefix, redisstore.DefaultReplyTTL)
	if err != nil {
		closeRedis()
		return nil, nil, err
	}
	return store, closeRedis, nil
}
