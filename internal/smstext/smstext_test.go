package smstext

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/locale"
)

func catalog(t *testing.T) *locale.Catalog {
	t.Helper()
	cat, err := locale.Load(fstest.MapFS{
		"active.es.toml": {Data: []byte("hi = \"Hola, {{.Program}}.\"\nq = \"Envíe un número:\"\nopt = \"Política “local”\"\nlong = \"" + strings.Repeat("á", 900) + "\"\n")},
		"active.en.toml": {Data: []byte("hi = \"Hello, {{.Program}}.\"\nq = \"Send a number:\"\nopt = \"Local policy\"\nlong = \"x\"\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestRenderJoinsRepliesAndNumbersOptions(t *testing.T) {
	r := New(catalog(t), map[string]string{"Program": "Test"}, false)
	texts, err := r.Render("es", []flow.Reply{{ID: "hi"}, {ID: "q", Options: []flow.Choice{{Number: 1, Label: "opt"}, {Number: 2, Text: "Santa Fe"}}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "Hola, Test.\nEnvíe un número:\n1 Política “local”\n2 Santa Fe"
	if len(texts) != 1 || texts[0] != want {
		t.Errorf("Render = %q, want %q", texts, want)
	}
}

func TestRenderGSMTransliterates(t *testing.T) {
	r := New(catalog(t), map[string]string{"Program": "Test"}, true)
	texts, err := r.Render("es", []flow.Reply{{ID: "q", Options: []flow.Choice{{Number: 1, Label: "opt"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Envie un numero:\n1 Politica \"local\""; texts[0] != want {
		t.Errorf("Render = %q, want %q", texts[0], want)
	}
}

func TestRenderSplitsPastTwilioLimit(t *testing.T) {
	r := New(catalog(t), nil, false)
	texts, err := r.Render("es", []flow.Reply{{ID: "long"}, {ID: "long"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(texts) != 2 {
		t.Errorf("two 900-character replies made %d messages, want 2 (each ≤ 1600)", len(texts))
	}
}

func TestRenderRefusesMissingMessage(t *testing.T) {
	r := New(catalog(t), nil, false)
	if _, err := r.Render("es", []flow.Reply{{ID: "nope"}}); err == nil {
		t.Error("a missing message rendered")
	}
	if _, err := r.Render("es", []flow.Reply{{ID: "hi"}}); err == nil {
		t.Error("a message without its variable rendered (it would show <no value>)")
	}
}

// TestFixedRepliesCachedPerLanguageAndOptions: a reply without data is rendered once per
// language and options, and replies with data or free-text options are never mixed up
// with it.
func TestFixedRepliesCachedPerLanguageAndOptions(t *testing.T) {
	r := New(catalog(t), map[string]string{"Program": "Test"}, false)
	render := func(lang string, rep flow.Reply) string {
		t.Helper()
		texts, err := r.Render(lang, []flow.Reply{rep})
		if err != nil || len(texts) != 1 {
			t.Fatalf("%v %v", texts, err)
		}
		return texts[0]
	}
	menu := flow.Reply{ID: "q", Options: []flow.Choice{{Number: 1, Label: "opt"}}}
	for range 2 {
		if got := render("es", menu); got != "Envíe un número:\n1 Política “local”" {
			t.Errorf("es menu = %q", got)
		}
		if got := render("en", menu); got != "Send a number:\n1 Local policy" {
			t.Errorf("en menu = %q", got)
		}
	}
	if got := render("en", flow.Reply{ID: "q"}); got != "Send a number:" {
		t.Errorf("without options = %q", got)
	}
	if got := render("en", flow.Reply{ID: "q", Options: []flow.Choice{{Number: 1, Text: "Santa Fe"}}}); got != "Send a number:\n1 Santa Fe" {
		t.Errorf("free-text option = %q", got)
	}
	if got := render("en", flow.Reply{ID: "hi", Data: map[string]string{"Program": "Other"}}); got != "Hello, Other." {
		t.Errorf("with data = %q", got)
	}
	if got := render("en", flow.Reply{ID: "hi"}); got != "Hello, Test." {
		t.Errorf("after a render with data, the fixed text = %q", got)
	}
}
