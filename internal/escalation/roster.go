package escalation

import (
	"context"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/staff"
)

// Roster is the staff roster (internal/staff), kept in memory.
type Roster interface {
	// Organizers returns every organizer, for notices: from memory, so a notice needs no
	// Redis read per organizer and still goes while their keys' master fails over.
	Organizers(ctx context.Context) ([]hotline.OrganizerRecord, error)
}

// VolunteerView is a volunteer as the admin API shows them (staff.VolunteerView).
type VolunteerView = staff.VolunteerView

// ReopenVolunteerCases gives every case a volunteer holds back to everyone, at once: the
// volunteer is leaving the roster, and members must not be left talking to no one.
func (s *Service) ReopenVolunteerCases(ctx context.Context, volunteerID string) error {
	held, err := s.cfg.Store.VolunteerCases(ctx, volunteerID)
	if err != nil {
		return err
	}
	for _, n := range held {
		if err := s.cfg.Store.ReopenCase(ctx, n, volunteerID, s.cfg.Now()); err != nil {
			return err
		}
	}
	return nil
}

// CaseView is a case as the admin API shows it: no member id, address or message.
type CaseView struct {
	N           int64      `json:"n"`
	Kind        string     `json:"kind"`
	Urgent      bool       `json:"urgent"`
	Status      string     `json:"status"`
	Lang        string     `json:"lang"`
	Area        string     `json:"area,omitempty"`
	Volunteer   string     `json:"volunteer,omitempty"`
	Opened      time.Time  `json:"opened"`
	AgeS        int64      `json:"age_s"`
	Claimed     *time.Time `json:"claimed,omitempty"`
	TimeToClaim int64      `json:"time_to_claim_s,omitempty"`
	Paged       int64      `json:"paged"`
}

// Cases lists open and claimed cases, oldest first.
func (s *Service) Cases(ctx context.Context) ([]CaseView, error) {
	recs, err := s.cfg.Store.OpenCases(ctx)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	out := make([]CaseView, 0, len(recs))
	for _, c := range recs {
		v := CaseView{N: c.N, Kind: c.Kind, Urgent: c.Urgent, Status: c.Status, Lang: c.Lang, Area: c.Area,
			Volunteer: c.Volunteer, Opened: c.Opened, AgeS: int64(now.Sub(c.Opened).Seconds()), Paged: c.Paged}
		if !c.Claimed.IsZero() {
			claimed := c.Claimed
			v.Claimed, v.TimeToClaim = &claimed, int64(c.Claimed.Sub(c.Opened).Seconds())
		}
		out = append(out, v)
	}
	return out, nil
}
