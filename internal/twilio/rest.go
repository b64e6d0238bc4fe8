package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/communityhotline/hotline/internal/hotline"
)

// DefaultSendTimeout bounds one Send when RESTConfig.Timeout is zero.
const DefaultSendTimeout = 10 * time.Second

// twilioAPIBase is where twilio-go sends Messages API requests. It is only compared with,
// never dialled by this package: twilio-go builds the URLs itself.
const twilioAPIBase = "https://api.twilio.com"

// RESTConfig configures a RESTSender.
type RESTConfig struct {
	// AccountSID and AuthToken authenticate every request (HTTP Basic). twilio-go refuses
	// to send with anything but ASCII letters and digits in either, so NewRESTSender
	// refuses them too, at start-up rather than at the first send.
	AccountSID string
	AuthToken  string
	// From is the sending number ("+15055550100"); MessagingServiceSID ("MG…") lets a
	// Messaging Service choose the sender instead. Exactly one of the two must be set.
	From                string
	MessagingServiceSID string
	// APIBase, when set, replaces https://api.twilio.com as the scheme and host of every
	// request ("http://127.0.0.1:45678" for a fake, or a Twilio-compatible provider);
	// paths and queries are kept. It must have no path of its own.
	APIBase string
	// Timeout bounds one Send, from the request to the end of the answer. Zero means
	// DefaultSendTimeout.
	Timeout time.Duration
	// HTTPClient is optional. Only its Transport is used (connection pool, proxy, TLS);
	// Timeout above bounds each send instead of HTTPClient.Timeout, and redirects are never
	// followed. When nil, a Transport sized for concurrent sends is built.
	HTTPClient *http.Client
}

// RESTSender sends messages through Twilio's Messages API with twilio-go. It is safe for
// concurrent use, and concurrent sends do not wait for each other.
//
// twilio-go's CreateMessage takes no context and builds its request with
// context.Background(). So that Send still honours ctx, each Send puts a few small
// twilio-go values (an ApiService over a client.Client over an http.Client) around a
// RoundTripper that attaches the Send's context to the request; what is expensive and
// worth sharing, the http.Transport and its pool of connections, is built once and shared
// by every Send. A single long-lived twilio-go client would be safe for concurrent use too
// (client.Client only reads its fields when it authenticates with a password, and
// RequestHandler and ApiService only read theirs), but it could not see the caller's
// context. The ApiService of the Messages API (rest/api/v2010) is used on its own rather
// than through twilio.NewRestClientWithParams, whose package builds sixty services per
// client and imports a JWT module this module does not otherwise need.
type RESTSender struct {
	accountSID string
	creds      *twclient.Credentials
	from       string
	service    string
	timeout    time.Duration
	transport  http.RoundTripper
	// scheme and host replace the request's when APIBase is set; host is empty otherwise.
	scheme string
	host   string
}

// The sender is a hotline.Sender.
var _ hotline.Sender = (*RESTSender)(nil)

// alphanumeric matches what twilio-go accepts as a username or password.
var alphanumeric = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// NewRESTSender returns a RESTSender for cfg, or an error naming the setting that is wrong.
// The error never repeats the auth token.
func NewRESTSender(cfg RESTConfig) (*RESTSender, error) {
	if !alphanumeric.MatchString(cfg.AccountSID) {
		return nil, errors.New("twilio: AccountSID must be non-empty ASCII letters and digits")
	}
	if !alphanumeric.MatchString(cfg.AuthToken) {
		return nil, errors.New("twilio: AuthToken must be non-empty ASCII letters and digits")
	}
	if (cfg.From == "") == (cfg.MessagingServiceSID == "") {
		return nil, errors.New("twilio: set exactly one of From and MessagingServiceSID")
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("twilio: Timeout must not be negative")
	}
	s := &RESTSender{
		accountSID: cfg.AccountSID,
		creds:      twclient.NewCredentials(cfg.AccountSID, cfg.AuthToken),
		from:       cfg.From,
		service:    cfg.MessagingServiceSID,
		timeout:    cfg.Timeout,
	}
	if s.timeout == 0 {
		s.timeout = DefaultSendTimeout
	}
	if cfg.APIBase != "" {
		u, err := url.Parse(cfg.APIBase)
		if err != nil {
			return nil, fmt.Errorf("twilio: APIBase: %w", err)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return nil, errors.New("twilio: APIBase must be an http or https URL with a host")
		}
		if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
			return nil, errors.New("twilio: APIBase must be a scheme and host only")
		}
		if cfg.APIBase != twilioAPIBase {
			s.scheme, s.host = u.Scheme, u.Host
		}
	}
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		s.transport = cfg.HTTPClient.Transport
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// The default keeps 2 idle connections per host: with more concurrent senders than
		// that, most sends would open a new TLS connection to the same host.
		t.MaxIdleConns = 256
		t.MaxIdleConnsPerHost = 256
		s.transport = t
	}
	return s, nil
}

