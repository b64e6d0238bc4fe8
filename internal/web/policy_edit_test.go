package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/policyedit"
)

// askLuna asks the policy of Luna County as a new member would, in Spanish, and returns the
// answer.
func (s *hotlineServer) askLuna(from string) string {
	s.t.Helper()
	s.text(from, "hola")
	s.text(from, "2")
	return strings.Join(s.text(from, "condado de luna"), "\n")
}

// TestPolicyEditAnswersMembersAtOnce: an organizer's correction is what the next member who
// asks gets, on the process that took it and, through the announcement, on another process
// of the same deployment, well before its periodic reload.
func TestPolicyEditAnswersMembersAtOnce(t *testing.T) {
	s := startServer(t)
	other := s.restartEngine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go other.app.WatchPolicy(ctx)

	const newES = "Resoluciones de marzo de 2026: la carcel del condado no detiene a nadie para ICE sin orden de un juez."
	before := s.askLuna("+15055550301")
	if !strings.Contains(before, "Condado de Luna") || strings.Contains(before, newES) {
		t.Fatalf("before the edit: %s", before)
	}
	if got := other.askLuna("+15055550302"); got != before {
		t.Fatalf("the two processes answer differently before the edit:\n%s\n---\n%s", before, got)
	}
	// The other process listens before the edit is announced.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n, err := s.rdb.PubSubNumSub(ctx, s.prefix+":policy:changed").Result()
		if err == nil && n[s.prefix+":policy:changed"] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other process never subscribed to policy changes")
		}
	}

	svc := s.app.Policy()
	entry, err := svc.Entry(ctx, "luna-county")
	if err != nil {
		t.Fatal(err)
	}
	ch := policyedit.ChangeOf(entry)
	ch.PolicyES = newES
	ch.PolicyEN = "Resolution of March 2026: the county jail holds no one for ICE without a judge's order."
	ch.PolicyDate, ch.Source, ch.SourceURL, ch.Verified = "2026-03", "Deming Headlight 2026", "https://www.demingheadlight.com/", true
	actor := policyedit.Actor{ID: "organizer:o1", Name: "Ana", Role: "organizer", Via: "console"}
	// A refused edit changes nothing members read.
	bad := ch
	bad.SourceURL = ""
	if _, err := svc.Edit(ctx, actor, "luna-county", bad); err == nil {
		t.Fatal("an edit without a source address was taken")
	}
	if got := s.askLuna("+15055550303"); got != before {
		t.Fatalf("a refused edit changed the answer:\n%s", got)
	}
	edited, err := svc.Edit(ctx, actor, "luna-county", ch)
	if err != nil {
		t.Fatal(err)
	}
	// The answer says the month of the check, today's, in words.
	day, err := time.Parse(time.DateOnly, edited.Checked)
	if err != nil {
		t.Fatal(err)
	}
	checked := "Revisado en " + map[time.Month]string{1: "enero", 2: "febrero", 3: "marzo", 4: "abril", 5: "mayo", 6: "junio",
		7: "julio", 8: "agosto", 9: "septiembre", 10: "octubre", 11: "noviembre", 12: "diciembre"}[day.Month()] +
		" de " + day.Format("2006")

	after := s.askLuna("+15055550304")
	if !strings.Contains(after, newES) || !strings.Contains(after, checked) || strings.Contains(after, "No hemos confirmado") {
		t.Errorf("the same process answers, after the edit:\n%s\nwant the new text and %q", after, checked)
	}
	for i, deadline := 0, time.Now().Add(3*time.Second); ; i++ {
		got := other.askLuna(fmt.Sprintf("+150555504%02d", i%100))
		if strings.Contains(got, newES) && strings.Contains(got, checked) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other process still answers, 3 s after the edit:\n%s", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
