package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/communityhotline/hotline/internal/app"
)

const policyUsage = `usage: hotline policy list|export
  list     every county and city entry as members get it now: id, kind, verified, checked,
           STALE when last checked more than HOTLINE_POLICY_STALE_DAYS ago, and who edited it
  export   write flows/data/places.toml with the organizers' corrections in it to stdout,
           to review and commit (hotline policy export > flows/data/places.toml)`

// policyCLI reads the policy entries with the corrections organizers made, from the Redis
// the settings point at.
func policyCLI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 || (args[0] != "list" && args[0] != "export") {
		return errors.New(policyUsage)
	}
	cfg, err := sharedRedisConfig(getenv, "policy", "an embedded Redis holds no corrections")
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.NewLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	if args[0] == "export" {
		data, err := a.Policy().ExportTOML(ctx)
		if err != nil {
			return err
		}
		_, err = stdout.Write(data)
		return err
	}
	entries, err := a.Policy().Entries(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tKIND\tVERIFIED\tCHECKED\tSTALE\tEDITED BY")
	for _, e := range entries {
		stale, by := "", ""
		if e.Stale {
			stale = "STALE"
		}
		if e.Edited {
			by = fmt.Sprintf("%s (%s) %s", e.EditedBy, e.EditedRole, e.EditedAt.Format("2006-01-02"))
		}
		fmt.Fprintf(w, "%s\t%s\t%t\t%s\t%s\t%s\n", e.ID, e.Kind, e.Verified, e.Checked, stale, by)
	}
	return w.Flush()
}
