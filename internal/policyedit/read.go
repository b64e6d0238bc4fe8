package policyedit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/communityhotline/hotline/internal/places"
)

// Entries returns every county, city and place as it is in force on this process, in the
// file's order.
func (s *Service) Entries(ctx context.Context) ([]Entry, error) {
	s.mu.Lock()
	recs := s.records
	s.mu.Unlock()
	now := s.cfg.Now()
	var out []Entry
	for _, p := range s.cfg.Places.Places() {
		out = append(out, s.entry(p, recs, now))
	}
	return out, nil
}

// Entry returns one entry as it is in force, or ErrNotFound.
func (s *Service) Entry(ctx context.Context, id string) (Entry, error) {
	p, ok := s.cfg.Places.Get(id)
	if !ok {
		return Entry{}, fmt.Errorf("%q: %w", id, ErrNotFound)
	}
	s.mu.Lock()
	recs := s.records
	s.mu.Unlock()
	return s.entry(p, recs, s.cfg.Now()), nil
}

func (s *Service) entry(p *places.Place, recs map[string]record, now time.Time) Entry {
	e := Entry{ID: p.ID, Name: p.Name, Kind: p.Kind, County: p.County, Facts: p.Facts}
	if r, ok := recs[p.ID]; ok && r.facts() == e.Facts {
		e.Edited, e.EditedBy, e.EditedRole, e.EditedAt = true, r.ByName, r.Role, r.At
	}
	if t, err := time.Parse(time.DateOnly, p.Checked); err != nil || now.Sub(t) > s.cfg.StaleAfter {
		e.Stale = true
	}
	return e
}

// Changes returns up to limit lines of the change log, newest first.
func (s *Service) Changes(ctx context.Context, limit int) ([]ChangeRecord, error) {
	raws, err := s.cfg.Store.PolicyChanges(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ChangeRecord, 0, len(raws))
	for _, raw := range raws {
		var c ChangeRecord
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			s.cfg.Log.Error("a policy change log line does not decode", "err", err)
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// ExportTOML returns the places file with the corrections in force written into it, comments
// and all, read back and checked by the places loader before it is returned.
func (s *Service) ExportTOML(ctx context.Context) ([]byte, error) {
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	edits := make(map[string]places.Facts, len(s.records))
	for id, r := range s.records {
		edits[id] = r.facts()
	}
	s.mu.Unlock()
	return places.Export(s.cfg.Shipped, edits)
}
