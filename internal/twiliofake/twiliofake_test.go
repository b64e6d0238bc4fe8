package twiliofake_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/twiliofake"
)

const messagesPath = "/2010-04-01/Accounts/" + twiliofake.AccountSID + "/Messages.json"

// start starts a Server that is closed when the test ends.
func start(tb testing.TB) *twiliofake.Server {
	tb.Helper()
	f := twiliofake.New()
	tb.Cleanup(f.Close)
	return f
}

// answer is what post got back.
type answer struct {
	status int
	// fields is the JSON answer, nil when it was not JSON.
	fields map[string]any
}

// post sends form to path on f with the given credentials, as twilio-go would.
func post(tb testing.TB, f *twiliofake.Server, method, path, user, pass string, form url.Values) answer {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, f.URL()+path, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(resp.Body).Decode(&a.fields); err != nil {
			tb.Fatalf("answer %d is not JSON: %v", resp.StatusCode, err)
		}
	}
	return a
}

// send posts a message with the default credentials.
func send(tb testing.TB, f *twiliofake.Server, form url.Values) answer {
	tb.Helper()
	return post(tb, f, http.MethodPost, messagesPath, twiliofake.AccountSID, twiliofake.AuthToken, form)
}

func message(to, body string) url.Values {
	return url.Values{"To": {to}, "From": {"+15055550199"}, "Body": {body}}
}

func TestMessageAccepted(t *testing.T) {
	tests := []struct {
		name         string
		form         url.Values
		wantStatus   string
		wantFrom     any
		wantSegments string
	}{
		{
			name:         "from a number",
			form:         url.Values{"To": {"+15055550142"}, "From": {"+15055550199"}, "Body": {"hola"}, "StatusCallback": {"https://h.example.org/s?bc=1"}},
			wantStatus:   "queued",
			wantFrom:     "+15055550199",
			wantSegments: "1",
		},
		{
			name:         "through a messaging service",
			form:         url.Values{"To": {"+15055550142"}, "MessagingServiceSid": {"MG0123"}, "Body": {"hola"}},
			wantStatus:   "accepted",
			wantFrom:     nil,
			wantSegments: "0",
		},
		{
			name:         "a body JSON must escape",
			form:         message("+15055550142", "\"quoted\" \\ tab\t nl\n bell\x07 é 😀 bad\xff"),
			wantStatus:   "queued",
			wantFrom:     "+15055550199",
			wantSegments: "1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t)
			a := send(t, f, tt.form)
			if a.status != http.StatusCreated {
				t.Fatalf("status %d, want 201 (%v)", a.status, a.fields)
			}
			ms := f.Messages()
			if len(ms) != 1 || f.Count() != 1 {
				t.Fatalf("recorded %d messages, count %d, want 1", len(ms), f.Count())
			}
			m := ms[0]
			wantBody := strings.ToValidUTF8(tt.form.Get("Body"), "\uFFFD")
			checks := []struct {
				field string
				want  any
			}{
				{"sid", m.SID},
				{"account_sid", twiliofake.AccountSID},
				{"to", tt.form.Get("To")},
				{"from", tt.wantFrom},
				{"body", wantBody},
				{"status", tt.wantStatus},
				{"num_segments", tt.wantSegments},
				{"direction", "outbound-api"},
				{"error_code", nil},
				{"uri", "/2010-04-01/Accounts/" + twiliofake.AccountSID + "/Messages/" + m.SID + ".json"},
			}
			for _, c := range checks {
				if got := a.fields[c.field]; got != c.want {
					t.Errorf("%s = %#v, want %#v", c.field, got, c.want)
				}
			}
			if _, err := time.Parse(time.RFC1123Z, a.fields["date_created"].(string)); err != nil {
				t.Errorf("date_created: %v", err)
			}
			if m.To != tt.form.Get("To") || m.Body != tt.form.Get("Body") || m.From != tt.form.Get("From") ||
				m.MessagingServiceSID != tt.form.Get("MessagingServiceSid") || m.StatusCallback != tt.form.Get("StatusCallback") {
				t.Errorf("recorded %+v, sent %v", m, tt.form)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		user, pass string
		form       url.Values
		wantStatus int
		wantCode   float64
	}{
		{"bad token", "POST", messagesPath, twiliofake.AccountSID, "wrong", message("+15055550142", "hola"), 401, 20003},
		{"no credentials", "POST", messagesPath, "", "", message("+15055550142", "hola"), 401, 20003},
		{"another account", "POST", "/2010-04-01/Accounts/AC1/Messages.json", twiliofake.AccountSID, twiliofake.AuthToken, message("+15055550142", "hola"), 404, 20404},
		{"another path", "POST", "/2010-04-01/Accounts/" + twiliofake.AccountSID + "/Calls.json", twiliofake.AccountSID, twiliofake.AuthToken, nil, 404, 20404},
		{"GET", "GET", messagesPath, twiliofake.AccountSID, twiliofake.AuthToken, nil, 405, 20004},
		{"no To", "POST", messagesPath, twiliofake.AccountSID, twiliofake.AuthToken, url.Values{"From": {"+1"}, "Body": {"x"}}, 400, 21604},
		{"no From", "POST", messagesPath, twiliofake.AccountSID, twiliofake.AuthToken, url.Values{"To": {"+1"}, "Body": {"x"}}, 400, 21603},
		{"no Body", "POST", messagesPath, twiliofake.AccountSID, twiliofake.AuthToken, url.Values{"To": {"+1"}, "From": {"+1"}}, 400, 21602},
		{"body too long", "POST", messagesPath, twiliofake.AccountSID, twiliofake.AuthToken, message("+1", strings.Repeat("ñ", 1601)), 400, 21617},
		{"variables without a template", "POST", messagesPath, twiliofake.AccountSID, twiliofake.AuthToken,
			url.Values{"To": {"whatsapp:+1"}, "From": {"whatsapp:+1"}, "ContentVariables": {`{"1":"x"}`}}, 400, 21654},
		{"variables not JSON", "POST", messagesPath, twiliofake.AccountSID, twiliofake.AuthToken,
			url.Values{"To": {"whatsapp:+1"}, "From": {"whatsapp:+1"}, "ContentSid": {"HX1"}, "ContentVariables": {`{"1":"x"`}}, 400, 21656},
		{"an empty variable", "POST", messagesPath, twiliofake.AccountSID, twiliofake.AuthToken,
			url.Values{"To": {"whatsapp:+1"}, "From": {"whatsapp:+1"}, "ContentSid": {"HX1"}, "ContentVariables": {`{"1":""}`}}, 400, 21656},
		{"media of no message", "GET", "/2010-04-01/Accounts/" + twiliofake.AccountSID + "/Messages/MM1/Media/ME1.json", twiliofake.AccountSID, twiliofake.AuthToken, nil, 404, 20404},
		{"media without credentials", "GET", "/2010-04-01/Accounts/" + twiliofake.AccountSID + "/Messages/MM1/Media.json", "", "", nil, 401, 20003},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t)
			a := post(t, f, tt.method, tt.path, tt.user, tt.pass, tt.form)
			if a.status != tt.wantStatus || a.fields["code"] != tt.wantCode || a.fields["status"] != float64(tt.wantStatus) {
				t.Errorf("got %d %v, want %d with code %v", a.status, a.fields, tt.wantStatus, tt.wantCode)
			}
			if msg, _ := a.fields["message"].(string); msg == "" {
				t.Errorf("error without a message: %v", a.fields)
			}
			if a.fields["more_info"] != "https://www.twilio.com/docs/errors/"+strconv.Itoa(int(tt.wantCode)) {
				t.Errorf("more_info %v", a.fields["more_info"])
			}
			if f.Count() != 0 || f.Requests() != 1 {
				t.Errorf("count %d, requests %d; want 0, 1", f.Count(), f.Requests())
			}
		})
	}
}

