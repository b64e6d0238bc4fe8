package actions

import (
	"strings"
	"testing"

	"github.com/communityhotline/hotline/internal/places"
)

// The shipped file passes the check edits are held to, and the check catches each rule.
func TestCheckPolicyAnswer(t *testing.T) {
	p, cat := shipped(t)
	for _, pl := range p.dir.Places() {
		if probs := CheckPolicyAnswer(p.dir, pl, cat); len(probs) > 0 {
			t.Errorf("shipped %s: %v", pl.ID, probs)
		}
	}
	base, _ := p.dir.Get("luna-county")
	tests := []struct {
		name string
		edit func(*places.Facts)
		want string
	}{
		{"accent", func(f *places.Facts) { f.PolicyES = "Resolución del condado." }, `'ó'`},
		{"curly quote", func(f *places.Facts) { f.PolicyEN = "The “safe” policy." }, "outside GSM-7"},
		{"too long", func(f *places.Facts) {
			f.PolicyEN = strings.Repeat("The county says it will not hold people for ICE. ", 12)
		}, "segments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := base.Facts
			tt.edit(&f)
			dir, err := p.dir.With(map[string]places.Facts{"luna-county": f})
			if err != nil {
				t.Fatal(err)
			}
			pl, _ := dir.Get("luna-county")
			probs := CheckPolicyAnswer(dir, pl, cat)
			if len(probs) == 0 || !strings.Contains(strings.Join(probs, "\n"), tt.want) {
				t.Errorf("problems = %q, want one saying %q", probs, tt.want)
			}
		})
	}
}
