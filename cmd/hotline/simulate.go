package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/communityhotline/hotline/internal/app"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/segment"
)

// simulate runs each line of stdin through the same engine and flows as the webhook and
// prints the replies with what they cost, so organizers can try a flow without a phone.
func simulate(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "+15055550100", "the member's phone number")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Parse(getenv)
	if err != nil {
		return fmt.Errorf("settings:\n%w", err)
	}
	// A script is typed, not texted: its lines arrive faster than any member writes, and
	// the per-sender limit would silently drop the end of it.
	cfg.SenderLimit, cfg.ReplyCap = 0, 0
	a, err := app.New(ctx, cfg, app.NewLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer a.Close()
	// Message ids unique across runs, so a simulation against a real Redis never meets a
	// previous run's answers.
	run := time.Now().UnixNano()
	sc := bufio.NewScanner(stdin)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		fmt.Fprintf(stdout, "> %s\n", line)
		texts, err := a.Engine().Answer(ctx, hotline.Inbound{
			ID: fmt.Sprintf("SIM%x%04d", run, n), Channel: hotline.SMS, From: *from, Text: line,
		})
		if err != nil {
			return err
		}
		if len(texts) == 0 {
			fmt.Fprintln(stdout, "  (no reply)")
		}
		for _, t := range texts {
			info := segment.Count(t)
			fmt.Fprintf(stdout, "< %s\n  [%s, %d chars, %d %s]\n", strings.ReplaceAll(t, "\n", "\n  "),
				info.Encoding, info.Chars, info.Segments, plural(info.Segments, "segment", "segments"))
		}
	}
	return sc.Err()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
