package twilio_test

// These tests live outside package twilio because twiliofake imports it (for Sign).

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/twiliofake"
)

const (
	testFrom    = "+15055550199"
	testService = "MG0123456789abcdef0123456789abcdef"
	testTo      = "+15055550142"
	// testBody is distinctive, so that finding it in an error text is no coincidence.
	testBody = "Reunión de inquilinos el martes 7pm, Calle Luna 1234"
)

// startFake starts a twiliofake.Server that is closed when the test ends.
func startFake(tb testing.TB) *twiliofake.Server {
	tb.Helper()
	f := twiliofake.New()
	tb.Cleanup(f.Close)
	return f
}

// newSender returns a RESTSender that sends to f from testFrom, after change (if not nil)
// has altered its configuration.
func newSender(tb testing.TB, f *twiliofake.Server, change func(*twilio.RESTConfig)) *twilio.RESTSender {
	tb.Helper()
	cfg := twilio.RESTConfig{
		AccountSID: twiliofake.AccountSID,
		AuthToken:  twiliofake.AuthToken,
		From:       testFrom,
		APIBase:    f.URL(),
	}
	if change != nil {
		change(&cfg)
	}
	s, err := twilio.NewRESTSender(cfg)
	if err != nil {
		tb.Fatalf("NewRESTSender: %v", err)
	}
	return s
}

func TestRESTSenderSend(t *testing.T) {
	tests := []struct {
		name   string
		change func(*twilio.RESTConfig)
		out    hotline.Outbound
		want   twiliofake.Message
	}{
		{
			name: "from a number",
			out:  hotline.Outbound{To: testTo, Body: testBody},
			want: twiliofake.Message{To: testTo, From: testFrom, Body: testBody, NumSegments: 1},
		},
		{
			name: "with a status callback",
			out:  hotline.Outbound{To: testTo, Body: "hola", StatusCallback: "https://hotline.example.org/twilio/status?bc=42"},
			want: twiliofake.Message{To: testTo, From: testFrom, Body: "hola", NumSegments: 1,
				StatusCallback: "https://hotline.example.org/twilio/status?bc=42"},
		},
		{
			name: "through a messaging service",
			change: func(c *twilio.RESTConfig) {
				c.From, c.MessagingServiceSID = "", testService
			},
			out:  hotline.Outbound{To: testTo, Body: testBody},
			want: twiliofake.Message{To: testTo, MessagingServiceSID: testService, Body: testBody},
		},
		{
			name: "to WhatsApp from the same number",
			out:  hotline.Outbound{To: "whatsapp:" + testTo, Body: "hola"},
			want: twiliofake.Message{To: "whatsapp:" + testTo, From: "whatsapp:" + testFrom, Body: "hola", NumSegments: 1},
		},
		{
			name: "a template to WhatsApp, without a Body",
			out: hotline.Outbound{To: "whatsapp:" + testTo, Body: "not sent", ContentSid: "HX0123456789abcdef0123456789abcdef",
				ContentVariables: `{"1":"Retén en la calle: ¡cuidado!"}`},
			want: twiliofake.Message{To: "whatsapp:" + testTo, From: "whatsapp:" + testFrom, ContentSID: "HX0123456789abcdef0123456789abcdef",
				ContentVariables: `{"1":"Retén en la calle: ¡cuidado!"}`},
		},
		{
			name: "a long body in UCS-2",
			out:  hotline.Outbound{To: testTo, Body: strings.Repeat("á", 71)},
			want: twiliofake.Message{To: testTo, From: testFrom, Body: strings.Repeat("á", 71), NumSegments: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			s := newSender(t, f, tt.change)
			sid, err := s.Send(t.Context(), tt.out)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := f.Messages()
			if len(got) != 1 {
				t.Fatalf("fake recorded %d messages, want 1", len(got))
			}
			if sid != got[0].SID {
				t.Errorf("Send returned SID %q, the fake recorded %q", sid, got[0].SID)
			}
			if len(sid) != 34 || !strings.HasPrefix(sid, "SM") {
				t.Errorf("SID %q is not SM and 32 hex digits", sid)
			}
			tt.want.SID, tt.want.AccountSID = sid, twiliofake.AccountSID
			if got[0] != tt.want {
				t.Errorf("fake recorded\n%+v\nwant\n%+v", got[0], tt.want)
			}
		})
	}
}

