package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/communityhotline/hotline/internal/content"
	"github.com/communityhotline/hotline/internal/locale"
	"github.com/communityhotline/hotline/internal/render"
)

// TestSpokenProblems: what a caller cannot hear is found, and what only looks like it (a
// subjunctive, "we cannot write to you", a request for a text message, the punctuation of
// the places data) is not.
func TestSpokenProblems(t *testing.T) {
	for _, tt := range []struct {
		text string
		want []string // substrings of the reasons, in order; none for a text a voice can say
	}{
		{"Envíe un número:", []string{`"envie", an instruction to type`}},
		{"Escríbanos con palabras.", []string{`"escribanos"`}},
		{"Si nadie responde, mande PERSONA o llame.", []string{`"mande"`}},
		{"Reply STOP to stop all messages.", []string{`"reply"`}},
		{"Stay calm.\nText PERSON to talk to someone.", []string{`"text"`}},
		{"Did you mean it? Send another name or ZIP, or send MENU.", []string{`"send"`, `"send"`}},
		{"Fuentes: https://example.org/x", []string{"a web address", "'/'"}},
		{"Vea www.ejemplo.org para más.", []string{"a web address"}},
		{"Marque # para volver.", []string{"'#'"}},
		{"Hola 👋", []string{"the symbol"}},
		{"Costo aprox. $5 & más", []string{"'$'", "'&'"}},
		// Not instructions to type, or punctuation a voice reads as a pause.
		{"Buscamos un voluntario que le responda aquí.", nil},
		{"Para que un voluntario le mande un mensaje de texto a este número, marque 1.", nil},
		{"Para recibirlas, mande un mensaje de texto a este número con la palabra ALERTAS.", nil},
		{"To get them, send a text message to this number with the word ALERTS.", nil},
		{"Su número está oculto: no podemos escribirle después.", nil},
		{"We can help you on this call, but we cannot write to you afterwards.", nil},
		{"No volunteer is free; one will text you here when free.", nil},
		{`Ley HB 9: ningún acuerdo 287(g) "santuario" - ¿sí? ¡No!`, nil},
		{"Guarde la calma y no corra. Diga en inglés: I do not consent.", nil},
	} {
		got := spokenProblems(tt.text)
		if len(got) != len(tt.want) {
			t.Errorf("spokenProblems(%q) = %q, want %d reasons like %q", tt.text, got, len(tt.want), tt.want)
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("spokenProblems(%q)[%d] = %q, want it to say %q", tt.text, i, got[i], w)
			}
		}
	}
}

func TestWhatsAppProblems(t *testing.T) {
	for text, bad := range map[string]bool{
		"Pueden aplicarse tarifas de mensajes y datos.":             true,
		"Msg & data rates may apply.":                               true,
		"We will send you an SMS.":                                  true,
		"Mándenos un mensaje de texto.":                             true,
		"Pueden aplicarse tarifas de datos. *PARAR* para cancelar.": false,
		"Reply STOP to cancel, HELP for help.":                      false,
		"Escriba ALERTAS para cambiar.":                             false,
	} {
		if got := whatsappProblems(text); (len(got) > 0) != bad {
			t.Errorf("whatsappProblems(%q) = %q, want a problem: %v", text, got, bad)
		}
	}
}

