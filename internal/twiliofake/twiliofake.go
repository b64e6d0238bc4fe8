// Package twiliofake is a local stand-in for the part of Twilio's REST API the hotline
// uses: creating a message (POST /2010-04-01/Accounts/{AccountSid}/Messages.json), as text
// or as an approved template (ContentSid), and listing and deleting an inbound message's
// media (…/Messages/{MessageSid}/Media.json, …/Media/{Sid}.json). It
// answers as Twilio does, closely enough for twilio-go to decode the answers and errors,
// records every message it accepts for tests to inspect, fails on request (a recipient who
// replied STOP, rate limiting, a server error, a request that never gets an answer), and
// can send the signed status callbacks Twilio would send.
//
// It serves tests and benchmarks: it allocates little, logs nothing per request and is
// safe for concurrent use, so a benchmark of the dispatch path measures the dispatcher and
// not the fake. Point a twilio.RESTSender at it with RESTConfig.APIBase = Server.URL().
package twiliofake

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/twilio"
)

// The credentials a new Server accepts. twilio-go refuses to send with anything but letters
// and digits in them, and so would a real account.
const (
	AccountSID = "AC0123456789abcdef0123456789abcdef"
	AuthToken  = "0123456789abcdef0123456789abcdef"
)

// MaxBodyChars is the longest message body Twilio accepts; a longer one fails with 21617.
const MaxBodyChars = 1600

// Message is a message the Server accepted.
type Message struct {
	// SID is the id the Server answered with: "SM" and 32 hex digits, unique per Server.
	SID        string
	AccountSID string
	To         string
	// From and MessagingServiceSID are as sent; one of them may be empty.
	From                string
	MessagingServiceSID string
	Body                string
	// ContentSID and ContentVariables are an approved template and its variables (JSON),
	// sent instead of a Body; empty for a text message.
	ContentSID       string
	ContentVariables string
	// StatusCallback is the URL sent for status callbacks, empty for none.
	StatusCallback string
	// NumSegments is the number of SMS segments the body takes, counted as Twilio does
	// (GSM-7 160/153, else UCS-2 70/67 in UTF-16 units), near enough for tests; 0 for a
	// message sent through a Messaging Service, as in Twilio's first answer, and for a
	// template.
	NumSegments int
}

// Server is a fake of Twilio's Messages API listening on 127.0.0.1. Its methods are safe
// for concurrent use, also while requests are being served.
type Server struct {
	ts *httptest.Server
	// closing is closed by Close, to release requests that Hang holds.
	closing   chan struct{}
	closeOnce sync.Once
	// callbacks sends the status callbacks.
	callbacks *http.Client

	// sidPrefix makes SIDs differ between Servers; seq makes them differ within one.
	sidPrefix [16]byte
	seq       atomic.Uint64
	requests  atomic.Int64

	mu        sync.Mutex
	cfg       config
	messages  []Message
	count     int
	failTo    map[string]fault
	failNext  int
	nextFault fault
	// media is the media of inbound messages (AddMedia): message SID → media SIDs not
	// deleted yet, and how many deletes were asked for.
	media   map[string][]string
	deletes int
}

// config is what a request needs to know before it is accepted; it is copied out of the
// Server under the lock in one go.
type config struct {
	accountSID string
	authToken  string
	// authHeader is the Authorization header a client with the right credentials sends,
	// compared whole to spare decoding it.
	authHeader string
	latency    time.Duration
	hang       bool
	// discard stops the recording of messages; Count still counts them.
	discard bool
}

// fault is an error answer to give instead of accepting a message.
type fault struct {
	status int
	code   int
}

// New starts a Server on a free port of 127.0.0.1 that accepts AccountSID and AuthToken.
// Close it when done.
func New() *Server {
	s := &Server{
		closing:   make(chan struct{}),
		callbacks: &http.Client{Timeout: 10 * time.Second},
		failTo:    make(map[string]fault),
		media:     make(map[string][]string),
	}
	var random [8]byte
	_, _ = rand.Read(random[:]) // crypto/rand.Read never fails.
	hex.Encode(s.sidPrefix[:], random[:])
	s.cfg.setCredentials(AccountSID, AuthToken)
	s.ts = httptest.NewServer(s)
	return s
}

