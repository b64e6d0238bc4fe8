package hotline

import (
	"context"
	"errors"
	"fmt"
)

// Outbound is a message sent outside a webhook reply: an alert, a relay to a volunteer.
type Outbound struct {
	// To is the provider address ("+15055550100", "whatsapp:+1…").
	To   string
	Body string
	// StatusCallback is the URL the provider reports delivery to; empty for none.
	StatusCallback string
	// Member is the recipient's member id when the recipient is a member (empty for a
	// volunteer or an organizer), so that a queued message is checked once more against
	// an opt-out before it goes.
	Member string
	// ContentSid, when set, sends the provider's approved template of that id (Twilio's
	// Content API, "HX…") instead of Body: the only message WhatsApp lets a business send
	// outside the 24-hour customer service window. ContentVariables fills its placeholders,
	// as JSON ({"1":"…"}); empty for a template without any.
	ContentSid       string
	ContentVariables string
}

// Sender sends outbound messages. Implemented by the Twilio REST sender, and by a console
// sender in local mode.
type Sender interface {
	// Send sends m and returns the provider's message id. A failure the caller can act on
	// is a *SendError.
	Send(ctx context.Context, m Outbound) (string, error)
}

// SendError is a provider's refusal or failure, classified for what to do next.
type SendError struct {
	// Code is the provider's error code (Twilio: 21610, 21211…), 0 when there was none
	// (a timeout, a connection error).
	Code int
	// Status is the HTTP status, 0 when there was no response.
	Status int
	// Kind says what to do.
	Kind SendErrorKind
	Err  error
}

// SendErrorKind classifies a send failure.
type SendErrorKind int

const (
	// Permanent: the message will never go out as it is (bad body, bad sender); count it
	// failed.
	Permanent SendErrorKind = iota
	// Retry: try again later (rate limited, provider error, timeout).
	Retry
	// OptedOut: the recipient has blocked the sender (Twilio 21610): mark them opted out.
	OptedOut
	// Undeliverable: the address cannot receive messages (21211 invalid, 21614 not
	// SMS-capable): mark it and skip it next time.
	Undeliverable
)

func (e *SendError) Error() string {
	return fmt.Sprintf("send failed (kind %d, code %d, status %d): %v", e.Kind, e.Code, e.Status, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// SendErrorKindOf returns the kind of err, Retry for an error that is not a *SendError
// (an unknown failure is retried, never dropped).
func SendErrorKindOf(err error) SendErrorKind {
	var se *SendError
	if errors.As(err, &se) {
		return se.Kind
	}
	return Retry
}
