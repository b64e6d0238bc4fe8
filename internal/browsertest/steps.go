package browsertest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Do runs chromedp actions in the tab, bounded by StepTimeout, and fails the test on the
// first error. what says what the steps do, for the failure message ("sign in as Ana").
func Do(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

// Eval evaluates a JavaScript expression in the tab and decodes its value (JSON) into T.
// A promise is awaited.
func Eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(sctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("browser: evaluating %.200q: %v", expr, err)
	}
	return v
}

// WaitText waits until the first element that the CSS selector sel matches has text that
// contains substr, and fails the test with the text it last saw after StepTimeout. Pages
// that poll (a case's new lines, a broadcast's progress) change text without a navigation,
// and a form's submit navigates, so tests wait for the text instead of sleeping.
//
// It asks the page every 50 ms rather than with chromedp.Poll, whose wait does not survive
// a navigation: an evaluation that fails while the next page loads is only a "not yet".
func WaitText(t testing.TB, ctx context.Context, sel, substr string) {
	t.Helper()
	// JSON string literals are JavaScript string literals, so the selector is quoted safely.
	s, _ := json.Marshal(sel)
	probe := "(() => { const e = document.querySelector(" + string(s) + "); return e ? e.textContent : null })()"
	deadline := time.Now().Add(StepTimeout)
	last, lastErr := "(no element)", error(nil)
	for {
		ectx, cancel := context.WithTimeout(ctx, 5*time.Second)
		got, err := chromedp.Run(ectx, chromedp.Evaluate[*string](probe))
		cancel()
		switch {
		case err != nil:
			lastErr = err
		case got != nil:
			if strings.Contains(*got, substr) {
				return
			}
			last, lastErr = *got, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("browser: waiting %s for %s to contain %q: it has %.500q (last error: %v)",
				StepTimeout, sel, substr, last, lastErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
