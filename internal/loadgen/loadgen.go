// Package loadgen sends a hotline the load of many members texting it, and measures how it
// answers.
//
// Run sends signed inbound-SMS webhooks, as Twilio sends them, at a fixed rate for a fixed
// time. The load is open-loop: request i is due at start + i/rate whether or not earlier ones
// were answered, and its latency is counted from when it was due, so a server that stalls
// is charged for every request it delayed ("coordinated omission" is avoided). At most
// Concurrency requests are in flight; a request that finds them all busy waits for one, and
// that wait counts in its latency too. A run stops by itself: nothing is sent later
// than 20 ms after Duration, and every request gives up after Timeout.
//
// CeilingHandler is the yardstick: the least a signed webhook with Redis state can do,
// measured with the same generator on the same machine.
package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/communityhotline/hotline/internal/twilio"
)

// Path is where a hotline takes Twilio's inbound-message webhook.
const Path = "/twilio/sms"

// Defaults and bounds of a Config.
const (
	DefaultConcurrency = 256
	DefaultTimeout     = 15 * time.Second // Twilio gives up on a webhook after 15 s
	MaxRequests        = 2_000_000        // Rate × Duration; a longer soak is several runs
	MaxRate            = 100_000
	MaxMembers         = 1_000_000
	MaxConcurrency     = 10_000
	MaxTimeout         = time.Minute
)

// DefaultBodies is what members write, in the order they write it: a first "hola", a walk
// through the menu, a county, an English word the Spanish conversation does not expect. It avoids the options that reach a person or file a report, so a load test never
// pages a volunteer.
var DefaultBodies = []string{"hola", "1", "menu", "2", "bernalillo", "hello", "menu", "2", "santa fe", "menu"}

// Config says where to send load and how much.
type Config struct {
	// URL is the target's base URL (scheme and host, no path); requests go to URL + Path.
	URL string
	// PublicURL is the base URL the target checks signatures against: its PUBLIC_URL.
	// Empty means URL.
	PublicURL string
	// Token is the auth token requests are signed with: the target's TWILIO_AUTH_TOKEN.
	Token string
	// AccountSID is sent as AccountSid; empty sends a made-up one.
	AccountSID string
	// Rate is requests per second; Duration how long to send. Rate × Duration requests are
	// scheduled, at most MaxRequests.
	Rate     float64
	Duration time.Duration
	// Members is how many distinct phone numbers (MemberPhone(0) …) the messages come from,
	// in turn: request i comes from member i mod Members.
	Members int
	// Concurrency caps the requests in flight; 0 means DefaultConcurrency.
	Concurrency int
	// Timeout bounds each request; 0 means DefaultTimeout.
	Timeout time.Duration
	// Bodies is the conversation each member walks through, one body per message, starting
	// over at the end (member m starts at body m; see Form); nil means DefaultBodies.
	Bodies []string
	// Client sends the requests; nil means one built for the run, keeping up to
	// Concurrency connections open and following no redirect.
	Client *http.Client
}

// Percentiles summarize durations: nearest-rank percentiles of N samples (all zero when N
// is 0), so P50 ≤ P90 ≤ P99 ≤ Max always.
type Percentiles struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

// Result is what a run saw.
type Result struct {
	// Target is where requests went; SignedURL the URL their signatures cover.
	Target, SignedURL string
	// Scheduled requests were due within Duration; Sent of them were sent; NotSent were
	// still waiting for a free slot (Concurrency in flight) when Duration ran out, or the
	// run was canceled.
	Scheduled, Sent, NotSent int
	// Status counts responses by HTTP status; Errors counts requests that got none
	// (refused, timed out); FirstError is one such error, for the report.
	Status     map[int]int
	Errors     int
	FirstError string
	// Empty counts the 2xx responses that carried no reply message: a hotline answers so a
	// message it dropped (past a member's limits), so a run full of them measures dropping,
	// not answering.
	Empty int
	// Elapsed runs from the first request's due time to the last response.
	Elapsed time.Duration
	// Latency is each response's time from when its request was due: what a member would
	// wait, with the generator's own scheduling delay (Lag) included.
	Latency Percentiles
	// Service is each response's time from when its request was sent: the server and the
	// network alone.
	Service Percentiles
	// Lag is each sent request's delay from due to sent: the generator's timer resolution,
	// and waits for a free slot when the target falls behind.
	Lag Percentiles
}

