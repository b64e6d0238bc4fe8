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

// sealVersion is the first byte of every sealed value, so that a later key or cipher can be
// introduced while old values still open.
const sealVersion = 1

// ErrUnreadable means a sealed value did not open: tampered, truncated, or sealed with
// another secret.
var ErrUnreadable = errors.New("sealed value cannot be opened")

// Keys derives member ids and seals values. It is safe for concurrent use.
type Keys struct {
	idKey []byte
	aead  cipher.AEAD
	macs  sync.Pool
}

// NewKeys derives the keys from secret, which must be at least 16 bytes.
func NewKeys(secret string) (*Keys, error) {
	if len(secret) < 16 {
		return nil, fmt.Errorf("the secret must be at least 16 characters")
	}
	// The member-id key must never change: every stored id depends on it. Sealed values
	// carry a version byte so that a later sealing key can be introduced beside this one;
	// rotation itself is not implemented yet (docs/privacy.md).
	idKey, err := hkdf.Key(sha256.New, []byte(secret), nil, "hotline member id v1", 32)
	if err != nil {
		return nil, fmt.Errorf("deriving the id key: %w", err)
	}
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
	k := &Keys{idKey: idKey, aead: aead}
	k.macs.New = func() any { return hmac.New(sha256.New, k.idKey) }
	return k, nil
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

// Seal encrypts plain, bound to context (the member id, say), so a sealed value copied
// onto another member's key does not open.
func (k *Keys) Seal(plain, context []byte) []byte {
	out := make([]byte, 1+k.aead.NonceSize(), 1+k.aead.NonceSize()+len(plain)+k.aead.Overhead())
	out[0] = sealVersion
	nonce := out[1:]
	if _, err := rand.Read(nonce); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never happens on a supported platform
	}
	return k.aead.Seal(out, nonce, plain, context)
}

// Open decrypts a value made by Seal with the same context.
func (k *Keys) Open(sealed, context []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < 1+ns+k.aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrUnreadable
	}
	plain, err := k.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], context)
	if err != nil {
		return nil, ErrUnreadable
	}
	return plain, nil
}