// URL returns the Server's base URL, "http://127.0.0.1:port", without a trailing slash.
func (s *Server) URL() string { return s.ts.URL }

// Close stops the Server. Requests held by Hang or Latency have their connections closed
// without an answer first, so Close does not wait for them.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.ts.Close()
	})
}

// SetCredentials makes the Server accept accountSID and authToken instead, and only them.
func (s *Server) SetCredentials(accountSID, authToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.setCredentials(accountSID, authToken)
}

func (c *config) setCredentials(accountSID, authToken string) {
	c.accountSID, c.authToken = accountSID, authToken
	c.authHeader = "Basic " + base64.StdEncoding.EncodeToString([]byte(accountSID+":"+authToken))
}

// FailNext makes the next n message requests (media requests included) fail with the HTTP
// status and Twilio error code, once each: FailNext(1, 429, 20429) is one rate-limited request. The answer is
// Twilio's JSON error, with the message Twilio gives for the codes the hotline handles
// (21211's names the number, as Twilio's does). With code 0 the answer is plain text
// instead, like an error page from a proxy in front of Twilio. Requests refused for bad
// credentials, a missing field or by FailTo do not use up the n.
func (s *Server) FailNext(n, status, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext, s.nextFault = n, fault{status: status, code: code}
}

// FailTo makes every message request to the address to fail with the HTTP status and
// Twilio error code, as FailNext describes, until Reset: FailTo("+15055550100", 400, 21610)
// is a recipient who replied STOP. A status of 0 removes the rule for to.
func (s *Server) FailTo(to string, status, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.failTo, to)
		return
	}
	s.failTo[to] = fault{status: status, code: code}
}

// Latency delays every answer by d, 0 for none. A client that gives up first gets no
// answer and nothing is recorded.
func (s *Server) Latency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.latency = d
}

// Hang makes every request from now on wait, without an answer, until the client gives up
// or the Server is closed. Nothing is recorded. Reset ends it.
func (s *Server) Hang() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.hang = true
}

// KeepMessages sets whether accepted messages are kept for Messages (they are by default).
// A benchmark that sends millions of messages turns it off; Count still counts them.
func (s *Server) KeepMessages(keep bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.discard = !keep
}

// Reset forgets the messages and the requests counted, and ends every FailNext, FailTo,
// Latency and Hang. The credentials and KeepMessages stay as they are.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages, s.count = nil, 0
	clear(s.failTo)
	clear(s.media)
	s.deletes = 0
	s.failNext = 0
	s.cfg.latency, s.cfg.hang = 0, false
	s.requests.Store(0)
}

// Messages returns a copy of the messages accepted so far, in the order they were accepted.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Count returns the number of messages accepted so far.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// Requests returns the number of requests received so far, refused ones included: a test
// of retries compares it with Count.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// messagesPrefix and messagesSuffix frame the account SID in the one path served.
const (
	messagesPrefix = "/2010-04-01/Accounts/"
	messagesSuffix = "/Messages.json"
	// maxRequestBytes bounds a request's form; a 1600-character body in UCS-2,
	// percent-encoded, is under 20 kB.
	maxRequestBytes = 64 << 10
)

