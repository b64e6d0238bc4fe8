package twilio

import (
	"errors"
	"fmt"
	"io"

	"github.com/twilio/twilio-go/twiml"
)

// ContentType is the Content-Type of a TwiML response. The charset matches the encoding
// that the XML declaration of every response names.
const ContentType = "text/xml; charset=utf-8"

// ErrEmptyReply means a reply had no text. Twilio refuses a <Message> without a body, and an
// empty reply is a defect upstream (a missing translation, say) that should not pass
// silently.
var ErrEmptyReply = errors.New("twilio: empty reply")

// WriteTwiML writes to w the TwiML that answers an inbound message with bodies: a
// <Response> holding one <Message> per body, which Twilio sends as one message each, in
// order. With no bodies it writes an empty <Response/>, which tells Twilio to send nothing.
// Text is XML-escaped by twilio-go's twiml package, which also replaces characters XML
// cannot carry (such as NUL) with U+FFFD. If a body is empty, nothing is written and the
// error wraps ErrEmptyReply.
func WriteTwiML(w io.Writer, bodies []string) error {
	verbs := make([]twiml.Element, 0, len(bodies))
	for i, body := range bodies {
		if body == "" {
			return fmt.Errorf("%w: reply %d of %d", ErrEmptyReply, i+1, len(bodies))
		}
		verbs = append(verbs, &twiml.MessagingMessage{Body: body})
	}
	doc, err := twiml.Messages(verbs)
	if err != nil {
		return fmt.Errorf("twilio: render TwiML: %w", err)
	}
	if _, err := io.WriteString(w, doc); err != nil {
		return fmt.Errorf("twilio: write TwiML: %w", err)
	}
	return nil
}
