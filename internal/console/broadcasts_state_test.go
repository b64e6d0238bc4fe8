package console

import (
	"testing"

	"github.com/communityhotline/hotline/internal/hotline"
)

func TestBroadcastButtons(t *testing.T) {
	draft := hotline.Broadcast{Status: hotline.Draft, CreatedBy: "olga"}
	approved := hotline.Broadcast{Status: hotline.Draft, CreatedBy: "olga", ApprovedBy: "bruno"}
	asked := hotline.Broadcast{Status: hotline.AwaitingApproval, CreatedBy: "olga", RequestedBy: "ana"}
	cases := []struct {
		name      string
		b         hotline.Broadcast
		approvals bool
		viewer    string
		want      bcButtons
	}{
		{"a draft, no approvals needed", draft, false, "olga", bcButtons{Send: true, Discard: true}},
		{"a draft, its creator, approvals on", draft, true, "olga", bcButtons{AskApproval: true, NeedsOther: true, Discard: true}},
		{"a draft, another organizer, approvals on", draft, true, "bruno", bcButtons{AskApproval: true, Approve: true, Discard: true}},
		{"an approved draft", approved, true, "olga", bcButtons{Send: true, Discard: true}},
		{"asked, by the one who asked", asked, true, "ana", bcButtons{NeedsOther: true, Discard: true}},
		{"asked, by its creator", asked, true, "olga", bcButtons{NeedsOther: true, Discard: true}},
		{"asked, a third organizer", asked, true, "bruno", bcButtons{Approve: true, Discard: true}},
		{"sending", hotline.Broadcast{Status: hotline.Sending}, true, "olga", bcButtons{Cancel: true}},
		{"done", hotline.Broadcast{Status: hotline.Done}, true, "olga", bcButtons{}},
		{"cancelled", hotline.Broadcast{Status: hotline.Canceled}, true, "olga", bcButtons{}},
	}
	for _, tc := range cases {
		if got := buttons(tc.b, tc.approvals, tc.viewer); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if bcState(approved) != "bc_status_approved" || bcState(draft) != "bc_status_draft" {
		t.Error("an approved draft and a draft are told apart in words")
	}
}

func TestProgressOf(t *testing.T) {
	b := hotline.Broadcast{Status: hotline.Sending, Counts: hotline.BroadcastCounts{Queued: 10, Sent: 5, Delivered: 3, Failed: 1, SkippedOptedOut: 2}}
	want := bcProgress{Status: "sending", Total: 10, Waiting: 2, Sent: 5, Delivered: 3, Failed: 1, Skipped: 2, Handled: 8}
	if got := progressOf(b); got != want {
		t.Errorf("%+v, want %+v", got, want)
	}
	// A redelivered message counted twice never shows more handled than queued.
	b = hotline.Broadcast{Status: hotline.Done, Counts: hotline.BroadcastCounts{Queued: 2, Sent: 3}}
	if got := progressOf(b); got.Handled != 2 || got.Waiting != 0 || !got.Done {
		t.Errorf("%+v", got)
	}
}
