package policyedit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/places"
)

// editTries bounds how often an edit is recomputed when another one of the same entry lands
// between its read and its write.
const editTries = 3

// Edit corrects entry id with ch, checked today, for actor; members get the new entry at once,
// on this process and, through the announcement, on every other. It refuses, with an
// *InvalidError saying why, a correction without a source address or an as-of date, one the
// places file's rules reject, and one whose policy answer would break its SMS budget (in
// either language; for a county, in the answers of its cities too, which name its status).
// An edit that changes nothing stores nothing.
func (s *Service) Edit(ctx context.Context, actor Actor, id string, ch Change) (Entry, error) {
	if probs := checkChange(ch, s.cfg.Now().In(s.zone()).Format(time.DateOnly)); len(probs) > 0 {
		return Entry{}, &InvalidError{Problems: probs}
	}
	f := places.Facts{DHSList: ch.DHSList, DOJList: ch.DOJList, PolicyEN: ch.PolicyEN, PolicyES: ch.PolicyES,
		PolicyDate: ch.PolicyDate, PolicyDateApprox: ch.PolicyDateApprox, Source: ch.Source, SourceURL: ch.SourceURL, Verified: ch.Verified}
	return s.put(ctx, actor, id, func(places.Facts) places.Facts { return f }, "corrected")
}

// MarkChecked records that entry id was checked against its source today and is still right:
// only its checked date changes, so its stale flag goes.
func (s *Service) MarkChecked(ctx context.Context, actor Actor, id string) (Entry, error) {
	return s.put(ctx, actor, id, func(cur places.Facts) places.Facts { return cur }, "re-checked against its source")
}

// put stores next(current facts), checked today, as entry id's correction, and lays it.
func (s *Service) put(ctx context.Context, actor Actor, id string, next func(places.Facts) places.Facts, what string) (Entry, error) {
	if _, ok := s.cfg.Places.Shipped(id); !ok {
		return Entry{}, fmt.Errorf("%q: %w", id, ErrNotFound)
	}
	now := s.cfg.Now()
	for range editTries {
		raw, err := s.cfg.Store.PolicyEdits(ctx)
		if err != nil {
			return Entry{}, fmt.Errorf("policy edit of %s: %w", id, err)
		}
		recs := s.inForce(raw)
		cur, _ := s.cfg.Places.Shipped(id)
		old := cur.Facts
		if r, ok := recs[id]; ok {
			old = r.facts()
		}
		f := next(old)
		f.Checked = now.In(s.zone()).Format(time.DateOnly)
		changes := diff(old, f)
		if len(changes) == 0 {
			return s.Entry(ctx, id)
		}
		if err := s.check(id, f, recs); err != nil {
			return Entry{}, err
		}
		rec, err := json.Marshal(newRecord(f, actor, now))
		if err != nil {
			return Entry{}, err
		}
		line, err := json.Marshal(ChangeRecord{At: now.UTC(), Actor: actor.ID, ActorName: actor.Name, Role: actor.Role,
			Via: actor.Via, Place: id, Fields: changes})
		if err != nil {
			return Entry{}, err
		}
		ok, err := s.cfg.Store.PutPolicyEdit(ctx, id, raw[id], string(rec), string(line))
		if err != nil {
			return Entry{}, fmt.Errorf("policy edit of %s: %w", id, err)
		}
		if !ok {
			continue // another edit of this entry landed first: redo ours over it
		}
		if err := s.Reload(ctx); err != nil {
			// Stored: the periodic reload lays it within seconds.
			s.cfg.Log.Warn("a policy correction was stored but not yet laid", "place", id, "err", err)
		}
		if err := s.cfg.Store.AnnouncePolicyChange(ctx); err != nil {
			s.cfg.Log.Warn("a policy correction was not announced; other processes get it at their next reload", "place", id, "err", err)
		}
		fields := make([]string, len(changes))
		for i, c := range changes {
			fields[i] = c.Field
		}
		s.cfg.Audit.Record(ctx, audit.Entry{At: now.UTC(), Actor: actor.ID, ActorName: actor.Name, Action: "policy.edit",
			Object: "policy " + id, Via: actor.Via, Detail: what + ": " + strings.Join(fields, ", ")})
		return s.Entry(ctx, id)
	}
	return Entry{}, fmt.Errorf("policy edit of %s: the entry kept changing under the edit; try again", id)
}

// check holds the corrected entry to the places file's rules and its answers to their SMS
// budget, with the other corrections in force around it.
func (s *Service) check(id string, f places.Facts, recs map[string]record) error {
	edits := make(map[string]places.Facts, len(recs)+1)
	for other, r := range recs {
		edits[other] = r.facts()
	}
	edits[id] = f
	dir, err := s.cfg.Places.With(edits)
	if err != nil {
		var ve *places.ValidationError
		if !errors.As(err, &ve) {
			return err
		}
		var probs []Problem
		for _, p := range ve.Problems {
			if placeID(p.Entry) == id {
				probs = append(probs, Problem{Reason: Other, Msg: p.Msg})
			}
		}
		if len(probs) == 0 && recs != nil {
			// Another correction in force no longer passes: check this one alone over the file.
			return s.check(id, f, nil)
		}
		if len(probs) == 0 {
			return err
		}
		return &InvalidError{Problems: probs}
	}
	pl, _ := dir.Get(id)
	answers := []*places.Place{pl}
	if pl.IsCounty() {
		for _, c := range dir.Places() {
			if c.County == id {
				answers = append(answers, c)
			}
		}
	}
	var probs []Problem
	for _, p := range answers {
		found := budget(dir, p, s.cfg.Texts)
		if len(found) == 0 {
			// The rule itself may see what budget does not name (an answer that does not
			// render): it is said as it is.
			for _, msg := range actions.CheckPolicyAnswer(dir, p, s.cfg.Texts) {
				found = append(found, Problem{Reason: Other, Place: p.ID, Msg: msg})
			}
		}
		probs = append(probs, found...)
	}
	if len(probs) > 0 {
		return &InvalidError{Problems: probs}
	}
	return nil
}

// zone is where a check's date is taken.
func (s *Service) zone() *time.Location {
	if s.cfg.Location != nil {
		return s.cfg.Location
	}
	return time.UTC
}
