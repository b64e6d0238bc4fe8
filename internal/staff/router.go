package staff

import (
	"context"
	"fmt"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// OrganizerCommands answers an organizer's SMS (internal/organizer).
type OrganizerCommands interface {
	Answer(ctx context.Context, org hotline.OrganizerRecord, in hotline.Inbound) ([]string, error)
}

// VolunteerCommands answers a volunteer's SMS (internal/escalation).
type VolunteerCommands interface {
	Command(ctx context.Context, v hotline.VolunteerRecord, in hotline.Inbound) ([]string, error)
}

// Router is the one place an inbound message is told to be staff's or a member's, before
// anything else reads it: an organizer's goes to the organizer commands, a volunteer's to the
// volunteer commands, anyone else's to the members' engine. The message's member id is
// computed here, once, and travels with it.
//
// Staff are known by their SMS phone and, once they have linked it (Linker), by their
// WhatsApp address: one person, one role, whatever the channel.
type Router struct {
	Keys       *privacy.Keys
	Roster     *Roster
	Organizers OrganizerCommands
	Volunteers VolunteerCommands
	Members    hotline.Answerer
	// Links answers the WhatsApp messages that link an address to a person on the team; nil:
	// none are linked here, and only addresses linked already reach staff commands.
	Links *Linker
}

// Answer implements hotline.Answerer. A call is always a member's: a caller's number proves
// nothing (it is easily spoofed), so no staff command is taken by voice.
func (r Router) Answer(ctx context.Context, in hotline.Inbound) (hotline.Reply, error) {
	if in.MemberID == "" {
		in.MemberID = r.Keys.MemberID(in.Channel, in.From)
	}
	if in.Channel == hotline.Voice {
		return r.Members.Answer(ctx, in)
	}
	s, err := r.Roster.snapshot(ctx)
	if err != nil {
		// No roster was ever read: staff's words must not reach the member menus, so the
		// message fails (the member gets the fallback; it is spooled and replayed).
		return hotline.Reply{}, fmt.Errorf("telling staff from members: %w", err)
	}
	organizers, volunteers := s.organizers, s.volunteers
	if in.Channel == hotline.WhatsApp {
		organizers, volunteers = s.organizersWA, s.volunteersWA
		_, org := organizers[in.MemberID]
		_, vol := volunteers[in.MemberID]
		if (org || vol) && r.Links != nil {
			// The code that linked this address, delivered again: not a command.
			if reply, handled, err := r.Links.Retried(ctx, in); handled || err != nil {
				return reply, err
			}
		}
	}
	if o, ok := organizers[in.MemberID]; ok {
		texts, err := r.Organizers.Answer(ctx, o, in)
		return hotline.Reply{Texts: texts}, err
	}
	if v, ok := volunteers[in.MemberID]; ok {
		texts, err := r.Volunteers.Command(ctx, v, in)
		return hotline.Reply{Texts: texts}, err
	}
	if in.Channel == hotline.WhatsApp && r.Links != nil {
		// Not linked: a member, unless the message is about linking.
		if reply, handled, err := r.Links.Answer(ctx, in); handled || err != nil {
			return reply, err
		}
	}
	return r.Members.Answer(ctx, in)
}
