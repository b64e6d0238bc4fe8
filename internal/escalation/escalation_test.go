package escalation

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/effects"
	"github.com/communityhotline/hotline/internal/staff"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

type recordingSender struct {
	mu   sync.Mutex
	sent []hotline.Outbound
}

func (r *recordingSender) Send(_ context.Context, m hotline.Outbound) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, m)
	return fmt.Sprintf("SM%d", len(r.sent)), nil
}

func (r *recordingSender) to(addr string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.sent {
		if m.To == addr {
			out = append(out, m.Body)
		}
	}
	return out
}

// idRenderer renders a message as its ID and sorted data, so tests can read what was sent.
type idRenderer struct{}

func (idRenderer) Render(lang string, rs []flow.Reply) ([]string, error) {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = fmt.Sprintf("%s[%s] N=%s Urgent=%s", r.ID, lang, r.Data["N"], r.Data["Urgent"])
	}
	return out, nil
}

// newQuietService is a Service on a real Redis that renders messages as their ids and sends
// to a recorder nobody reads, with its store.
func newQuietService(t *testing.T) (*Service, *redisstore.Store) {
	rdb, prefix := redistest.Open(t)
	store, _ := redisstore.New(rdb, prefix, 0)
	keys, _ := privacy.NewKeys("test-secret-0123456789")
	return New(Config{Store: store, Keys: keys, Members: noMembers{}, Sender: &recordingSender{}, Renderer: idRenderer{},
		Languages: []string{"es", "en"}, Timeout: 10 * time.Minute}), store
}

var jobSeq atomic.Int64

// handle runs a job of a member's message at once, sending through the service's sender.
func handle(ctx context.Context, s *Service, member, from, lang string, fx []flow.Effect, replies []flow.Reply) ([]flow.Reply, error) {
	job := effects.Job{Member: member, Msg: fmt.Sprintf("SMjob%d", jobSeq.Add(1)), From: from, Lang: lang, Effects: fx, Replies: replies}
	return s.HandleJob(ctx, job, s.cfg.Sender)
}

type noMembers struct{}

func (noMembers) Update(context.Context, string, func(*flow.State) bool) error { return nil }
func (noMembers) State(context.Context, string) (flow.State, error)            { return flow.State{}, nil }
func (noMembers) Create(context.Context, string, flow.State) error             { return nil }