// ServeHTTP answers one request as Twilio's Messages API would. Server is an http.Handler
// so that a test can also mount the fake in a server of its own.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	account, ok := strings.CutPrefix(r.URL.Path, messagesPrefix)
	if ok {
		if a, rest, isMedia := strings.Cut(account, "/Messages/"); isMedia && !strings.HasSuffix(account, messagesSuffix) {
			s.serveMedia(w, r, a, rest)
			return
		}
		account, ok = strings.CutSuffix(account, messagesSuffix)
	}
	if !ok || account == "" || strings.Contains(account, "/") {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found", "")
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed", "")
		return
	}

	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()

	if !authorized(r, &cfg) {
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate", "")
		return
	}
	if account != cfg.accountSID {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found", "")
		return
	}
	if cfg.hang {
		select {
		case <-r.Context().Done():
		case <-s.closing:
		}
		// Returning would answer 200 with no body; aborting closes the connection, so
		// the client sees no answer at all, as when Twilio does not answer.
		panic(http.ErrAbortHandler)
	}
	if cfg.latency > 0 && !s.wait(r.Context(), cfg.latency) {
		panic(http.ErrAbortHandler)
	}

	m := Message{AccountSID: account}
	if err := readForm(r.Body, &m); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Unable to parse the request", "")
		return
	}
	switch {
	case m.To == "":
		writeError(w, http.StatusBadRequest, 21604, "", "")
		return
	case m.From == "" && m.MessagingServiceSID == "":
		writeError(w, http.StatusBadRequest, 21603, "", "")
		return
	case m.ContentVariables != "" && m.ContentSID == "":
		writeError(w, http.StatusBadRequest, 21654, "", "")
		return
	case m.ContentSID != "" && !validVariables(m.ContentVariables):
		writeError(w, http.StatusBadRequest, 21656, "", "")
		return
	case m.Body == "" && m.ContentSID == "":
		writeError(w, http.StatusBadRequest, 21602, "", "")
		return
	case utf8.RuneCountInString(m.Body) > MaxBodyChars:
		writeError(w, http.StatusBadRequest, 21617, "", "")
		return
	}

	// A message sent through a Messaging Service counts no segments until the service
	// picks a sender, which the fake never does; a template is not SMS text.
	if m.MessagingServiceSID == "" && m.ContentSID == "" {
		m.NumSegments = segments(m.Body)
	}

	s.mu.Lock()
	f, failed := s.failTo[m.To]
	if !failed && s.failNext > 0 {
		s.failNext--
		f, failed = s.nextFault, true
	}
	if !failed {
		m.SID = s.newSID()
		s.count++
		if !cfg.discard {
			s.messages = append(s.messages, m)
		}
	}
	s.mu.Unlock()

	if failed {
		writeError(w, f.status, f.code, "", m.To)
		return
	}
	writeMessage(w, &m)
}

// authorized reports whether r carries the credentials in cfg.
func authorized(r *http.Request, cfg *config) bool {
	if r.Header.Get("Authorization") == cfg.authHeader {
		return true
	}
	// The header can differ and still be right ("basic" in lowercase, say).
	user, pass, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(user), []byte(cfg.accountSID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(cfg.authToken)) == 1
}

// wait waits d and reports whether the request should still be answered.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

// newSID returns "SM" and 32 hex digits: 16 that differ between Servers, then a counter.
func (s *Server) newSID() string {
	var b [34]byte
	b[0], b[1] = 'S', 'M'
	copy(b[2:18], s.sidPrefix[:])
	var n [8]byte
	seq := s.seq.Add(1)
	for i := range n {
		n[i] = byte(seq >> (56 - 8*i))
	}
	hex.Encode(b[18:], n[:])
	return string(b[:])
}

// Header values shared by every answer. net/http only reads them.
var (
	jsonContentType = []string{"application/json; charset=utf-8"}
	textContentType = []string{"text/plain; charset=utf-8"}
)

// bufPool holds the buffers answers are built in.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// writeMessage answers 201 Created with m as Twilio's JSON Message resource.
func writeMessage(w http.ResponseWriter, m *Message) {
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	now := time.Now().UTC()

	b = append(b, `{"account_sid":`...)
	b = appendString(b, m.AccountSID)
	b = append(b, `,"api_version":"2010-04-01","body":`...)
	b = appendString(b, m.Body)
	b = append(b, `,"date_created":"`...)
	b = now.AppendFormat(b, time.RFC1123Z)
	b = append(b, `","date_sent":null,"date_updated":"`...)
	b = now.AppendFormat(b, time.RFC1123Z)
	b = append(b, `","direction":"outbound-api","error_code":null,"error_message":null,"from":`...)
	b = appendStringOrNull(b, m.From)
	b = append(b, `,"messaging_service_sid":`...)
	b = appendStringOrNull(b, m.MessagingServiceSID)
	b = append(b, `,"num_media":"0","num_segments":"`...)
	b = strconv.AppendInt(b, int64(m.NumSegments), 10)
	b = append(b, `","price":null,"price_unit":"USD","sid":"`...)
	b = append(b, m.SID...)
	// A message sent through a Messaging Service is "accepted" until the service picks a
	// sender, and counts 0 segments until then; one sent from a number is "queued".
	if m.MessagingServiceSID != "" {
		b = append(b, `","status":"accepted","subresource_uris":{"media":"`...)
	} else {
		b = append(b, `","status":"queued","subresource_uris":{"media":"`...)
	}
	b = appendURI(b, m)
	b = append(b, `/Media.json","feedback":"`...)
	b = appendURI(b, m)
	b = append(b, `/Feedback.json"},"to":`...)
	b = appendString(b, m.To)
	b = append(b, `,"uri":"`...)
	b = appendURI(b, m)
	b = append(b, `.json"}`...)

	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(b)
	*bp = b
	bufPool.Put(bp)
}