func TestRESTSenderErrors(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(*twiliofake.Server)
		change     func(*twilio.RESTConfig)
		to         string
		body       string
		wantKind   hotline.SendErrorKind
		wantCode   int
		wantStatus int
		wantIs     error
	}{
		{
			name:       "recipient replied STOP",
			setup:      func(f *twiliofake.Server) { f.FailTo(testTo, 400, 21610) },
			wantKind:   hotline.OptedOut,
			wantCode:   21610,
			wantStatus: 400,
		},
		{
			name:       "invalid number (Twilio's message names it)",
			setup:      func(f *twiliofake.Server) { f.FailNext(1, 400, 21211) },
			wantKind:   hotline.Undeliverable,
			wantCode:   21211,
			wantStatus: 400,
		},
		{
			name:       "invalid WhatsApp address",
			setup:      func(f *twiliofake.Server) { f.FailNext(1, 400, 21211) },
			to:         "whatsapp:" + testTo,
			wantKind:   hotline.Undeliverable,
			wantCode:   21211,
			wantStatus: 400,
		},
		{
			name:       "not a mobile number",
			setup:      func(f *twiliofake.Server) { f.FailNext(1, 400, 21614) },
			wantKind:   hotline.Undeliverable,
			wantCode:   21614,
			wantStatus: 400,
		},
		{
			name:       "rate limited",
			setup:      func(f *twiliofake.Server) { f.FailNext(1, 429, 20429) },
			wantKind:   hotline.Retry,
			wantCode:   20429,
			wantStatus: 429,
		},
		{
			name:       "HTTP 429 without Twilio's JSON",
			setup:      func(f *twiliofake.Server) { f.FailNext(1, 429, 0) },
			wantKind:   hotline.Retry,
			wantStatus: 429,
		},
		{
			name:       "queue full",
			setup:      func(f *twiliofake.Server) { f.FailNext(1, 400, 21611) },
			wantKind:   hotline.Retry,
			wantCode:   21611,
			wantStatus: 400,
		},
		{
			name:       "server error",
			setup:      func(f *twiliofake.Server) { f.FailNext(1, 500, 20500) },
			wantKind:   hotline.Retry,
			wantCode:   20500,
			wantStatus: 500,
		},
		{
			name:       "bad gateway page from a proxy",
			setup:      func(f *twiliofake.Server) { f.FailNext(1, 502, 0) },
			wantKind:   hotline.Retry,
			wantStatus: 502,
		},
		{
			name:       "body too long",
			body:       strings.Repeat("a", 1601),
			wantKind:   hotline.Permanent,
			wantCode:   21617,
			wantStatus: 400,
		},
		{
			name:       "From not a Twilio number",
			setup:      func(f *twiliofake.Server) { f.FailNext(1, 400, 21606) },
			wantKind:   hotline.Permanent,
			wantCode:   21606,
			wantStatus: 400,
		},
		{
			name:       "bad credentials",
			change:     func(c *twilio.RESTConfig) { c.AuthToken = "wrong0token" },
			wantKind:   hotline.Permanent,
			wantCode:   20003,
			wantStatus: 401,
		},
		{
			name:     "no answer before the timeout",
			setup:    func(f *twiliofake.Server) { f.Hang() },
			change:   func(c *twilio.RESTConfig) { c.Timeout = 50 * time.Millisecond },
			wantKind: hotline.Retry,
			wantIs:   context.DeadlineExceeded,
		},
		{
			name: "connection refused",
			change: func(c *twilio.RESTConfig) {
				closed := httptest.NewServer(http.NotFoundHandler())
				closed.Close()
				c.APIBase = closed.URL
			},
			wantKind: hotline.Retry,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			s := newSender(t, f, tt.change)
			out := hotline.Outbound{To: testTo, Body: testBody}
			if tt.to != "" {
				out.To = tt.to
			}
			if tt.body != "" {
				out.Body = tt.body
			}

			sid, err := s.Send(t.Context(), out)
			if err == nil {
				t.Fatalf("Send succeeded with SID %q, want an error", sid)
			}
			var se *hotline.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *hotline.SendError", err, err)
			}
			if se.Kind != tt.wantKind || se.Code != tt.wantCode || se.Status != tt.wantStatus {
				t.Errorf("kind %d, code %d, status %d; want kind %d, code %d, status %d (%v)",
					se.Kind, se.Code, se.Status, tt.wantKind, tt.wantCode, tt.wantStatus, err)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v does not wrap %v", err, tt.wantIs)
			}
			text := err.Error()
			t.Log(text)
			for _, private := range []string{out.To, strings.TrimPrefix(out.To, "whatsapp:"),
				strings.TrimPrefix(out.To, "whatsapp:+"), testBody, twiliofake.AuthToken} {
				if strings.Contains(text, private) {
					t.Errorf("error text %q contains %q", text, private)
				}
			}
			if n := f.Count(); n != 0 {
				t.Errorf("fake accepted %d messages", n)
			}
		})
	}
}

