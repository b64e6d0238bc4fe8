package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
)

// SessionIdle is how long a console session lasts without use.
const SessionIdle = 12 * time.Hour

// SessionMax is how long a console session lasts at most, used or not: a phone left signed
// in on a shared table does not stay signed in for ever.
const SessionMax = 24 * time.Hour

// ErrNoSession means the cookie names no live session: none, expired, ended, or its person
// has left the roster.
var ErrNoSession = errors.New("no console session")

// Session is a signed-in person's console session, as stored.
type Session struct {
	Person
	// CSRF is the token every form of this session carries.
	CSRF string `json:"csrf"`
	// Seen is when the session was last used; it ends SessionIdle after.
	Seen time.Time `json:"seen"`
	// Started is when the person signed in; the session ends SessionMax after.
	Started time.Time `json:"started"`
}

// SessionStore keeps sessions under the hash of their id (redisstore.Store).
type SessionStore interface {
	// SaveSession keeps s under idHash for ttl (replacing it, and renewing the expiry).
	SaveSession(ctx context.Context, idHash string, s Session, ttl time.Duration) error
	// Session returns the session under idHash, or hotline.ErrNotFound.
	Session(ctx context.Context, idHash string) (Session, error)
	DeleteSession(ctx context.Context, idHash string) error
}

// Sessions starts, finds and ends console sessions.
type Sessions struct {
	Store  SessionStore
	Roster Lookup
	// AdminToken is ADMIN_TOKEN now: an admin session signed in with another ends.
	AdminToken string
	// Now is the clock; tests inject one.
	Now func() time.Time
}

// Start opens a session for p and returns the id for the cookie: 32 random bytes, of which
// only the hash is stored, so a copy of Redis signs no one in.
func (m *Sessions) Start(ctx context.Context, p Person) (string, Session, error) {
	id, csrf := make([]byte, 32), make([]byte, 32)
	rand.Read(id) // crypto/rand.Read never fails (Go 1.24+)
	rand.Read(csrf)
	s := Session{Person: p, CSRF: base64.RawURLEncoding.EncodeToString(csrf), Seen: m.now(), Started: m.now()}
	cookie := base64.RawURLEncoding.EncodeToString(id)
	if err := m.Store.SaveSession(ctx, sessionHash(cookie), s, SessionIdle); err != nil {
		return "", Session{}, fmt.Errorf("starting a console session: %w", err)
	}
	return cookie, s, nil
}

// Lookup returns the session of cookie and renews it. A session idle for SessionIdle, or
// whose person is no longer on the roster in the same role, is ended.
func (m *Sessions) Lookup(ctx context.Context, cookie string) (Session, error) {
	if cookie == "" {
		return Session{}, ErrNoSession
	}
	h := sessionHash(cookie)
	s, err := m.Store.Session(ctx, h)
	if errors.Is(err, hotline.ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("reading a console session: %w", err)
	}
	now := m.now()
	if now.Sub(s.Seen) > SessionIdle || now.Sub(s.Started) > SessionMax {
		m.Store.DeleteSession(ctx, h)
		return Session{}, ErrNoSession
	}
	if s.Role == RoleAdmin && (m.AdminToken == "" || subtle.ConstantTimeCompare([]byte(s.TokenHash), []byte(AdminTokenHash(m.AdminToken))) != 1) {
		m.Store.DeleteSession(ctx, h)
		return Session{}, ErrNoSession
	}
	if s.Role != RoleAdmin {
		p, ok, err := findPerson(ctx, m.Roster, s.PhoneID)
		if err != nil {
			return Session{}, fmt.Errorf("checking a session's roster entry: %w", err)
		}
		if !ok || p.Actor != s.Actor {
			m.Store.DeleteSession(ctx, h)
			return Session{}, ErrNoSession
		}
		s.Person = p // a name or language changed on the roster shows at once
	}
	// Renewing at most once a minute spares a write per request.
	if now.Sub(s.Seen) > time.Minute {
		s.Seen = now
		if err := m.Store.SaveSession(ctx, h, s, SessionIdle); err != nil {
			return Session{}, fmt.Errorf("renewing a console session: %w", err)
		}
	}
	return s, nil
}

// End ends the session of cookie (sign-out).
func (m *Sessions) End(ctx context.Context, cookie string) error {
	if cookie == "" {
		return nil
	}
	if err := m.Store.DeleteSession(ctx, sessionHash(cookie)); err != nil {
		return fmt.Errorf("ending a console session: %w", err)
	}
	return nil
}

func (m *Sessions) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

func sessionHash(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}