// channelCatalog builds a two-language catalogue from message lines (TOML) per file, with
// what every channel needs (the spoken option).
func channelCatalog(t *testing.T, files map[string]string) *locale.Catalog {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, body := range map[string]string{
		"active.es.toml":   "hola = \"Hola. Envíe un número:\"\nayuda = \"Para hablar con alguien, llame.\"\nstaff = \"Responda TOMAR.\"\n",
		"active.en.toml":   "hola = \"Hello. Send a number:\"\nayuda = \"To reach a person, call.\"\nstaff = \"Reply CLAIM.\"\n",
		"channels.es.toml": "voice_option = \"Para {{.Label}}, marque {{.Number}}.\"\nhola_voice = \"Hola.\"\n",
		"channels.en.toml": "voice_option = \"For {{.Label}}, press {{.Number}}.\"\nhola_voice = \"Hello.\"\n",
	} {
		fsys[name] = &fstest.MapFile{Data: []byte(body + files[name])}
	}
	cat, err := locale.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// channelsOf runs the channel check on a small catalogue: every message is a member's, and
// said on calls, but those whose ID starts with "staff"; each is rendered once, with data.
func channelsOf(t *testing.T, files map[string]string, data map[string]string) channelReport {
	t.Helper()
	cat := channelCatalog(t, files)
	base := map[string]string{"Program": "Línea"}
	return checkChannels(channelInput{
		cat: cat, set: render.NewSet(cat, base, false), base: base,
		samples: func(id, lang string) ([]content.Sample, error) {
			if id == "voice_option" {
				return []content.Sample{{Data: map[string]string{"Label": "ayuda", "Number": "1"}, From: "an option"}}, nil
			}
			return []content.Sample{{Data: data, From: "test data"}}, nil
		},
		onCalls:   func(id string) bool { return !strings.HasPrefix(id, "staff") },
		forMember: func(id string) bool { return !strings.HasPrefix(id, "staff") },
		voiceOnly: []string{"voice_option", "voice_hold"},
		baseVars:  content.BaseVars,
	})
}

// TestCheckChannels: a variant is held to its message (it exists, it gets no other data),
// every channel-only message is in every language, a voice text a caller cannot hear and a
// WhatsApp text that is false or too long fail, and a staff message only warns.
func TestCheckChannels(t *testing.T) {
	both := func(es, en string) map[string]string {
		return map[string]string{"channels.es.toml": es, "channels.en.toml": en}
	}
	hold := both("voice_hold = \"Espere.\"\n", "voice_hold = \"Please wait.\"\n")
	with := func(files map[string]string, more map[string]string) map[string]string {
		out := map[string]string{}
		for _, m := range []map[string]string{files, more} {
			for k, v := range m {
				out[k] += v
			}
		}
		return out
	}
	clean := channelsOf(t, hold, nil)
	if len(clean.problems)+len(clean.warnings) != 0 {
		t.Fatalf("a clean catalogue: problems %q, warnings %q", clean.problems, clean.warnings)
	}
	if clean.renders["voice"] == 0 || clean.renders["whatsapp"] == 0 {
		t.Errorf("renders = %v, want both channels", clean.renders)
	}

	for _, tt := range []struct {
		name    string
		files   map[string]string
		data    map[string]string
		problem string // a substring of one problem
		warning string // or of one warning
	}{
		{"a variant of no message (a typo)", with(hold, both("hloa_voice = \"Hola.\"\n", "hloa_voice = \"Hello.\"\n")), nil,
			`hloa_voice (es): a voice variant of "hloa", which is no message: a typo?`, ""},
		{"a variant with data its message is not given", with(hold, both("ayuda_whatsapp = \"Hola {{.Name}}.\"\n", "ayuda_whatsapp = \"Hi {{.Name}}.\"\n")),
			map[string]string{"Name": "Ana"}, `ayuda_whatsapp (en): uses {{.Name}}, which ayuda is not given`, ""},
		{"a message of the voice line's own in one language only", both("voice_hold = \"Espere.\"\n", ""), nil,
			`voice_hold: missing in en (locales/channels.en.toml)`, ""},
		{"a message to type, said on a call", with(hold, map[string]string{"active.es.toml": "pregunta = \"Responda SÍ.\"\n", "active.en.toml": "pregunta = \"Reply YES.\"\n"}), nil,
			`pregunta (es), voice: "responda", an instruction to type: write pregunta_voice in locales/channels.es.toml`, ""},
		{"a voice variant that still says to type", with(hold, both("ayuda_voice = \"Escriba PERSONA.\"\n", "ayuda_voice = \"Send PERSON.\"\n")), nil,
			`ayuda (en), voice: "send", an instruction to type: reword ayuda_voice in locales/channels.en.toml`, ""},
		{"parentheses in a voice text", with(hold, both("ayuda_voice = \"Llame (de día).\"\n", "ayuda_voice = \"Call (by day).\"\n")), nil,
			`ayuda (es), voice: parentheses, which a listener cannot hear`, ""},
		{"a web address in data said on a call", with(hold, map[string]string{"active.es.toml": "fuente = \"Fuente: {{.Links}}\"\n", "active.en.toml": "fuente = \"Source: {{.Links}}\"\n"}),
			map[string]string{"Links": "https://example.org/a"}, `fuente (en), voice: a web address`, ""},
		{"SMS wording on WhatsApp", with(hold, map[string]string{"active.es.toml": "tarifas = \"Pueden aplicarse tarifas de mensajes y datos.\"\n", "active.en.toml": "tarifas = \"Msg & data rates may apply.\"\n"}), nil,
			`tarifas (en), whatsapp: "msg & data", which is true of SMS only: write tarifas_whatsapp`, ""},
		{"a WhatsApp text over Twilio's limit", with(hold, map[string]string{"active.es.toml": "largo = \"{{.Text}}\"\n", "active.en.toml": "largo = \"{{.Text}}\"\n"}),
			map[string]string{"Text": strings.Repeat("a", 1599) + "👋"}, `largo (es), whatsapp: 1601 characters with test data, over the 1600`, ""},
		{"a staff message naming SMS on WhatsApp only warns", with(hold, map[string]string{"active.es.toml": "staff_largo = \"{{.Text}}\"\n", "active.en.toml": "staff_largo = \"{{.Text}}\"\n"}),
			map[string]string{"Text": "Le mandamos un SMS"}, "", `staff_largo (es), whatsapp: "sms", which is true of SMS only`},
		{"a branch of a variant no sample takes", with(hold, both("ayuda_voice = \"{{if .Urgent}}Ya.{{else}}Llame.{{end}}\"\n", "ayuda_voice = \"{{if .Urgent}}Now.{{else}}Call.{{end}}\"\n")),
			map[string]string{"Urgent": "1"}, `ayuda_voice (es): no sample data makes {{if .Urgent}} false`, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := channelsOf(t, tt.files, tt.data)
			if tt.problem != "" && !slices.ContainsFunc(rep.problems, func(p string) bool { return strings.Contains(p, tt.problem) }) {
				t.Errorf("problems = %q\nwant one saying %q", rep.problems, tt.problem)
			}
			if tt.warning != "" {
				if len(rep.problems) != 0 {
					t.Errorf("problems = %q, want none (only a warning)", rep.problems)
				}
				if !slices.ContainsFunc(rep.warnings, func(w string) bool { return strings.Contains(w, tt.warning) }) {
					t.Errorf("warnings = %q\nwant one saying %q", rep.warnings, tt.warning)
				}
			}
		})
	}
}

