// Package privacy turns a member's address into an id that reveals nothing, and seals what
// the hotline must keep about a member so that a copy of the Redis data reads as noise.
// Both keys derive from one secret (HOTLINE_SECRET) with HKDF under separate labels, so
// neither use weakens the other.
package privacy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/communityhotline/hotline/internal/hotline"
)

// A sealed value starts with a version byte naming the key that sealed it: 1 is derived from
// the main secret, 2, 3… from the sealing secrets added later, so a sealing key can be
// rotated while values sealed with an older one still open.

// Retired stands in the list of sealing secrets for one that was removed once nothing sealed
// with it was left (`hotline reseal` says when). A secret's version is its place in the list,
// so a removed secret must keep its place: deleting the entry would renumber the newer
// secrets, and nothing sealed with them would open.
const Retired = "-"

// ErrUnreadable means a sealed value did not open: tampered, truncated, or sealed with
// another secret.
var ErrUnreadable = errors.New("sealed value cannot be opened")

// Keys derives member ids and seals values. It is safe for concurrent use.
type Keys struct {
	idKey []byte
	aeads []cipher.AEAD // index = version - 1; the last one seals
	macs  sync.Pool
}

// NewKeys derives the keys from secret, which must be at least 16 bytes. sealing are later
// sealing secrets, oldest first: new values are sealed with the last one, and values sealed
// with any of them (or with secret's own sealing key) still open. A Retired entry keeps a
// removed secret's place; values sealed with it no longer open. Member ids always derive
// from secret, which therefore never changes.
func NewKeys(secret string, sealing ...string) (*Keys, error) {
	if len(secret) < 16 {
		return nil, fmt.Errorf("the secret must be at least 16 characters")
	}
	if len(sealing) > 254 {
		return nil, fmt.Errorf("too many sealing secrets")
	}
	// The member-id key must never change: every stored id depends on it. The sealing key
	// can: a value's version byte says which key sealed it (docs/privacy.md, rotation).
	idKey, err := hkdf.Key(sha256.New, []byte(secret), nil, "hotline member id v1", 32)
	if err != nil {
		return nil, fmt.Errorf("deriving the id key: %w", err)
	}
	k := &Keys{idKey: idKey}
	for i, sec := range append([]string{secret}, sealing...) {
		if sec == Retired && i > 0 {
			if i == len(sealing) {
				return nil, fmt.Errorf("the newest sealing secret seals new values: it cannot be retired")
			}
			k.aeads = append(k.aeads, nil)
			continue
		}
		if len(sec) < 16 {
			return nil, fmt.Errorf("sealing secret %d must be at least 16 characters", i)
		}
		aead, err := newAEAD(sec)
		if err != nil {
			return nil, err
		}
		k.aeads = append(k.aeads, aead)
	}
	k.macs.New = func() any { return hmac.New(sha256.New, k.idKey) }
	return k, nil
}

func newAEAD(secret string) (cipher.AEAD, error) {
	encKey, err := hkdf.Key(sha256.New, []byte(secret), nil, "hotline sealing v1", 32)
	if err != nil {
		return nil, fmt.Errorf("deriving the sealing key: %w", err)
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("creating the cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating the cipher: %w", err)
	}
	return aead, nil
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// MemberID is the member's id: HMAC-SHA256 of the channel and address, 130 bits in
// lowercase base32 (26 characters). The channel is part of it because a voice caller and an
// SMS sender with the same number are different conversations.
func (k *Keys) MemberID(ch hotline.Channel, address string) string {
	mac := k.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write([]byte(ch))
	mac.Write([]byte{0})
	mac.Write([]byte(address))
	var sum [sha256.Size]byte
	out := mac.Sum(sum[:0])
	k.macs.Put(mac)
	return idEncoding.EncodeToString(out[:17])[:26]
}

// Seal encrypts plain with the newest sealing key, bound to context (the member id, say),
// so a sealed value copied onto another member's key does not open.
func (k *Keys) Seal(plain, context []byte) []byte {
	aead := k.aeads[len(k.aeads)-1]
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = byte(len(k.aeads))
	nonce := out[1:]
	if _, err := rand.Read(nonce); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never happens on a supported platform
	}
	return aead.Seal(out, nonce, plain, context)
}

// Open decrypts a value made by Seal with the same context, with whichever key sealed it.
func (k *Keys) Open(sealed, context []byte) ([]byte, error) {
	if len(sealed) == 0 || int(sealed[0]) < 1 || int(sealed[0]) > len(k.aeads) {
		return nil, ErrUnreadable
	}
	aead := k.aeads[sealed[0]-1]
	if aead == nil { // sealed with a retired secret
		return nil, ErrUnreadable
	}
	ns := aead.NonceSize()
	if len(sealed) < 1+ns+aead.Overhead() {
		return nil, ErrUnreadable
	}
	plain, err := aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], context)
	if err != nil {
		return nil, ErrUnreadable
	}
	return plain, nil
}

// NeedsReseal reports whether sealed was made with an older key than the newest.
func (k *Keys) NeedsReseal(sealed []byte) bool {
	return len(sealed) > 0 && int(sealed[0]) != len(k.aeads)
}

// JobContext is what a member message's job (docs/durable-effects.md) is sealed to: the
// member and the message.
func JobContext(member, msg string) []byte { return []byte("fx:" + member + ":" + msg) }
