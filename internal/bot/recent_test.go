package bot

import (
	"fmt"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/flow"
)

func TestRecentStatesBoundedAndExpiring(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	r := newRecentStates(3, time.Minute)
	for i := range 4 {
		r.put(fmt.Sprint("m", i), []byte{byte(i)}, flow.State{Lang: "es"}, t0)
	}
	if _, _, ok := r.get("m0", t0); ok {
		t.Error("the least recently used member is still remembered past the bound")
	}
	if sealed, st, ok := r.get("m3", t0); !ok || sealed[0] != 3 || st.Lang != "es" {
		t.Errorf("m3 = %v %+v %v", sealed, st, ok)
	}
	// m1 is used, so m2 is now the oldest and goes first.
	r.get("m1", t0)
	r.put("m4", []byte{4}, flow.State{}, t0)
	if _, _, ok := r.get("m2", t0); ok {
		t.Error("m2 should have been evicted, not the recently used m1")
	}
	if _, _, ok := r.get("m1", t0); !ok {
		t.Error("m1 was evicted although recently used")
	}
	if _, _, ok := r.get("m1", t0.Add(2*time.Minute)); ok {
		t.Error("a state older than the TTL is still returned")
	}
	if len(r.byID) != r.order.Len() || len(r.byID) > 3 {
		t.Errorf("index %d entries, list %d", len(r.byID), r.order.Len())
	}
	r.put("m3", nil, flow.State{}, t0)
	if _, _, ok := r.get("m3", t0); ok {
		t.Error("putting nil did not forget the member")
	}
}