func TestSetCredentials(t *testing.T) {
	f := start(t)
	f.SetCredentials("AC1", "token1")
	if a := send(t, f, message("+1", "x")); a.status != 401 {
		t.Errorf("old credentials: status %d, want 401", a.status)
	}
	path := "/2010-04-01/Accounts/AC1/Messages.json"
	if a := post(t, f, "POST", path, "AC1", "token1", message("+1", "x")); a.status != 201 {
		t.Errorf("new credentials: status %d, want 201", a.status)
	}
}

func TestFaults(t *testing.T) {
	const stop, other = "+15055550142", "+15055550143"
	f := start(t)
	f.FailTo(stop, 400, 21610)
	f.FailNext(2, 500, 20500)

	steps := []struct {
		to         string
		wantStatus int
		wantCode   any
	}{
		{stop, 400, float64(21610)}, // FailTo does not use up FailNext
		{other, 500, float64(20500)},
		{other, 500, float64(20500)},
		{other, 201, nil},
		{stop, 400, float64(21610)}, // and stays
	}
	for i, s := range steps {
		a := send(t, f, message(s.to, "hola"))
		if a.status != s.wantStatus || a.fields["code"] != s.wantCode {
			t.Errorf("request %d: %d %v, want %d code %v", i, a.status, a.fields, s.wantStatus, s.wantCode)
		}
	}
	if f.Count() != 1 || f.Requests() != len(steps) {
		t.Errorf("count %d, requests %d; want 1, %d", f.Count(), f.Requests(), len(steps))
	}

	f.FailTo(stop, 0, 0)
	if a := send(t, f, message(stop, "hola")); a.status != 201 {
		t.Errorf("after removing the rule: status %d", a.status)
	}

	f.FailNext(1, 502, 0)
	if a := send(t, f, message(other, "hola")); a.status != 502 || a.fields != nil {
		t.Errorf("code 0: %d %v, want 502 and a body that is not JSON", a.status, a.fields)
	}

	f.FailNext(1, 400, 21211)
	if a := send(t, f, message(other, "hola")); !strings.Contains(a.fields["message"].(string), other) {
		t.Errorf("21211's message %q does not name the number, as Twilio's does", a.fields["message"])
	}

	f.FailTo(stop, 400, 21610)
	f.FailNext(5, 429, 20429)
	f.Reset()
	if a := send(t, f, message(stop, "hola")); a.status != 201 {
		t.Errorf("after Reset: status %d", a.status)
	}
	if f.Count() != 1 || len(f.Messages()) != 1 || f.Requests() != 1 {
		t.Errorf("after Reset and one send: count %d, messages %d, requests %d", f.Count(), len(f.Messages()), f.Requests())
	}
}

