package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
)

// Sign-in by SMS code, for the console (docs/console.md, "Sign-in and sessions").
const (
	// CodeTTL is how long a texted code is good for.
	CodeTTL = 10 * time.Minute
	// CodeTries is how many wrong codes end a code.
	CodeTries = 5
	// LimitWindow is the window of the request limits below.
	LimitWindow = 15 * time.Minute
	// CodesPerNumber is how many codes one number may be sent per LimitWindow.
	CodesPerNumber = 3
	// TriesPerAddress is how many sign-in attempts (codes asked, codes typed, tokens) one
	// client address may make per LimitWindow.
	TriesPerAddress = 20
	// WrongCodesPerDay is how many wrong codes one number may be given in WrongCodeWindow,
	// whatever the codes sent: asking for a new code does not give a guesser new tries.
	WrongCodesPerDay = 10
	// WrongCodeWindow is the window of WrongCodesPerDay.
	WrongCodeWindow = 24 * time.Hour
	// sendTimeout bounds texting a code, which runs after the page has answered.
	sendTimeout = 30 * time.Second
)

// Sign-in errors. ErrBadCode covers a wrong code, an expired one and one never sent, so that
// a page says nothing about who is on the roster.
var (
	ErrBadCode     = errors.New("wrong or expired code")
	ErrRateLimited = errors.New("too many sign-in attempts; wait a few minutes")
)

// CodeResult is what checking a code found.
type CodeResult int

// Outcomes of CheckSigninCode.
const (
	CodeWrong CodeResult = iota // wrong, and tries remain
	CodeOK                      // right: the code is gone, used
	CodeGone                    // none, expired, or that was the last try: the code is gone
)

// CodeStore keeps sign-in codes and attempt counters (redisstore.Store).
type CodeStore interface {
	// SaveSigninCode keeps hash as the code of phoneID for ttl, replacing any earlier one.
	SaveSigninCode(ctx context.Context, phoneID, hash string, ttl time.Duration) error
	// CheckSigninCode compares hash with phoneID's code, counting a wrong one; after
	// maxTries wrong ones the code is deleted.
	CheckSigninCode(ctx context.Context, phoneID, hash string, maxTries int) (CodeResult, error)
	// CountAttempt adds one to the counter bucket, which starts when first counted and
	// ends after window, and returns the count.
	CountAttempt(ctx context.Context, bucket string, window time.Duration) (int64, error)
	// Attempts returns the counter bucket's count without adding to it (0 when none).
	Attempts(ctx context.Context, bucket string) (int64, error)
}

// Lookup finds staff by the member id of their phone (Roster).
type Lookup interface {
	Organizer(ctx context.Context, phoneID string) (hotline.OrganizerRecord, bool, error)
	Volunteer(ctx context.Context, phoneID string) (hotline.VolunteerRecord, bool, error)
}

// Roles a console session can have.
const (
	RoleAdmin     = "admin"
	RoleOrganizer = "organizer"
	RoleVolunteer = "volunteer"
)

// Person is someone signed in: who, in what role, in what language.
type Person struct {
	// Actor is "organizer:<id>", "volunteer:<id>" or "admin", as the audit log names them.
	Actor string `json:"actor"`
	Role  string `json:"role"`
	Name  string `json:"name"`
	Lang  string `json:"lang,omitempty"`
	// PhoneID is the member id of their phone, to find them on the roster again; empty for admin.
	PhoneID string `json:"phone_id,omitempty"`
	// TokenHash is, for admin, the hash of the ADMIN_TOKEN they signed in with: a session
	// ends when the token is changed.
	TokenHash string `json:"token_hash,omitempty"`
}

// AdminTokenHash is what an admin session keeps of ADMIN_TOKEN.
func AdminTokenHash(token string) string {
	sum := sha256.Sum256([]byte("console-admin\x00" + token))
	return hex.EncodeToString(sum[:])
}

