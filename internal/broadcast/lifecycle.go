package broadcast

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/hotline"
)

// The approval rule, in one place for every channel (SMS, console, admin API, CLI):
// approving and sending are two steps. Creating a draft never sends. Sending it while
// approvals are required and nobody has approved it asks for approval (the broadcast awaits
// approval and the other organizers are asked); another organizer's approval then sends it.
// An approval given before anyone asked to send only marks it approved: it is sent when
// someone sends it.

// Object names broadcast id in the audit log.
func Object(id string) string { return "broadcast " + id }

// Notifier tells organizers what the approval rule needs them to know. The organizer package
// provides the one that texts them; the service calls it whatever channel the action came
// through, so an approval asked from the CLI reaches the organizers' phones too.
type Notifier interface {
	// ApprovalRequested asks the organizers who may approve b (neither its creator nor by,
	// who asked to send it) to approve it.
	ApprovalRequested(ctx context.Context, b hotline.Broadcast, by audit.Actor)
	// Approved tells whoever asked to send b, and its creator, that by approved it; b.Status
	// says whether it is now sending or waits for someone to send it.
	Approved(ctx context.Context, b hotline.Broadcast, by audit.Actor)
}

type nopNotifier struct{}

func (nopNotifier) ApprovalRequested(context.Context, hotline.Broadcast, audit.Actor) {}
func (nopNotifier) Approved(context.Context, hotline.Broadcast, audit.Actor)          {}

// SetNotifier sets who tells organizers about approvals. It is set once, while the hotline
// is wired and before it serves: the notifier needs the Service (area names, reach), so it
// cannot be built before it.
func (s *Service) SetNotifier(n Notifier) {
	if n == nil {
		n = nopNotifier{}
	}
	s.notifier = n
}

// Send sends broadcast id for by. While approvals are required and nobody has approved it,
// it asks for approval instead: the broadcast awaits approval and the organizers who may
// approve it are asked. It returns the broadcast as it now is, sending or awaiting
// approval; hotline.ErrWrongState when it is neither a draft nor approved.
func (s *Service) Send(ctx context.Context, id string, by audit.Actor) (hotline.Broadcast, error) {
	b, err := s.cfg.Store.Broadcast(ctx, id)
	if err != nil {
		return hotline.Broadcast{}, err
	}
	if s.cfg.Approvals && b.ApprovedBy == "" {
		err := s.cfg.Store.Transition(ctx, id, []hotline.BroadcastStatus{hotline.Draft}, hotline.AwaitingApproval, "",
			map[string]string{"requested_by": by.Ref()})
		if errors.Is(err, hotline.ErrApproved) {
			// Approved since it was read: it needs no approval now, so it goes.
			if b, err = s.cfg.Store.Broadcast(ctx, id); err != nil {
				return hotline.Broadcast{}, err
			}
			return s.start(ctx, b, by)
		}
		if err != nil {
			return hotline.Broadcast{}, err
		}
		s.cfg.Audit.Record(ctx, by.Entry("broadcast.send", Object(id), "approval requested"))
		b.Status, b.RequestedBy = hotline.AwaitingApproval, by.Ref()
		s.notifier.ApprovalRequested(ctx, b, by)
		return b, nil
	}
	return s.start(ctx, b, by)
}

// start freezes the recipients of draft b and queues it.
func (s *Service) start(ctx context.Context, b hotline.Broadcast, by audit.Actor) (hotline.Broadcast, error) {
	if err := s.cfg.Store.Transition(ctx, b.ID, []hotline.BroadcastStatus{hotline.Draft}, hotline.Sending, "", nil); err != nil {
		return hotline.Broadcast{}, err
	}
	var langs []string
	for _, lang := range s.cfg.Languages {
		if b.Text[lang] != "" {
			langs = append(langs, lang)
		}
	}
	if _, err := s.cfg.Store.StartSending(ctx, b.ID, b.Areas, langs, s.cfg.Now()); err != nil {
		// Nothing was queued: put it back to draft so that it can be sent again, rather than
		// leave it "sending" for ever.
		s.cfg.Store.Transition(context.WithoutCancel(ctx), b.ID, []hotline.BroadcastStatus{hotline.Sending}, hotline.Draft, "", nil)
		return hotline.Broadcast{}, fmt.Errorf("starting to send broadcast %s: %w", b.ID, err)
	}
	s.cfg.Audit.Record(ctx, by.Entry("broadcast.send", Object(b.ID), "sending started"))
	return s.cfg.Store.Broadcast(ctx, b.ID)
}

