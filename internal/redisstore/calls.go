package redisstore

import (
	"context"
	"fmt"
	"time"
)

// What the voice line keeps about a call beyond the caller's member state (internal/web).

// callUnverifiedKey marks a call whose caller ID the carrier found false (StirVerstat).
func (s *Store) callUnverifiedKey(callSid string) string {
	return s.prefix + ":call:" + callSid + ":unverified"
}

// callUnverifiedTTL outlasts any call (a <Dial> may last an hour).
const callUnverifiedTTL = 4 * time.Hour

// MarkCallUnverified remembers, for as long as a call can last, that its caller ID was found
// false: only the call's first request says so, and its number must not be texted.
func (s *Store) MarkCallUnverified(ctx context.Context, callSid string) error {
	if err := s.rdb.Set(ctx, s.callUnverifiedKey(callSid), "1", callUnverifiedTTL).Err(); err != nil {
		return fmt.Errorf("marking a call unverified: %w", err)
	}
	return nil
}

// CallUnverified reports whether MarkCallUnverified marked the call.
func (s *Store) CallUnverified(ctx context.Context, callSid string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.callUnverifiedKey(callSid)).Result()
	if err != nil {
		return false, fmt.Errorf("reading whether a call is unverified: %w", err)
	}
	return n == 1, nil
}
