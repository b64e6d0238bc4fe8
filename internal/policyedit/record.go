package policyedit

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/communityhotline/hotline/internal/places"
)

// record is a correction as stored: the facts, and whose it is. JSON, with the field names
// of the places file, so that the stored value reads plainly in redis-cli.
type record struct {
	DHSList          bool      `json:"dhs_list"`
	DOJList          bool      `json:"doj_list"`
	PolicyEN         string    `json:"policy_en"`
	PolicyES         string    `json:"policy_es"`
	PolicyDate       string    `json:"policy_date"`
	PolicyDateApprox bool      `json:"policy_date_approx"`
	Source           string    `json:"source"`
	SourceURL        string    `json:"source_url"`
	Verified         bool      `json:"verified"`
	Checked          string    `json:"checked"`
	By               string    `json:"by"`
	ByName           string    `json:"by_name,omitempty"`
	Role             string    `json:"role,omitempty"`
	At               time.Time `json:"at"`
}

func (r record) facts() places.Facts {
	return places.Facts{DHSList: r.DHSList, DOJList: r.DOJList, PolicyEN: r.PolicyEN, PolicyES: r.PolicyES,
		PolicyDate: r.PolicyDate, PolicyDateApprox: r.PolicyDateApprox, Source: r.Source, SourceURL: r.SourceURL,
		Verified: r.Verified, Checked: r.Checked}
}

func newRecord(f places.Facts, a Actor, at time.Time) record {
	return record{DHSList: f.DHSList, DOJList: f.DOJList, PolicyEN: f.PolicyEN, PolicyES: f.PolicyES,
		PolicyDate: f.PolicyDate, PolicyDateApprox: f.PolicyDateApprox, Source: f.Source, SourceURL: f.SourceURL,
		Verified: f.Verified, Checked: f.Checked, By: a.ID, ByName: a.Name, Role: a.Role, At: at.UTC()}
}

func decodeRecord(raw string) (record, error) {
	var r record
	err := json.Unmarshal([]byte(raw), &r)
	return r, err
}

// diff lists the fields that differ between a and b, by their names in the places file.
func diff(a, b places.Facts) []FieldChange {
	var out []FieldChange
	add := func(field, old, new string) {
		if old != new {
			out = append(out, FieldChange{Field: field, Old: old, New: new})
		}
	}
	bl := strconv.FormatBool
	add("dhs_list", bl(a.DHSList), bl(b.DHSList))
	add("doj_list", bl(a.DOJList), bl(b.DOJList))
	add("policy_en", a.PolicyEN, b.PolicyEN)
	add("policy_es", a.PolicyES, b.PolicyES)
	add("policy_date", a.PolicyDate, b.PolicyDate)
	add("policy_date_approx", bl(a.PolicyDateApprox), bl(b.PolicyDateApprox))
	add("source", a.Source, b.Source)
	add("source_url", a.SourceURL, b.SourceURL)
	add("verified", bl(a.Verified), bl(b.Verified))
	add("checked", a.Checked, b.Checked)
	return out
}
