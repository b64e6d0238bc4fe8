package policyedit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/communityhotline/hotline/internal/places"
)

// Reload reads the corrections from the store and lays those in force over the places data
// members read. It runs at start, when another process announces a correction, and every
// little while in case an announcement was missed. A correction that no longer passes the
// rules, or that the shipped file supersedes, is left out (and logged); the others apply.
func (s *Service) Reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw, err := s.cfg.Store.PolicyEdits(ctx)
	if err != nil {
		return fmt.Errorf("policy edits: %w", err)
	}
	if s.raw != nil && maps.Equal(raw, s.raw) {
		return nil // nothing changed: no need to rebuild the index
	}
	recs := s.inForce(raw)
	facts := make(map[string]places.Facts, len(recs))
	for id, r := range recs {
		facts[id] = r.facts()
	}
	if err := s.cfg.Places.Overlay(facts); err != nil {
		var ve *places.ValidationError
		if !errors.As(err, &ve) {
			return fmt.Errorf("policy edits: %w", err)
		}
		for _, p := range ve.Problems {
			s.cfg.Log.Warn("a policy correction is not in force: it breaks the places file's rules", "entry", p.Entry, "problem", p.Msg)
			delete(recs, placeID(p.Entry))
		}
	}
	s.raw, s.records = raw, recs
	return nil
}

// inForce decodes the stored corrections and keeps those the shipped file does not
// supersede: one whose entry the file has checked later than the correction (the export
// committed and reviewed since, or a newer fact written into the file) gives way to the file.
func (s *Service) inForce(raw map[string]string) map[string]record {
	recs := make(map[string]record, len(raw))
	for id, v := range raw {
		r, err := decodeRecord(v)
		if err != nil {
			s.cfg.Log.Error("a stored policy correction does not decode", "place", id, "err", err)
			continue
		}
		shipped, ok := s.cfg.Places.Shipped(id)
		if !ok {
			s.cfg.Log.Warn("a policy correction names a place the file no longer has", "place", id)
			continue
		}
		if shipped.Checked > r.Checked { // both YYYY-MM-DD: text order is date order
			continue
		}
		recs[id] = r
	}
	return recs
}

// placeID takes the id out of a places.Problem's entry name (`place "taos-county"`).
func placeID(entry string) string {
	const pre = `place "`
	if len(entry) > len(pre)+1 && entry[:len(pre)] == pre {
		return entry[len(pre) : len(entry)-1]
	}
	return entry
}

// RunReloads reloads every interval until ctx ends: the safety net under the announcements.
func (s *Service) RunReloads(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Log.Warn("policy corrections not reloaded", "err", err)
			}
		}
	}
}

// Heard reloads at once, for an announcement that another process stored a correction.
func (s *Service) Heard(ctx context.Context) {
	if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
		s.cfg.Log.Warn("policy corrections not reloaded after an announcement", "err", err)
	}
}
