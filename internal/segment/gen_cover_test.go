package segment_test

import (
	"math/rand/v2"
	"testing"

	"github.com/communityhotline/hotline/internal/segment"
)

// The comparison with counter.js proves little if the generated strings miss the cases that
// matter; this test, which needs no browser, makes sure they do not.
func TestGeneratedStringsCoverTheBoundaries(t *testing.T) {
	cases := append(generate(rand.New(rand.NewPCG(1, 2))), edgeCases()...)
	if len(cases) < 300 {
		t.Fatalf("%d strings, want several hundred", len(cases))
	}
	seen := map[segment.Encoding]map[int]bool{segment.GSM7: {}, segment.UCS2: {}}
	segments := map[int]bool{}
	for _, s := range cases {
		info := segment.Count(s)
		seen[info.Encoding][info.Units] = true
		segments[info.Segments] = true
	}
	for _, u := range []int{70, 71, 134, 135, 201, 202} {
		if !seen[segment.UCS2][u] {
			t.Errorf("no UCS-2 string of %d units", u)
		}
	}
	for _, u := range []int{160, 161, 306, 307, 459, 460} {
		if !seen[segment.GSM7][u] {
			t.Errorf("no GSM-7 string of %d septets", u)
		}
	}
	for n := 0; n <= 5; n++ {
		if !segments[n] {
			t.Errorf("no string of %d segments", n)
		}
	}
}