// SignInConfig holds a SignIn's dependencies.
type SignInConfig struct {
	Store  CodeStore
	Roster Lookup
	// PhoneID is the member id of an SMS phone number (privacy.Keys.MemberID with hotline.SMS).
	PhoneID func(phone string) string
	// Sender texts the code from the hotline number (the outbox, as pages go).
	Sender hotline.Sender
	// Text is the code message in lang.
	Text func(lang, code string) (string, error)
	// AdminToken, when set, signs in as admin.
	AdminToken string
	Log        *slog.Logger
	// Rand is the source of codes; nil is crypto/rand.
	Rand io.Reader
	// CodeHash is what is stored of a code: a keyed hash (privacy.Keys), so that a copy of
	// Redis, where the phone's member id names the key, does not give a live code away by
	// trying all million. Nil is an unkeyed hash (tests).
	CodeHash func(phoneID, code string) string
}

// SignIn texts codes to staff and checks them.
type SignIn struct {
	cfg   SignInConfig
	codes codeBook
	// sending tracks the codes being texted after their page has answered.
	sending sync.WaitGroup
}

// NewSignIn returns a SignIn.
func NewSignIn(cfg SignInConfig) *SignIn {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.CodeHash == nil {
		cfg.CodeHash = codeHash
	}
	return &SignIn{cfg: cfg, codes: codeBook{store: cfg.Store, rand: cfg.Rand, hash: cfg.CodeHash, bucket: "signin:"}}
}

// RequestCode texts a code to phone if it is on the roster. It answers the same whether or
// not it is, so that the page tells nobody who is staff: the text goes out after it returns
// (a send to Twilio takes long enough to be timed), and a failure to send is logged, not
// returned. It fails only when a limit is reached (ErrRateLimited) or the store fails. The
// address limit is checked first, so that one client cannot use up a staff member's codes by
// trying numbers.
func (s *SignIn) RequestCode(ctx context.Context, phone, clientAddr string) error {
	if err := s.limit(ctx, "addr:"+clientAddr, TriesPerAddress); err != nil {
		return err
	}
	if !hotline.ValidE164(phone) {
		return nil
	}
	id := s.cfg.PhoneID(phone)
	if err := s.codes.limitNumber(ctx, id); err != nil {
		return err
	}
	p, ok, err := s.find(ctx, id)
	if err != nil {
		return err
	}
	// A code is drawn and kept for any number, on the roster or not, so that the page takes
	// as long either way; one kept for a number on no roster signs no one in (Verify checks
	// the roster too) and is gone in CodeTTL.
	code, err := s.codes.issue(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	text, err := s.cfg.Text(p.Lang, code)
	if err != nil {
		return fmt.Errorf("rendering the sign-in code message: %w", err)
	}
	s.sending.Go(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		defer cancel()
		if _, err := s.cfg.Sender.Send(ctx, hotline.Outbound{To: phone, Body: text}); err != nil {
			s.cfg.Log.Error("texting a console sign-in code", "actor", p.Actor, "err", err)
			return
		}
		s.cfg.Log.Info("console sign-in code sent", "actor", p.Actor)
	})
	return nil
}

// Drain waits for the codes being texted (shutdown, tests).
func (s *SignIn) Drain() { s.sending.Wait() }

// Verify checks code for phone and returns the person it signs in. A wrong code counts
// against the code's tries and the client address's limit.
func (s *SignIn) Verify(ctx context.Context, phone, code, clientAddr string) (Person, error) {
	if err := s.limit(ctx, "addr:"+clientAddr, TriesPerAddress); err != nil {
		return Person{}, err
	}
	if !hotline.ValidE164(phone) || len(code) != 6 {
		return Person{}, ErrBadCode
	}
	id := s.cfg.PhoneID(phone)
	if err := s.codes.check(ctx, id, code); err != nil {
		return Person{}, err
	}
	p, ok, err := s.find(ctx, id)
	if err != nil {
		return Person{}, err
	}
	if !ok { // removed from the roster since the code was sent
		return Person{}, ErrBadCode
	}
	return p, nil
}

// Admin signs in with ADMIN_TOKEN, the bootstrap before anyone is on the roster. The compare
// takes the same time whatever the token.
func (s *SignIn) Admin(ctx context.Context, token, clientAddr string) (Person, error) {
	if err := s.limit(ctx, "addr:"+clientAddr, TriesPerAddress); err != nil {
		return Person{}, err
	}
	if s.cfg.AdminToken == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.AdminToken)) != 1 {
		return Person{}, ErrBadCode
	}
	return Person{Actor: RoleAdmin, Role: RoleAdmin, Name: "admin", TokenHash: AdminTokenHash(token)}, nil
}

