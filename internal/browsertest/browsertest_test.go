package browsertest

import (
	"bytes"
	"fmt"
	"html"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// Without HOTLINE_BROWSER_TESTS, New skips, and so `go test ./...` passes on a machine with
// Go alone. This test needs no browser: it runs everywhere.
func TestNewSkipsWhenTheSuiteIsOff(t *testing.T) {
	ran, skipped := false, false
	t.Run("off", func(t *testing.T) {
		t.Setenv(EnvVar, "")
		defer func() { skipped = t.Skipped() }()
		New(t)
		ran = true
	})
	if ran || !skipped {
		t.Fatalf("with %s unset, New went on (ran=%v) instead of skipping", EnvVar, ran)
	}
}

// signInSite is a page with a form that, when submitted, sets a cookie with the name typed,
// and a page that greets whoever its cookie names: enough to show a form, a redirect and a
// cookie jar working, as the console's sign-in will need.
func signInSite(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><meta name="viewport" content="width=device-width">
<title>sign in</title></head><body><form method="post" action="/signin">
<input id="name" name="name"><button id="go" type="submit">Go</button></form>
<div style="height:1500px">tall, so the full-page screenshot is taller than the viewport</div></body></html>`)
	})
	mux.HandleFunc("POST /signin", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "who", Value: r.FormValue("name"), Path: "/", HttpOnly: true})
		http.Redirect(w, r, "/hello", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		who := "nobody"
		if c, err := r.Cookie("who"); err == nil {
			who = c.Value
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><p id="greeting">Hello %s</p>`, html.EscapeString(who))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestBrowserHarness(t *testing.T) {
	ana := New(t)
	srv := signInSite(t)

	tab := ana.Tab(t)
	Do(t, tab, "sign in as Ana",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Ana"),
		chromedp.Click(chromedp.CSS("#go")))
	WaitText(t, tab, "#greeting", "Hello Ana")

	// Another tab of the same browser is the same person: the cookie is there.
	tab2 := ana.Tab(t)
	Do(t, tab2, "open /hello in a second tab", chromedp.Navigate(srv.URL+"/hello"))
	WaitText(t, tab2, "#greeting", "Hello Ana")

	// Another Browser is another person: it has no cookie.
	ben := New(t).Tab(t)
	Do(t, ben, "open /hello as Ben", chromedp.Navigate(srv.URL+"/hello"))
	WaitText(t, ben, "#greeting", "Hello nobody")

	Do(t, tab, "back to the form", chromedp.Navigate(srv.URL+"/"))
	for _, width := range []int{Desktop, Phone} {
		path := Screenshot(t, tab, "form", width)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("screenshot at %d px is not a PNG: %v", width, err)
		}
		size := img.Bounds().Size()
		if size.X != width {
			t.Errorf("screenshot at %d px is %d px wide", width, size.X)
		}
		// The page is 1500 px tall: a full-page screenshot holds all of it, not the 800 px
		// of the viewport.
		if size.Y < 1500 {
			t.Errorf("screenshot at %d px is %d px tall, want the whole page (1500+)", width, size.Y)
		}
	}
}