// TestRESTSenderKeepsTwilioMessage checks that redaction leaves the useful part of
// Twilio's message.
func TestRESTSenderKeepsTwilioMessage(t *testing.T) {
	f := startFake(t)
	f.FailNext(1, 400, 21211)
	_, err := newSender(t, f, nil).Send(t.Context(), hotline.Outbound{To: testTo, Body: testBody})
	want := "twilio: The 'To' number [to] is not a valid phone number. (https://www.twilio.com/docs/errors/21211)"
	var se *hotline.SendError
	if !errors.As(err, &se) || se.Err.Error() != want {
		t.Errorf("error %v, want one wrapping %q", err, want)
	}
}

func TestRESTSenderContext(t *testing.T) {
	t.Run("done before sending", func(t *testing.T) {
		f := startFake(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := newSender(t, f, nil).Send(ctx, hotline.Outbound{To: testTo, Body: testBody})
		if hotline.SendErrorKindOf(err) != hotline.Retry || !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want a Retry wrapping context.Canceled", err)
		}
		if n := f.Requests(); n != 0 {
			t.Errorf("fake received %d requests, want none", n)
		}
	})
	t.Run("deadline shorter than the timeout", func(t *testing.T) {
		f := startFake(t)
		f.Hang()
		s := newSender(t, f, func(c *twilio.RESTConfig) { c.Timeout = time.Minute })
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := s.Send(ctx, hotline.Outbound{To: testTo, Body: testBody})
		if hotline.SendErrorKindOf(err) != hotline.Retry || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want a Retry wrapping context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("Send took %v: the context's deadline was not honoured", d)
		}
	})
}

