package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/app"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/segment"
)

// simulate runs each line of stdin through the same engine and flows as the webhook and
// prints the replies with what they cost, so organizers can try a flow without a phone. With
// -channel voice a line is what a caller presses or says, and the replies are what the line
// would speak (and the keys it listens for); -channel whatsapp renders for WhatsApp.
func simulate(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "+15055550100", "the member's phone number")
	channel := fs.String("channel", "sms", "the channel to answer on: sms, whatsapp or voice")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ch := hotline.Channel(*channel)
	if ch != hotline.SMS && ch != hotline.WhatsApp && ch != hotline.Voice {
		return fmt.Errorf("-channel %q: want sms, whatsapp or voice", *channel)
	}
	address := *from
	if ch == hotline.WhatsApp {
		address = hotline.WhatsAppPrefix + address
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
		reply, err := a.Engine().Answer(ctx, hotline.Inbound{
			ID: fmt.Sprintf("SIM%x%04d", run, n), Channel: ch, From: address, Text: line,
		})
		if err != nil {
			return err
		}
		if len(reply.Texts) == 0 {
			fmt.Fprintln(stdout, "  (no reply)")
		}
		if ch == hotline.Voice {
			for _, t := range reply.Texts {
				fmt.Fprintf(stdout, "< (says) %s\n", t)
			}
			for _, o := range reply.Options {
				fmt.Fprintf(stdout, "  [key %d: %s]\n", o.Number, o.Label)
			}
			continue
		}
		if ch == hotline.WhatsApp { // not paid by the segment
			for _, t := range reply.Texts {
				fmt.Fprintf(stdout, "< %s\n  [WhatsApp, %d chars]\n", strings.ReplaceAll(t, "\n", "\n  "), utf8.RuneCountInString(t))
			}
			continue
		}
		for _, t := range reply.Texts {
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