// Send sends m and returns the SID Twilio gave the message. To starting with "whatsapp:"
// and a configured From without it sends from "whatsapp:"+From, the same number on
// WhatsApp. With m.ContentSid set it sends that approved template, with
// m.ContentVariables, and no Body.
//
// The send gives up when ctx is done or after the configured Timeout, whichever comes
// first; the message may then have reached Twilio all the same. Every failure is a
// *hotline.SendError:
//   - OptedOut: Twilio error 21610 (the recipient replied STOP).
//   - Undeliverable: 21211 (invalid number), 21614 (not a mobile number).
//   - Retry: 20429, 21611 (too many queued), HTTP 408, 429 and 5xx, and no answer at all
//     (timeout, connection refused or reset, ctx done).
//   - Permanent: any other 4xx, such as 21617 (body too long) or 21606 (bad From). Bad
//     credentials (HTTP 401, 20003) are Permanent too: every send would fail the same way
//     until the configuration is fixed, and retrying would only hide that. A 2xx or 3xx
//     answer without a message SID is Permanent as well: Twilio may have accepted the
//     message, and a retry could send it twice.
//
// The error never contains m.To or m.Body: Twilio's own error messages can quote the
// number ("The 'To' number +1505… is not a valid phone number"), so they are kept with
// numbers and the recipient's address replaced, and twilio-go's errors, which can quote the
// request URL, are replaced by ones that say what happened without it.
func (s *RESTSender) Send(ctx context.Context, m hotline.Outbound) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", &hotline.SendError{Kind: hotline.Retry, Err: fmt.Errorf("twilio: not sent: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	api, rt := s.call(ctx)

	params := &openapi.CreateMessageParams{}
	params.SetTo(m.To)
	if m.ContentSid != "" {
		// A template goes without Body: outside WhatsApp's window Twilio refuses a
		// template sent with Body (63016), and Body beside ContentSid is not the template.
		params.SetContentSid(m.ContentSid)
		if m.ContentVariables != "" {
			params.SetContentVariables(m.ContentVariables)
		}
	} else {
		params.SetBody(m.Body)
	}
	if s.service != "" {
		params.SetMessagingServiceSid(s.service)
	} else {
		params.SetFrom(s.fromFor(m.To))
	}
	if m.StatusCallback != "" {
		params.SetStatusCallback(m.StatusCallback)
	}

	msg, err := api.CreateMessage(params)
	// twilio-go does not close the body of an error answer; closing it here returns the
	// connection to the pool instead of leaking it.
	rt.closeBody()
	if err != nil {
		return "", classify(rt.status, err, m)
	}
	if msg.Sid == nil || *msg.Sid == "" {
		return "", &hotline.SendError{
			Status: rt.status,
			Kind:   hotline.Permanent,
			Err:    fmt.Errorf("twilio: HTTP %d answer without a message SID", rt.status),
		}
	}
	return *msg.Sid, nil
}

// call returns the twilio-go service for one request under ctx, and the transport that
// carries it.
func (s *RESTSender) call(ctx context.Context) (*openapi.ApiService, *callTransport) {
	rt := &callTransport{ctx: ctx, base: s.transport, scheme: s.scheme, host: s.host}
	c := &twclient.Client{
		Credentials: s.creds,
		HTTPClient:  &http.Client{Transport: rt, CheckRedirect: noRedirects},
	}
	c.SetAccountSid(s.accountSID)
	// The RequestHandler is built directly rather than with NewRequestHandler, which reads
	// TWILIO_EDGE and TWILIO_REGION from the environment: this sender's configuration comes
	// from RESTConfig alone.
	return openapi.NewApiService(&twclient.RequestHandler{Client: c}), rt
}

// fromFor returns the From to send to the address to.
func (s *RESTSender) fromFor(to string) string {
	if strings.HasPrefix(to, hotline.WhatsAppPrefix) && !strings.HasPrefix(s.from, hotline.WhatsAppPrefix) {
		return hotline.WhatsAppPrefix + s.from
	}
	return s.from
}

// noRedirects makes the HTTP client return a redirect as the answer, as twilio-go's own
// default client does: a POST that creates a message must not be repeated elsewhere.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// callTransport carries the requests of one Send. It attaches the Send's context, points
// the request at APIBase, and remembers the HTTP status and body of the answer. It is used
// by one goroutine at a time: twilio-go makes its requests one after the other.
type callTransport struct {
	ctx    context.Context
	base   http.RoundTripper
	scheme string
	host   string

	status int
	body   io.ReadCloser
}

func (t *callTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// WithContext copies the request, so the caller's request stays untouched as the
	// RoundTripper contract asks; the URL is copied before it is changed for the same reason.
	r := req.WithContext(t.ctx)
	if t.host != "" {
		u := *req.URL
		u.Scheme, u.Host = t.scheme, t.host
		r.URL = &u
		r.Host = ""
	}
	resp, err := t.base.RoundTrip(r)
	if resp != nil {
		t.closeBody()
		t.status, t.body = resp.StatusCode, resp.Body
	}
	return resp, err
}

// maxDrain bounds what is read of an unread answer to keep its connection for reuse.
const maxDrain = 4 << 10