func TestNewRESTSender(t *testing.T) {
	valid := twilio.RESTConfig{AccountSID: twiliofake.AccountSID, AuthToken: twiliofake.AuthToken, From: testFrom}
	tests := []struct {
		name    string
		change  func(*twilio.RESTConfig)
		wantErr string
	}{
		{name: "valid", change: func(*twilio.RESTConfig) {}},
		{name: "messaging service", change: func(c *twilio.RESTConfig) { c.From, c.MessagingServiceSID = "", testService }},
		{name: "API base", change: func(c *twilio.RESTConfig) { c.APIBase = "http://127.0.0.1:45678" }},
		{name: "API base with a slash", change: func(c *twilio.RESTConfig) { c.APIBase = "https://api.example.com/" }},
		{name: "neither From nor service", change: func(c *twilio.RESTConfig) { c.From = "" }, wantErr: "exactly one"},
		{name: "both From and service", change: func(c *twilio.RESTConfig) { c.MessagingServiceSID = testService }, wantErr: "exactly one"},
		{name: "no account", change: func(c *twilio.RESTConfig) { c.AccountSID = "" }, wantErr: "AccountSID"},
		{name: "no token", change: func(c *twilio.RESTConfig) { c.AuthToken = "" }, wantErr: "AuthToken"},
		{name: "token with a symbol", change: func(c *twilio.RESTConfig) { c.AuthToken = "secret-token" }, wantErr: "AuthToken"},
		{name: "negative timeout", change: func(c *twilio.RESTConfig) { c.Timeout = -time.Second }, wantErr: "Timeout"},
		{name: "API base without scheme", change: func(c *twilio.RESTConfig) { c.APIBase = "127.0.0.1:45678" }, wantErr: "APIBase"},
		{name: "API base with a path", change: func(c *twilio.RESTConfig) { c.APIBase = "http://127.0.0.1:45678/twilio" }, wantErr: "APIBase"},
		{name: "API base ftp", change: func(c *twilio.RESTConfig) { c.APIBase = "ftp://127.0.0.1" }, wantErr: "APIBase"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.change(&cfg)
			s, err := twilio.NewRESTSender(cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("NewRESTSender: %v", err)
			case tt.wantErr == "" && s == nil:
				t.Fatal("NewRESTSender returned nil and no error")
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), cfg.AuthToken) && cfg.AuthToken != "" {
				t.Errorf("error %q repeats the auth token", err)
			}
		})
	}
}

