package console

import "github.com/communityhotline/hotline/internal/hotline"

// This file is the broadcasts pages' pure logic: the state a broadcast is in, in the words
// the page uses, and which buttons that state allows. The service decides again on every
// POST; these only keep the page from offering what it would refuse.

// bcState is the message id of a broadcast's state in words. A draft another organizer has
// approved is "approved": it waits for someone to send it.
func bcState(b hotline.Broadcast) string {
	switch b.Status {
	case hotline.Draft:
		if b.ApprovedBy != "" {
			return "bc_status_approved"
		}
		return "bc_status_draft"
	case hotline.AwaitingApproval:
		return "bc_status_awaiting_approval"
	case hotline.Sending:
		return "bc_status_sending"
	case hotline.Done:
		return "bc_status_done"
	case hotline.Canceled:
		return "bc_status_canceled"
	}
	return "bc_status_unknown"
}

// bcButtons are the actions a page offers for a broadcast.
type bcButtons struct {
	// Send sends it; AskApproval is the same POST while approvals are required and nobody
	// has approved it (lifecycle.go: it then waits for another organizer).
	Send, AskApproval bool
	// Approve is offered to an organizer other than its creator and whoever asked to send it.
	Approve bool
	// NeedsOther says the viewer may not approve it: another organizer must.
	NeedsOther bool
	// Discard drops it before sending; Cancel stops it while sending.
	Discard, Cancel bool
}

// buttons returns what viewer (an audit.Actor's Ref) may do with b, approvals required or not.
func buttons(b hotline.Broadcast, approvals bool, viewer string) bcButtons {
	var out bcButtons
	own := viewer == b.CreatedBy || viewer == b.RequestedBy
	needsApproval := approvals && b.ApprovedBy == ""
	switch b.Status {
	case hotline.Draft:
		out.Discard = true
		out.Send = !needsApproval
		out.AskApproval = needsApproval
		out.Approve = needsApproval && !own
		out.NeedsOther = needsApproval && own
	case hotline.AwaitingApproval:
		out.Discard = true
		out.Approve = !own
		out.NeedsOther = own
	case hotline.Sending:
		out.Cancel = true
	}
	return out
}

// bcProgress is how far a sending broadcast has got: counts only, never who.
type bcProgress struct {
	Status string `json:"status"`
	// Total is how many messages were queued when sending began.
	Total int64 `json:"total"`
	// Waiting is how many are still to go: Total less those sent, failed or skipped.
	Waiting   int64 `json:"queued"`
	Sent      int64 `json:"sent"`
	Delivered int64 `json:"delivered"`
	Failed    int64 `json:"failed"`
	Skipped   int64 `json:"skipped"`
	// Handled is sent + failed + skipped, the <progress> element's value.
	Handled int64 `json:"handled"`
	Done    bool  `json:"done"`
}

// progressOf is b's progress. Delivered is known only when Twilio reports it (status
// callbacks); it is part of Sent.
func progressOf(b hotline.Broadcast) bcProgress {
	c := b.Counts
	p := bcProgress{Status: string(b.Status), Total: c.Queued, Sent: c.Sent, Delivered: c.Delivered,
		Failed: c.Failed, Skipped: c.SkippedOptedOut,
		Done: b.Status == hotline.Done || b.Status == hotline.Canceled}
	p.Handled = c.Sent + c.Failed + c.SkippedOptedOut
	p.Waiting = max(0, p.Total-p.Handled)
	if p.Handled > p.Total {
		p.Handled = p.Total
	}
	return p
}