// closeBody drains a little of the last answer and closes it. Closing an http body twice
// is harmless, so it does not matter whether twilio-go closed it already.
func (t *callTransport) closeBody() {
	if t.body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, t.body, maxDrain)
	_ = t.body.Close()
	t.body = nil
}

// Twilio error codes that change what the hotline does.
const (
	codeRateLimited = 20429
	codeInvalidTo   = 21211
	codeQueueFull   = 21611
	codeNotMobile   = 21614
	codeOptedOut    = 21610
)

// classify turns a failed CreateMessage into a *hotline.SendError. status is the HTTP
// status of the answer, 0 when there was none.
func classify(status int, err error, m hotline.Outbound) *hotline.SendError {
	var (
		code    int
		message string
		more    string
	)
	var restErr *twclient.TwilioRestError
	var v1Err *twclient.RestErrorV1
	switch {
	case errors.As(err, &restErr):
		code, message, more = restErr.Code, restErr.Message, restErr.MoreInfo
		if status == 0 {
			// twilio-go also returns a TwilioRestError without asking the server, when the
			// credentials have characters it refuses.
			status = restErr.Status
		}
	case errors.As(err, &v1Err):
		code, message = v1Err.Code, v1Err.Message
		if status == 0 {
			status = v1Err.HttpStatusCode
		}
	case status == 0:
		// No answer. url.Error's text names the request URL, which holds the account SID;
		// only the cause is kept, wrapped so that errors.Is still finds
		// context.DeadlineExceeded and the like.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return &hotline.SendError{Kind: hotline.Retry, Err: fmt.Errorf("twilio: no answer: %w", err)}
	default:
		// An answer twilio-go could not read: an error page from a proxy, or a success
		// whose JSON is broken. The decoding error says nothing useful and is dropped.
		return &hotline.SendError{
			Status: status,
			Kind:   kindOf(status, 0),
			Err:    fmt.Errorf("twilio: HTTP %d answer that is not Twilio's JSON", status),
		}
	}
	text := "twilio: " + redact(message, m)
	if more != "" {
		// more_info is a link to Twilio's documentation of the code; its digits are the
		// code, so only the address and body are taken out.
		text += " (" + truncate(redactMessage(more, m)) + ")"
	}
	return &hotline.SendError{Code: code, Status: status, Kind: kindOf(status, code), Err: errors.New(text)}
}

// kindOf says what to do after an answer with the HTTP status and Twilio error code.
func kindOf(status, code int) hotline.SendErrorKind {
	switch code {
	case codeOptedOut:
		return hotline.OptedOut
	case codeInvalidTo, codeNotMobile:
		return hotline.Undeliverable
	case codeRateLimited, codeQueueFull:
		return hotline.Retry
	}
	switch {
	case status == http.StatusRequestTimeout, status == http.StatusTooManyRequests, status >= 500:
		return hotline.Retry
	default:
		// Any other 4xx, and the 2xx and 3xx answers that carried no message.
		return hotline.Permanent
	}
}

// numberLike matches a run of digits that may hold the separators people write phone
// numbers with ("+1 (505) 555-0100"); redact replaces those with enough digits to be one.
var numberLike = regexp.MustCompile(`\+?[0-9][0-9 ().-]*[0-9]`)

// maxErrorMessageLen bounds what is kept of a message Twilio wrote, since it goes to logs.
const maxErrorMessageLen = 300

// minNumberDigits is the fewest digits redact treats as a phone number. Twilio's messages
// hold shorter numbers (error codes, the 1600-character limit) that are worth keeping.
const minNumberDigits = 7

// redact removes from a message Twilio wrote anything that could identify the recipient or
// repeat what was sent: the To address as given and any digits that look like a phone
// number, and the body when it is long enough that finding it is not a coincidence. It
// also cuts the message short, since it ends up in logs.
func redact(s string, m hotline.Outbound) string {
	s = redactMessage(s, m)
	s = numberLike.ReplaceAllStringFunc(s, func(run string) string {
		digits := 0
		for i := 0; i < len(run); i++ {
			if '0' <= run[i] && run[i] <= '9' {
				digits++
			}
		}
		if digits >= minNumberDigits {
			return "[number]"
		}
		return run
	})
	return truncate(s)
}

// truncate cuts s to maxErrorMessageLen bytes, without splitting a character.
func truncate(s string) string {
	if len(s) <= maxErrorMessageLen {
		return s
	}
	return strings.ToValidUTF8(s[:maxErrorMessageLen], "") + "…"
}

// redactMessage replaces the To address, with and without its channel prefix, and a body
// of 8 bytes or more, wherever they appear in s.
func redactMessage(s string, m hotline.Outbound) string {
	if m.To != "" {
		s = strings.ReplaceAll(s, m.To, "[to]")
		if addr, ok := strings.CutPrefix(m.To, hotline.WhatsAppPrefix); ok && addr != "" {
			s = strings.ReplaceAll(s, addr, "[to]")
		}
	}
	if len(m.Body) >= 8 {
		s = strings.ReplaceAll(s, m.Body, "[body]")
	}
	return s
}