func TestHangAndLatency(t *testing.T) {
	f := twiliofake.New()
	client := &http.Client{Timeout: 50 * time.Millisecond}
	form := message("+15055550142", "hola")
	do := func() error {
		req, _ := http.NewRequest("POST", f.URL()+messagesPath, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(twiliofake.AccountSID, twiliofake.AuthToken)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	f.Latency(time.Minute)
	if err := do(); err == nil {
		t.Error("with a minute's latency a 50 ms client got an answer")
	}
	f.Latency(0)
	f.Hang()
	if err := do(); err == nil {
		t.Error("a hanging server answered")
	}
	if f.Count() != 0 {
		t.Errorf("recorded %d messages", f.Count())
	}

	// A request still held when the server closes must not hold up Close.
	held := make(chan error, 1)
	wrote := make(chan struct{})
	go func() {
		slow := &http.Client{Timeout: time.Minute}
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { close(wrote) }}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
			"POST", f.URL()+messagesPath, strings.NewReader(form.Encode()))
		req.SetBasicAuth(twiliofake.AccountSID, twiliofake.AuthToken)
		resp, err := slow.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		held <- err
	}()
	<-wrote
	closed := make(chan struct{})
	go func() { f.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited for a held request")
	}
	if err := <-held; err == nil {
		t.Error("the held request got an answer")
	}
}

func TestSegments(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int
	}{
		{"GSM-7 single", strings.Repeat("a", 160), 1},
		{"GSM-7 two parts", strings.Repeat("a", 161), 2},
		{"GSM-7 three parts", strings.Repeat("a", 307), 3},
		{"Spanish letters of GSM-7", strings.Repeat("ñ", 160), 1},
		{"extension characters count two", strings.Repeat("{", 80), 1},
		{"extension characters over", strings.Repeat("{", 81), 2},
		{"UCS-2 single", strings.Repeat("á", 70), 1},
		{"UCS-2 two parts", strings.Repeat("á", 71), 2},
		{"emoji count two units", strings.Repeat("😀", 35), 1},
		{"emoji over", strings.Repeat("😀", 36), 2},
		{"backtick is not GSM-7", strings.Repeat("a", 100) + "`", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t)
			if a := send(t, f, message("+1", tt.body)); a.status != 201 {
				t.Fatalf("status %d %v", a.status, a.fields)
			}
			if got := f.Messages()[0].NumSegments; got != tt.want {
				t.Errorf("segments %d, want %d", got, tt.want)
			}
		})
	}
}

func TestKeepMessages(t *testing.T) {
	f := start(t)
	f.KeepMessages(false)
	send(t, f, message("+1", "x"))
	if f.Count() != 1 || len(f.Messages()) != 0 {
		t.Errorf("count %d, messages %d; want 1, 0", f.Count(), len(f.Messages()))
	}
}

