package staff

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/fold"
	"github.com/communityhotline/hotline/internal/hotline"
)

// Staff on WhatsApp (docs/channels.md, "After the review", point 9). A WhatsApp address is
// "whatsapp:" and a phone number, but the number alone does not prove that whoever holds the
// WhatsApp account holds the phone staff registered. So a person on the team writing from
// WhatsApp is a member until they link it: they write VINCULAR or LINK there, a code is
// texted by SMS to their registered phone, and they type it back on WhatsApp. From then on
// the roster knows them by the WhatsApp address too, and their WhatsApp messages reach their
// commands as their SMS do.

// LinkMessageIDs are the messages linking renders; every language must have them.
var LinkMessageIDs = []string{"wa_link_code", "wa_link_sent", "wa_link_done", "wa_link_wrong", "wa_link_limited"}

// linkWords are the words, folded, that ask for a link code, and the language each is
// answered in: the answer to anyone's must read the same whether or not the number is on
// the team, so its language cannot be the team member's.
var linkWords = map[string]string{"vincular": "es", "link": "en"}

// longestLinkWord bounds what is folded to look for a link word: a longer message is not
// one, and is not folded for nothing on every member's WhatsApp message.
const longestLinkWord = 16

// linkSpace keeps link codes and their counters apart from console sign-in codes: a code
// texted to sign in to the console links nothing, and a link code signs no one in.
const linkSpace = "walink:"

// replySep joins a reply's texts kept for a retried webhook: no rendered text holds it.
const replySep = "\x00"

// LinkStore keeps link codes, their counters, and the answers to link messages for retried
// webhooks (redisstore.Store).
type LinkStore interface {
	CodeStore
	// ClaimStaffMessage reports whether message sid from scope is seen for the first time;
	// if not, it returns the reply saved for it.
	ClaimStaffMessage(ctx context.Context, scope, sid string) (bool, string, error)
	// SaveStaffReply keeps the reply message sid from scope got.
	SaveStaffReply(ctx context.Context, scope, sid, reply string) error
}

// Linking records that a person's WhatsApp address is theirs (Directory).
type Linking interface {
	LinkWhatsApp(ctx context.Context, p Person, waID string) error
}

// ChannelRenderer renders messages for a channel (render.Set).
type ChannelRenderer interface {
	Render(ch hotline.Channel, lang string, replies []flow.Reply) ([]string, error)
}

// LinkConfig holds a Linker's dependencies.
type LinkConfig struct {
	Store     LinkStore
	Roster    Lookup
	Directory Linking
	// PhoneID is the member id of an SMS phone number (privacy.Keys.MemberID with hotline.SMS).
	PhoneID func(phone string) string
	// Sender texts the code from the hotline number (the outbox, as pages go).
	Sender   hotline.Sender
	Renderer ChannelRenderer
	// Languages are the hotline's; the first is a person's when theirs is not one of them.
	Languages []string
	Log       *slog.Logger
	// Rand is the source of codes; nil is crypto/rand.
	Rand io.Reader
	// CodeHash is what is stored of a code, keyed as the console's (SignInConfig.CodeHash);
	// nil is an unkeyed hash (tests).
	CodeHash func(phoneID, code string) string
}

// Linker links staff's WhatsApp addresses to their phones by a code sent by SMS.
type Linker struct {
	cfg   LinkConfig
	codes codeBook
	// sending tracks the codes being texted after the answer was given.
	sending sync.WaitGroup
}

