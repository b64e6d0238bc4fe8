package render

import (
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

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

func variantCatalog(t *testing.T) *locale.Catalog {
	t.Helper()
	cat, err := locale.Load(fstest.MapFS{
		"active.es.toml":   {Data: []byte("q = \"Envíe un número:\"\nopt = \"Política local\"\nlist = \"Uno\\nDos:\\nTres\"\n")},
		"channels.es.toml": {Data: []byte("q_voice = \"¿Qué necesita?\"\nopt_voice = \"la política\"\nvoice_option = \"Para {{.Label}}, marque {{.Number}}.\"\n")},
		"active.en.toml":   {Data: []byte("q = \"Send a number:\"\nopt = \"Local policy\"\nlist = \"x\"\n")},
		"channels.en.toml": {Data: []byte("voice_option = \"For {{.Label}}, press {{.Number}}.\"\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestVoiceSaysVariantsAndOptions: the voice line takes a message's _voice variant where one
// exists (the base where not), says each option as a sentence, and reads lines as sentences.
func TestVoiceSaysVariantsAndOptions(t *testing.T) {
	cat := variantCatalog(t)
	menu := []flow.Reply{{ID: "q", Options: []flow.Choice{{Number: 1, Label: "opt"}, {Number: 2, Text: "Santa Fe"}}}}
	r := Voice(cat, nil)
	texts, err := r.Render("es", append([]flow.Reply{{ID: "list"}}, menu...))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Uno. Dos: Tres.", "¿Qué necesita? Para la política, marque 1. Para Santa Fe, marque 2."}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Errorf("voice = %q, want %q", texts, want)
	}
	opts, err := r.Options("es", menu)
	if err != nil || len(opts) != 2 || opts[0].Label != "la política" || opts[1].Number != 2 {
		t.Errorf("options = %+v, %v", opts, err)
	}
	// English has no variant: the base message is said.
	if texts, _ := r.Render("en", menu); !strings.HasPrefix(texts[0], "Send a number: For Local policy, press 1.") {
		t.Errorf("en voice = %q", texts)
	}
}

// TestWhatsAppKeepsTheTextAsWritten: no transliteration, SMS's numbered lines, no voice variant.
func TestWhatsAppKeepsTheTextAsWritten(t *testing.T) {
	texts, err := WhatsApp(variantCatalog(t), nil).Render("es", []flow.Reply{{ID: "q", Options: []flow.Choice{{Number: 1, Label: "opt"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Envíe un número:\n1 Política local"; len(texts) != 1 || texts[0] != want {
		t.Errorf("whatsapp = %q, want %q", texts, want)
	}
	if sms, _ := New(variantCatalog(t), nil, false).Render("es", []flow.Reply{{ID: "q"}}); sms[0] != "Envíe un número:" {
		t.Errorf("SMS took a variant: %q", sms)
	}
}

func TestBaseID(t *testing.T) {
	for id, want := range map[string][2]string{
		"menu_prompt_voice": {"menu_prompt", "voice"}, "menu_prompt_whatsapp": {"menu_prompt", "whatsapp"},
		"menu_prompt": {"menu_prompt", ""}, "_voice": {"_voice", ""}, "voice_option": {"voice_option", ""},
	} {
		base, ch := BaseID(id)
		if base != want[0] || string(ch) != want[1] {
			t.Errorf("BaseID(%q) = %q, %q; want %q", id, base, ch, want)
		}
		if ch != "" && VariantID(base, ch) != id {
			t.Errorf("VariantID does not undo BaseID for %q", id)
		}
	}
}

// TestRenderSplitsOneReplyPastTwilioLimit: a single reply longer than Twilio takes (an approval
// request quoting two long alerts) goes as several messages, cut at line breaks, none too long.
func TestRenderSplitsOneReplyPastTwilioLimit(t *testing.T) {
	cat, err := locale.Load(fstest.MapFS{
		"active.es.toml": {Data: []byte("big = \"{{.Text}}\"\n")},
		"active.en.toml": {Data: []byte("big = \"{{.Text}}\"\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("palabra ", 50) // 400 characters
	text := strings.TrimSpace(strings.Repeat(line+"\n", 9))
	for _, r := range []*Renderer{New(cat, nil, false), WhatsApp(cat, nil)} {
		texts, err := r.Render("es", []flow.Reply{{ID: "big", Data: map[string]string{"Text": text}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(texts) < 3 {
			t.Fatalf("a %d-character reply went as %d messages", utf8.RuneCountInString(text), len(texts))
		}
		var words int
		for _, m := range texts {
			if n := utf8.RuneCountInString(m); n > maxBody {
				t.Errorf("a message of %d characters, over %d", n, maxBody)
			}
			if strings.HasPrefix(m, " ") || strings.HasSuffix(m, "\n") {
				t.Errorf("a piece starts or ends with a cut's blank: %q…", m[:20])
			}
			words += len(strings.Fields(m))
		}
		if words != 450 {
			t.Errorf("the pieces hold %d words, want all 450", words)
		}
	}
}
