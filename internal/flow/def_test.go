package flow_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/locale"
)

const okKeywords = `
[settings]
home = "main/menu"
welcome = "main/menu"
choose_language = "main/menu"
not_understood = "nu"
languages = ["es", "en"]
`

const okMain = `
start = "menu"
[menu]
say = ["hi"]
menu = [{ label = "opt", go = "a" }]
[a]
say = ["bye"]
`

func TestLoadReportsDefects(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the report, each required
	}{
		{"missing node", map[string]string{"main.toml": okMain + "\n[b]\nsay=[\"x\"]\nnext = \"nowhere\"\n"},
			[]string{`main.toml: node "b": next goes to "nowhere", which does not exist`}},
		{"typo in field", map[string]string{"main.toml": okMain + "\n[b]\nsay=[\"x\"]\noptoins = []\n"},
			[]string{`node "b": unknown field "optoins"`}},
		{"start at the bottom", map[string]string{"main.toml": "[menu]\nsay=[\"hi\"]\nstart = \"menu\"\n"},
			[]string{`start must stand at the top`}},
		{"unknown action", map[string]string{"main.toml": okMain + "\n[b]\ndo = \"fly\"\n"},
			[]string{`do = "fly" is not a known action`}},
		{"action needs argument", map[string]string{"main.toml": okMain + "\n[b]\ndo = \"set_language\"\nnext=\"menu\"\n"},
			[]string{`needs with = { lang`}},
		{"capture without next", map[string]string{"main.toml": okMain + "\n[b]\nsay=[\"x\"]\ncapture = \"v\"\n"},
			[]string{`capture needs next`}},
		{"broken toml", map[string]string{"main.toml": "start = \n"},
			[]string{`main.toml: line 1`}},
		{"missing keyword target", map[string]string{"main.toml": okMain, "keywords.toml": okKeywords + "[[keyword]]\nwords=[\"x\"]\ngo=\"nope\"\n"},
			[]string{`keyword [x] goes to "nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"keywords.toml": {Data: []byte(okKeywords)}}
			for name, body := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(body)}
			}
			_, err := flow.Load(fsys, actions.Core())
			if err == nil {
				t.Fatal("loaded without error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("report lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestCheckReportsDefects(t *testing.T) {
	const esOK = "nu = \"no\"\nhi = \"hola {{.Name}}\"\nopt = \"uno\"\nbye = \"adiós\"\n"
	tests := []struct {
		name     string
		main, es string
		en       string
		want     []string
	}{
		{"missing translation", okMain, esOK, "nu = \"no\"\nhi = \"hi {{.Name}}\"\nopt = \"one\"\n",
			[]string{`main.toml: node "a": message "bye" is missing in active.en.toml`}},
		{"variables differ", okMain, esOK, "nu = \"no\"\nhi = \"hi {{.Nombre}}\"\nopt = \"one\"\nbye = \"bye\"\n",
			[]string{`message "hi" uses variables [Name], but in en it uses [Nombre]`}},
		{"unreachable node", okMain + "\n[lost]\nsay = [\"bye\"]\n", esOK, "nu = \"no\"\nhi = \"hi {{.Name}}\"\nopt = \"one\"\nbye = \"bye\"\n",
			[]string{`node "lost": no menu, keyword, next or result leads here`}},
		{"next loop", okMain + "\n[l1]\nsay=[\"bye\"]\nnext = \"l2\"\n[l2]\nsay=[\"bye\"]\nnext = \"l1\"\n", esOK, "nu = \"no\"\nhi = \"hi {{.Name}}\"\nopt = \"one\"\nbye = \"bye\"\n",
			[]string{`loop that never waits`}},
		{"menu too long", strings.Replace(okMain, `{ label = "opt", go = "a" }`, strings.Repeat(`{ label = "opt", go = "a" },`, 10), 1), esOK, "nu = \"no\"\nhi = \"hi {{.Name}}\"\nopt = \"one\"\nbye = \"bye\"\n",
			[]string{`menu has 10 options`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := flow.Load(fstest.MapFS{
				"keywords.toml": {Data: []byte(okKeywords)},
				"main.toml":     {Data: []byte(tt.main)},
			}, actions.Core())
			if err != nil {
				t.Fatal(err)
			}
			cat, err := locale.Load(fstest.MapFS{
				"active.es.toml": {Data: []byte(tt.es)},
				"active.en.toml": {Data: []byte(tt.en)},
			})
			if err != nil {
				t.Fatal(err)
			}
			probs := set.Check(cat, nil, nil)
			if len(probs) == 0 {
				t.Fatal("no problems found")
			}
			for _, w := range tt.want {
				if !strings.Contains(probs.Error(), w) {
					t.Errorf("report lacks %q:\n%v", w, probs)
				}
			}
		})
	}
}
