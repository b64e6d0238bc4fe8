package whatsapp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// Store keeps, per WhatsApp member, when they last wrote and the messages held for them
// (redisstore.Store). Held messages are sealed by the caller.
type Store interface {
	// WhatsAppWrote records that member wrote at now, and takes (and no longer keeps)
	// what was held for them, oldest first.
	WhatsAppWrote(ctx context.Context, member string, now time.Time) ([][]byte, error)
	// WhatsAppLastWrote is when member last wrote, within the last 24 hours; zero if not.
	WhatsAppLastWrote(ctx context.Context, member string) (time.Time, error)
	// ForgetWhatsAppWindow forgets when member last wrote.
	ForgetWhatsAppWindow(ctx context.Context, member string) error
	// HoldForWhatsApp keeps sealed for member for ttl and returns how many are held,
	// this one included; 0, and nothing kept, when most are held already.
	HoldForWhatsApp(ctx context.Context, member string, sealed []byte, most int64, ttl time.Duration) (int64, error)
	// UnholdForWhatsApp takes sealed back out of what is held for member.
	UnholdForWhatsApp(ctx context.Context, member string, sealed []byte) error
}

// Members is what this package needs of the member engine (bot.Members): a member's state,
// for their language, their last message and whether they opted out, and a safe change of
// it, for what a status callback reports.
type Members interface {
	State(ctx context.Context, id string) (flow.State, error)
	Update(ctx context.Context, id string, change func(st *flow.State) bool) error
}

// Held messages: at most MaxHeld a member, each kept HeldFor. A volunteer who writes more
// to a member who does not answer is told their message was not sent; a member who answers
// after a week has been told nothing they can still use (a case is closed by then).
const (
	MaxHeld = 10
	HeldFor = 7 * 24 * time.Hour
)

// ErrNoTemplate is the refusal of a message to a member outside the window, for want of a
// template in their language: free text would be refused (Twilio 63016).
var ErrNoTemplate = errors.New("whatsapp: outside the 24-hour window and no template configured")

// ErrTooManyHeld is the refusal of a message to a member who has MaxHeld waiting already.
var ErrTooManyHeld = errors.New("whatsapp: too many messages already wait for the member")

// heldMessage is one held message, sealed (privacy.HeldMessage).
type heldMessage struct {
	Body string `json:"b"`
	At   int64  `json:"t"`
}

// Sender is a hotline.Sender for messages to one person (wrapping the outbox's sender):
// a message to a member on WhatsApp goes as written inside the window, and outside it is
// held and the member sent the reply template in their language, or refused with
// ErrNoTemplate when there is none. Anything else (SMS, a volunteer, an organizer, an alert,
// which the dispatcher decides itself, a template already) passes untouched.
type Sender struct {
	Next    hotline.Sender
	Store   Store
	Keys    *privacy.Keys
	Members Members
	// Templates holds the Reply templates (Alert ones are the dispatcher's).
	Templates Templates
	// Language is the template language for a member whose state is gone (expired): the
	// hotline's first language.
	Language string
	// StatusCallback is where delivery reports go (PUBLIC_URL/twilio/status), "" for none;
	// a message to a member on WhatsApp carries it with the member's sealed reference
	// (StatusCallback), so that a failure reported there can be acted on.
	StatusCallback string
	Now            func() time.Time
	Log            *slog.Logger
	// OnDecided, when set, is told how each message to a WhatsApp member went ("free text",
	// "template", "skip", and "held" for one held behind a template sent before), for
	// metrics.
	OnDecided func(how string)
}