// TestCheckFailsOnChannels: `hotline check` on the shipped content with one variant broken
// fails, naming it: a typo in a variant's ID (its message is then said on calls as written,
// "Envíe…"), and a voice variant that tells a caller to type.
func TestCheckFailsOnChannels(t *testing.T) {
	inChannels := func(f func(string) string) func(string, []byte) []byte {
		return func(path string, data []byte) []byte {
			if strings.HasPrefix(path, "locales/channels.") {
				return []byte(f(string(data)))
			}
			return data
		}
	}
	for _, tt := range []struct {
		name   string
		edit   func(string, []byte) []byte
		output []string
	}{
		{"a variant's ID misspelt", inChannels(func(d string) string {
			return strings.Replace(d, "[report_where_voice]", "[report_wher_voice]", 1)
		}), []string{`report_wher_voice (es): a voice variant of "report_wher", which is no message: a typo?`,
			`report_where (en), voice: parentheses, which a listener cannot hear: write report_where_voice in locales/channels.en.toml`}},
		{"a voice variant that says to type", inChannels(func(d string) string {
			return regexp.MustCompile(`(?m)^(\[menu_prompt_voice\]\nother = ").*"$`).ReplaceAllString(d, `${1}Envíe un número. Send a number."`)
		}), []string{`menu_prompt (es), voice: "envie", an instruction to type: reword menu_prompt_voice in locales/channels.es.toml`,
			`menu_prompt (en), voice: "send", an instruction to type`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), copyContent(t, tt.edit), envOf(nil), nil, &out, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "problems with what WhatsApp or the voice line would say") {
				t.Fatalf("err = %v, want the channels' problems", err)
			}
			for _, want := range tt.output {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}
