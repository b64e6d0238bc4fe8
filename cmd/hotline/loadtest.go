package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/communityhotline/hotline/internal/app"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/loadgen"
)

const loadtestUsage = `usage: hotline loadtest --url URL --rate N --duration D --members M [--token T] [--public-url U] [--concurrency C] [--timeout D]
       hotline loadtest --serve-ceiling HOST:PORT [--token T] [--public-url U]

Sends signed inbound-SMS webhooks to URL/twilio/sms, N a second for D, with a fresh
MessageSid each, from M members (+15052000000, +15052000001, …) each walking through a
conversation (hola, 1, menu, 2, bernalillo, hello, …), and prints throughput and latency. The load is open-loop:
requests go out on schedule whether or not earlier ones were answered, and latency counts
from when each was due. Nothing is sent after D; each request gives up after --timeout.

Signatures use --token (default TWILIO_AUTH_TOKEN) over --public-url (default --url) +
/twilio/sms: set them to the target's TWILIO_AUTH_TOKEN and PUBLIC_URL, or every request
gets a 403. The messages avoid the options that reach a person or file a report.

--serve-ceiling serves, instead, the least a signed webhook with Redis state can do (parse,
check the signature, one pipelined GET+SET keyed by From, TwiML), on REDIS_URL's Redis
under HOTLINE_KEY_PREFIX, to measure a hotline against on the same machine
(docs/performance.md). Its --public-url defaults to http://HOST:PORT.

Flags:
`

// loadtest sends a hotline load and reports how it answered, or serves the ceiling.
func loadtest(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, loadtestUsage); fs.PrintDefaults() }
	target := fs.String("url", "", "the hotline's base URL, like http://127.0.0.1:8080 or https://staging.example.org")
	rate := fs.Float64("rate", 10, "requests per second")
	duration := fs.Duration("duration", 10*time.Second, "how long to send")
	members := fs.Int("members", 100, "how many distinct members the messages come from")
	token := fs.String("token", "", "auth token to sign with (default $TWILIO_AUTH_TOKEN)")
	publicURL := fs.String("public-url", "", "the target's PUBLIC_URL, which signatures cover (default --url)")
	concurrency := fs.Int("concurrency", loadgen.DefaultConcurrency, "most requests in flight at once")
	timeout := fs.Duration("timeout", loadgen.DefaultTimeout, "how long each request may take")
	ceiling := fs.String("serve-ceiling", "", "serve the ceiling handler on `HOST:PORT` instead of sending load")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("loadtest takes no arguments, only flags (hotline loadtest -h)")
	}
	if *token == "" {
		*token = getenv("TWILIO_AUTH_TOKEN")
	}
	if *ceiling != "" {
		tuneGC(getenv)
		return serveCeiling(ctx, *ceiling, *token, *publicURL, getenv, stdout, stderr)
	}
	if *target == "" {
		return fmt.Errorf("loadtest needs --url (hotline loadtest -h)")
	}
	if *token == "" {
		fmt.Fprintln(stderr, "loadtest: no --token and no TWILIO_AUTH_TOKEN: signing with an empty token (only a hotline in local mode will accept it)")
	}
	res, err := loadgen.Run(ctx, loadgen.Config{
		URL: *target, PublicURL: *publicURL, Token: *token, AccountSID: getenv("TWILIO_ACCOUNT_SID"),
		Rate: *rate, Duration: *duration, Members: *members, Concurrency: *concurrency, Timeout: *timeout,
	})
	if res.Scheduled == 0 {
		return err // refused before sending anything
	}
	printLoadResult(stdout, res, *rate, *duration, *members, *concurrency)
	if err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}
	return nil
}

func printLoadResult(w io.Writer, r loadgen.Result, rate float64, d time.Duration, members, concurrency int) {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }
	row := func(name string, p loadgen.Percentiles) {
		fmt.Fprintf(w, "%-12s %9s %9s %9s %9s\n", name, ms(p.P50), ms(p.P90), ms(p.P99), ms(p.Max))
	}
	fmt.Fprintf(w, "target       %s (signed for %s)\n", r.Target, r.SignedURL)
	fmt.Fprintf(w, "load         %g/s for %v from %d members, at most %d in flight\n", rate, d, members, concurrency)
	fmt.Fprintf(w, "sent         %d of %d scheduled", r.Sent, r.Scheduled)
	if r.NotSent > 0 {
		fmt.Fprintf(w, " (%d not sent: %d requests in flight until the end)", r.NotSent, concurrency)
	}
	fmt.Fprintln(w)
	var codes []string
	for _, code := range slices.Sorted(maps.Keys(r.Status)) {
		codes = append(codes, fmt.Sprintf("%d × %d", r.Status[code], code))
	}
	if r.Errors > 0 {
		codes = append(codes, fmt.Sprintf("%d errors (first: %s)", r.Errors, r.FirstError))
	}
	if len(codes) == 0 {
		codes = []string{"none"}
	}
	fmt.Fprintf(w, "responses    %s\n", strings.Join(codes, ", "))
	if r.Empty > 0 {
		fmt.Fprintf(w, "empty        %d of the 2xx answers held no reply: the hotline dropped those messages (past HOTLINE_SENDER_LIMIT or HOTLINE_REPLY_CAP? start it with both at 0 to measure answering)\n", r.Empty)
	}
	fmt.Fprintf(w, "throughput   %.1f/s answered 2xx, over %.2f s\n", r.Throughput(), r.Elapsed.Seconds())
	fmt.Fprintf(w, "%-12s %9s %9s %9s %9s\n", "ms", "p50", "p90", "p99", "max")
	row("latency", r.Latency)
	row("service", r.Service)
	row("lag", r.Lag)
	fmt.Fprintln(w, "(latency: from when a request was due; service: from when it was sent; lag: due → sent)")
}

// serveCeiling serves loadgen.CeilingHandler on addr until ctx ends.
func serveCeiling(ctx context.Context, addr, token, publicURL string, getenv func(string) string, stdout, stderr io.Writer) error {
	if token == "" {
		return errors.New("--serve-ceiling needs --token or TWILIO_AUTH_TOKEN: it checks signatures, as the hotline does")
	}
	if publicURL == "" {
		publicURL = "http://" + addr
	}
	publicURL = strings.TrimRight(publicURL, "/")
	prefix := getenv("HOTLINE_KEY_PREFIX")
	if prefix == "" {
		prefix = "hotline"
	}
	cluster, _ := strconv.ParseBool(getenv("REDIS_CLUSTER"))
	log := slog.New(slog.NewTextHandler(stderr, nil))
	rdb, closeRedis, err := app.OpenRedis(config.Config{RedisURL: getenv("REDIS_URL"), RedisCluster: cluster}, log)
	if err != nil {
		return err
	}
	defer closeRedis()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	// The same timeouts as serve.
	srv := &http.Server{
		Handler:           loadgen.CeilingHandler(rdb, prefix, token, publicURL),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      14 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	fmt.Fprintf(stdout, "ceiling listening on http://%s (POST /twilio/sms signed for %s/twilio/sms, GET /readyz); keys %s:ceiling:*\n",
		ln.Addr(), publicURL, prefix)
	return serveUntilDone(ctx, srv, ln)
}
