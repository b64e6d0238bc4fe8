package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// Answerer wraps the hotline's answerer (like stats.Day's): once a WhatsApp message is
// answered, it records when the member wrote (what opens their window) and gives them what
// was held for them, through Out (the outbox, whose Sender now finds the window open), before
// the webhook's reply goes — in the background, so that a member waits for no Twilio call:
// the reply's TwiML and the held messages' sends cross anyway. What it answers is Next's,
// passed through untouched.
//
// A message that fails to be answered (Redis down, say) records nothing and releases
// nothing: it is spooled and answered later, through this same Answerer. A member whose
// message opted them out gets nothing held.
type Answerer struct {
	Next    hotline.Answerer
	Store   Store
	Keys    *privacy.Keys
	Members Members
	// Out sends the held messages (the outbox: a passing failure queues them).
	Out hotline.Sender
	Now func() time.Time
	Log *slog.Logger
	// OnReleased, when set, is told how many held messages each release sent, for metrics.
	OnReleased func(n int)

	// releasing counts the releases under way, for Drain.
	releasing sync.WaitGroup
}

// releaseTimeout bounds one member's release, which no webhook's deadline bounds.
const releaseTimeout = 30 * time.Second

// Drain waits for the releases under way (shutdown, tests).
func (a *Answerer) Drain() { a.releasing.Wait() }

// Answer answers in with Next, then, for a WhatsApp message, records it and releases what
// was held for its sender.
func (a *Answerer) Answer(ctx context.Context, in hotline.Inbound) (hotline.Reply, error) {
	res, err := a.Next.Answer(ctx, in)
	if err == nil && in.Channel == hotline.WhatsApp {
		a.wrote(ctx, in)
	}
	return res, err
}

// wrote records in and releases what was held. Its failures are logged, never the
// webhook's: the member's answer goes whatever happens here.
func (a *Answerer) wrote(ctx context.Context, in hotline.Inbound) {
	member := in.MemberID
	if member == "" {
		member = a.Keys.MemberID(in.Channel, in.From)
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	log := a.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	held, err := a.Store.WhatsAppWrote(ctx, member, now)
	if err != nil {
		log.Warn("a WhatsApp message not recorded: the member's window may be taken for closed", "member", privacy.LogRef(member), "err", err)
		return
	}
	if len(held) == 0 {
		return
	}
	// The message may have been an opt-out or an erasure: what was held is then dropped,
	// as an alert would be; so it is for a state that cannot be opened (it may hold an
	// opt-out). A state that cannot be read now (Redis failing) keeps them for next time.
	st, err := a.Members.State(ctx, member)
	switch {
	case err == nil && !st.OptedOut:
	case err == nil || errors.Is(err, hotline.ErrNotFound) || errors.Is(err, hotline.ErrDoNotAnswer):
		log.Info("held WhatsApp messages dropped: the member opted out, was erased or cannot be opened", "member", privacy.LogRef(member), "held", len(held))
		return
	default:
		for _, sealed := range held {
			if _, err := a.Store.HoldForWhatsApp(ctx, member, sealed, MaxHeld, HeldFor); err != nil {
				log.Error("a held WhatsApp message lost: the member's state and the store both failed", "member", privacy.LogRef(member), "err", err)
			}
		}
		log.Warn("held WhatsApp messages kept for the member's next message: their state could not be read", "member", privacy.LogRef(member), "err", err)
		return
	}
	a.releasing.Go(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		a.release(ctx, in, member, held, now, log)
	})
}

// release sends member the messages held for them, oldest first.
func (a *Answerer) release(ctx context.Context, in hotline.Inbound, member string, held [][]byte, now time.Time, log *slog.Logger) {
	sent := 0
	for _, sealed := range held {
		plain, err := a.Keys.Open(sealed, privacy.HeldMessage(member))
		var m heldMessage
		if err == nil {
			err = json.Unmarshal(plain, &m)
		}
		if err != nil {
			log.Error("a held WhatsApp message does not open; dropped", "member", privacy.LogRef(member), "err", err)
			continue
		}
		if now.Sub(time.Unix(m.At, 0)) > HeldFor {
			continue // older than members are promised; the list outlived it by later ones
		}
		if _, err := a.Out.Send(ctx, hotline.Outbound{To: in.From, Body: m.Body, Member: member}); err != nil {
			log.Error("a held WhatsApp message not sent", "member", privacy.LogRef(member), "err", err)
			continue
		}
		sent++
	}
	if a.OnReleased != nil {
		a.OnReleased(sent)
	}
}
