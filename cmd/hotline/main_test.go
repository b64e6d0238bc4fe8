package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/redistest"
	"github.com/communityhotline/hotline/internal/shareddata"
)

// TestMain runs the tests, or, when a test starts this binary as a hotline process
// (HOTLINE_TEST_RUN_MAIN=worker, say), the real program: a test can then kill it with SIGKILL.
func TestMain(m *testing.M) {
	if cmd := os.Getenv("HOTLINE_TEST_RUN_MAIN"); cmd != "" {
		os.Args = []string{"hotline", cmd}
		main()
		os.Exit(0)
	}
	redistest.Main(m)
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestLocalModeAnswersWithNothingConfigured starts the real program as a newcomer would
// (`go run ./cmd/hotline` with no settings), waits for it to listen, and texts it.
func TestLocalModeAnswersWithNothingConfigured(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, envOf(map[string]string{"PORT": "0"}), strings.NewReader(""), pw, &stderr)
	}()

	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v (stderr: %s)", err, stderr.String())
	}
	go io.Copy(io.Discard, pr)
	addr := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(line)
	if addr == "" {
		t.Fatalf("not listening on loopback: %q", line)
	}
	resp, err := http.PostForm(addr+"/twilio/sms", url.Values{"MessageSid": {"SM1"}, "From": {"+15055550100"}, "Body": {"hola"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Envíe un número") {
		t.Fatalf("status %d, body %s", resp.StatusCode, body)
	}
	for _, want := range []string{"local mode", "embedded in-memory Redis"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("start-up warnings lack %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "5055550100") {
		t.Error("the log contains the member's number")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("did not shut down")
	}
}

func TestTwilioModeRefusesMissingSettings(t *testing.T) {
	err := run(context.Background(), []string{"serve"}, envOf(map[string]string{"TWILIO_AUTH_TOKEN": "x"}), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HOTLINE_SECRET") {
		t.Fatalf("err = %v", err)
	}
}

func TestSimulate(t *testing.T) {
	var out bytes.Buffer
	_, prefix := redistest.Open(t) // a prefix of its own, cleaned up after
	env := envOf(map[string]string{"REDIS_URL": redistest.URL(t), "HOTLINE_KEY_PREFIX": prefix})
	err := run(context.Background(), []string{"simulate", "--from", "+15055550177"}, env, strings.NewReader("hello\n2\nstop\nhi\n"), &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"> hello", "Reply with a number:", "[GSM-7, ", "1 segment]", "you will get no more messages", "(no reply)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCheck(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check"}, envOf(nil), nil, &out, io.Discard); err != nil {
		t.Fatalf("the shipped content fails check: %v", err)
	}
	if !strings.Contains(out.String(), "menu_prompt") || !strings.Contains(out.String(), "UCS-2") {
		t.Errorf("no cost table:\n%s", out.String())
	}

	// A translation missing from one language must fail, naming the file and the node.
	dir := t.TempDir()
	for _, name := range []string{"active.es.toml", "active.en.toml"} {
		data, err := os.ReadFile(filepath.Join("../../locales", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "active.en.toml" {
			data = regexp.MustCompile(`(?m)^menu_alerts = .*$`).ReplaceAll(data, nil)
		}
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	err := run(context.Background(), []string{"check", "--locales", dir}, envOf(nil), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), `main.toml: node "menu": message "menu_alerts" is missing in active.en.toml`) {
		t.Fatalf("err = %v", err)
	}
}

// TestCheckRejectsUnknownVariable: a typo in a variable, made alike in both languages (so
// they still agree), is caught before a member meets "<no value>".
func TestCheckRejectsUnknownVariable(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"active.es.toml", "active.en.toml"} {
		data, err := os.ReadFile(filepath.Join("../../locales", name))
		if err != nil {
			t.Fatal(err)
		}
		data = []byte(strings.Replace(string(data), "{{.Contact}}", "{{.Contacto}}", 1))
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	err := run(context.Background(), []string{"check", "--locales", dir}, envOf(nil), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "uses {{.Contacto}}, which nothing provides") {
		t.Fatalf("err = %v", err)
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"help"}, envOf(nil), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"serve", "simulate", "check", "PORT", "REDIS_URL", "HOTLINE_SECRET", "TWILIO_API_BASE", "HOTLINE_KEY_PREFIX"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if err := run(context.Background(), []string{"frobnicate"}, envOf(nil), nil, io.Discard, io.Discard); err == nil {
		t.Error("an unknown command succeeded")
	}
}

func TestImportZipsThenAskByZip(t *testing.T) {
	url := redistest.URL(t)
	_, prefix := redistest.Open(t) // for its prefix and clean-up
	env := envOf(map[string]string{"REDIS_URL": url, "HOTLINE_KEY_PREFIX": prefix})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"import-zips", shareddata.ZipCSV(t)}, env, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "imported ") || !strings.Contains(out.String(), "skipped line") {
		t.Errorf("import output:\n%s", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"simulate"}, env, strings.NewReader("hola\n87501\n88001\n99999\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"> 87501\n< Condado de Santa Fe:", "> 88001\n< Las Cruces:", "Condado de Doña Ana:", "> 99999\n< No encontré ese código postal"} {
		if !strings.Contains(got, want) {
			t.Errorf("simulation lacks %q:\n%s", want, got)
		}
	}
}

func TestImportZipsNeedsRedis(t *testing.T) {
	err := run(context.Background(), []string{"import-zips", "x.csv"}, envOf(nil), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Fatalf("err = %v", err)
	}
}

// TestSimulateLongScript: a script longer than the per-sender limit is answered to its end,
// not cut off silently at the twenty-first line.
func TestSimulateLongScript(t *testing.T) {
	var out bytes.Buffer
	_, prefix := redistest.Open(t)
	env := envOf(map[string]string{"REDIS_URL": redistest.URL(t), "HOTLINE_KEY_PREFIX": prefix, "HOTLINE_SENDER_LIMIT": "5"})
	script := strings.Repeat("hello\n", 10) + "DELETE\nYES\n"
	if err := run(context.Background(), []string{"simulate", "--from", "+15055550178"}, env, strings.NewReader(script), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "(no reply)") || !strings.Contains(out.String(), "we deleted your data") {
		t.Errorf("the end of the script was not answered:\n%s", out.String())
	}
}

// TestCheckHoldsUnderstandingToItsFloors: the shipped examples pass with a report by intent;
// examples that teach two intents the same phrases fail, naming the intents.
func TestCheckHoldsUnderstandingToItsFloors(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"check"}, envOf(nil), nil, &out, io.Discard); err != nil {
		t.Fatalf("the shipped content fails check: %v", err)
	}
	if !regexp.MustCompile(`(?m)^urgent\s+\d+\s+0\.\d\d\s+0\.\d\d`).MatchString(out.String()) {
		t.Errorf("no precision and recall for urgent:\n%s", out.String())
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../flows")); err != nil {
		t.Fatal(err)
	}
	no, err := os.ReadFile(filepath.Join(dir, "data/intents/no.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data/intents/yes.toml"), no, 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"check", "--flows", dir}, envOf(nil), nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "intent yes: precision") || !strings.Contains(err.Error(), "intent no: precision") {
		t.Fatalf("err = %v", err)
	}
}

