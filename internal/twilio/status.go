package twilio

import (
	"fmt"
	"net/url"
	"strconv"
)

// StatusUpdate is what a status callback reports about a message the hotline sent.
type StatusUpdate struct {
	// MessageSID is the SID Send returned for the message.
	MessageSID string
	// Status is Twilio's MessageStatus: queued, sending, sent, delivered, undelivered,
	// failed, accepted, scheduled, canceled, or read and partially_delivered on other
	// channels. It is passed on as Twilio wrote it, so that a status Twilio adds later
	// reaches the caller instead of failing the callback.
	Status string
	// ErrorCode is Twilio's error code for an undelivered or failed message (30003
	// unreachable, 30005 unknown, 30006 landline, 30007 filtered…), 0 when there is none.
	ErrorCode int
}

// maxStatusLen bounds a status name; Twilio's longest is "partially_delivered".
const maxStatusLen = 32

// ParseStatusCallback takes a StatusUpdate out of the form of Twilio's message status
// callback. The form must already have passed Verifier.Valid.
//
// MessageSid (or SmsSid, from older callbacks) and MessageStatus (or SmsStatus) are
// required. The SID must be 1 to 64 ASCII letters and digits; the status lowercase ASCII
// letters and underscores, at most 32. ErrorCode is optional: absent or empty means 0,
// otherwise it must be a non-negative decimal number. Like ParseInbound, a field that
// appears more than once is refused, and errors wrap ErrMissingField or ErrInvalidField and
// name the field, never its value. The To and From of the callback are ignored: the SID
// is enough to find the message, and the hotline does not want the number again.
func ParseStatusCallback(form url.Values) (StatusUpdate, error) {
	for _, name := range []string{"MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "ErrorCode"} {
		if len(form[name]) > 1 {
			return StatusUpdate{}, fmt.Errorf("%w: %s appears more than once", ErrInvalidField, name)
		}
	}

	idField := "MessageSid"
	id := form.Get(idField)
	if id == "" {
		idField = "SmsSid"
		id = form.Get(idField)
	}
	if id == "" {
		return StatusUpdate{}, fmt.Errorf("%w: MessageSid", ErrMissingField)
	}
	if err := checkID(idField, id); err != nil {
		return StatusUpdate{}, err
	}

	statusField := "MessageStatus"
	status := form.Get(statusField)
	if status == "" {
		statusField = "SmsStatus"
		status = form.Get(statusField)
	}
	if status == "" {
		return StatusUpdate{}, fmt.Errorf("%w: MessageStatus", ErrMissingField)
	}
	if len(status) > maxStatusLen {
		return StatusUpdate{}, fmt.Errorf("%w: %s longer than %d bytes", ErrInvalidField, statusField, maxStatusLen)
	}
	for i := 0; i < len(status); i++ {
		if c := status[i]; !('a' <= c && c <= 'z' || c == '_') {
			return StatusUpdate{}, fmt.Errorf("%w: %s has a character other than a lowercase letter or underscore", ErrInvalidField, statusField)
		}
	}

	u := StatusUpdate{MessageSID: id, Status: status}
	if s := form.Get("ErrorCode"); s != "" {
		// Atoi would accept a sign; Twilio's codes are plain digits.
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return StatusUpdate{}, fmt.Errorf("%w: ErrorCode is not a decimal number", ErrInvalidField)
			}
		}
		code, err := strconv.Atoi(s)
		if err != nil {
			return StatusUpdate{}, fmt.Errorf("%w: ErrorCode out of range", ErrInvalidField)
		}
		u.ErrorCode = code
	}
	return u, nil
}

// WhatsAppFailure is what a WhatsApp delivery failure reported in a status callback calls
// for. WhatsApp's refusals arrive there, after Twilio accepted the message, not as an error
// of the request that created it (docs/channels.md, "After the review", 8).
type WhatsAppFailure string

// The WhatsApp failures the hotline acts on. The codes and their meaning are Twilio's
// (https://www.twilio.com/docs/api/errors/<code>, and the table of Twilio and WhatsApp codes
// at https://www.twilio.com/docs/whatsapp/api/error-code-mapping), as read in 2026:
//
//   - 63016 "Outside messaging window. For WhatsApp, use a Message Template instead": a
//     free-form message (or a template sent as Body) more than 24 hours after the user's
//     last inbound message (WhatsApp's 470).
//   - 63049 "Meta chose not to deliver this WhatsApp marketing message": a template Meta
//     counts as Marketing; since April 1, 2025 none reaches a U.S. number, and Twilio says
//     not to retry it.
//   - 63032 (WhatsApp's 472): Twilio's help center says messages that "failed due to a
//     WhatsApp experiment will return the error 63032" — Meta's marketing-message
//     experiment, whose members get no Marketing template outside an open window; retrying
//     fails the same way. Like 63049 it means a template was taken for Marketing.
//   - 63003 "Channel could not find To address" (an unregistered WhatsApp number, an
//     inactive user) and 63024 "Invalid message recipient" (not enabled for WhatsApp, terms
//     not accepted, a client too old).
//   - 63018 "Rate limit exceeded for Channel": the sender passed the messaging limit
//     WhatsApp imposes (WhatsApp's 429, 471, 1015).
const (
	// WhatsAppOutsideWindow (63016): the member's window was closed though the hotline took
	// it for open (a clock, a lost record). The message is lost; the member's window is
	// forgotten, so that what follows goes as a template.
	WhatsAppOutsideWindow WhatsAppFailure = "outside_window"
	// WhatsAppMarketing (63049, 63032): Meta took a template for Marketing and will not
	// deliver it. Not the member's doing, so nothing changes for them; it is not retried
	// (the same would fail again). Organizers must see the count: the template's category
	// needs fixing (docs/deploy.md, WhatsApp).
	WhatsAppMarketing WhatsAppFailure = "marketing_refused"
	// WhatsAppNotAUser (63003): the address cannot get WhatsApp messages. The member is
	// marked undeliverable, as Twilio's 21211 marks an SMS number: alerts skip them until
	// they write again.
	WhatsAppNotAUser WhatsAppFailure = "not_a_user"
	// WhatsAppRecipientUnable (63024): the recipient cannot take this message now (terms not
	// accepted, a client too old): things a member mends without writing to the hotline, so
	// it is counted and nothing changes for them (one such report must not end a
	// subscriber's alerts for good).
	WhatsAppRecipientUnable WhatsAppFailure = "recipient_unable"
	// WhatsAppRateLimited (63018): Meta's limit on business-initiated messages was passed.
	// The status callback carries no text to send again; what helps is a lower
	// HOTLINE_WA_RATE, or the sender's next tier. Nothing changes for the member.
	WhatsAppRateLimited WhatsAppFailure = "rate_limited"
)

// ClassifyWhatsApp returns what a status callback's ErrorCode calls for, and false for a
// code that is not one of the WhatsApp failures above (an SMS carrier's 30003, say, or a
// WhatsApp code the hotline has no action for).
func ClassifyWhatsApp(code int) (WhatsAppFailure, bool) {
	switch code {
	case 63016:
		return WhatsAppOutsideWindow, true
	case 63049, 63032:
		return WhatsAppMarketing, true
	case 63003:
		return WhatsAppNotAUser, true
	case 63024:
		return WhatsAppRecipientUnable, true
	case 63018:
		return WhatsAppRateLimited, true
	}
	return "", false
}
