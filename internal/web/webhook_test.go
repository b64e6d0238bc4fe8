package web_test

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestBadSignatureIsRefusedAndChangesNothing(t *testing.T) {
	s := startServer(t)
	s.text(testSender, "hola")
	before := s.dump()
	for name, sig := range map[string]string{
		"wrong":   "GvWf1cFY/Q7PnoempGyD5oXAezc=",
		"garbage": "not base64 at all",
	} {
		resp := s.post(s.form(testSender, "PARAR"), sig)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s signature: status %d, want 403", name, resp.StatusCode)
		}
	}
	// Signed for another URL: a replay against this endpoint.
	form := s.form(testSender, "PARAR")
	req, _ := http.NewRequest("POST", s.srv.URL+"/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("missing signature: status %d, want 403", resp.StatusCode)
	}
	if after := s.dump(); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused request changed Redis:\nbefore %v\nafter  %v", before, after)
	}
}

func TestRetriedMessageGetsSameReplyAndOneStateChange(t *testing.T) {
	s := startServer(t)
	s.text(testSender, "hola")
	form := s.form(testSender, "ENGLISH")
	first := s.replies(s.post(form, ""))
	afterFirst := s.dump()
	second := s.replies(s.post(form, ""))
	if !reflect.DeepEqual(first, second) || len(first) == 0 {
		t.Fatalf("retry answered %q, first answer was %q", second, first)
	}
	if after := s.dump(); !reflect.DeepEqual(afterFirst, after) {
		t.Errorf("the retry changed Redis")
	}
	if v := s.version(testSender); v != 2 {
		t.Errorf("state version = %d after two distinct messages and one retry, want 2", v)
	}
}

// version reads the member's state version straight from Redis.
func (s *hotlineServer) version(phone string) int64 {
	s.t.Helper()
	ctx := context.Background()
	var v int64
	n := 0
	for _, k := range s.rdb.Keys(ctx, s.prefix+":m:*").Val() {
		if strings.Count(k, ":") == 2 { // the member hash, not its reply log
			v, _ = s.rdb.HGet(ctx, k, "v").Int64()
			n++
		}
	}
	if n != 1 {
		s.t.Fatalf("%d member hashes, want 1", n)
	}
	return v
}

func TestConcurrentMessagesFromOneMember(t *testing.T) {
	s := startServer(t)
	const n = 64
	var wg sync.WaitGroup
	replies := make([][]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Alternate languages so that racing writes would show as a lost update.
			word := []string{"english", "español"}[i%2]
			replies[i] = s.text(testSender, word)
		}()
	}
	wg.Wait()
	for i, r := range replies {
		if len(r) == 0 {
			t.Errorf("message %d got no reply", i)
		}
	}
	if v := s.version(testSender); v != n {
		t.Errorf("state version = %d after %d messages, want %d: an update was lost", v, n, n)
	}
	// The state is still readable and coherent: the member gets a normal answer.
	if r := s.text(testSender, "menu"); len(r) != 1 || !(strings.Contains(r[0], "1 Your rights") || strings.Contains(r[0], "1 Sus derechos")) {
		t.Errorf("after the burst, menu answered %q", r)
	}
}

func TestNoPhoneNumberOrBodyInRedis(t *testing.T) {
	s := startServer(t)
	phones := []string{"+15055550111", "+15055550122"}
	for _, p := range phones {
		s.text(p, "hola")
		s.text(p, "MARKER-BODY-7731 where is the office")
	}
	dump := s.dump()
	if len(dump) == 0 {
		t.Fatal("nothing stored")
	}
	for k, v := range dump {
		for _, needle := range []string{"5055550111", "5055550122", "MARKER-BODY-7731", "ALBUQUERQUE", "87102", "Hola", "Envíe"} {
			if strings.Contains(k, needle) || strings.Contains(v, needle) {
				t.Errorf("key %q or its value contains %q", k, needle)
			}
		}
	}
}

func TestMalformedRequests(t *testing.T) {
	s := startServer(t)
	do := func(method, ctype, body string) int {
		req, _ := http.NewRequest(method, s.srv.URL+"/twilio/sms", strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name, method, ctype, body string
		want                      int
	}{
		{"oversized", "POST", form, "Body=" + strings.Repeat("a", 70<<10), http.StatusRequestEntityTooLarge},
		{"unparseable", "POST", form, "Body=%zz", http.StatusBadRequest},
		{"get", "GET", "", "", http.StatusMethodNotAllowed},
		{"put", "PUT", form, "", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		if got := do(tt.method, tt.ctype, tt.body); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
	// A signed request without the fields a message needs is a 400 that names the field.
	resp := s.post(map[string][]string{"AccountSid": {"AC1"}}, "")
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("signed form without MessageSid: status %d, want 400", resp.StatusCode)
	}
}

func TestHealthAndReady(t *testing.T) {
	s := startServer(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(s.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
	}
}

func BenchmarkWebhook(b *testing.B) {
	s := startServer(b)
	s.text(testSender, "hola")
	b.ResetTimer()
	for b.Loop() {
		if r := s.text(testSender, "menu"); len(r) != 1 {
			b.Fatal(r)
		}
	}
}
