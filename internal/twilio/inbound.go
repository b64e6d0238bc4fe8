package twilio

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/hotline"
)

// Errors that ParseInbound wraps. The message names the field and the rule it broke but
// never the field's value: values are phone numbers and what members wrote, and errors end
// up in logs. The HTTP layer answers either with 400 Bad Request.
var (
	// ErrMissingField means a field the hotline needs is absent or empty.
	ErrMissingField = errors.New("twilio: missing field")
	// ErrInvalidField means a field is present but not of a form Twilio sends.
	ErrInvalidField = errors.New("twilio: invalid field")
)

// Limits on inbound fields. Twilio stays far below them; they exist so that a request that
// passed the signature check by mistake cannot push absurd values into keys and state.
const (
	// maxIDLen bounds the message id, which becomes part of a Redis key. Twilio's are 34.
	maxIDLen = 64
	// maxBodyRunes is WhatsApp's limit on a text message. SMS bodies are at most 1,600
	// characters, but one parser serves both channels, and refusing a genuine message is
	// worse for a hotline than accepting a long one.
	maxBodyRunes = 4096
	// maxAddressLen bounds From and To: E.164 numbers with a channel prefix, short codes
	// and alphanumeric sender ids are all far shorter.
	maxAddressLen = 256
	// maxOptOutTypeLen bounds OptOutType, which Twilio sets to STOP, START or HELP.
	maxOptOutTypeLen = 32
)

// ParseInbound takes an inbound SMS or WhatsApp message out of the form of Twilio's
// messaging webhook. The form must already have passed Verifier.Valid.
//
// MessageSid (or, from older webhooks, SmsMessageSid) and From are required; the id must be
// 1 to 64 ASCII letters and digits because it becomes part of a Redis key. Body may be empty,
// as in a picture sent without text, and may hold up to 4,096 characters; bytes that are not
// UTF-8 are replaced with U+FFFD rather than refused, so that a member's message is never lost
// to an encoding slip. A From starting with "whatsapp:" makes the channel hotline.WhatsApp,
// any other hotline.SMS. OptOutType is copied as given. FromCity, FromState, FromZip and the
// other fields Twilio adds are ignored: they describe the number, not the person, and the
// hotline does not keep them.
//
// Errors wrap ErrMissingField or ErrInvalidField and name the field, never its value.
func ParseInbound(form url.Values) (hotline.Inbound, error) {
	// Twilio sends each of these once; a repeated one makes the request ambiguous.
	for _, name := range []string{"MessageSid", "SmsMessageSid", "From", "To", "Body", "OptOutType"} {
		if len(form[name]) > 1 {
			return hotline.Inbound{}, fmt.Errorf("%w: %s appears more than once", ErrInvalidField, name)
		}
	}

	idField := "MessageSid"
	id := form.Get(idField)
	if id == "" {
		idField = "SmsMessageSid"
		id = form.Get(idField)
	}
	if id == "" {
		return hotline.Inbound{}, fmt.Errorf("%w: MessageSid", ErrMissingField)
	}
	if err := checkID(idField, id); err != nil {
		return hotline.Inbound{}, err
	}

	// A stray space (a "+" sent unencoded becomes one) would make the same phone a
	// different member, so it is trimmed.
	from := strings.TrimSpace(form.Get("From"))
	if from == "" {
		return hotline.Inbound{}, fmt.Errorf("%w: From", ErrMissingField)
	}
	if err := checkShort("From", from, maxAddressLen); err != nil {
		return hotline.Inbound{}, err
	}
	channel := hotline.SMS
	if strings.HasPrefix(from, hotline.WhatsAppPrefix) {
		channel = hotline.WhatsApp
		if len(from) == len(hotline.WhatsAppPrefix) {
			return hotline.Inbound{}, fmt.Errorf("%w: From has no address after the channel", ErrInvalidField)
		}
	}

	to := form.Get("To")
	if err := checkShort("To", to, maxAddressLen); err != nil {
		return hotline.Inbound{}, err
	}
	optOut := form.Get("OptOutType")
	if err := checkShort("OptOutType", optOut, maxOptOutTypeLen); err != nil {
		return hotline.Inbound{}, err
	}

	body := strings.ToValidUTF8(form.Get("Body"), string(utf8.RuneError))
	if utf8.RuneCountInString(body) > maxBodyRunes {
		return hotline.Inbound{}, fmt.Errorf("%w: Body longer than %d characters", ErrInvalidField, maxBodyRunes)
	}

	// NumMedia is a count Twilio sets; anything else in it is read as none rather than
	// refusing a message that may matter.
	media, err := strconv.Atoi(form.Get("NumMedia"))
	if err != nil || media < 0 {
		media = 0
	}

	return hotline.Inbound{
		ID:         id,
		Channel:    channel,
		From:       from,
		To:         to,
		Text:       body,
		OptOutType: optOut,
		Media:      media,
	}, nil
}

// checkID accepts a message id of ASCII letters and digits, as Twilio's SIDs are, so that it
// can go into a Redis key without quoting and cannot carry a key separator or a hash tag.
func checkID(field, id string) error {
	if len(id) > maxIDLen {
		return fmt.Errorf("%w: %s longer than %d characters", ErrInvalidField, field, maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return fmt.Errorf("%w: %s has a character other than a letter or digit", ErrInvalidField, field)
		}
	}
	return nil
}

// checkShort accepts a short, printable UTF-8 value such as an address. Control characters
// are refused because such values may be shown to volunteers and go into keys after hashing.
func checkShort(field, value string, maxLen int) error {
	if len(value) > maxLen {
		return fmt.Errorf("%w: %s longer than %d bytes", ErrInvalidField, field, maxLen)
	}
	if !utf8.ValidString(value) {
		return fmt.Errorf("%w: %s is not UTF-8", ErrInvalidField, field)
	}
	if strings.ContainsFunc(value, unicode.IsControl) {
		return fmt.Errorf("%w: %s has a control character", ErrInvalidField, field)
	}
	return nil
}
