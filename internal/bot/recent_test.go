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
	// m1 is saved again (its member wrote), so m2 is now the oldest and goes first; a read
	// does not count, so that nothing is kept longer than the TTL after its last write.
	r.put("m1", []byte{1}, flow.State{}, t0)
	r.get("m2", t0)
	r.put("m4", []byte{4}, flow.State{}, t0)
	if _, _, ok := r.get("m2", t0); ok {
		t.Error("m2 should have been evicted, not the recently saved m1")
	}
	if _, _, ok := r.get("m1", t0); !ok {
		t.Error("m1 was evicted although recently saved")
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

// TestRecentStatesForgetTheIdle: a state is forgotten once older than the TTL even when its
// member never writes again, by the next put of anyone or by a sweep.
func TestRecentStatesForgetTheIdle(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	r := newRecentStates(100, time.Minute)
	r.put("quiet", []byte{1}, flow.State{Address: "+15055550100"}, t0)
	r.put("other", []byte{2}, flow.State{}, t0.Add(2*time.Minute))
	if _, found := r.byID["quiet"]; found {
		t.Error("a state older than the TTL survived another member's message")
	}
	r.sweep(t0.Add(4 * time.Minute))
	if len(r.byID) != 0 || r.order.Len() != 0 {
		t.Errorf("after a sweep past the TTL, %d states are kept", len(r.byID))
	}
}