// copyContent copies the shipped flows (with their data) and locales into a temporary folder,
// applying edit (file path relative to the repository → new content) on the way, and returns
// the arguments that make `hotline check` read the copy.
func copyContent(t *testing.T, edit func(path string, data []byte) []byte) []string {
	t.Helper()
	dir := t.TempDir()
	for _, root := range []string{"flows", "locales"} {
		err := filepath.WalkDir(filepath.Join("../..", root), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".toml") {
				return err
			}
			rel, _ := filepath.Rel("../..", path)
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if edit != nil {
				data = edit(filepath.ToSlash(rel), data)
			}
			os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755)
			return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return []string{"check", "--flows", filepath.Join(dir, "flows"), "--locales", filepath.Join(dir, "locales")}
}

// inLocales applies f to both message files.
func inLocales(f func(string) string) func(string, []byte) []byte {
	return func(path string, data []byte) []byte {
		if strings.HasPrefix(path, "locales/active.") {
			return []byte(f(string(data)))
		}
		return data
	}
}

// replaceLine replaces the message id's line in a message file.
func replaceLine(data, id, line string) string {
	return regexp.MustCompile(`(?m)^`+id+` = .*$`).ReplaceAllLiteralString(data, line)
}

// TestCheckFails: `hotline check` fails, saying which message and why, when a member message
// goes over the segment budget, when one place's data makes an answer too long, when a
// message does not render with the data it is given, when nothing says where a message's
// data comes from, and when a branch of a template is never rendered.
func TestCheckFails(t *testing.T) {
	long := strings.Repeat("Mensaje largo. ", 40)
	tests := []struct {
		name   string
		edit   func(path string, data []byte) []byte
		err    string
		output []string // lines of the table or the problems, each required
	}{
		{"a member message over budget", inLocales(func(d string) string {
			return replaceLine(d, "alerts_declined", `alerts_declined = "`+long+`"`)
		}), "1 member messages over the budget of 3 segments", []string{"alerts_declined         es    member", "OVER BUDGET (3)"}},
		{"one place's data makes the answer too long", func(path string, data []byte) []byte {
			if path != "flows/data/places.toml" {
				return data
			}
			// Sunland Park's Spanish policy, whichever its wording, made too long.
			i := strings.Index(string(data), `name = "Sunland Park"`)
			if i < 0 {
				t.Fatal("no Sunland Park in places.toml")
			}
			rest := regexp.MustCompile(`(?m)^policy_es = .*$`).ReplaceAllLiteralString(string(data[i:]), `policy_es = "`+long+`"`)
			if rest == string(data[i:]) {
				t.Fatal("no policy_es after Sunland Park")
			}
			return append(data[:i:i], rest...)
		}, "1 member messages over the budget", []string{"Sunland Park", "OVER BUDGET (4)"}},
		// Messages the Go code renders (no flow node says them, so the flow check cannot see
		// what data they get): a variable known elsewhere, but not given to this message.
		{"a message that does not render", inLocales(func(d string) string {
			return strings.Replace(d, `case_joined = "`, `case_joined = "{{.Pending}} `, 1)
		}), "fail to render", []string{"case_joined (es) with generic:", "a template variable has no value"}},
		{"a message whose data comes from nowhere known", inLocales(func(d string) string {
			return strings.Replace(d, `rate_limited = "`, `rate_limited = "{{.Areas}} `, 1)
		}), "fail to render", []string{`message "rate_limited" uses {{.Areas}}, and internal/content/samples.go does not say where its data comes from`}},
		{"an allowance for a message that has no budget", func(path string, data []byte) []byte {
			if path == "locales/segments.toml" {
				return append(data, "vol_page = 9\n"...)
			}
			return data
		}, `segments.toml: "vol_page" is not a member message`, nil},
		{"a branch never rendered", inLocales(func(d string) string {
			return strings.Replace(d, `policy_state_law = "{{.Law}}`, `policy_state_law = "{{if .Law}}{{.Law}}{{else}}-{{end}}`, 1)
		}), "leave a branch untried", []string{"policy_state_law (es): no sample data makes {{if .Law}} false"}},
		{"a branch of a comparison never rendered", inLocales(func(d string) string {
			return strings.Replace(d, `vol_claimed = "`, `vol_claimed = "{{if eq .N \"1\"}}1{{end}}`, 1)
		}), "leave a branch untried", []string{`vol_claimed (es): no sample data makes {{if eq .N "1"}} true`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), copyContent(t, tt.edit), envOf(nil), nil, &out, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want it to say %q", err, tt.err)
			}
			// Spacing is the table's, which widens with the longest message ID.
			squeezed := strings.Join(strings.Fields(out.String()), " ")
			for _, want := range tt.output {
				if !strings.Contains(squeezed, strings.Join(strings.Fields(want), " ")) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
	// The copy itself, unedited, passes: the failures above are the edits'.
	if err := run(context.Background(), copyContent(t, nil), envOf(nil), nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("the unedited copy fails: %v", err)
	}
}
