package escalation

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/redistest"
)

// TestSetOnCallPagesWaitingCases: putting a volunteer on call from the console pages them for
// the case already waiting, as texting ON does; off call, the flag is cleared and nothing is sent.
func TestSetOnCallPagesWaitingCases(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := redistest.Open(t)
	store, _ := redisstore.New(rdb, prefix, 0)
	keys, _ := privacy.NewKeys("test-secret-0123456789")
	sender := &recordingSender{}
	s := New(Config{Store: store, Keys: keys, Members: noMembers{}, Sender: sender, Renderer: idRenderer{},
		Languages: []string{"es", "en"}, Timeout: 10 * time.Minute})
	v, err := roster(s).AddVolunteer(ctx, audit.Admin(audit.ViaCLI), "Ana", "+15055550701", []string{"es"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := handle(ctx, s, "member1", "+15055550601", "es", []flow.Effect{actions.OpenCase{Kind: "person", Text: "ayuda"}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := sender.to("+15055550701"); len(got) != 0 {
		t.Fatalf("a volunteer off call was paged: %q", got)
	}
	if err := s.SetOnCall(ctx, v.ID, true); err != nil {
		t.Fatal(err)
	}
	// Told first (they did not text ON themselves), then paged for the waiting case.
	if got := sender.to("+15055550701"); len(got) != 2 || !strings.HasPrefix(got[0], "vol_on[es]") || !strings.HasPrefix(got[1], "vol_page[es] N=1") {
		t.Fatalf("coming on call sent %q, want vol_on then the page for the waiting case 1", got)
	}
	if rec, _ := store.Volunteer(ctx, v.ID); !rec.OnCall {
		t.Error("the volunteer is not on call")
	}
	if err := s.SetOnCall(ctx, v.ID, false); err != nil {
		t.Fatal(err)
	}
	if rec, _ := store.Volunteer(ctx, v.ID); rec.OnCall {
		t.Error("the volunteer is still on call")
	}
	if got := sender.to("+15055550701"); len(got) != 3 || !strings.HasPrefix(got[2], "vol_off[es]") {
		t.Errorf("going off call sent %q, want vol_off last", got)
	}
	if err := s.SetOnCall(ctx, "nobody", true); err == nil {
		t.Error("SetOnCall of an unknown volunteer succeeded")
	}
}
