package places

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Facts are the part of a place organizers correct on a running hotline: its status on the
// federal lists, its policy in both languages, the policy's date, the source behind it and
// when it was last checked. Names, aliases, kinds and counties change only in the file: they
// are what members' words and saved conversations are matched against.
type Facts struct {
	DHSList          bool
	DOJList          bool
	PolicyEN         string
	PolicyES         string
	PolicyDate       string
	PolicyDateApprox bool
	Source           string
	SourceURL        string
	Verified         bool
	Checked          string
}

// Facts returns p's correctable facts.
func (p *Place) Facts() Facts {
	return Facts{
		DHSList: p.DHSList, DOJList: p.DOJList, PolicyEN: p.PolicyEN, PolicyES: p.PolicyES,
		PolicyDate: p.PolicyDate, PolicyDateApprox: p.PolicyDateApprox,
		Source: p.Source, SourceURL: p.SourceURL, Verified: p.Verified, Checked: p.Checked,
	}
}

// apply returns r with f in place of its facts.
func (f Facts) apply(r rawPlace) rawPlace {
	verified := f.Verified
	r.DHSList, r.DOJList, r.PolicyEN, r.PolicyES = f.DHSList, f.DOJList, f.PolicyEN, f.PolicyES
	r.PolicyDate, r.PolicyDateApprox = f.PolicyDate, f.PolicyDateApprox
	r.Source, r.SourceURL, r.Verified, r.Checked = f.Source, f.SourceURL, &verified, f.Checked
	return r
}

// With returns a new Directory: the shipped places with edits (by place id) laid over them,
// checked by the same rules as the file itself. d is left as it is. An edit of an id the file
// does not have, or one that breaks a rule, fails the whole call with a *ValidationError
// naming each.
func (d *Directory) With(edits map[string]Facts) (*Directory, error) {
	x, err := d.build(edits)
	if err != nil {
		return nil, err
	}
	out := &Directory{State: d.State, StateAlso: d.StateAlso, Lists: d.Lists, labels: d.labels, raw: d.raw, shipped: d.shipped}
	out.view.Store(x)
	return out, nil
}

// Overlay lays edits over the shipped places of d, at once for every reader, replacing any
// edits laid before. An edit that breaks a rule (the rules may have grown stricter since it
// was made) or names a place the file no longer has is left out, and the others still apply;
// the error, a *ValidationError, names what was left out.
func (d *Directory) Overlay(edits map[string]Facts) error {
	x, err := d.build(edits)
	if err == nil {
		d.view.Store(x)
		return nil
	}
	// Find the edits at fault one by one: one bad edit must not undo every other.
	var bad []Problem
	good := map[string]Facts{}
	for _, id := range slices.Sorted(maps.Keys(edits)) {
		if _, err := d.build(map[string]Facts{id: edits[id]}); err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				return err
			}
			bad = append(bad, ve.Problems...)
			continue
		}
		good[id] = edits[id]
	}
	x, err = d.build(good)
	if err != nil {
		return err // the edits are fine alone but not together: keep the view as it is
	}
	d.view.Store(x)
	return &ValidationError{Problems: bad}
}

// build validates the shipped places with edits laid over them and indexes them.
func (d *Directory) build(edits map[string]Facts) (*view, error) {
	var v validator
	raws := slices.Clone(d.raw)
	seen := 0
	for i, r := range raws {
		if f, ok := edits[r.ID]; ok {
			raws[i] = f.apply(r)
			seen++
		}
	}
	if seen < len(edits) {
		for _, id := range slices.Sorted(maps.Keys(edits)) {
			if _, ok := d.shipped.byID[id]; !ok {
				v.add(fmt.Sprintf("place %q", id), "no such place in the file")
			}
		}
	}
	x := v.view(raws, d.labels)
	if len(v.problems) > 0 {
		return nil, &ValidationError{Problems: v.problems}
	}
	return x, nil
}
