package privacy

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/communityhotline/hotline/internal/hotline"
)

func mustKeys(t testing.TB, secret string) *Keys {
	t.Helper()
	k, err := NewKeys(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestMemberID(t *testing.T) {
	k := mustKeys(t, "a test secret of enough length")
	id := k.MemberID(hotline.SMS, "+15055550100")
	if len(id) != 26 || strings.Trim(id, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		t.Fatalf("id %q is not 26 base32 characters", id)
	}
	if strings.Contains(id, "5055550100") {
		t.Fatalf("id %q contains the number", id)
	}
	if again := k.MemberID(hotline.SMS, "+15055550100"); again != id {
		t.Errorf("id not stable: %q then %q", id, again)
	}
	for name, other := range map[string]string{
		"other number":  k.MemberID(hotline.SMS, "+15055550101"),
		"other channel": k.MemberID(hotline.Voice, "+15055550100"),
		"other secret":  mustKeys(t, "another test secret, long").MemberID(hotline.SMS, "+15055550100"),
	} {
		if other == id {
			t.Errorf("%s gives the same id", name)
		}
	}
}

func TestSealOpen(t *testing.T) {
	k := mustKeys(t, "a test secret of enough length")
	plain := []byte(`{"l":"es","d":{"where":"calle 5"}}`)
	sealed := k.Seal(plain, []byte("member-a"))
	if bytes.Contains(sealed, []byte("calle")) {
		t.Fatal("sealed value contains the plain text")
	}
	got, err := k.Open(sealed, []byte("member-a"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if bytes.Equal(k.Seal(plain, []byte("member-a")), sealed) {
		t.Error("two seals of the same value are equal: nonce reused")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	for name, tc := range map[string]struct {
		sealed []byte
		ctx    string
		keys   *Keys
	}{
		"other context": {sealed, "member-b", k},
		"tampered":      {tampered, "member-a", k},
		"truncated":     {sealed[:10], "member-a", k},
		"empty":         {nil, "member-a", k},
		"other secret":  {sealed, "member-a", mustKeys(t, "another test secret, long")},
	} {
		if _, err := tc.keys.Open(tc.sealed, []byte(tc.ctx)); !errors.Is(err, ErrUnreadable) {
			t.Errorf("%s: err = %v, want ErrUnreadable", name, err)
		}
	}
}

func TestShortSecretRefused(t *testing.T) {
	if _, err := NewKeys("short"); err == nil {
		t.Error("a 5-character secret was accepted")
	}
}

func BenchmarkMemberID(b *testing.B) {
	k := mustKeys(b, "a test secret of enough length")
	for b.Loop() {
		k.MemberID(hotline.SMS, "+15055550100")
	}
}

func BenchmarkSealOpen(b *testing.B) {
	k := mustKeys(b, "a test secret of enough length")
	plain := bytes.Repeat([]byte("x"), 200)
	for b.Loop() {
		if _, err := k.Open(k.Seal(plain, []byte("m")), []byte("m")); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSealingKeyRotation: after a sealing secret is added, new values use it, old values
// still open, and a value sealed with the new key does not open without it.
func TestSealingKeyRotation(t *testing.T) {
	const main = "a test secret of enough length"
	old := mustKeys(t, main)
	oldSealed := old.Seal([]byte("before"), []byte("m"))
	rotated, err := NewKeys(main, "the new sealing secret, long enough")
	if err != nil {
		t.Fatal(err)
	}
	if rotated.MemberID(hotline.SMS, "+15055550100") != old.MemberID(hotline.SMS, "+15055550100") {
		t.Fatal("rotation changed member ids")
	}
	if got, err := rotated.Open(oldSealed, []byte("m")); err != nil || string(got) != "before" {
		t.Fatalf("an old value after rotation: %q, %v", got, err)
	}
	if !rotated.NeedsReseal(oldSealed) {
		t.Error("an old value is not marked for resealing")
	}
	newSealed := rotated.Seal([]byte("after"), []byte("m"))
	if rotated.NeedsReseal(newSealed) || newSealed[0] != 2 {
		t.Errorf("new value version %d", newSealed[0])
	}
	if _, err := old.Open(newSealed, []byte("m")); !errors.Is(err, ErrUnreadable) {
		t.Errorf("a value sealed with the new key opened without it: %v", err)
	}
	if _, err := NewKeys(main, "short"); err == nil {
		t.Error("a short sealing secret was accepted")
	}
}

// TestRetiredSealingSecret: a retired secret keeps its place, so the newer secrets keep their
// versions and their values still open; values sealed with the retired one no longer do.
func TestRetiredSealingSecret(t *testing.T) {
	const main, b, c = "a test secret of enough length", "sealing secret B, long enough", "sealing secret C, long enough"
	withB, err := NewKeys(main, b)
	if err != nil {
		t.Fatal(err)
	}
	sealedB := withB.Seal([]byte("b"), []byte("m"))
	withC, err := NewKeys(main, b, c)
	if err != nil {
		t.Fatal(err)
	}
	sealedC := withC.Seal([]byte("c"), []byte("m"))
	retired, err := NewKeys(main, Retired, c)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := retired.Open(sealedC, []byte("m")); err != nil || string(got) != "c" {
		t.Errorf("a value sealed with C after B was retired: %q, %v", got, err)
	}
	if _, err := retired.Open(sealedB, []byte("m")); !errors.Is(err, ErrUnreadable) {
		t.Errorf("a value sealed with the retired B opened: %v", err)
	}
	if v := retired.Seal([]byte("x"), []byte("m"))[0]; v != 3 {
		t.Errorf("new values sealed with version %d after retiring B, want 3 (C's)", v)
	}
	if _, err := NewKeys(main, b, Retired); err == nil {
		t.Error("the newest sealing secret was retired")
	}
	if _, err := NewKeys(Retired); err == nil {
		t.Error("HOTLINE_SECRET itself was accepted as retired")
	}
}
