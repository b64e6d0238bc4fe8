// Package twilio is the edge between Twilio's HTTP and the hotline. It checks that a webhook
// really comes from Twilio, turns the webhook's form into a hotline.Inbound, and renders the
// replies as TwiML. Everything that knows Twilio's field names and formats lives here, so the
// rest of the service speaks only the hotline's types and another provider needs only
// another edge. It holds no state beyond the auth token and talks to neither Redis nor flows.
package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"maps"
	"net/url"
	"slices"
	"strings"

	twclient "github.com/twilio/twilio-go/client"
)

// SignatureHeader is the HTTP header in which Twilio sends a webhook's signature.
const SignatureHeader = "X-Twilio-Signature"

// Verifier checks the signatures Twilio puts on its webhooks. It is safe for concurrent use:
// it only reads the auth token it was built with.
type Verifier struct {
	// rv is kept as a value: its methods have pointer receivers, and a Verifier is always
	// used through a pointer, so rv is addressable.
	rv twclient.RequestValidator
	// noToken makes every signature invalid. An empty auth token would make signatures
	// anyone can compute, so a misconfigured service refuses all webhooks instead.
	noToken bool
}

// NewVerifier returns a Verifier for the account whose auth token is authToken. With an
// empty authToken the Verifier accepts no request at all.
func NewVerifier(authToken string) *Verifier {
	return &Verifier{
		rv:      twclient.NewRequestValidator(authToken),
		noToken: authToken == "",
	}
}

// Valid reports whether signature (the X-Twilio-Signature header) is Twilio's signature of
// a request to fullURL with the POST parameters form. fullURL must be the public URL exactly
// as configured in Twilio, query included; it is tried with and without the scheme's default
// port, because Twilio is not consistent about which of the two it signs. Every parameter
// and every value of a repeated parameter counts, so nothing in the request escapes the
// check. The comparison takes constant time.
func (v *Verifier) Valid(fullURL string, form url.Values, signature string) bool {
	if v.noToken || signature == "" {
		return false
	}
	return v.rv.Validate(fullURL, foldRepeated(form), signature)
}

// foldRepeated turns form into the map twilio-go's validator takes without changing the
// string it signs. The validator appends name+value for each name in sorted order, which is
// Twilio's rule for single values; for a repeated name Twilio appends name+value for each of
// its distinct values in sorted order (as twilio-node and twilio-python do). Joining those
// values with the name as separator makes the validator append exactly that:
// name + (v1 + name + v2) = name v1 name v2. Taking only the first value, as twilio-go's own
// ValidateBody does, would leave the other values unsigned and reject genuine requests.
func foldRepeated(form url.Values) map[string]string {
	params := make(map[string]string, len(form))
	for name, values := range form {
		switch len(values) {
		case 0:
			// A name without values adds nothing to the signed string.
		case 1:
			params[name] = values[0]
		default:
			params[name] = strings.Join(signedValues(values), name)
		}
	}
	return params
}

// Sign returns the signature Twilio would send for a request to fullURL with the POST
// parameters form, signed with authToken: the base64 HMAC-SHA1 of the URL followed by each
// parameter's name and value, names in sorted order and, for a repeated name, its distinct
// values in sorted order. Tests and the load generator use it to send webhooks that Valid
// accepts.
func Sign(authToken, fullURL string, form url.Values) string {
	// The signed string is built whole and hashed once: writing each piece to the hash would
	// copy every string into a fresh []byte.
	n := len(fullURL)
	for name, values := range form {
		for _, value := range values {
			n += len(name) + len(value)
		}
	}
	signed := make([]byte, 0, n)
	signed = append(signed, fullURL...)
	for _, name := range slices.Sorted(maps.Keys(form)) {
		for _, value := range signedValues(form[name]) {
			signed = append(signed, name...)
			signed = append(signed, value...)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write(signed) // A hash never returns an error.
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// signedValues returns the values of one parameter in the order they are signed: sorted,
// each distinct value once. It leaves values itself untouched, since it belongs to the
// caller's form.
func signedValues(values []string) []string {
	if len(values) < 2 {
		return values
	}
	return slices.Compact(slices.Sorted(slices.Values(values)))
}