// countingTransport counts the requests it carries.
type countingTransport struct {
	n    atomic.Int64
	base http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

func TestRESTSenderUsesHTTPClientTransport(t *testing.T) {
	f := startFake(t)
	ct := &countingTransport{base: http.DefaultTransport}
	s := newSender(t, f, func(c *twilio.RESTConfig) { c.HTTPClient = &http.Client{Transport: ct} })
	for range 3 {
		if _, err := s.Send(t.Context(), hotline.Outbound{To: testTo, Body: "hola"}); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	if n := ct.n.Load(); n != 3 {
		t.Errorf("the configured transport carried %d requests, want 3", n)
	}
}

// TestRESTSenderReusesConnections checks that answers, error answers included, give their
// connection back for the next send. twilio-go leaves an error answer's body open, which
// loses the connection when the body is chunked, as a proxy may send it.
func TestRESTSenderReusesConnections(t *testing.T) {
	f := startFake(t)
	// chunked answers 21610 in a chunked body for one request in two, and hands the
	// others to the fake.
	var n atomic.Int64
	chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 0 {
			f.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`)
		// Padding in a chunk of its own, which twilio-go's decoder stops short of.
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, strings.Repeat(" ", 1000))
	}))
	defer chunked.Close()

	var dials atomic.Int64
	transport := http.DefaultTransport.(*http.Transport).Clone()
	dial := transport.DialContext
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, addr)
	}
	defer transport.CloseIdleConnections()
	s := newSender(t, f, func(c *twilio.RESTConfig) {
		c.HTTPClient = &http.Client{Transport: transport}
		c.APIBase = chunked.URL
	})
	for i := range 10 {
		_, err := s.Send(t.Context(), hotline.Outbound{To: testTo, Body: "hola"})
		if want := i%2 == 0; want != (hotline.SendErrorKindOf(err) == hotline.OptedOut && err != nil) {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("10 sequential sends opened %d connections, want 1", n)
	}
}

func TestRESTSenderConcurrent(t *testing.T) {
	const goroutines, each = 50, 4
	f := startFake(t)
	s := newSender(t, f, nil)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sids = make(map[string]string) // SID → To
	)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				to := "+1505555" + strconv.Itoa(1000+g*each+i)
				sid, err := s.Send(t.Context(), hotline.Outbound{To: to, Body: "hola"})
				if err != nil {
					t.Errorf("Send to %s: %v", to, err)
					return
				}
				mu.Lock()
				sids[sid] = to
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	got := f.Messages()
	if len(got) != goroutines*each || len(sids) != goroutines*each {
		t.Fatalf("fake recorded %d messages and Send returned %d distinct SIDs, want %d", len(got), len(sids), goroutines*each)
	}
	for _, m := range got {
		if sids[m.SID] != m.To {
			t.Errorf("message %s to %s: Send returned that SID for %q", m.SID, m.To, sids[m.SID])
		}
	}
}

// TestStatusCallbackEndToEnd sends messages with a status callback, has the fake post the
// callbacks Twilio would, and checks them as the web handler will: signature, then
// ParseStatusCallback.
func TestStatusCallbackEndToEnd(t *testing.T) {
	f := startFake(t)
	verifier := twilio.NewVerifier(twiliofake.AuthToken)
	var (
		mu      sync.Mutex
		updates []twilio.StatusUpdate
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		fullURL := "http://" + r.Host + r.URL.RequestURI()
		if !verifier.Valid(fullURL, r.PostForm, r.Header.Get(twilio.SignatureHeader)) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		u, err := twilio.ParseStatusCallback(r.PostForm)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		updates = append(updates, u)
		mu.Unlock()
	}))
	defer hook.Close()

	s := newSender(t, f, nil)
	callback := hook.URL + "/twilio/status?bc=7"
	sent := map[string]bool{}
	for i := range 3 {
		sid, err := s.Send(t.Context(), hotline.Outbound{To: "+1505555010" + strconv.Itoa(i), Body: "alerta", StatusCallback: callback})
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		sent[sid] = true
	}
	// A message without a callback gets none.
	if _, err := s.Send(t.Context(), hotline.Outbound{To: testTo, Body: "hola"}); err != nil {
		t.Fatalf("Send: %v", err)
	}

	n, err := f.SendStatusCallbacks(t.Context(), "undelivered", 30003)
	if err != nil || n != 3 {
		t.Fatalf("SendStatusCallbacks = %d, %v; want 3, nil", n, err)
	}
	if len(updates) != 3 {
		t.Fatalf("hook got %d updates, want 3", len(updates))
	}
	for _, u := range updates {
		if !sent[u.MessageSID] || u.Status != "undelivered" || u.ErrorCode != 30003 {
			t.Errorf("update %+v: want one of the sent SIDs, undelivered, 30003", u)
		}
	}
}

func TestParseStatusCallback(t *testing.T) {
	const sid = "SM0123456789abcdef0123456789abcdef"
	tests := []struct {
		name    string
		form    url.Values
		want    twilio.StatusUpdate
		wantErr error
	}{
		{
			name: "delivered",
			form: url.Values{"MessageSid": {sid}, "MessageStatus": {"delivered"}, "To": {testTo}, "AccountSid": {twiliofake.AccountSID}},
			want: twilio.StatusUpdate{MessageSID: sid, Status: "delivered"},
		},
		{
			name: "undelivered with a code",
			form: url.Values{"MessageSid": {sid}, "MessageStatus": {"undelivered"}, "ErrorCode": {"30003"}},
			want: twilio.StatusUpdate{MessageSID: sid, Status: "undelivered", ErrorCode: 30003},
		},
		{
			name: "empty error code",
			form: url.Values{"MessageSid": {sid}, "MessageStatus": {"sent"}, "ErrorCode": {""}},
			want: twilio.StatusUpdate{MessageSID: sid, Status: "sent"},
		},
		{
			name: "older field names",
			form: url.Values{"SmsSid": {sid}, "SmsStatus": {"failed"}, "ErrorCode": {"30007"}},
			want: twilio.StatusUpdate{MessageSID: sid, Status: "failed", ErrorCode: 30007},
		},
		{
			name: "a status Twilio may add later",
			form: url.Values{"MessageSid": {sid}, "MessageStatus": {"partially_delivered"}},
			want: twilio.StatusUpdate{MessageSID: sid, Status: "partially_delivered"},
		},
		{name: "no SID", form: url.Values{"MessageStatus": {"sent"}}, wantErr: twilio.ErrMissingField},
		{name: "no status", form: url.Values{"MessageSid": {sid}}, wantErr: twilio.ErrMissingField},
		{name: "SID with a colon", form: url.Values{"MessageSid": {"SM:1"}, "MessageStatus": {"sent"}}, wantErr: twilio.ErrInvalidField},
		{name: "SID too long", form: url.Values{"MessageSid": {strings.Repeat("a", 65)}, "MessageStatus": {"sent"}}, wantErr: twilio.ErrInvalidField},
		{name: "status in capitals", form: url.Values{"MessageSid": {sid}, "MessageStatus": {"SENT"}}, wantErr: twilio.ErrInvalidField},
		{name: "status too long", form: url.Values{"MessageSid": {sid}, "MessageStatus": {strings.Repeat("a", 33)}}, wantErr: twilio.ErrInvalidField},
		{name: "error code not a number", form: url.Values{"MessageSid": {sid}, "MessageStatus": {"failed"}, "ErrorCode": {"3000x"}}, wantErr: twilio.ErrInvalidField},
		{name: "negative error code", form: url.Values{"MessageSid": {sid}, "MessageStatus": {"failed"}, "ErrorCode": {"-1"}}, wantErr: twilio.ErrInvalidField},
		{name: "error code too large", form: url.Values{"MessageSid": {sid}, "MessageStatus": {"failed"}, "ErrorCode": {"99999999999999999999"}}, wantErr: twilio.ErrInvalidField},
		{name: "repeated status", form: url.Values{"MessageSid": {sid}, "MessageStatus": {"sent", "delivered"}}, wantErr: twilio.ErrInvalidField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := twilio.ParseStatusCallback(tt.form)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseStatusCallback: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// BenchmarkSend is one send at a time through twilio-go to the fake over loopback: the
// sender's own cost plus twilio-go's and net/http's, the ceiling for one dispatch worker.
func BenchmarkSend(b *testing.B) {
	f := startFake(b)
	f.KeepMessages(false)
	s := newSender(b, f, nil)
	out := hotline.Outbound{To: testTo, Body: testBody, StatusCallback: "https://hotline.example.org/twilio/status?bc=1"}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Send(ctx, out); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendParallel is GOMAXPROCS goroutines sending through one RESTSender.
func BenchmarkSendParallel(b *testing.B) {
	f := startFake(b)
	f.KeepMessages(false)
	s := newSender(b, f, nil)
	out := hotline.Outbound{To: testTo, Body: testBody, StatusCallback: "https://hotline.example.org/twilio/status?bc=1"}
	ctx := b.Context()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Send(ctx, out); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// TestDeleteMedia: every medium of a message is deleted through twilio-go, and a message
// with none deletes nothing.
func TestDeleteMedia(t *testing.T) {
	f := startFake(t)
	s := newSender(t, f, nil)
	const msg = "MM0123456789abcdef0123456789abcdef"
	f.AddMedia(msg, 3)
	n, err := s.DeleteMedia(t.Context(), msg)
	if err != nil || n != 3 {
		t.Fatalf("DeleteMedia = %d, %v; want 3", n, err)
	}
	if left := f.Media(msg); len(left) != 0 {
		t.Errorf("media left: %v", left)
	}
	if n, err := s.DeleteMedia(t.Context(), msg); err != nil || n != 0 {
		t.Errorf("again: %d, %v; want 0, nil", n, err)
	}
	if _, err := s.DeleteMedia(t.Context(), "MM/../Calls"); err == nil || hotline.SendErrorKindOf(err) != hotline.Permanent {
		t.Errorf("a SID that is not letters and digits: %v, want a permanent refusal", err)
	}
	f.FailNext(1, 503, 0)
	f.AddMedia(msg, 1)
	if _, err := s.DeleteMedia(t.Context(), msg); err == nil || hotline.SendErrorKindOf(err) != hotline.Retry {
		t.Errorf("a 503: %v, want Retry", err)
	}
	if n, err := s.DeleteMedia(t.Context(), msg); err != nil || n != 1 {
		t.Errorf("after the 503: %d, %v; want 1, nil", n, err)
	}
}

// TestMediaJanitor: deletions run in the background, a passing failure is tried again, and
// a refusal is given up on and counted.
func TestMediaJanitor(t *testing.T) {
	f := startFake(t)
	j := twilio.NewMediaJanitor(newSender(t, f, nil), nil)
	var deleted, failed atomic.Int64
	j.OnDeleted = func(n int) { deleted.Add(int64(n)) }
	j.OnFailed = func() { failed.Add(1) }
	j.Backoff = time.Millisecond
	j.Delete("MM0123456789abcdef0123456789abcde1")
	j.Wait()
	f.AddMedia("MM0123456789abcdef0123456789abcde2", 1)
	f.FailNext(2, 500, 20500)
	j.Delete("MM0123456789abcdef0123456789abcde2")
	j.Wait()
	if deleted.Load() != 1 || failed.Load() != 0 || len(f.Media("MM0123456789abcdef0123456789abcde2")) != 0 {
		t.Errorf("through two 500s: deleted %d, failed %d", deleted.Load(), failed.Load())
	}
	f.SetCredentials(twiliofake.AccountSID, "another0token0altogether00000000")
	j.Delete("MM0123456789abcdef0123456789abcde3")
	j.Wait()
	if failed.Load() != 1 {
		t.Errorf("a refused deletion was not counted failed (%d)", failed.Load())
	}
}

// TestClassifyWhatsApp: the WhatsApp failures status callbacks report map to what they call
// for; SMS carriers' codes and other WhatsApp codes to nothing.
func TestClassifyWhatsApp(t *testing.T) {
	tests := []struct {
		code int
		want twilio.WhatsAppFailure
	}{
		{63016, twilio.WhatsAppOutsideWindow},
		{63049, twilio.WhatsAppMarketing},
		{63032, twilio.WhatsAppMarketing},
		{63003, twilio.WhatsAppNotAUser},
		{63024, twilio.WhatsAppRecipientUnable},
		{63018, twilio.WhatsAppRateLimited},
		{30003, ""},
		{21610, ""},
		{63021, ""},
		{0, ""},
	}
	for _, tt := range tests {
		got, ok := twilio.ClassifyWhatsApp(tt.code)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("ClassifyWhatsApp(%d) = %q, %v; want %q", tt.code, got, ok, tt.want)
		}
	}
}

// TestMediaJanitorAnswerer: a message with media has them deleted once it is answered, its
// answer passed through; a message without any costs no request.
func TestMediaJanitorAnswerer(t *testing.T) {
	f := startFake(t)
	j := twilio.NewMediaJanitor(newSender(t, f, nil), nil)
	a := j.Answerer(answerWith{hotline.Reply{Texts: []string{"No podemos ver fotos."}, Lang: "es"}})
	const msg = "MM0123456789abcdef0123456789abcde4"
	f.AddMedia(msg, 1)
	reply, err := a.Answer(t.Context(), hotline.Inbound{ID: msg, Channel: hotline.WhatsApp, Media: 1})
	j.Wait()
	if err != nil || reply.Lang != "es" || len(reply.Texts) != 1 {
		t.Errorf("answer %+v, %v: not passed through", reply, err)
	}
	if left := f.Media(msg); len(left) != 0 {
		t.Errorf("media left after the answer: %v", left)
	}
	before := f.Requests()
	a.Answer(t.Context(), hotline.Inbound{ID: "SM0123456789abcdef0123456789abcde5", Channel: hotline.SMS})
	j.Wait()
	if f.Requests() != before {
		t.Errorf("a message without media cost %d requests", f.Requests()-before)
	}
}

type answerWith struct{ r hotline.Reply }

func (a answerWith) Answer(context.Context, hotline.Inbound) (hotline.Reply, error) { return a.r, nil }
