package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The widths the console is checked at: a laptop, and a common phone held upright (a
// volunteer answering a case from the bus).
const (
	Desktop = 1280
	Phone   = 390
)

// phoneBelow is the width under which Screenshot emulates a phone (a mobile viewport that
// honours <meta name="viewport">, and touch) rather than a narrow desktop window.
const phoneBelow = 600

// maxHeight caps a full-page screenshot, so a page that grows without end cannot make a
// screenshot of gigabytes.
const maxHeight = 10000

// ScreenshotDir is where Screenshot writes: the folder HOTLINE_SCREENSHOTS names (created if
// need be), so a person can look at every page after a run, or else a temporary folder of
// the test.
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("HOTLINE_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("browser: screenshot folder: %v", err)
	}
	return dir
}

// Screenshot sets the tab's viewport to widthPx CSS pixels (a phone's below 600, with touch)
// and writes a PNG of the whole page, widthPx pixels wide and as tall as the page, to
// ScreenshotDir as <test>-<name>-<width>.png. It returns the file's path. The tab keeps that
// width afterwards, with a height of 800, so the steps that follow see the same layout.
func Screenshot(t testing.TB, ctx context.Context, name string, widthPx int) string {
	t.Helper()
	viewport := func(h int64) chromedp.Action[chromedp.Void] {
		if widthPx < phoneBelow {
			return chromedp.EmulateViewport(int64(widthPx), h, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
		}
		return chromedp.EmulateViewport(int64(widthPx), h)
	}
	Do(t, ctx, fmt.Sprintf("screenshot %s: set width %d", name, widthPx), viewport(800))
	h := Eval[int64](t, ctx, `Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)`)
	h = min(max(h, 1), maxHeight)

	var png []byte
	Do(t, ctx, "screenshot "+name, viewport(h), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		var err error
		png, err = chromedp.CaptureScreenshot()(ctx, tg)
		return err
	}), viewport(800))

	path := filepath.Join(ScreenshotDir(t), fmt.Sprintf("%s-%s-%d.png", fileName(t.Name()), fileName(name), widthPx))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("browser: writing screenshot: %v", err)
	}
	t.Logf("screenshot %s", path)
	return path
}

// Screenshots takes Screenshot at both widths the console must work at.
func Screenshots(t testing.TB, ctx context.Context, name string) []string {
	t.Helper()
	return []string{Screenshot(t, ctx, name, Desktop), Screenshot(t, ctx, name, Phone)}
}

// fileName keeps letters, digits, '-' and '_' of s, so a subtest's name makes a file name.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
