package console

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/communityhotline/hotline/internal/staff"
)

// overviewData is the overview page: counts only.
type overviewData struct {
	Overview
	// Stale is how many policy entries were last checked more than StaleDays ago.
	Stale, StaleDays int
}

// handleOverview is an organizer's home. A volunteer's home is their cases.
func (s *server) handleOverview(w http.ResponseWriter, r *http.Request, rq *request) error {
	if rq.Session.Role == staff.RoleVolunteer {
		http.Redirect(w, r, "/console/cases", http.StatusSeeOther)
		return nil
	}
	o, err := s.cfg.Stats.Overview(r.Context())
	if err != nil {
		return err
	}
	sortCases(o.Cases)
	stale, err := s.stale(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, rq, http.StatusOK, "overview", overviewData{Overview: o, Stale: stale, StaleDays: s.cfg.StaleDays})
	return nil
}

// sortCases puts urgent cases first, then the oldest.
func sortCases(cs []CaseAge) {
	slices.SortStableFunc(cs, func(a, b CaseAge) int {
		if a.Urgent != b.Urgent {
			if a.Urgent {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.Age, a.Age)
	})
}

func (s *server) stale(ctx context.Context) (int, error) {
	if s.cfg.Policies == nil {
		return 0, nil
	}
	checks, err := s.cfg.Policies(ctx)
	if err != nil {
		return 0, err
	}
	return staleCount(checks, s.cfg.Now(), s.cfg.StaleDays), nil
}

// staleCount counts the entries checked more than days ago, or never (no or a bad date).
func staleCount(checks []PolicyCheck, now time.Time, days int) int {
	limit := now.AddDate(0, 0, -days)
	n := 0
	for _, c := range checks {
		at, err := time.Parse(time.DateOnly, c.Checked)
		if err != nil || at.Before(limit) {
			n++
		}
	}
	return n
}

// AgeMinutes is a case's age in whole minutes, for the page.
func (c CaseAge) AgeMinutes() int { return int(c.Age / time.Minute) }
