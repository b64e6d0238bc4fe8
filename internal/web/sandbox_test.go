package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/redistest"
)

// The console's simulator talks to the real flows, but as nobody: what it writes lives under
// the sandbox's own prefix, so no member count, subscriber index or broadcast sees it, and
// asking for a person there pages no one.
func TestSandboxIsKeptApartFromMembers(t *testing.T) {
	s := startServer(t)
	before := map[string]bool{}
	for _, k := range redistest.Keys(t, s.rdb, s.prefix+":*") {
		before[k] = true
	}
	sandbox, err := s.app.Sandbox()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var all []string
	for i, text := range []string{"hola", "alertas", "bernalillo", "necesito hablar con una persona"} {
		reply, err := sandbox.Answer(ctx, hotline.Inbound{ID: "sbx-" + string(rune('a'+i)), Channel: "sandbox", From: "console-session-1", Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if len(reply.Texts) == 0 {
			t.Fatalf("%q got no reply", text)
		}
		all = append(all, reply.Texts...)
	}
	if !strings.Contains(strings.ToLower(strings.Join(all, " ")), "bernalillo") {
		t.Errorf("the sandbox did not run the real flows: %q", all)
	}
	for _, k := range redistest.Keys(t, s.rdb, s.prefix+":*") {
		if !before[k] && !strings.HasPrefix(k, s.prefix+":sandbox:") {
			t.Errorf("the sandbox wrote %s, outside its prefix", k)
		}
	}
	if open, err := s.store.OpenCases(ctx); err != nil || len(open) != 0 {
		t.Errorf("the sandbox opened cases: %v, %v", open, err)
	}
}
