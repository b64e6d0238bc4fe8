package hotline

import (
	"crypto/rand"
	"encoding/base32"
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a new random id for a broadcast, an organizer or a volunteer: 40 bits in
// lower-case letters and digits, short enough to type in an SMS command.
func NewID() string {
	b := make([]byte, 5)
	rand.Read(b)
	return idEncoding.EncodeToString(b)
}
