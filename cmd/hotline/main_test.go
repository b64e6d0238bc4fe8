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
