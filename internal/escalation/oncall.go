package escalation

import (
	"context"
	"fmt"

	"github.com/communityhotline/hotline/internal/hotline"
)

// SetOnCall puts volunteer volunteerID on call or off it, as texting ON/ACTIVO or OFF/INACTIVO
// does: coming on call pages them for the cases already waiting for someone who speaks their
// language, so a toggle in the console and a text are one rule, not two.
func (s *Service) SetOnCall(ctx context.Context, volunteerID string, on bool) error {
	v, err := s.cfg.Store.Volunteer(ctx, volunteerID)
	if err != nil {
		return fmt.Errorf("reading volunteer %s: %w", volunteerID, err)
	}
	return s.setOnCall(ctx, v, on)
}

// setOnCall is the one place a volunteer's on-call flag changes, by SMS or the console.
func (s *Service) setOnCall(ctx context.Context, v hotline.VolunteerRecord, on bool) error {
	if err := s.cfg.Store.SetOnCall(ctx, v, on); err != nil {
		return fmt.Errorf("setting volunteer %s on call=%v: %w", v.ID, on, err)
	}
	if on {
		s.pageWaiting(ctx, v)
	}
	return nil
}