// Send sends m, or holds it and sends the reply template, or refuses it (see Sender).
// A message held behind a template sent earlier returns "" as its provider id.
func (s *Sender) Send(ctx context.Context, m hotline.Outbound) (string, error) {
	if hotline.ChannelOf(m.To) != hotline.WhatsApp || m.Member == "" || m.ContentSid != "" {
		return s.Next.Send(ctx, m)
	}
	st, err := s.Members.State(ctx, m.Member)
	switch {
	case errors.Is(err, hotline.ErrNotFound):
		st = flow.State{Lang: s.Language}
	case errors.Is(err, hotline.ErrDoNotAnswer):
		return "", &hotline.SendError{Kind: hotline.Permanent, Err: fmt.Errorf("whatsapp: member state unreadable: %w", err)}
	case err != nil:
		return "", &hotline.SendError{Kind: hotline.Retry, Err: fmt.Errorf("whatsapp: reading the member: %w", err)}
	}
	if st.OptedOut {
		// A relay racing the member's PARAR: nothing more reaches them.
		return "", &hotline.SendError{Kind: hotline.OptedOut, Err: errors.New("whatsapp: the member opted out")}
	}
	if st.Lang == "" {
		st.Lang = s.Language
	}
	seen, err := s.Store.WhatsAppLastWrote(ctx, m.Member)
	if err != nil {
		return "", &hotline.SendError{Kind: hotline.Retry, Err: err}
	}
	if m.StatusCallback == "" && s.StatusCallback != "" {
		m.StatusCallback = StatusCallback(s.StatusCallback, s.Keys, m.Member)
	}
	d := Decide(LastInbound(st.Active, seen), s.now(), hotline.WhatsApp, Reply, st.Lang, s.Templates)
	switch d.Action {
	case FreeText:
		s.decided("free text")
		return s.Next.Send(ctx, m)
	case Skip:
		s.decided("skip")
		return "", &hotline.SendError{Kind: hotline.Permanent, Err: ErrNoTemplate}
	}
	return s.hold(ctx, m, d.ContentSid)
}

// hold keeps m's text for its member and, for the first message held, sends the reply
// template: a member told once that a message waits is not told again for each one more.
// Should the template fail, the text is taken back, so that the outbox, queueing m for a
// retry, does not hold it twice.
func (s *Sender) hold(ctx context.Context, m hotline.Outbound, template string) (string, error) {
	plain, _ := json.Marshal(heldMessage{Body: m.Body, At: s.now().Unix()})
	sealed := s.Keys.Seal(plain, privacy.HeldMessage(m.Member))
	n, err := s.Store.HoldForWhatsApp(ctx, m.Member, sealed, MaxHeld, HeldFor)
	switch {
	case err != nil:
		return "", &hotline.SendError{Kind: hotline.Retry, Err: err}
	case n == 0:
		return "", &hotline.SendError{Kind: hotline.Permanent, Err: ErrTooManyHeld}
	case n > 1:
		s.decided("held")
		return "", nil
	}
	sid, err := s.Next.Send(ctx, hotline.Outbound{To: m.To, Member: m.Member, ContentSid: template, StatusCallback: m.StatusCallback})
	if err != nil {
		if uerr := s.Store.UnholdForWhatsApp(context.WithoutCancel(ctx), m.Member, sealed); uerr != nil {
			s.log().Error("a held message not taken back after its template failed; it may be given twice", "member", privacy.LogRef(m.Member), "err", uerr)
		}
		return "", err
	}
	s.decided("template")
	return sid, nil
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Sender) decided(how string) {
	if s.OnDecided != nil {
		s.OnDecided(how)
	}
}

// StatusCallback is the status callback URL base (PUBLIC_URL/twilio/status, perhaps with
// a query already) for a message to member: with the member's id sealed in its "wa"
// parameter (privacy.StatusMember), so that Twilio's logs of the URL name nobody.
func StatusCallback(base string, keys *privacy.Keys, member string) string {
	sep := "?"
	for i := 0; i < len(base); i++ {
		if base[i] == '?' {
			sep = "&"
			break
		}
	}
	return base + sep + "wa=" + base64.RawURLEncoding.EncodeToString(keys.Seal([]byte(member), privacy.StatusMember()))
}

// memberOf opens the member id sealed in a status callback's "wa" parameter.
func memberOf(keys *privacy.Keys, ref string) (string, error) {
	sealed, err := base64.RawURLEncoding.DecodeString(ref)
	if err != nil {
		return "", fmt.Errorf("whatsapp: a status callback's member reference is not base64: %w", err)
	}
	id, err := keys.Open(sealed, privacy.StatusMember())
	if err != nil {
		return "", fmt.Errorf("whatsapp: a status callback's member reference does not open: %w", err)
	}
	return string(id), nil
}