// find is the person whose phone has member id id, if on a roster.
func (s *SignIn) find(ctx context.Context, id string) (Person, bool, error) {
	return findPerson(ctx, s.cfg.Roster, id)
}

func findPerson(ctx context.Context, r Lookup, id string) (Person, bool, error) {
	if o, ok, err := r.Organizer(ctx, id); err != nil || ok {
		return Person{Actor: RoleOrganizer + ":" + o.ID, Role: RoleOrganizer, Name: o.Name, Lang: o.Lang, PhoneID: id}, ok, err
	}
	v, ok, err := r.Volunteer(ctx, id)
	if err != nil || !ok {
		return Person{}, false, err
	}
	lang := ""
	if len(v.Langs) > 0 {
		lang = v.Langs[0]
	}
	return Person{Actor: RoleVolunteer + ":" + v.ID, Role: RoleVolunteer, Name: v.Name, Lang: lang, PhoneID: id}, true, nil
}

func (s *SignIn) limit(ctx context.Context, bucket string, most int64) error {
	n, err := s.cfg.Store.CountAttempt(ctx, "signin:"+bucket, LimitWindow)
	if err != nil {
		return fmt.Errorf("counting sign-in attempts: %w", err)
	}
	if n > most {
		return ErrRateLimited
	}
	return nil
}

// codeBook draws, keeps and checks the one-time codes texted to a staff member's phone, in a
// key space of its own: a console sign-in code and a WhatsApp link code are kept apart, so
// that neither can be used as the other.
type codeBook struct {
	store CodeStore
	rand  io.Reader
	hash  func(phoneID, code string) string
	// space prefixes the phone id a code is kept under and hashed with ("" for sign-in
	// codes, kept as they were before there were other codes).
	space string
	// bucket prefixes the names of the number's counters ("signin:", "walink:").
	bucket string
}

// limitNumber counts a code asked for phoneID and fails with ErrRateLimited past
// CodesPerNumber in LimitWindow.
func (b codeBook) limitNumber(ctx context.Context, phoneID string) error {
	n, err := b.store.CountAttempt(ctx, b.bucket+"phone:"+phoneID, LimitWindow)
	if err != nil {
		return fmt.Errorf("counting codes asked: %w", err)
	}
	if n > CodesPerNumber {
		return ErrRateLimited
	}
	return nil
}

// issue draws a code for phoneID and keeps its hash for CodeTTL, replacing any earlier one.
func (b codeBook) issue(ctx context.Context, phoneID string) (string, error) {
	n, err := rand.Int(b.rand, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("drawing a code: %w", err)
	}
	code := fmt.Sprintf("%06d", n.Int64())
	key := b.space + phoneID
	if err := b.store.SaveSigninCode(ctx, key, b.hash(key, code), CodeTTL); err != nil {
		return "", fmt.Errorf("keeping a code: %w", err)
	}
	return code, nil
}

// check uses up phoneID's code if code is it. A wrong one counts against the code's tries
// and the number's wrong codes of the day: ErrBadCode, or ErrRateLimited once the day's are
// used up.
func (b codeBook) check(ctx context.Context, phoneID, code string) error {
	// A number given too many wrong codes today takes none, right or wrong, until the day
	// is out: new codes would otherwise give a guesser 5 new tries each.
	wrong, err := b.store.Attempts(ctx, b.bucket+"wrong:"+phoneID)
	if err != nil {
		return fmt.Errorf("counting wrong codes: %w", err)
	}
	if wrong >= WrongCodesPerDay {
		return ErrRateLimited
	}
	key := b.space + phoneID
	res, err := b.store.CheckSigninCode(ctx, key, b.hash(key, code), CodeTries)
	if err != nil {
		return fmt.Errorf("checking a code: %w", err)
	}
	if res != CodeOK {
		if _, err := b.store.CountAttempt(ctx, b.bucket+"wrong:"+phoneID, WrongCodeWindow); err != nil {
			return fmt.Errorf("counting wrong codes: %w", err)
		}
		return ErrBadCode
	}
	return nil
}

// codeHash is what is stored of a code: never the code itself.
func codeHash(phoneID, code string) string {
	sum := sha256.Sum256([]byte(phoneID + "\x00" + code))
	return hex.EncodeToString(sum[:])
}