// NewLinker returns a Linker.
func NewLinker(cfg LinkConfig) *Linker {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.CodeHash == nil {
		cfg.CodeHash = codeHash
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Linker{cfg: cfg, codes: codeBook{store: cfg.Store, rand: cfg.Rand, hash: cfg.CodeHash, space: linkSpace, bucket: linkSpace}}
}

// Answer answers a WhatsApp message from an address linked to no one on the team, if it is
// about linking: VINCULAR or LINK from anyone, or a 6-digit code from the WhatsApp of a
// number on the team. handled is false for any other message, which is a member's, and then
// nothing was read from Redis: a member's message costs one HMAC at most here, and only when
// it is 6 digits.
func (l *Linker) Answer(ctx context.Context, in hotline.Inbound) (reply hotline.Reply, handled bool, err error) {
	text := strings.TrimSpace(in.Text)
	if isCode(text) {
		phone, ok := whatsAppNumber(in.From)
		if !ok {
			return hotline.Reply{}, false, nil
		}
		id := l.cfg.PhoneID(phone)
		p, ok, err := findPerson(ctx, l.cfg.Roster, id)
		if err != nil || !ok {
			return hotline.Reply{}, false, err
		}
		reply, err := l.once(ctx, in, func() (flow.Reply, string, error) { return l.confirm(ctx, in, p, id, text) })
		return reply, true, err
	}
	if len(text) > longestLinkWord {
		return hotline.Reply{}, false, nil
	}
	lang, ok := linkWords[fold.Text(text)]
	if !ok {
		return hotline.Reply{}, false, nil
	}
	reply, err = l.once(ctx, in, func() (flow.Reply, string, error) { return l.request(ctx, in, lang) })
	return reply, true, err
}

// Retried answers, for an address linked already, a code message that linked it and comes
// again (Twilio retrying the webhook, or delivering it twice at once): with the answer it
// got, rather than as a command, which would relay the code to the member of a case. handled
// is false for any other message; only 6 digits cost a read.
func (l *Linker) Retried(ctx context.Context, in hotline.Inbound) (reply hotline.Reply, handled bool, err error) {
	if !isCode(strings.TrimSpace(in.Text)) {
		return hotline.Reply{}, false, nil
	}
	first, prev, err := l.cfg.Store.ClaimStaffMessage(ctx, linkSpace+in.MemberID, in.ID)
	if err != nil || first {
		// first: a code typed after the link was made, which is a command's like any text.
		return hotline.Reply{}, false, err
	}
	return replyOf(prev), true, nil
}

// Drain waits for the codes being texted (shutdown, tests).
func (l *Linker) Drain() { l.sending.Wait() }

// once answers message in with do's reply, rendered for WhatsApp, unless it was answered
// before (Twilio retrying the webhook): then with the same answer, and nothing is done
// again (no second code texted, which would make the first one wrong).
func (l *Linker) once(ctx context.Context, in hotline.Inbound, do func() (flow.Reply, string, error)) (hotline.Reply, error) {
	scope := linkSpace + in.MemberID
	first, prev, err := l.cfg.Store.ClaimStaffMessage(ctx, scope, in.ID)
	if err != nil {
		return hotline.Reply{}, err
	}
	if !first {
		return replyOf(prev), nil
	}
	r, lang, err := do()
	if err != nil {
		return hotline.Reply{}, err
	}
	texts, err := l.cfg.Renderer.Render(hotline.WhatsApp, l.lang(lang), []flow.Reply{r})
	if err != nil {
		return hotline.Reply{}, fmt.Errorf("rendering %s: %w", r.ID, err)
	}
	if err := l.cfg.Store.SaveStaffReply(ctx, scope, in.ID, strings.Join(texts, replySep)); err != nil {
		// What the message did is done; only a retry's copy of the answer is lost.
		l.cfg.Log.Error("saving a link message's reply for retries", "err", err)
	}
	return hotline.Reply{Texts: texts}, nil
}

// request draws a code for the number behind the WhatsApp address and texts it there if the
// number is on the team. The answer is the same either way ("if this number is on the team,
// a code was sent"), and so is the work: a code is kept for any number, as console sign-in
// keeps one, and the text goes out after the answer.
func (l *Linker) request(ctx context.Context, in hotline.Inbound, lang string) (flow.Reply, string, error) {
	sent := flow.Reply{ID: "wa_link_sent"}
	phone, ok := whatsAppNumber(in.From)
	if !ok {
		return sent, lang, nil
	}
	id := l.cfg.PhoneID(phone)
	if err := l.codes.limitNumber(ctx, id); errors.Is(err, ErrRateLimited) {
		return flow.Reply{ID: "wa_link_limited"}, lang, nil
	} else if err != nil {
		return flow.Reply{}, "", err
	}
	p, onTeam, err := findPerson(ctx, l.cfg.Roster, id)
	if err != nil {
		return flow.Reply{}, "", err
	}
	code, err := l.codes.issue(ctx, id)
	if err != nil {
		return flow.Reply{}, "", err
	}
	if !onTeam {
		return sent, lang, nil
	}
	texts, err := l.cfg.Renderer.Render(hotline.SMS, l.lang(p.Lang), []flow.Reply{{ID: "wa_link_code", Data: map[string]string{"Code": code}}})
	if err != nil {
		return flow.Reply{}, "", fmt.Errorf("rendering the link code message: %w", err)
	}
	l.sending.Go(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		defer cancel()
		for _, t := range texts {
			if _, err := l.cfg.Sender.Send(ctx, hotline.Outbound{To: phone, Body: t}); err != nil {
				l.cfg.Log.Error("texting a WhatsApp link code", "actor", p.Actor, "err", err)
				return
			}
		}
		l.cfg.Log.Info("WhatsApp link code sent", "actor", p.Actor)
	})
	return sent, lang, nil
}

// confirm checks a code typed on WhatsApp by p (whose phone has member id phoneID) and, if
// it is theirs, links the WhatsApp address to them. The answers are in p's language: only
// someone holding the WhatsApp of a number on the team gets this far.
func (l *Linker) confirm(ctx context.Context, in hotline.Inbound, p Person, phoneID, code string) (flow.Reply, string, error) {
	switch err := l.codes.check(ctx, phoneID, code); {
	case errors.Is(err, ErrRateLimited):
		return flow.Reply{ID: "wa_link_limited"}, p.Lang, nil
	case errors.Is(err, ErrBadCode):
		return flow.Reply{ID: "wa_link_wrong"}, p.Lang, nil
	case err != nil:
		return flow.Reply{}, "", err
	}
	switch err := l.cfg.Directory.LinkWhatsApp(ctx, p, in.MemberID); {
	case errors.Is(err, hotline.ErrNotFound): // removed from the team since the code was sent
		return flow.Reply{ID: "wa_link_wrong"}, p.Lang, nil
	case err != nil:
		return flow.Reply{}, "", err
	}
	l.cfg.Log.Info("WhatsApp linked", "actor", p.Actor)
	return flow.Reply{ID: "wa_link_done"}, p.Lang, nil
}

// replyOf is a reply kept for retries ("" while the first delivery is being answered).
func replyOf(kept string) hotline.Reply {
	if kept == "" {
		return hotline.Reply{}
	}
	return hotline.Reply{Texts: strings.Split(kept, replySep)}
}

// lang is lang if the hotline speaks it, else its first language.
func (l *Linker) lang(lang string) string {
	if slices.Contains(l.cfg.Languages, lang) || len(l.cfg.Languages) == 0 {
		return lang
	}
	return l.cfg.Languages[0]
}

// whatsAppNumber is the phone number behind a WhatsApp address ("whatsapp:+15055550100").
func whatsAppNumber(addr string) (string, bool) {
	phone, ok := strings.CutPrefix(addr, hotline.WhatsAppPrefix)
	return phone, ok && hotline.ValidE164(phone)
}

// isCode reports whether s is a code as texted: exactly 6 digits.
func isCode(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