func TestConcurrent(t *testing.T) {
	f := start(t)
	const n = 100
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if a := send(t, f, message("+1505555"+strconv.Itoa(1000+i), "hola")); a.status != 201 {
				t.Errorf("status %d", a.status)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, m := range f.Messages() {
		seen[m.SID] = true
	}
	if len(seen) != n || f.Count() != n {
		t.Errorf("%d distinct SIDs, count %d; want %d", len(seen), f.Count(), n)
	}
}

func TestSendStatusCallbacks(t *testing.T) {
	f := start(t)
	verifier := twilio.NewVerifier(twiliofake.AuthToken)
	var (
		mu    sync.Mutex
		forms []url.Values
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if !verifier.Valid("http://"+r.Host+r.URL.RequestURI(), r.PostForm, r.Header.Get(twilio.SignatureHeader)) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		mu.Lock()
		forms = append(forms, r.PostForm)
		mu.Unlock()
	}))
	defer hook.Close()

	send(t, f, url.Values{"To": {"+1"}, "MessagingServiceSid": {"MG1"}, "Body": {"x"}, "StatusCallback": {hook.URL + "/status?bc=1"}})
	send(t, f, message("+2", "no callback"))
	n, err := f.SendStatusCallbacks(t.Context(), "delivered", 0)
	if err != nil || n != 1 || len(forms) != 1 {
		t.Fatalf("SendStatusCallbacks = %d, %v; hook got %d", n, err, len(forms))
	}
	got := forms[0]
	sid := f.Messages()[0].SID
	if got.Get("MessageSid") != sid || got.Get("MessageStatus") != "delivered" || got.Get("MessagingServiceSid") != "MG1" ||
		got.Has("ErrorCode") || got.Get("AccountSid") != twiliofake.AccountSID {
		t.Errorf("callback form %v", got)
	}

	// A hook that refuses the callback is reported.
	f.SetCredentials(twiliofake.AccountSID, "anothertoken")
	n, err = f.SendStatusCallbacks(context.Background(), "failed", 30007)
	if n != 0 || err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("SendStatusCallbacks with a token the hook does not know = %d, %v; want 0 and a 403 error", n, err)
	}
}

// BenchmarkServer is the fake's own cost seen from a plain net/http client: the ceiling
// for anything benchmarked against it.
func BenchmarkServer(b *testing.B) {
	f := start(b)
	f.KeepMessages(false)
	body := message("+15055550142", "Reunión de inquilinos el martes a las 7pm").Encode()
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 256
	client := &http.Client{Transport: transport}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", f.URL()+messagesPath, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(twiliofake.AccountSID, twiliofake.AuthToken)
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			// Reading the answer to its end keeps the connection for the next request.
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

// TestTemplateAccepted: a template goes without a Body, its SID and variables recorded, and
// counts no SMS segments.
func TestTemplateAccepted(t *testing.T) {
	f := start(t)
	vars := `{"1":"Retén en la Av. Central: ¿dónde? ¡cuidado!"}`
	a := send(t, f, url.Values{"To": {"whatsapp:+15055550142"}, "From": {"whatsapp:+15055550199"},
		"ContentSid": {"HX0123456789abcdef0123456789abcdef"}, "ContentVariables": {vars}})
	if a.status != http.StatusCreated {
		t.Fatalf("status %d, want 201 (%v)", a.status, a.fields)
	}
	m := f.Messages()[0]
	if m.ContentSID != "HX0123456789abcdef0123456789abcdef" || m.ContentVariables != vars || m.Body != "" || m.NumSegments != 0 {
		t.Errorf("recorded %+v", m)
	}
}

// TestMedia: an inbound message's media are listed as Twilio lists them and deleted one by
// one; a deleted one is gone, and deleting it again is a 404.
func TestMedia(t *testing.T) {
	f := start(t)
	const msg = "MM0123456789abcdef0123456789abcdef"
	sids := f.AddMedia(msg, 2)
	if len(sids) != 2 || !strings.HasPrefix(sids[0], "ME") || len(sids[0]) != 34 || sids[0] == sids[1] {
		t.Fatalf("AddMedia = %v", sids)
	}
	base := "/2010-04-01/Accounts/" + twiliofake.AccountSID + "/Messages/" + msg + "/Media"
	a := post(t, f, "GET", base+".json", twiliofake.AccountSID, twiliofake.AuthToken, nil)
	list, _ := a.fields["media_list"].([]any)
	if a.status != 200 || len(list) != 2 || list[0].(map[string]any)["sid"] != sids[0] || a.fields["next_page_uri"] != nil {
		t.Fatalf("listing: %d %v", a.status, a.fields)
	}
	if a := post(t, f, "DELETE", base+"/"+sids[0]+".json", twiliofake.AccountSID, twiliofake.AuthToken, nil); a.status != 204 {
		t.Fatalf("delete: %d %v", a.status, a.fields)
	}
	if got := f.Media(msg); len(got) != 1 || got[0] != sids[1] {
		t.Errorf("after one delete: %v, want [%s]", got, sids[1])
	}
	if a := post(t, f, "DELETE", base+"/"+sids[0]+".json", twiliofake.AccountSID, twiliofake.AuthToken, nil); a.status != 404 {
		t.Errorf("deleting again: %d, want 404", a.status)
	}
	if f.MediaDeletes() != 2 {
		t.Errorf("MediaDeletes = %d, want 2", f.MediaDeletes())
	}
}
