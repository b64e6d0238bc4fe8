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
	// DHSList reports whether the DHS list published 2025-05-29 named this jurisdiction.
	DHSList bool
	// DOJList reports whether the DOJ list published 2025-08-05 named this jurisdiction.
	DOJList bool
	// PolicyEN and PolicyES summarize the local policy, or say that none has been verified.
	PolicyEN string
	PolicyES string
	// PolicyDate is the policy's date as precise as its source: "2017-03-14", "2017-02" or
	// "2014"; empty when there is none.
	PolicyDate string
	// PolicyDateApprox marks a PolicyDate the source gives only approximately.
	PolicyDateApprox bool
	// Source is a short label an SMS can show; SourceURL is the full address behind it.
	Source    string
	SourceURL string
	// Verified is true only when Source backs the policy text. An unverified entry's text
	// says so itself, and the hotline must not present it as fact.
	Verified bool
	// Checked is the date (YYYY-MM-DD) the entry was last reviewed against its source.
	Checked string
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