// TestUnclaimedCaseIsRepaged uses an injected clock: a Spanish case pages the Spanish
// volunteer; after the timeout every volunteer on call is paged, once.
func TestUnclaimedCaseIsRepaged(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Open(t)
	store, err := redisstore.New(rdb, prefix, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := privacy.NewKeys("test-secret-0123456789")
	sender := &recordingSender{}
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	s := New(Config{Store: store, Keys: keys, Members: noMembers{}, Sender: sender, Renderer: idRenderer{},
		Languages: []string{"es", "en"}, Timeout: 10 * time.Minute, Now: func() time.Time { return now }})
	for _, v := range []struct{ name, phone, lang string }{{"Ana", "+15055550701", "es"}, {"Ben", "+15055550702", "en"}} {
		if _, err := roster(s).AddVolunteer(ctx, audit.Admin(audit.ViaCLI), v.name, v.phone, []string{v.lang}); err != nil {
			t.Fatal(err)
		}
	}
	vols, _ := store.Volunteers(ctx)
	for _, v := range vols {
		store.SetOnCall(ctx, v, true)
	}
	_, err = handle(ctx, s, "member1", "+15055550601", "es", []flow.Effect{actions.OpenCase{Kind: "person", Text: "ayuda"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := sender.to("+15055550701"); len(got) != 1 || !strings.HasPrefix(got[0], "vol_page[es] N=1") {
		t.Fatalf("Spanish volunteer got %q", got)
	}
	if got := sender.to("+15055550702"); len(got) != 0 {
		t.Fatalf("English volunteer paged early: %q", got)
	}

	now = now.Add(9 * time.Minute)
	s.RepageDue(ctx)
	if got := sender.to("+15055550702"); len(got) != 0 {
		t.Fatalf("re-paged before the timeout: %q", got)
	}
	now = now.Add(2 * time.Minute)
	s.RepageDue(ctx)
	s.RepageDue(ctx) // a second process at the same moment must not page again
	if got := sender.to("+15055550702"); len(got) != 1 || !strings.HasPrefix(got[0], "vol_page[en] N=1") {
		t.Errorf("after the timeout the English volunteer got %q", got)
	}
	if got := sender.to("+15055550701"); len(got) != 2 {
		t.Errorf("after the timeout the Spanish volunteer got %q", got)
	}
	c, _ := store.Case(ctx, 1)
	if c.Paged != 2 {
		t.Errorf("paged = %d, want 2", c.Paged)
	}
}

// TestRemovedVolunteersCasesArePagedAgain: a volunteer removed from the roster leaves no
// member talking to no one: their cases are open again and paged at once.
func TestRemovedVolunteersCasesArePagedAgain(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Open(t)
	store, _ := redisstore.New(rdb, prefix, 0)
	keys, _ := privacy.NewKeys("test-secret-0123456789")
	sender := &recordingSender{}
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	s := New(Config{Store: store, Keys: keys, Members: noMembers{}, Sender: sender, Renderer: idRenderer{},
		Languages: []string{"es", "en"}, Timeout: 10 * time.Minute, Now: func() time.Time { return now }})
	a, _ := roster(s).AddVolunteer(ctx, audit.Admin(audit.ViaCLI), "Ana", "+15055550701", []string{"es"})
	b, _ := roster(s).AddVolunteer(ctx, audit.Admin(audit.ViaCLI), "Bea", "+15055550702", []string{"es"})
	va, _ := store.Volunteer(ctx, a.ID)
	store.SetOnCall(ctx, va, true)
	handle(ctx, s, "member1", "+15055550601", "es", []flow.Effect{actions.OpenCase{Kind: "person", Text: "ayuda"}}, nil)
	if won, _, _ := store.ClaimCase(ctx, 1, a.ID, now); !won {
		t.Fatal("claim failed")
	}
	vb, _ := store.Volunteer(ctx, b.ID)
	store.SetOnCall(ctx, vb, true)
	if err := roster(s).RemoveVolunteer(ctx, audit.Admin(audit.ViaCLI), a.ID); err != nil {
		t.Fatal(err)
	}
	s.RepageDue(ctx)
	if got := sender.to("+15055550702"); len(got) != 1 || !strings.HasPrefix(got[0], "vol_page[es] N=1") {
		t.Errorf("after removing Ana, Bea got %q", got)
	}
	if c, _ := store.Case(ctx, 1); c.Status != hotline.CaseOpen || c.Volunteer != "" {
		t.Errorf("case = %+v", c)
	}
}

// TestOpeningRepliesAgree: the step's "we are finding a volunteer" stands when someone on
// call was paged; with nobody on call, "nobody is free now" takes its place, rather than
// following it and contradicting it (issue 11).
func TestOpeningRepliesAgree(t *testing.T) {
	ctx := context.Background()
	s, store := newQuietService(t)
	stepSaid := []flow.Reply{{ID: "case_opened"}}
	open := []flow.Effect{actions.OpenCase{Kind: "person"}}
	ids := func(rs []flow.Reply) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return strings.Join(out, " ")
	}
	got, err := handle(ctx, s, "member1", "+15055550601", "es", open, stepSaid)
	if err != nil {
		t.Fatal(err)
	}
	if ids(got) != "case_nobody" {
		t.Errorf("nobody on call: replies %q, want case_nobody alone", ids(got))
	}
	if ids(stepSaid) != "case_opened" {
		t.Errorf("the step's own replies were changed in place: %q", ids(stepSaid))
	}
	v, _ := roster(s).AddVolunteer(ctx, audit.Admin(audit.ViaCLI), "Ana", "+15055550701", []string{"es"})
	rec, _ := store.Volunteer(ctx, v.ID)
	store.SetOnCall(ctx, rec, true)
	got, err = handle(ctx, s, "member2", "+15055550602", "es", open, stepSaid)
	if err != nil {
		t.Fatal(err)
	}
	if ids(got) != "case_opened" {
		t.Errorf("a volunteer on call: replies %q, want case_opened alone", ids(got))
	}
}

// TestJobRunTwiceChangesNothingMore: a job re-run after a crash (the same member and message)
// opens no second case, writes the member's words once, and sends exactly what the first run
// sent (the queue sends each once); an urgent job re-run still pages everyone, as the first
// run it stands in for would have.
func TestJobRunTwiceChangesNothingMore(t *testing.T) {
	ctx := context.Background()
	s, store := newQuietService(t)
	for _, v := range []struct{ name, phone, lang string }{{"Ana", "+15055550701", "es"}, {"Ben", "+15055550702", "en"}} {
		a, _ := roster(s).AddVolunteer(ctx, audit.Admin(audit.ViaCLI), v.name, v.phone, []string{v.lang})
		rec, _ := store.Volunteer(ctx, a.ID)
		store.SetOnCall(ctx, rec, true)
	}
	run := func(job effects.Job) ([]string, []flow.Reply) {
		t.Helper()
		out := &recordingSender{}
		replies, err := s.HandleJob(ctx, job, out)
		if err != nil {
			t.Fatal(err)
		}
		var sent []string
		for _, m := range out.sent {
			sent = append(sent, m.To+" "+m.Body)
		}
		return sent, replies
	}
	open := effects.Job{Member: "member1", Msg: "SM1", From: "+15055550601", Lang: "es",
		Effects: []flow.Effect{actions.OpenCase{Kind: "person", Text: "ayuda"}}, Replies: []flow.Reply{{ID: "case_opened"}}}
	first, r1 := run(open)
	again, r2 := run(open)
	if len(first) != 1 || !slices.Equal(first, again) || !reflect.DeepEqual(r1, r2) {
		t.Fatalf("first run sent %q, replied %v; again %q, %v", first, r1, again, r2)
	}
	if cs, _ := store.OpenCases(ctx); len(cs) != 1 {
		t.Fatalf("%d cases open, want 1", len(cs))
	}
	if lines, _ := store.Transcript(ctx, 1); len(lines) != 1 {
		t.Errorf("the member's words written %d times", len(lines))
	}
	urgent := effects.Job{Member: "member1", Msg: "SM2", From: "+15055550601", Lang: "es",
		Effects: []flow.Effect{actions.UrgentCase{Case: 1, Text: "la migra", Situation: "home"}}}
	first, r1 = run(urgent)
	again, r2 = run(urgent)
	if len(first) != 2 || !slices.Equal(first, again) || !reflect.DeepEqual(r1, r2) {
		t.Errorf("urgent: first run sent %q, replied %v; again %q, %v", first, r1, again, r2)
	}
	// Another message's danger words do not page again.
	other, _ := run(effects.Job{Member: "member1", Msg: "SM3", Lang: "es",
		Effects: []flow.Effect{actions.UrgentCase{Case: 1, Text: "ayuda", Situation: "home"}}})
	if len(other) != 0 {
		t.Errorf("a later message paged again: %q", other)
	}
}

// roster is the staff directory over s's store, as the app wires it.
func roster(s *Service) *staff.Directory {
	return staff.NewDirectory(staff.DirectoryConfig{Store: s.cfg.Store.(staff.DirectoryStore), Keys: s.cfg.Keys,
		Languages: s.cfg.Languages, OnVolunteerRemoved: s.ReopenVolunteerCases})
}