// appendURI appends the path of m's Message resource, without ".json". Account SIDs and
// message SIDs are letters and digits, so nothing needs escaping.
func appendURI(b []byte, m *Message) []byte {
	b = append(b, messagesPrefix...)
	b = append(b, m.AccountSID...)
	b = append(b, "/Messages/"...)
	return append(b, m.SID...)
}

// readForm reads the form-encoded request body into m's fields, taking the first value of
// each field and skipping every other field. It does what Request.ParseForm does for
// these few fields without building the map of every field, which would cost most of the
// fake's allocations.
func readForm(body io.Reader, m *Message) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	b := (*bp)[:0]
	lr := io.LimitReader(body, maxRequestBytes+1)
	for {
		b = slices.Grow(b, 512)
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	*bp = b
	if len(b) > maxRequestBytes {
		return errors.New("request body too large")
	}
	for len(b) > 0 {
		var pair []byte
		pair, b, _ = bytes.Cut(b, []byte{'&'})
		key, value, _ := bytes.Cut(pair, []byte{'='})
		var field *string
		switch string(key) { // The conversion in a switch does not allocate.
		case "To":
			field = &m.To
		case "From":
			field = &m.From
		case "MessagingServiceSid":
			field = &m.MessagingServiceSID
		case "Body":
			field = &m.Body
		case "StatusCallback":
			field = &m.StatusCallback
		case "ContentSid":
			field = &m.ContentSID
		case "ContentVariables":
			field = &m.ContentVariables
		default:
			continue
		}
		if *field != "" {
			continue
		}
		if bytes.IndexByte(value, '%') < 0 && bytes.IndexByte(value, '+') < 0 {
			*field = string(value)
			continue
		}
		v, err := url.QueryUnescape(string(value))
		if err != nil {
			return err
		}
		*field = v
	}
	return nil
}

// errorMessages are the messages Twilio gives with the codes the hotline meets. 21211's
// names the number, as Twilio's does: a sender must not pass it on.
var errorMessages = map[int]string{
	20003: "Authenticate",
	20429: "Too Many Requests",
	20500: "An internal server error has occurred",
	21211: "The 'To' number %s is not a valid phone number.",
	21602: "Message body is required.",
	21603: "A 'From' phone number is required.",
	21604: "A 'To' phone number is required.",
	21606: "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination.",
	21610: "Attempt to send to unsubscribed recipient",
	21611: "This 'From' number has exceeded the maximum number of queued messages",
	21614: "'To' number is not a valid mobile number",
	21617: "The concatenated message body exceeds the 1600 character limit.",
	21654: "ContentSid Required",
	21656: "The ContentVariables Parameter is invalid",
}

