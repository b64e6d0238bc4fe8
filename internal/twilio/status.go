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
