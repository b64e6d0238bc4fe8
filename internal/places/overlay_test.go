package places

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func shippedFile(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../../flows/data/places.toml")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// corrected is a valid correction of Luna County (a county with a name that is also a word).
func corrected() Facts {
	return Facts{
		DHSList: true, PolicyEN: `New "test" policy (March 2026): the county says no to ICE holds \ detainers.`,
		PolicyES:   "Nueva norma (marzo de 2026): el condado no detiene gente para ICE.",
		PolicyDate: "2026-03", PolicyDateApprox: true, Source: "Deming Headlight 2026",
		SourceURL: "https://www.demingheadlight.com/", Verified: true, Checked: "2026-12-10",
	}
}

func TestOverlayReplacesFactsAtOnce(t *testing.T) {
	d := mustLoad(t)
	before, _ := d.Get("luna-county")
	if err := d.Overlay(map[string]Facts{"luna-county": corrected()}); err != nil {
		t.Fatal(err)
	}
	after, _ := d.Get("luna-county")
	if after.Facts != corrected() {
		t.Errorf("Get after Overlay = %+v, want %+v", after.Facts, corrected())
	}
	if before.PolicyEN == after.PolicyEN || before.Facts == after.Facts {
		t.Error("the place read before the overlay changed under its reader, or the overlay did nothing")
	}
	if r := d.Lookup("condado de luna"); r.Place != after {
		t.Errorf("Lookup found %v, want the corrected entry", r.Place)
	}
	if r := d.Find("que pasa en el condado de luna?"); r.Place != after {
		t.Errorf("Find found %v, want the corrected entry", r.Place)
	}
	if c := d.CountyOf(mustGet(t, d, "deming")); c != after {
		t.Errorf("CountyOf(deming) = %v, want the corrected county", c)
	}
	if s, _ := d.Shipped("luna-county"); s.Facts != before.Facts {
		t.Errorf("Shipped = %+v, want the file's %+v", s.Facts, before.Facts)
	}
	if after.Label("es") != "Condado de Luna" {
		t.Errorf("label = %q: the overlay lost the file's labels", after.Label("es"))
	}
	// Laying no edits brings the file back.
	if err := d.Overlay(nil); err != nil {
		t.Fatal(err)
	}
	if p, _ := d.Get("luna-county"); p.Facts != before.Facts {
		t.Errorf("after Overlay(nil) = %+v, want the file's", p.Facts)
	}
}

func mustGet(t *testing.T, d *Directory, id string) *Place {
	t.Helper()
	p, ok := d.Get(id)
	if !ok {
		t.Fatalf("no place %q", id)
	}
	return p
}

func TestWithRefusesWhatTheFileRefuses(t *testing.T) {
	d := mustLoad(t)
	mod := func(f func(*Facts)) Facts { c := corrected(); f(&c); return c }
	tests := []struct {
		name string
		id   string
		f    Facts
		want string
	}{
		{"bad url", "luna-county", mod(func(f *Facts) { f.SourceURL = "demingheadlight.com" }), "not a full http(s) address"},
		{"ftp url", "luna-county", mod(func(f *Facts) { f.SourceURL = "ftp://x.org/a" }), "not a full http(s) address"},
		{"label without url", "luna-county", mod(func(f *Facts) { f.SourceURL = ""; f.Verified = false }), "go together"},
		{"verified without source", "luna-county", mod(func(f *Facts) { f.Source, f.SourceURL = "", "" }), "verified = true needs source"},
		{"bad policy date", "luna-county", mod(func(f *Facts) { f.PolicyDate = "March 2026" }), "policy_date"},
		{"bad checked", "luna-county", mod(func(f *Facts) { f.Checked = "2026-13-01" }), "checked"},
		{"no spanish", "luna-county", mod(func(f *Facts) { f.PolicyES = " " }), "policy_es is missing"},
		{"line break", "luna-county", mod(func(f *Facts) { f.PolicyEN = "one\ntwo" }), "control character"},
		{"unknown id", "atlantis", corrected(), "no such place"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.With(map[string]Facts{tt.id: tt.f})
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("With = %v, want a ValidationError saying %q", err, tt.want)
			}
			if p, _ := d.Get("luna-county"); p.PolicyEN == tt.f.PolicyEN {
				t.Error("With changed the directory it was called on")
			}
		})
	}
}

func TestOverlayKeepsTheGoodEditsOfABadSet(t *testing.T) {
	d := mustLoad(t)
	bad := corrected()
	bad.SourceURL = "not a url"
	err := d.Overlay(map[string]Facts{"luna-county": corrected(), "taos-county": bad})
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || !strings.Contains(ve.Problems[0].Entry, "taos-county") {
		t.Fatalf("Overlay = %v, want one problem, with taos-county", err)
	}
	if p := mustGet(t, d, "luna-county"); p.Facts != corrected() {
		t.Error("the good edit was not laid")
	}
	if p, _ := d.Shipped("taos-county"); mustGet(t, d, "taos-county").Facts != p.Facts {
		t.Error("the bad edit was laid")
	}
}

func TestExportRoundTrips(t *testing.T) {
	shipped := shippedFile(t)
	same, err := Export(shipped, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(same) != string(shipped) {
		t.Fatal("Export without edits changed the file")
	}
	edits := map[string]Facts{"luna-county": corrected()}
	s := corrected()
	s.PolicyDateApprox = false
	s.DHSList = false
	edits["santa-fe"] = s
	out, err := Export(shipped, edits)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "# places.toml: New Mexico counties and cities") {
		t.Error("the export lost the file's header comment")
	}
	got, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := mustLoad(t).With(edits)
	if err != nil {
		t.Fatal(err)
	}
	if err := SameEntries(want, got); err != nil {
		t.Error(err)
	}
	if p := mustGet(t, got, "luna-county"); p.PolicyEN != corrected().PolicyEN || !p.PolicyDateApprox {
		t.Errorf("luna-county reads back as %+v", p.Facts)
	}
	// Only the edited entries' lines change: every other line of the file is still there.
	old := map[string]int{}
	for _, l := range strings.Split(string(shipped), "\n") {
		old[l]++
	}
	changed := 0
	for _, l := range strings.Split(string(out), "\n") {
		if old[l] > 0 {
			old[l]--
		} else {
			changed++
		}
	}
	if changed > 20 || changed == 0 {
		t.Errorf("%d lines changed for two entries; the export rewrote more than it should", changed)
	}
}