// OK counts the 2xx responses.
func (r Result) OK() int {
	n := 0
	for code, c := range r.Status {
		if code >= 200 && code < 300 {
			n += c
		}
	}
	return n
}

// Throughput is 2xx responses per second of Elapsed.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK()) / r.Elapsed.Seconds()
}

// MemberPhone is the phone number of member m (0 ≤ m < MaxMembers): +1505 and seven
// digits, from +15052000000 on. The numbers only appear in requests to the target; the
// default bodies never subscribe to alerts, so a hotline has no reason to text them.
func MemberPhone(m int) string {
	return fmt.Sprintf("+1505%07d", 2_000_000+m)
}

// MessageSID is the id of request i of the run named run: "SM" and 32 hex digits, the
// shape of Twilio's, different for every request of every run.
func MessageSID(run string, i int) string {
	return fmt.Sprintf("SM%s%016x", run, i)
}

// Form is the webhook of request i of run: every field Twilio sends with an inbound SMS,
// from member m = i mod members. It is that member's k-th message (k = i / members), and
// says bodies[(k + m) mod len(bodies)]: each member walks through the conversation in
// order, each starting at a different point, so that even a run shorter than one message
// per member sends the whole mix.
func Form(run string, i, members int, accountSID string, bodies []string) url.Values {
	sid := MessageSID(run, i)
	m, k := i%members, i/members
	return url.Values{
		"ToCountry": {"US"}, "ToState": {"NM"}, "ToCity": {"ALBUQUERQUE"}, "ToZip": {"87102"},
		"FromCountry": {"US"}, "FromState": {"NM"}, "FromCity": {"ALBUQUERQUE"}, "FromZip": {"87102"},
		"SmsMessageSid": {sid}, "SmsSid": {sid}, "MessageSid": {sid},
		"NumMedia": {"0"}, "NumSegments": {"1"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"},
		"AccountSid": {accountSID}, "To": {"+15055550000"},
		"From": {MemberPhone(m)},
		"Body": {bodies[(k+m)%len(bodies)]},
	}
}

func (c Config) check() (Config, error) {
	var errs []error
	checkURL := func(name, u string) {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || (p.Path != "" && p.Path != "/") || p.RawQuery != "" {
			errs = append(errs, fmt.Errorf("%s %q must be an http(s) URL without a path, like http://127.0.0.1:8080", name, u))
		}
	}
	c.URL = strings.TrimRight(c.URL, "/")
	checkURL("URL", c.URL)
	if c.PublicURL == "" {
		c.PublicURL = c.URL
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	checkURL("public URL", c.PublicURL)
	if c.AccountSID == "" {
		c.AccountSID = "AC00000000000000000000000000000000"
	}
	if !(c.Rate > 0 && c.Rate <= MaxRate) {
		errs = append(errs, fmt.Errorf("rate %v must be above 0 and at most %d requests a second", c.Rate, MaxRate))
	}
	if c.Duration <= 0 {
		errs = append(errs, fmt.Errorf("duration %v must be positive", c.Duration))
	} else if n := c.Rate * c.Duration.Seconds(); n > MaxRequests {
		errs = append(errs, fmt.Errorf("rate × duration is %.0f requests, more than %d: run several shorter tests", n, MaxRequests))
	}
	if c.Members < 1 || c.Members > MaxMembers {
		errs = append(errs, fmt.Errorf("members %d must be from 1 to %d", c.Members, MaxMembers))
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Concurrency < 1 || c.Concurrency > MaxConcurrency {
		errs = append(errs, fmt.Errorf("concurrency %d must be from 1 to %d", c.Concurrency, MaxConcurrency))
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Timeout < 0 || c.Timeout > MaxTimeout {
		errs = append(errs, fmt.Errorf("timeout %v must be positive and at most %v", c.Timeout, MaxTimeout))
	}
	if c.Bodies == nil {
		c.Bodies = DefaultBodies
	}
	if len(c.Bodies) == 0 {
		errs = append(errs, errors.New("no bodies to send"))
	}
	return c, errors.Join(errs...)
}

// NewClient returns the client Run uses when Config.Client is nil: up to concurrency
// connections kept open to the target, no proxy, no redirect followed, so requests reach
// the URL given and nothing else.
func NewClient(concurrency int) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        concurrency,
			MaxIdleConnsPerHost: concurrency,
			IdleConnTimeout:     30 * time.Second,
			TLSHandshakeTimeout: 10 * time.Second,
			ForceAttemptHTTP2:   true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// sendGrace is how late after Duration a request still goes out.
const sendGrace = 20 * time.Millisecond

// request is one scheduled webhook and what became of it. Times are nanoseconds since the
// run's start; status is 0 until a response, -1 for an error.
type request struct {
	due, sent, done int64
	status          int
	empty           bool // a 2xx without a reply message
}

// Run sends the load cfg describes and reports what it saw. It returns when every request
// sent has been answered or has timed out: at most Duration + 20 ms + Timeout after it
// starts. If
// ctx ends first, Run stops sending, cancels the requests in flight, and returns what it saw
// so far with ctx's error.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg, err := cfg.check()
	if err != nil {
		return Result{}, err
	}
	client := cfg.Client
	if client == nil {
		client = NewClient(cfg.Concurrency)
		defer client.CloseIdleConnections()
	}
	res := Result{Target: cfg.URL + Path, SignedURL: cfg.PublicURL + Path, Status: map[int]int{}}
	n := max(1, int(math.Round(cfg.Rate*cfg.Duration.Seconds())))
	res.Scheduled = n
	interval := float64(time.Second) / cfg.Rate
	run := runID()

	reqs := make([]request, n)
	var (
		wg       sync.WaitGroup
		errMu    sync.Mutex
		firstErr string
		errCount atomic.Int64
	)
	slots := make(chan struct{}, cfg.Concurrency)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	start := time.Now()
	// The generator's timers fire up to a millisecond or so late; a request due just
	// before the end is still sent if it is that late, not later.
	sendUntil := cfg.Duration + sendGrace
	end := time.NewTimer(sendUntil)
	defer end.Stop()
	sent := 0
send:
	for i := range n {
		// Build and sign before the request is due, so that it costs no latency.
		form := Form(run, i, cfg.Members, cfg.AccountSID, cfg.Bodies)
		sig := twilio.Sign(cfg.Token, res.SignedURL, form)
		body := form.Encode()
		due := time.Duration(float64(i) * interval)
		reqs[i].due = int64(due)
		if wait := due - time.Since(start); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				break send
			}
		}
		if time.Since(start) >= sendUntil {
			break send // behind schedule at the end: what is left is not sent
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break send
		case <-end.C:
			break send
		}
		sent++
		wg.Add(1)
		go func(r *request) {
			defer func() { <-slots; wg.Done() }()
			rctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(rctx, http.MethodPost, res.Target, strings.NewReader(body))
			if err != nil {
				r.status = -1
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("User-Agent", "hotline-loadtest/1")
			req.Header.Set(twilio.SignatureHeader, sig)
			r.sent = int64(time.Since(start))
			resp, err := client.Do(req)
			var body []byte
			if err == nil {
				// Read the whole answer (bounded), as Twilio does, before the clock stops.
				body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
				resp.Body.Close()
			}
			r.done = int64(time.Since(start))
			if err != nil {
				r.status = -1
				if errCount.Add(1) == 1 {
					errMu.Lock()
					firstErr = err.Error()
					errMu.Unlock()
				}
				return
			}
			r.status = resp.StatusCode
			r.empty = r.status/100 == 2 && !bytes.Contains(body, []byte("<Message"))
		}(&reqs[i])
	}
	wg.Wait()

	res.Sent, res.NotSent = sent, n-sent
	res.Errors, res.FirstError = int(errCount.Load()), firstErr
	var lat, svc, lag []time.Duration
	var last int64
	for _, r := range reqs[:sent] {
		lag = append(lag, time.Duration(r.sent-r.due))
		if r.status > 0 {
			res.Status[r.status]++
			if r.empty {
				res.Empty++
			}
			lat = append(lat, time.Duration(r.done-r.due))
			svc = append(svc, time.Duration(r.done-r.sent))
		}
		last = max(last, r.done)
	}
	res.Elapsed = time.Duration(last)
	res.Latency, res.Service, res.Lag = Summarize(lat), Summarize(svc), Summarize(lag)
	return res, ctx.Err()
}

// Summarize returns the nearest-rank percentiles of ds; it sorts ds.
func Summarize(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	slices.Sort(ds)
	at := func(q float64) time.Duration {
		k := int(math.Ceil(q*float64(len(ds)))) - 1
		return ds[min(max(k, 0), len(ds)-1)]
	}
	return Percentiles{N: len(ds), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: ds[len(ds)-1]}
}

// runID is 16 random hex digits, so that no two runs share a MessageSid (a hotline answers a
// MessageSid it has seen with its stored reply, which would make a rerun cheaper).
func runID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
