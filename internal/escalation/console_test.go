package escalation

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/redistest"
)

// consoleFixture is a service with two volunteers, Ana and Ben, and a recorder of what it sent.
type consoleFixture struct {
	s        *Service
	store    *redisstore.Store
	sent     *recordingSender
	ana, ben hotline.VolunteerRecord
	now      time.Time
}

func newConsoleFixture(t *testing.T) *consoleFixture {
	t.Helper()
	ctx := context.Background()
	rdb, prefix := redistest.Open(t)
	store, _ := redisstore.New(rdb, prefix, 0)
	keys, _ := privacy.NewKeys("test-secret-0123456789")
	f := &consoleFixture{store: store, sent: &recordingSender{}, now: time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)}
	f.s = New(Config{Store: store, Keys: keys, Members: noMembers{}, Sender: f.sent, Renderer: idRenderer{},
		Languages: []string{"es", "en"}, Now: func() time.Time { return f.now }})
	for _, v := range []struct{ name, phone string }{{"Ana Uno", "+15055550701"}, {"Ben Dos", "+15055550702"}} {
		if _, err := roster(f.s).AddVolunteer(ctx, audit.Admin(audit.ViaCLI), v.name, v.phone, []string{"es"}); err != nil {
			t.Fatal(err)
		}
	}
	vols, _ := store.Volunteers(ctx)
	for _, v := range vols {
		if strings.HasPrefix(v.Name, "Ana") {
			f.ana = v
		} else {
			f.ben = v
		}
	}
	return f
}

// TestConsoleAndSMSRepliesAreOneConversation: a claim race has one winner; only the holder
// may reply; a reply texted as "#n …" and one typed in the console both reach the member from
// the hotline's number and stand in one transcript, in order, with their writer and time.
func TestConsoleAndSMSRepliesAreOneConversation(t *testing.T) {
	ctx := context.Background()
	f := newConsoleFixture(t)
	if _, err := handle(ctx, f.s, "member1", "+15055550601", "es", []flow.Effect{actions.OpenCase{Kind: "person", Text: "ayuda"}}, nil); err != nil {
		t.Fatal(err)
	}
	if r, err := f.s.Claim(ctx, f.ana, 1, audit.ViaConsole); err != nil || r.Outcome != Done {
		t.Fatalf("Ana's claim: %+v %v", r, err)
	}
	if r, _ := f.s.Claim(ctx, f.ben, 1, audit.ViaConsole); r.Outcome != Taken {
		t.Errorf("Ben's claim of Ana's case: %+v, want taken", r)
	}
	if r, _ := f.s.Reply(ctx, f.ben, 1, "soy Ben"); r.Outcome != NoCase {
		t.Errorf("Ben replying to Ana's case: %+v, want no_case", r)
	}
	f.now = f.now.Add(time.Minute)
	if _, err := f.s.Command(ctx, f.ana, hotline.Inbound{ID: "SMvol1", Text: "#1 hola por SMS"}); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(time.Minute)
	if r, err := f.s.Reply(ctx, f.ana, 1, "hola por la consola"); err != nil || r.Outcome != Done {
		t.Fatalf("Ana's console reply: %+v %v", r, err)
	}
	got := f.sent.to("+15055550601")
	if !slices.Contains(got, "hola por SMS") || !slices.Contains(got, "hola por la consola") || slices.Contains(got, "soy Ben") {
		t.Errorf("the member received %q", got)
	}
	d, err := f.s.CaseDetail(ctx, 1, "en")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range d.Lines {
		lines = append(lines, l.Who+"|"+l.Name+"|"+l.Text+"|"+l.At.UTC().Format("15:04"))
	}
	want := []string{"member||ayuda|15:00", "volunteer|Ana Uno|hola por SMS|15:01", "volunteer|Ana Uno|hola por la consola|15:02"}
	if !slices.Equal(lines, want) {
		t.Errorf("transcript %q, want %q", lines, want)
	}
	if r, _ := f.s.Close(ctx, f.ben, 1, audit.ViaConsole); r.Outcome != NoCase {
		t.Errorf("Ben closing Ana's case: %+v", r)
	}
	if r, _ := f.s.Close(ctx, f.ana, 1, audit.ViaConsole); r.Outcome != Done {
		t.Errorf("Ana closing her case: %+v", r)
	}
	if d, _ := f.s.CaseDetail(ctx, 1, "en"); d.Status != hotline.CaseClosed || len(d.Lines) != 0 {
		t.Errorf("closed case shows %d lines (status %s)", len(d.Lines), d.Status)
	}
}

// TestConsoleVerdictClaimFirst: a report is claimed before it is judged; the note stays in
// the report; a report without an area is verified with no draft.
func TestConsoleVerdictClaimFirst(t *testing.T) {
	ctx := context.Background()
	f := newConsoleFixture(t)
	report := actions.OpenCase{Kind: "report", Report: map[string]string{"what": "retén", "where": "Central y 4", "when": "ahora"}}
	for i := range 2 {
		if _, err := handle(ctx, f.s, "member"+string(rune('1'+i)), "+1505555060"+string(rune('1'+i)), "es", []flow.Effect{report}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if r, _ := f.s.Verdict(ctx, f.ana, 1, false, "no es cierto", audit.ViaConsole); r.Outcome != ClaimFirst {
		t.Errorf("verdict before a claim: %+v", r)
	}
	f.s.Claim(ctx, f.ana, 1, audit.ViaConsole)
	d, _ := f.s.CaseDetail(ctx, 1, "en")
	if d.What != "retén" || d.Where != "Central y 4" || d.When != "ahora" {
		t.Errorf("report fields %q %q %q", d.What, d.Where, d.When)
	}
	if r, _ := f.s.Verdict(ctx, f.ben, 1, false, "", audit.ViaConsole); r.Outcome != Taken {
		t.Errorf("Ben judging Ana's report: %+v", r)
	}
	if r, err := f.s.Verdict(ctx, f.ana, 1, false, "  nadie lo vio ", audit.ViaConsole); err != nil || r.Outcome != Done {
		t.Fatalf("false: %+v %v", r, err)
	}
	if d, _ := f.s.CaseDetail(ctx, 1, "en"); d.Verdict != "false" || d.Status != hotline.CaseClosed {
		t.Errorf("after FALSE: %+v", d.CaseSummary)
	}
	f.s.Claim(ctx, f.ana, 2, audit.ViaConsole)
	if r, _ := f.s.Verdict(ctx, f.ana, 2, true, "", audit.ViaConsole); r.Outcome != NoArea || r.Draft != "" {
		t.Errorf("verifying a report without an area: %+v", r)
	}
}

func TestParseLine(t *testing.T) {
	at := time.Unix(1780000000, 0)
	for _, c := range []struct {
		plain string
		want  Line
	}{
		{"member: hola: qué tal", Line{Who: "member", Text: "hola: qué tal"}},
		{"volunteer: ok", Line{Who: "volunteer", Text: "ok"}},
		{formatLine("member", at, "a | b | c"), Line{Who: "member", At: at, Text: "a | b | c"}},
		{formatLine(volunteerLine("v9"), at, "voy"), Line{Who: "volunteer", Volunteer: "v9", At: at, Text: "voy"}},
		{formatLine(draftLine("b3"), at, ""), Line{Who: "system", Draft: "b3", At: at}},
		{"sin hablante", Line{Who: "member", Text: "sin hablante"}},
	} {
		if got := parseLine(c.plain); got != c.want {
			t.Errorf("parseLine(%q) = %+v, want %+v", c.plain, got, c.want)
		}
	}
}
