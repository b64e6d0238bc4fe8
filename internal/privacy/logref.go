package privacy

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// logKey is drawn once per process. It is never stored or configured: a log reference must
// name no key in Redis, so that a log alone, or a log and a copy of Redis, does not say whose
// messages a line is about.
var logKey = func() []byte {
	k := make([]byte, 32)
	rand.Read(k) // crypto/rand.Read never fails (Go 1.24+)
	return k
}()

// LogRef is how a log line names a member: 8 hex digits that tie one member's lines together
// in this process's log, and are not their member id nor any part of it (which would find
// their keys in Redis). Another process, or the same after a restart, gives the member another.
func LogRef(memberID string) string {
	m := hmac.New(sha256.New, logKey)
	m.Write([]byte(memberID))
	return hex.EncodeToString(m.Sum(nil))[:8]
}
