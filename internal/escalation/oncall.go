package escalation

import (
	"context"
	"fmt"
	"strings"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
)

// SetOnCall puts volunteer volunteerID on call or off it for them (an organizer, in the
// console), as texting ON/ACTIVO or OFF/INACTIVO does: coming on call pages them for the cases
// already waiting for someone who speaks their language, so a toggle in the console and a text
// are one rule, not two. They did not ask by text, so they are texted what ON or OFF would
// have answered first: pages do not start, nor stop, unexplained.
func (s *Service) SetOnCall(ctx context.Context, volunteerID string, on bool) error {
	v, err := s.cfg.Store.Volunteer(ctx, volunteerID)
	if err != nil {
		return fmt.Errorf("reading volunteer %s: %w", volunteerID, err)
	}
	return s.setOnCall(ctx, v, on, true)
}

// setOnCall is the one place a volunteer's on-call flag changes, by SMS or the console; tell
// texts them onCallReply (by SMS it is the reply to their own ON or OFF instead).
func (s *Service) setOnCall(ctx context.Context, v hotline.VolunteerRecord, on, tell bool) error {
	if err := s.cfg.Store.SetOnCall(ctx, v, on); err != nil {
		return fmt.Errorf("setting volunteer %s on call=%v: %w", v.ID, on, err)
	}
	if tell {
		r := s.onCallReply(v, on)
		s.toVolunteer(ctx, s.cfg.Sender, v, r.ID, r.Data)
	}
	if on {
		s.pageWaiting(ctx, v)
	}
	return nil
}

// onCallReply is what a volunteer is told of their on-call state: the languages they will be
// paged for, or that they will not be.
func (s *Service) onCallReply(v hotline.VolunteerRecord, on bool) flow.Reply {
	if !on {
		return flow.Reply{ID: "vol_off"}
	}
	names := make([]string, len(v.Langs))
	for i, code := range v.Langs {
		names[i] = s.langName(code, v.Langs[0])
	}
	return flow.Reply{ID: "vol_on", Data: map[string]string{"Langs": strings.Join(names, ", ")}}
}