// writeError answers with status and Twilio's JSON error of code, its message being
// message or else the one Twilio gives for code; to fills a message that names the number.
// Code 0 answers plain text instead.
func writeError(w http.ResponseWriter, status, code int, message, to string) {
	h := w.Header()
	if code == 0 {
		h["Content-Type"] = textContentType
		w.WriteHeader(status)
		_, _ = io.WriteString(w, http.StatusText(status)+"\n")
		return
	}
	if message == "" {
		message = errorMessages[code]
		if strings.Contains(message, "%s") {
			message = fmt.Sprintf(message, to)
		} else if message == "" {
			message = "Error " + strconv.Itoa(code)
		}
	}
	b := make([]byte, 0, 256)
	b = append(b, `{"code":`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `,"message":`...)
	b = appendString(b, message)
	b = append(b, `,"more_info":"https://www.twilio.com/docs/errors/`...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, '}')
	h["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// appendStringOrNull appends s as a JSON string, or null when s is empty, as Twilio writes
// absent values.
func appendStringOrNull(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

// appendString appends s as a JSON string. Bytes that are not UTF-8 become U+FFFD.
func appendString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// gsmBasicNonASCII are the characters of the GSM-7 basic set outside ASCII; gsmExtension
// those that take two septets. ASCII is in the basic set but for the backtick and the
// control characters other than line feed and carriage return.
const (
	gsmBasicNonASCII = "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà"
	gsmExtension     = "^{}\\[~]|€\f"
)

// segments returns how many SMS segments body takes.
func segments(body string) int {
	septets, units, gsm := 0, 0, true
	for _, r := range body {
		if r > 0xFFFF {
			units += 2
		} else {
			units++
		}
		if !gsm {
			continue
		}
		switch {
		case strings.ContainsRune(gsmExtension, r):
			septets += 2
		case r < utf8.RuneSelf && (r >= 0x20 && r != '`' || r == '\n' || r == '\r'),
			r >= utf8.RuneSelf && strings.ContainsRune(gsmBasicNonASCII, r):
			septets++
		default:
			gsm = false
		}
	}
	if gsm {
		return parts(septets, 160, 153)
	}
	return parts(units, 70, 67)
}

// parts returns how many parts n units take, single holding one part and each part of a
// longer message holding multi.
func parts(n, single, multi int) int {
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

// SendStatusCallbacks posts, for every recorded message that asked for status callbacks,
// the callback Twilio would send when the message reaches status ("delivered",
// "undelivered"…), with errorCode as ErrorCode when it is not 0. Each is signed with the
// Server's auth token as Twilio signs them, so twilio.Verifier accepts it. It returns the
// number of callbacks answered with a 2xx status, and an error for each callback that
// could not be sent or got another status.
func (s *Server) SendStatusCallbacks(ctx context.Context, status string, errorCode int) (int, error) {
	s.mu.Lock()
	messages := slices.Clone(s.messages)
	token := s.cfg.authToken
	s.mu.Unlock()

	var (
		sent int
		errs []error
	)
	for _, m := range messages {
		if m.StatusCallback == "" {
			continue
		}
		if err := s.postStatus(ctx, m, status, errorCode, token); err != nil {
			errs = append(errs, err)
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

// SendStatusCallback posts the status callback of the one recorded message sid, as
// SendStatusCallbacks does for all; an error when there is no such message, it asked for no
// callback, or the callback failed.
func (s *Server) SendStatusCallback(ctx context.Context, sid, status string, errorCode int) error {
	s.mu.Lock()
	i := slices.IndexFunc(s.messages, func(m Message) bool { return m.SID == sid })
	var m Message
	if i >= 0 {
		m = s.messages[i]
	}
	token := s.cfg.authToken
	s.mu.Unlock()
	if i < 0 || m.StatusCallback == "" {
		return fmt.Errorf("twiliofake: no message %s with a status callback", sid)
	}
	return s.postStatus(ctx, m, status, errorCode, token)
}

// postStatus posts m's status callback, signed with token.
func (s *Server) postStatus(ctx context.Context, m Message, status string, errorCode int, token string) error {
	form := url.Values{
		"AccountSid":    {m.AccountSID},
		"ApiVersion":    {"2010-04-01"},
		"MessageSid":    {m.SID},
		"SmsSid":        {m.SID},
		"MessageStatus": {status},
		"SmsStatus":     {status},
		"To":            {m.To},
	}
	if m.From != "" {
		form.Set("From", m.From)
	}
	if m.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", m.MessagingServiceSID)
	}
	if errorCode != 0 {
		form.Set("ErrorCode", strconv.Itoa(errorCode))
	}
	if err := s.postCallback(ctx, m.StatusCallback, form, token); err != nil {
		return fmt.Errorf("twiliofake: status callback for %s: %w", m.SID, err)
	}
	return nil
}

// postCallback posts one signed callback.
func (s *Server) postCallback(ctx context.Context, callbackURL string, form url.Values, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, callbackURL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, twilio.Sign(token, callbackURL, form))
	resp, err := s.callbacks.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

// validVariables reports whether v is what Twilio takes as ContentVariables: empty, or a
// JSON object whose values are strings that are not empty (21656 otherwise).
func validVariables(v string) bool {
	if v == "" {
		return true
	}
	var vars map[string]any
	if json.Unmarshal([]byte(v), &vars) != nil || vars == nil {
		return false
	}
	for _, x := range vars {
		if s, ok := x.(string); !ok || s == "" {
			return false
		}
	}
	return true
}

// AddMedia records n media (pictures, voice notes) on the inbound message messageSID, as
// Twilio keeps them when a member sends one, and returns their SIDs ("ME" and 32 hex
// digits).
func (s *Server) AddMedia(messageSID string, n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		sid := "ME" + s.newSID()[2:]
		s.media[messageSID] = append(s.media[messageSID], sid)
	}
	return slices.Clone(s.media[messageSID])
}

// Media returns the SIDs of messageSID's media that have not been deleted.
func (s *Server) Media(messageSID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.media[messageSID])
}

// MediaDeletes returns how many media deletes were asked for, found or not.
func (s *Server) MediaDeletes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deletes
}

// serveMedia answers GET …/Messages/{MessageSid}/Media.json (the list) and DELETE
// …/Messages/{MessageSid}/Media/{Sid}.json for account, rest being what follows
// "/Messages/".
func (s *Server) serveMedia(w http.ResponseWriter, r *http.Request, account, rest string) {
	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()
	if !authorized(r, &cfg) {
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate", "")
		return
	}
	notFound := func() {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found", "")
	}
	if account != cfg.accountSID {
		notFound()
		return
	}
	s.mu.Lock()
	f, failed := s.nextFault, s.failNext > 0
	if failed {
		s.failNext--
	}
	s.mu.Unlock()
	if failed {
		writeError(w, f.status, f.code, "", "")
		return
	}
	msg, media, _ := strings.Cut(rest, "/Media")
	switch {
	case media == ".json" && r.Method == http.MethodGet:
		s.mu.Lock()
		sids := slices.Clone(s.media[msg])
		s.mu.Unlock()
		uri := messagesPrefix + account + "/Messages/" + msg + "/Media.json"
		b := []byte(`{"media_list":[`)
		for i, sid := range sids {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"account_sid":`...)
			b = appendString(b, account)
			b = append(b, `,"content_type":"image/jpeg","parent_sid":`...)
			b = appendString(b, msg)
			b = append(b, `,"sid":`...)
			b = appendString(b, sid)
			b = append(b, `,"uri":`...)
			b = appendString(b, messagesPrefix+account+"/Messages/"+msg+"/Media/"+sid+".json")
			b = append(b, '}')
		}
		b = append(b, `],"first_page_uri":`...)
		b = appendString(b, uri+"?PageSize=50&Page=0")
		b = append(b, `,"next_page_uri":null,"previous_page_uri":null,"page":0,"page_size":50,"start":0,"end":`...)
		b = strconv.AppendInt(b, int64(max(len(sids)-1, 0)), 10)
		b = append(b, `,"uri":`...)
		b = appendString(b, uri)
		b = append(b, '}')
		w.Header()["Content-Type"] = jsonContentType
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	case strings.HasPrefix(media, "/") && strings.HasSuffix(media, ".json") && r.Method == http.MethodDelete:
		sid := strings.TrimSuffix(media[1:], ".json")
		s.mu.Lock()
		s.deletes++
		i := slices.Index(s.media[msg], sid)
		if i >= 0 {
			s.media[msg] = slices.Delete(s.media[msg], i, i+1)
		}
		s.mu.Unlock()
		if i < 0 {
			notFound()
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.Method != http.MethodGet && r.Method != http.MethodDelete:
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed", "")
	default:
		notFound()
	}
}
