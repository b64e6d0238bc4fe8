// Package hotline holds the few types every part of the service speaks: an inbound message
// from any channel, and the errors the parts return. It imports nothing of the project's.
package hotline

import "errors"

// Channel is how a member reaches the hotline. Flows are the same on every channel; only the
// edge that parses requests and renders replies differs.
type Channel string

// The channels the hotline knows. Only SMS has an edge today.
const (
	SMS      Channel = "sms"
	WhatsApp Channel = "whatsapp"
	Voice    Channel = "voice"
)

// Inbound is one message from a member, already taken out of the provider's request.
type Inbound struct {
	// ID is the provider's message id (Twilio's MessageSid). A retried webhook carries the
	// same ID, which is how a retry is recognised.
	ID string
	// Channel and From identify the member. From is the provider's address as given, e.g.
	// "+15055550100" for SMS or "whatsapp:+15055550100"; it is never stored in clear.
	Channel Channel
	From    string
	// To is the hotline's own address the member wrote to.
	To string
	// Text is what the member wrote.
	Text string
	// OptOutType is set when the provider itself recognised an opt-out keyword
	// (Twilio Advanced Opt-Out: "STOP", "START" or "HELP").
	OptOutType string
}

// ErrConflict means a member's state changed between read and write; the caller re-reads
// and tries again.
var ErrConflict = errors.New("state changed concurrently")
