// Package hotline holds the few types every part of the service speaks: an inbound message
// from any channel, and the errors the parts return. It imports nothing of the project's.
package hotline

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Channel is how a member reaches the hotline. Flows are the same on every channel; only the
// edge that parses requests and renders replies differs.
type Channel string

// The channels the hotline knows: SMS and WhatsApp come through the Messages webhook, voice
// through the Voice webhooks.
const (
	SMS      Channel = "sms"
	WhatsApp Channel = "whatsapp"
	Voice    Channel = "voice"
)

// WhatsAppPrefix starts every WhatsApp address ("whatsapp:+15055550100"); an SMS number has
// none, and a caller's number is an SMS number.
const WhatsAppPrefix = "whatsapp:"

// ChannelOf is the channel a provider address is written to on: WhatsApp by its prefix, else
// SMS.
func ChannelOf(addr string) Channel {
	if strings.HasPrefix(addr, WhatsAppPrefix) {
		return WhatsApp
	}
	return SMS
}

// Inbound is one message from a member, already taken out of the provider's request.
type Inbound struct {
	// ID is the provider's message id (Twilio's MessageSid). A retried webhook carries the
	// same ID, which is how a retry is recognised.
	ID string
	// Channel and From identify the member. From is the provider's address as given, e.g.
	// "+15055550100" for SMS or "whatsapp:+15055550100"; it is never stored in clear.
	Channel Channel
	From    string
	// MemberID is the sender's member id (privacy.Keys.MemberID of Channel and From), set
	// by the first part that computes it so that none computes it again; "" until then.
	MemberID string
	// To is the hotline's own address the member wrote to.
	To string
	// Text is what the member wrote.
	Text string
	// OptOutType is set when the provider itself recognised an opt-out keyword
	// (Twilio Advanced Opt-Out: "STOP", "START" or "HELP").
	OptOutType string
	// Media is how many pictures, voice notes or files came with the message. We open none
	// of them (they may show a face or a voice, and we keep no such thing): a message of
	// media alone is answered that we cannot.
	Media int
}

// Reply is the hotline's answer to one inbound message, rendered for the message's channel.
type Reply struct {
	// Texts are the messages to send (SMS, WhatsApp) or the sentences to say (voice), in
	// order. None: say nothing (an opted-out member, a message past a limit).
	Texts []string
	// Lang is the language of Texts, "" when it is not one member's (a staff command, a
	// notice in every language).
	Lang string
	// Options are the numbered choices the last text offered, for an edge that listens
	// rather than shows: the voice line takes them as keys and speech hints. None when the
	// member is asked to answer in their own words.
	Options []Option
	// Escalated is set when the message opened a case with a volunteer (or made one
	// urgent): the voice line then rings the volunteers on call.
	Escalated bool
	// Urgent is set when that case is an emergency.
	Urgent bool
}

// Option is a numbered choice as the channel says it.
type Option struct {
	Number int    `json:"n"`
	Label  string `json:"l"`
}

// Answerer answers one inbound message. The member engine, and the staff router that wraps
// it, all are one.
type Answerer interface {
	Answer(ctx context.Context, in Inbound) (Reply, error)
}

// MemberStore keeps members' sealed state and the replies already given, so that a retried
// webhook gets the same answer. Implemented by redisstore.
type MemberStore interface {
	// Load returns member id's record and, in the same round trip, the reply already given
	// to message msgID (nil if none).
	Load(ctx context.Context, id, msgID string) (MemberRecord, error)
	// Save applies c atomically, in one round trip. Nothing is written when it returns
	// *AnsweredError (msgID was answered before), *LimitedError (the message passed a
	// limit) or *ConflictError (the state is not c.Expect); each carries the state as it
	// is, so the caller can go on without another read.
	Save(ctx context.Context, id string, c Commit) error
	// Count counts message msgID against member id's limits without anything else, and
	// returns the member's counts this minute and this hour, this message included. A
	// retry of a message answered before is not counted: it returns *AnsweredError.
	Count(ctx context.Context, id, msgID string, now time.Time) (minute, hour int64, err error)
}

// MemberRecord is what a store holds about one member. Values are sealed (encrypted) by the
// caller; a store never sees them in clear.
type MemberRecord struct {
	// State is the sealed state, nil for a member never seen (or whose state expired).
	// Save succeeds only against it: sealing makes every written state unique (a fresh
	// nonce each time), so an unchanged state proves nobody wrote in between, and the store
	// keeps no version number beside it.
	State []byte
	// Reply is the sealed reply already given to the message asked about, nil if none.
	Reply []byte
}

// Commit is one state write together with the reply to the message that caused it.
type Commit struct {
	// Expect is the state the new one was worked out from (nil for a member never seen):
	// what Load returned, what the caller remembers, or what an error of Save carried.
	Expect []byte
	// State is the sealed new state.
	State []byte
	// TTL is how long an idle member is kept; 0 keeps the member until changed (a
	// subscriber, or an opt-out that must be honoured indefinitely).
	TTL time.Duration
	// MsgID and Reply record the answer to the message that caused this write; both are
	// empty for a write no message caused (a worker learning an opt-out, say).
	MsgID string
	Reply []byte
	Now   time.Time
	// Count counts message MsgID against the member's per-minute and per-hour limits before
	// anything else is checked: set it on a message's first attempt only. MinuteLimit and
	// HourLimit (0: none) then refuse the write with *LimitedError once a count passes them.
	Count                  bool
	MinuteLimit, HourLimit int64
	// Job is the sealed record of what the message's step promised to do beyond its reply
	// (open a case, page, relay, erase), written in the same atomic commit as the state so
	// that a crash after the commit cannot lose it; nil when the step promised nothing. It
	// is written leased for JobLease, so no other process takes it while this one runs it.
	Job      []byte
	JobLease time.Duration
}

// ErrDoNotAnswer marks a failure after which the member must get no reply at all, not even
// the fallback: their stored state could not be read, and it may hold an opt-out.
var ErrDoNotAnswer = errors.New("member must not be answered")

// ErrContent marks a failure of the hotline's own content, such as a message that does not
// render: not an outage, so keeping the message to try again later cannot help.
var ErrContent = errors.New("content defect")

// ErrConflict means a member's state changed between read and write; re-read and retry.
var ErrConflict = errors.New("member state changed concurrently")

// ConflictError is ErrConflict with the member's state as it is now (nil: none).
type ConflictError struct{ State []byte }

func (e *ConflictError) Error() string        { return ErrConflict.Error() }
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// LimitedError means the message passed the member's per-minute or per-hour limit: it was
// counted, and nothing else happened. State is the member's state, for the notice's language.
type LimitedError struct {
	Minute, Hour int64
	State        []byte
}

func (e *LimitedError) Error() string { return "member over their message limits" }

// AnsweredError means the message was answered before (a retried webhook, or a concurrent
// delivery of the same message); Reply is that answer, to be given again, and State the
// member's state.
type AnsweredError struct{ Reply, State []byte }

func (e *AnsweredError) Error() string { return "message already answered" }
