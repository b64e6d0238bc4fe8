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
		{"reply_as with a menu of its own", map[string]string{"main.toml": okMain + "\n[b]\nsay=[\"x\"]\nreply_as = \"menu\"\nmenu = [{ label = \"opt\", go = \"a\" }]\n"},
			[]string{`node "b": reply_as reads the reply as another node does`}},
		{"reply_as to a node that reads no reply", map[string]string{"main.toml": okMain + "\n[b]\nsay=[\"x\"]\nreply_as = \"a\"\n"},
			[]string{`node "b": reply_as = "main/a" must name a node with its own menu, keywords or other`}},
		{"reply_as to nowhere", map[string]string{"main.toml": okMain + "\n[b]\nsay=[\"x\"]\nreply_as = \"gone\"\n"},
			[]string{`node "b": reply_as goes to "gone", which does not exist`}},
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

// stepVarActions are actions for flows that test where action variables reach: "areas"
// sets {{.Areas}} (counting its runs in .Runs, to show a repeat ran it again), "pick" sets
// {{.Name}} only when it finds something.
func stepVarActions() map[string]flow.Action {
	acts := actions.Core()
	acts["areas"] = flow.Action{Results: []string{"some", "none"}, Vars: map[string][]string{"some": {"Areas", "Runs"}},
		Run: func(c *flow.Context) string {
			if c.State.Data["none"] != "" {
				return "none"
			}
			c.Vars["Areas"] = "Santa Fe"
			c.Vars["Runs"] = c.Vars["Runs"] + "x"
			return "some"
		}}
	acts["pick"] = flow.Action{Results: []string{"found", "unknown"}, Vars: map[string][]string{"found": {"Name"}},
		Run: func(c *flow.Context) string {
			if c.Input == "abq" {
				c.Vars["Name"] = "Albuquerque"
				return "found"
			}
			return "unknown"
		}}
	return acts
}

// TestCheckStepVars: a message may use a variable an action sets only where every way into
// its node sets it, its question asked again included (issue 11: ALERTAS, then a reply the
// area menu did not understand, failed on {{.Areas}}).
func TestCheckStepVars(t *testing.T) {
	const es = "nu = \"no\"\nhi = \"hola\"\nopt = \"uno\"\nlist = \"Sus áreas: {{.Areas}}\"\nname = \"{{.Name}}\"\nbye = \"adiós\"\nlabel = \"{{.Areas}}\"\n"
	const en = "nu = \"no\"\nhi = \"hi\"\nopt = \"one\"\nlist = \"Your areas: {{.Areas}}\"\nname = \"{{.Name}}\"\nbye = \"bye\"\nlabel = \"{{.Areas}}\"\n"
	const menu = "start = \"menu\"\n[menu]\nsay = [\"hi\"]\nmenu = [{ label = \"opt\", go = \"status\" }, { label = \"opt\", go = \"lookup\" }]\n"
	tests := []struct {
		name, flow string
		want       string // "" = no problem
	}{
		{"handed the data, asked again without it", menu + `
[status]
do = "areas"
results = { some = "manage", none = "menu" }
[manage]
say = ["list"]
menu = [{ label = "opt", go = "menu" }]
[lookup]
do = "pick"
results = { found = "menu", unknown = "menu" }
`, `node "manage": message "list" uses {{.Areas}}, which do = "areas" sets in an earlier node; a reply this node does not understand asks its question again without it`},
		{"handed the data, other replies go elsewhere", menu + `
[status]
do = "areas"
results = { some = "manage", none = "menu" }
[manage]
say = ["list"]
menu = [{ label = "opt", go = "menu" }]
other = "menu"
[lookup]
do = "pick"
results = { found = "menu", unknown = "menu" }
`, ""},
		{"runs its own action", menu + `
[status]
do = "areas"
results = { some = "manage", none = "menu" }
[manage]
do = "areas"
results = { none = "menu" }
say = ["list"]
menu = [{ label = "opt", go = "menu" }]
[lookup]
do = "pick"
results = { found = "menu", unknown = "menu" }
`, ""},
		{"one way in lacks it", menu + `
[status]
do = "areas"
results = { some = "show", none = "menu" }
[lookup]
do = "pick"
results = { found = "show", unknown = "show" }
[show]
say = ["name"]
`, `node "show": message "name" uses {{.Name}}, which not every way into this node sets (do = "pick" sets it`},
		{"an outcome the node does not route leaves the member unanswered", menu + `
[status]
do = "areas"
results = { some = "menu" }
[lookup]
do = "pick"
results = { found = "menu", unknown = "menu" }
`, `node "status": do = "areas" can end with outcome "none", which results does not route, and the node then says nothing`},
		{"a menu label with step data", menu + `
[status]
do = "areas"
results = { some = "manage", none = "menu" }
[manage]
say = ["bye"]
menu = [{ label = "label", go = "menu" }]
[lookup]
do = "pick"
results = { found = "menu", unknown = "menu" }
`, `menu label "label" uses {{.Areas}} (from do = "areas")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := flow.Load(fstest.MapFS{
				"keywords.toml": {Data: []byte(okKeywords)},
				"main.toml":     {Data: []byte(tt.flow)},
			}, stepVarActions())
			if err != nil {
				t.Fatal(err)
			}
			cat, err := locale.Load(fstest.MapFS{"active.es.toml": {Data: []byte(es)}, "active.en.toml": {Data: []byte(en)}})
			if err != nil {
				t.Fatal(err)
			}
			probs := set.Check(cat, nil, nil)
			if tt.want == "" {
				if len(probs) > 0 {
					t.Fatalf("problems in a sound flow:\n%v", probs)
				}
				return
			}
			if !strings.Contains(probs.Error(), tt.want) {
				t.Fatalf("report lacks %q:\n%v", tt.want, probs)
			}
		})
	}
}

// TestRepeatRunsTheNodesAction: a node asked again after a reply it did not understand is
// entered again, so its own action gives its message its data; and when the action finds
// things changed, its result routes on as on the first entry.
func TestRepeatRunsTheNodesAction(t *testing.T) {
	set, err := flow.Load(fstest.MapFS{
		"keywords.toml": {Data: []byte(okKeywords)},
		"main.toml": {Data: []byte(`start = "menu"
[menu]
say = ["hi"]
menu = [{ label = "opt", go = "manage" }]
[manage]
do = "areas"
results = { none = "menu" }
say = ["list"]
menu = [{ label = "opt", go = "menu" }]
`)},
	}, stepVarActions())
	if err != nil {
		t.Fatal(err)
	}
	st := flow.State{Lang: "es", Node: "main/manage"}
	res := set.Step(st, flow.Input{Text: "banana", Now: t0}, flow.Options{})
	if got := replyIDs(res.Replies); strings.Join(got, " ") != "nu list" {
		t.Fatalf("replies %v, want [nu list]", got)
	}
	if d := res.Replies[1].Data; d["Areas"] != "Santa Fe" || d["Runs"] != "x" {
		t.Errorf("the repeated question's data = %v, want the areas from one run of its action", d)
	}
	if res.State.Node != "main/manage" || res.Problem != "" {
		t.Errorf("after the repeat: node %q, problem %q", res.State.Node, res.Problem)
	}
	st.Data = map[string]string{"none": "1"}
	res = set.Step(st, flow.Input{Text: "banana", Now: t0}, flow.Options{})
	if got := replyIDs(res.Replies); strings.Join(got, " ") != "nu hi" || res.State.Node != "main/menu" {
		t.Errorf("with nothing left to list: replies %v at %q, want [nu hi] at main/menu", got, res.State.Node)
	}
}
