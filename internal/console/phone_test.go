package console

import (
	"testing"
	"time"
)

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"(505) 555-0101": "+15055550101", "505 555 0101": "+15055550101", "1-505-555-0101": "+15055550101",
		"+1 505 555 0101": "+15055550101", "+52 55 1234 5678": "+525512345678", "call me": "call me", "55501": "55501",
	} {
		if got := normalizePhone(in); got != want {
			t.Errorf("normalizePhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStaleCount(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	checks := []PolicyCheck{{Checked: "2026-05-01"}, {Checked: "2026-04-02"}, {Checked: "2026-04-01"}, {Checked: ""}, {Checked: "May 2026"}}
	if n := staleCount(checks, now, 60); n != 3 {
		t.Errorf("stale %d, want 3 (older than 60 days, none, unreadable)", n)
	}
}

func TestSortCasesUrgentFirstThenOldest(t *testing.T) {
	cs := []CaseAge{{N: 1, Age: time.Hour}, {N: 2, Urgent: true, Age: time.Minute}, {N: 3, Age: 2 * time.Hour}, {N: 4, Urgent: true, Age: time.Hour}}
	sortCases(cs)
	var got []int64
	for _, c := range cs {
		got = append(got, c.N)
	}
	if want := []int64{4, 2, 3, 1}; len(got) != 4 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		t.Errorf("order %v, want %v", got, want)
	}
}
