package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"maps"
	"net/url"
	"testing"
)

// The example from Twilio's webhook security documentation.
const (
	docToken     = "12345"
	docURL       = "https://mycompany.com/myapp.php?foo=1&bar=2"
	docSignature = "GvWf1cFY/Q7PnoempGyD5oXAezc="
)

func docForm() url.Values {
	return url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675310"},
		"Digits":  {"1234"},
		"From":    {"+14158675310"},
		"To":      {"+18005551212"},
	}
}

// with returns a copy of form with name set to values, or removed when values is nil.
func with(form url.Values, name string, values ...string) url.Values {
	out := maps.Clone(form)
	if values == nil {
		delete(out, name)
	} else {
		out[name] = values
	}
	return out
}

// hmacOf signs s directly, to check Sign against Twilio's rule written out by hand.
func hmacOf(token, s string) string {
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestSign(t *testing.T) {
	tests := []struct {
		name  string
		token string
		url   string
		form  url.Values
		want  string
	}{
		{"twilio documentation example", docToken, docURL, docForm(), docSignature},
		{"no parameters", "tok", "https://h.example/sms", nil, hmacOf("tok", "https://h.example/sms")},
		{"names sorted bytewise", "tok", "https://h.example/sms",
			url.Values{"b": {"2"}, "B": {"3"}, "a": {"1"}},
			hmacOf("tok", "https://h.example/smsB3a1b2")},
		{"repeated name, values sorted", "tok", "https://h.example/sms",
			url.Values{"z": {"0"}, "a": {"2", "10", "1"}},
			hmacOf("tok", "https://h.example/smsa1a10a2z0")},
		{"repeated identical values signed once", "tok", "https://h.example/sms",
			url.Values{"a": {"1", "1", "2"}},
			hmacOf("tok", "https://h.example/smsa1a2")},
		{"name without values adds nothing", "tok", "https://h.example/sms",
			url.Values{"a": {}, "b": {"1"}},
			hmacOf("tok", "https://h.example/smsb1")},
		{"empty value keeps its name", "tok", "https://h.example/sms",
			url.Values{"Body": {""}},
			hmacOf("tok", "https://h.example/smsBody")},
		{"utf-8 values", "tok", "https://h.example/sms",
			url.Values{"Body": {"¿Dónde? 🙂"}},
			hmacOf("tok", "https://h.example/smsBody¿Dónde? 🙂")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sign(tt.token, tt.url, tt.form); got != tt.want {
				t.Errorf("Sign = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSignLeavesFormAlone(t *testing.T) {
	form := url.Values{"a": {"b", "a"}}
	Sign("tok", "https://h.example/", form)
	NewVerifier("tok").Valid("https://h.example/", form, "x")
	if form["a"][0] != "b" || form["a"][1] != "a" {
		t.Errorf("form changed to %v", form)
	}
}

func TestVerifierValid(t *testing.T) {
	tests := []struct {
		name  string
		token string
		url   string
		form  url.Values
		sig   string
		want  bool
	}{
		{"twilio documentation example", docToken, docURL, docForm(), docSignature, true},
		{"wrong token", "54321", docURL, docForm(), docSignature, false},
		{"empty token accepts nothing", "", docURL, docForm(), docSignature, false},
		{"tampered parameter", docToken, docURL, with(docForm(), "Digits", "1235"), docSignature, false},
		{"extra parameter", docToken, docURL, with(docForm(), "Body", "hola"), docSignature, false},
		{"extra empty parameter", docToken, docURL, with(docForm(), "Body", ""), docSignature, false},
		{"extra value of a parameter", docToken, docURL, with(docForm(), "From", "+14158675310", "+15055550100"), docSignature, false},
		{"missing parameter", docToken, docURL, with(docForm(), "Digits"), docSignature, false},
		{"missing signature", docToken, docURL, docForm(), "", false},
		{"truncated signature", docToken, docURL, docForm(), docSignature[:len(docSignature)-1], false},
		{"other path", docToken, "https://mycompany.com/myapp.php?foo=1&bar=3", docForm(), docSignature, false},
		{"other scheme", docToken, "http://mycompany.com/myapp.php?foo=1&bar=2", docForm(), docSignature, false},
		{"url with default port, signed without", docToken, "https://mycompany.com:443/myapp.php?foo=1&bar=2", docForm(), docSignature, true},
		{"url without port, signed with default port", "tok", "https://h.example/sms", url.Values{"a": {"1"}},
			Sign("tok", "https://h.example:443/sms", url.Values{"a": {"1"}}), true},
		{"http url with port 80, signed without", "tok", "http://h.example:80/sms", url.Values{"a": {"1"}},
			Sign("tok", "http://h.example/sms", url.Values{"a": {"1"}}), true},
		{"url with another port, signed with it", "tok", "https://h.example:8443/sms", url.Values{"a": {"1"}},
			Sign("tok", "https://h.example:8443/sms", url.Values{"a": {"1"}}), true},
		{"repeated parameter", "tok", "https://h.example/sms", url.Values{"a": {"2", "1"}, "b": {"3"}},
			hmacOf("tok", "https://h.example/smsa1a2b3"), true},
		{"repeated parameter, value dropped", "tok", "https://h.example/sms", url.Values{"a": {"2"}, "b": {"3"}},
			hmacOf("tok", "https://h.example/smsa1a2b3"), false},
		{"repeated parameter signed by first value only", "tok", "https://h.example/sms", url.Values{"a": {"2", "1"}},
			hmacOf("tok", "https://h.example/smsa2"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewVerifier(tt.token).Valid(tt.url, tt.form, tt.sig); got != tt.want {
				t.Errorf("Valid = %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(docToken, docURL, "CallSid=CA1234567890ABCDE&Caller=%2B14158675310&Digits=1234&From=%2B14158675310&To=%2B18005551212", docSignature)
	f.Add("tok", "https://h.example:443/sms", "a=2&a=1&a=2&b=", "")
	f.Add("tok", "http://[::1]:80/x", "Body=%C3%B1%F0%9F%99%82&a&=", "AAAA")
	f.Add("tok", "::not a url", "%zz", "GvWf1cFY/Q7PnoempGyD5oXAezc=")
	f.Fuzz(func(t *testing.T, token, fullURL, body, sig string) {
		// ParseQuery returns what it could parse even with an error; sign and check that.
		form, _ := url.ParseQuery(body)
		v := NewVerifier(token)
		v.Valid(fullURL, form, sig)
		if token == "" {
			return
		}
		if good := Sign(token, fullURL, form); !v.Valid(fullURL, form, good) {
			t.Errorf("Valid rejects Sign's signature %q for url %q form %q", good, fullURL, form)
		}
	})
}
