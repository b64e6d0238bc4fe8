package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/communityhotline/hotline/internal/app"
)

// importZips loads a ZIP → county CSV into the Redis the settings point at. Running servers
// pick it up within a minute.
func importZips(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: hotline import-zips FILE.csv (columns zipcode,county[,city])")
	}
	cfg, err := sharedRedisConfig(getenv, "import-zips", "an embedded Redis would vanish when this command ends")
	if err != nil {
		return err
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := app.New(ctx, cfg, app.NewLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	entries, rejected, err := a.Content().Places.ParseZipCSV(f)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	for _, r := range rejected {
		fmt.Fprintf(stdout, "skipped line %d (%s): %s\n", r.Line, r.Row, r.Reason)
	}
	if len(entries) == 0 {
		return fmt.Errorf("%s: no usable rows; nothing imported", args[0])
	}
	raw := make(map[string]string, len(entries))
	withCity := 0
	for zip, e := range entries {
		raw[zip] = e.County + "|" + e.City
		if e.City != "" {
			withCity++
		}
	}
	if err := a.Store().ReplaceZips(ctx, raw); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "imported %d ZIP codes (%d with a known city); skipped %d rows\n", len(entries), withCity, len(rejected))
	return nil
}
