package privacy

import (
	"strings"
	"testing"
)

func TestLogRefIsStableButNotTheMemberID(t *testing.T) {
	id := "4f1c2a9be07d6c3a1f2e8d9c0b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a"
	a, b := LogRef(id), LogRef(id)
	if a != b || len(a) != 8 {
		t.Fatalf("LogRef(%q) = %q then %q, want the same 8 digits", id, a, b)
	}
	if strings.Contains(id, a) {
		t.Errorf("LogRef %q is part of the member id", a)
	}
	if LogRef(id+"x") == a {
		t.Error("two members share a log reference")
	}
}