// Approve records by's approval of broadcast id. Neither its creator nor whoever asked to
// send it may approve it (hotline.ErrSameActor): approval is a second person's. If someone
// had asked to send it, it is sent now; otherwise it stays a draft, approved, until someone
// sends it. Whoever asked, and the creator, are told either way. It returns the broadcast as
// it now is; hotline.ErrWrongState when it was approved already or is past approving.
func (s *Service) Approve(ctx context.Context, id string, by audit.Actor) (hotline.Broadcast, error) {
	b, err := s.cfg.Store.Broadcast(ctx, id)
	if err != nil {
		return hotline.Broadcast{}, err
	}
	if b.ApprovedBy != "" {
		return hotline.Broadcast{}, fmt.Errorf("%w (approved already)", hotline.ErrWrongState)
	}
	if b.CreatedBy == by.Ref() || b.RequestedBy == by.Ref() {
		return hotline.Broadcast{}, hotline.ErrSameActor
	}
	fields := map[string]string{"approved_by": by.Ref()}
	// Asked to send: the approval is the last word, so it goes now. The status is checked and
	// changed in one step, so a request to send arriving meanwhile is either seen or refused.
	err = s.cfg.Store.Transition(ctx, id, []hotline.BroadcastStatus{hotline.AwaitingApproval}, hotline.Draft, by.Ref(), fields)
	requested := err == nil
	if errors.Is(err, hotline.ErrWrongState) {
		err = s.cfg.Store.Transition(ctx, id, []hotline.BroadcastStatus{hotline.Draft}, hotline.Draft, by.Ref(), fields)
	}
	if err != nil {
		return hotline.Broadcast{}, err
	}
	s.cfg.Audit.Record(ctx, by.Entry("broadcast.approve", Object(id), ""))
	if requested {
		b.Status, b.ApprovedBy = hotline.Draft, by.Ref()
		if b, err = s.start(ctx, b, by); err != nil {
			return hotline.Broadcast{}, err
		}
	} else if b, err = s.cfg.Store.Broadcast(ctx, id); err != nil {
		return hotline.Broadcast{}, err
	}
	s.notifier.Approved(ctx, b, by)
	return b, nil
}

// Cancel stops a broadcast that is not done; entries already queued are dropped by the
// workers unsent.
func (s *Service) Cancel(ctx context.Context, id string, by audit.Actor) error {
	return s.cancel(ctx, id, by, []hotline.BroadcastStatus{hotline.Draft, hotline.AwaitingApproval, hotline.Sending})
}

// Discard cancels a broadcast nobody has started sending (hotline.ErrWrongState once it is
// sending): what an organizer means by dropping a draft, which must never stop an alert
// already going out.
func (s *Service) Discard(ctx context.Context, id string, by audit.Actor) error {
	return s.cancel(ctx, id, by, []hotline.BroadcastStatus{hotline.Draft, hotline.AwaitingApproval})
}

func (s *Service) cancel(ctx context.Context, id string, by audit.Actor, from []hotline.BroadcastStatus) error {
	b, err := s.cfg.Store.Broadcast(ctx, id)
	if err != nil {
		return err
	}
	if err := s.cfg.Store.Transition(ctx, id, from, hotline.Canceled, "", nil); err != nil {
		return err
	}
	detail := "discarded"
	if !slices.Contains([]hotline.BroadcastStatus{hotline.Draft, hotline.AwaitingApproval}, b.Status) {
		detail = "stopped while " + string(b.Status)
	}
	s.cfg.Audit.Record(ctx, by.Entry("broadcast.cancel", Object(id), detail))
	// Stop queueing it and drop its frozen recipient lists, which hold member ids.
	return s.cfg.Store.StopBroadcast(ctx, id)
}
