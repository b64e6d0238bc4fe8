// Package browsertest starts Debian's Chromium, headless, for tests that drive the staff
// console as a person would: load a page, type, submit, read what changed, take a screenshot.
//
// A browser is slow to start and not every machine has one, so these tests run only when
// HOTLINE_BROWSER_TESTS=1 (CI sets it and installs chromium). Without it, New skips the test
// and says how to turn the suite on, so `go test ./...` still passes with Go alone. With it,
// a missing or broken browser fails the test: a suite that silently skipped in CI would
// prove nothing.
//
// Each Browser is its own Chromium process with its own profile, so two Browsers are two
// people: their cookies, and so their console sessions, are apart. Tabs of one Browser share
// its cookies, as tabs do.
package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// EnvVar turns the browser suite on when set to 1.
const EnvVar = "HOTLINE_BROWSER_TESTS"

// DefaultChromium is where Debian's chromium package installs the browser.
const DefaultChromium = "/usr/bin/chromium"

// Timeouts are generous: CI runs on 2 shared CPUs, where a cold Chromium can take seconds
// to start and a page a second to lay out. They bound every step, so a hung browser fails a
// test in under a minute instead of holding the suite until go test's own timeout.
const (
	startTimeout = 60 * time.Second
	// StepTimeout bounds each helper's work: one navigation, one wait, one screenshot.
	StepTimeout = 30 * time.Second
)

// Browser is one headless Chromium process with a profile of its own.
type Browser struct {
	ctx context.Context // the browser's chromedp context; its tabs are children of it
	log *testLog
}

// New starts a Chromium for the test and stops it when the test ends. It skips the test
// when HOTLINE_BROWSER_TESTS is unset and fails it when the browser is missing or does not
// start. HOTLINE_CHROMIUM names another browser binary than /usr/bin/chromium.
func New(t testing.TB) *Browser {
	t.Helper()
	switch v := os.Getenv(EnvVar); v {
	case "":
		t.Skipf("browser test: set %s=1 to run it (it needs Debian's chromium: apt-get install chromium)", EnvVar)
	case "1":
	default:
		t.Fatalf("%s=%q: set it to 1 to run the browser tests, or leave it unset to skip them", EnvVar, v)
	}
	path := os.Getenv("HOTLINE_CHROMIUM")
	if path == "" {
		path = DefaultChromium
	}
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("%s=1 but there is no browser at %s (apt-get install chromium): %v", EnvVar, path, err)
	}

	log := &testLog{t: t}
	var stderr lockedBuffer
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()), // a fresh profile: no cookies, no cache
		chromedp.CombinedOutput(&stderr),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// The machine has no network beyond loopback: anything Chromium fetches on its own
		// (updates, sync, QUIC probes) would only wait for timeouts and slow the tests.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true), // /dev/shm is small in containers
		chromedp.Flag("hide-scrollbars", true),       // screenshots the same width as the page
		chromedp.Flag("lang", "en-US"),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx,
		chromedp.WithErrorf(log.printf), chromedp.WithLogf(func(string, ...any) {}))
	// Cleanups run last in, first out: the browser stops before t.TempDir removes its profile.
	t.Cleanup(func() {
		log.close()
		stop, done := context.WithTimeout(ctx, 10*time.Second)
		defer done()
		_ = chromedp.Cancel(stop) // a graceful close; the allocator kills what is left
		cancel()
		cancelAlloc()
	})

	// The first run starts the process and binds its life to ctx, which has no deadline, so
	// the start is bounded from outside instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("browser test: %s did not start: %v\n%s", path, err, stderr.tail())
		}
	case <-time.After(startTimeout):
		cancelAlloc()
		t.Fatalf("browser test: %s did not start within %s\n%s", path, startTimeout, stderr.tail())
	}
	return &Browser{ctx: ctx, log: log}
}

// Tab opens a new tab in the browser and closes it when the test ends. Pass the context it
// returns to chromedp and to this package's helpers. Tabs of one Browser share cookies.
func (b *Browser) Tab(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	// As with the browser, the first run creates the tab and binds its life to ctx.
	opened := make(chan error, 1)
	go func() { opened <- chromedp.Do(ctx) }()
	select {
	case err := <-opened:
		if err != nil {
			t.Fatalf("browser test: opening a tab: %v", err)
		}
	case <-time.After(StepTimeout):
		cancel()
		t.Fatalf("browser test: a tab did not open within %s", StepTimeout)
	}
	return ctx
}

// testLog passes chromedp's error reports to the test log while the test runs. chromedp can
// report after the test has ended, when t.Logf would panic, so it stops at cleanup.
type testLog struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

func (l *testLog) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.t.Logf("chromedp: "+format, args...)
	}
}

func (l *testLog) close() {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
}

// lockedBuffer keeps the browser's own output for the failure message when it will not
// start; Chromium writes it from another goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // a browser that logs without end must not fill memory
		return len(p), nil
	}
	return b.buf.Write(p)
}

// tail returns the last few kilobytes the browser wrote.
func (b *lockedBuffer) tail() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.Bytes()
	if len(s) > 4096 {
		s = s[len(s)-4096:]
	}
	return fmt.Sprintf("chromium said:\n%s", s)
}
