package twilio

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/hotline"
)

const sid = "SM0123456789abcdef0123456789abcdef"

// smsForm is an inbound SMS webhook as Twilio sends it, with values distinctive enough that
// a test can search for them in errors and results.
func smsForm() url.Values {
	return url.Values{
		"ToCountry":           {"US"},
		"ToState":             {"NM"},
		"SmsMessageSid":       {sid},
		"NumMedia":            {"0"},
		"ToCity":              {"ALBUQUERQUE"},
		"FromZip":             {"87501"},
		"SmsSid":              {sid},
		"FromState":           {"NM"},
		"SmsStatus":           {"received"},
		"FromCity":            {"SANTA FE"},
		"Body":                {"¿Necesito ayuda? Sí, por favor & <gracias> 🙏"},
		"FromCountry":         {"US"},
		"To":                  {"+15055550199"},
		"MessagingServiceSid": {"MG0123456789abcdef0123456789abcdef"},
		"ToZip":               {"87102"},
		"NumSegments":         {"1"},
		"MessageSid":          {sid},
		"AccountSid":          {"AC0123456789abcdef0123456789abcdef"},
		"From":                {"+15055550142"},
		"ApiVersion":          {"2010-04-01"},
	}
}

// edit returns a copy of smsForm changed by set: a nil slice removes the field.
func edit(set map[string][]string) url.Values {
	form := smsForm()
	for name, values := range set {
		if values == nil {
			delete(form, name)
		} else {
			form[name] = values
		}
	}
	return form
}

func TestParseInbound(t *testing.T) {
	base := hotline.Inbound{
		ID:      sid,
		Channel: hotline.SMS,
		From:    "+15055550142",
		To:      "+15055550199",
		Text:    "¿Necesito ayuda? Sí, por favor & <gracias> 🙏",
	}
	withIn := func(change func(*hotline.Inbound)) hotline.Inbound {
		in := base
		change(&in)
		return in
	}
	longBody := strings.Repeat("ñ", maxBodyRunes)

	tests := []struct {
		name    string
		form    url.Values
		want    hotline.Inbound
		wantErr error
	}{
		{name: "sms", form: smsForm(), want: base},
		{name: "whatsapp",
			form: edit(map[string][]string{"From": {"whatsapp:+5215555550142"}, "To": {"whatsapp:+15055550199"}}),
			want: withIn(func(in *hotline.Inbound) {
				in.Channel, in.From, in.To = hotline.WhatsApp, "whatsapp:+5215555550142", "whatsapp:+15055550199"
			})},
		{name: "media only",
			form: edit(map[string][]string{"Body": {""}, "NumMedia": {"1"}, "MediaUrl0": {"https://api.twilio.com/x"}}),
			want: withIn(func(in *hotline.Inbound) { in.Text, in.Media = "", 1 })},
		{name: "media count that is no number is none",
			form: edit(map[string][]string{"NumMedia": {"x1"}}),
			want: withIn(func(in *hotline.Inbound) {})},
		{name: "no body field", form: edit(map[string][]string{"Body": nil}),
			want: withIn(func(in *hotline.Inbound) { in.Text = "" })},
		{name: "opt-out type copied", form: edit(map[string][]string{"Body": {"STOP"}, "OptOutType": {"STOP"}}),
			want: withIn(func(in *hotline.Inbound) { in.Text, in.OptOutType = "STOP", "STOP" })},
		{name: "SmsMessageSid when MessageSid is absent",
			form: edit(map[string][]string{"MessageSid": nil, "SmsMessageSid": {"SMfallback"}}),
			want: withIn(func(in *hotline.Inbound) { in.ID = "SMfallback" })},
		{name: "SmsMessageSid when MessageSid is empty",
			form: edit(map[string][]string{"MessageSid": {""}, "SmsMessageSid": {"SMfallback"}}),
			want: withIn(func(in *hotline.Inbound) { in.ID = "SMfallback" })},
		{name: "MessageSid preferred", form: edit(map[string][]string{"SmsMessageSid": {"SMother"}}), want: base},
		{name: "no To", form: edit(map[string][]string{"To": nil}),
			want: withIn(func(in *hotline.Inbound) { in.To = "" })},
		{name: "longest id", form: edit(map[string][]string{"MessageSid": {strings.Repeat("A", maxIDLen)}}),
			want: withIn(func(in *hotline.Inbound) { in.ID = strings.Repeat("A", maxIDLen) })},
		{name: "longest body", form: edit(map[string][]string{"Body": {longBody}}),
			want: withIn(func(in *hotline.Inbound) { in.Text = longBody })},
		{name: "body not utf-8 is repaired", form: edit(map[string][]string{"Body": {"hola \xff\xfe amigo"}}),
			want: withIn(func(in *hotline.Inbound) { in.Text = "hola \uFFFD amigo" })},

		{name: "no MessageSid", form: edit(map[string][]string{"MessageSid": nil, "SmsMessageSid": nil}), wantErr: ErrMissingField},
		{name: "empty MessageSid", form: edit(map[string][]string{"MessageSid": {""}, "SmsMessageSid": {""}}), wantErr: ErrMissingField},
		{name: "no From", form: edit(map[string][]string{"From": nil}), wantErr: ErrMissingField},
		{name: "empty From", form: edit(map[string][]string{"From": {""}}), wantErr: ErrMissingField},
		{name: "whatsapp without address", form: edit(map[string][]string{"From": {"whatsapp:"}}), wantErr: ErrInvalidField},
		{name: "id too long", form: edit(map[string][]string{"MessageSid": {strings.Repeat("A", maxIDLen+1)}}), wantErr: ErrInvalidField},
		{name: "id with key separator", form: edit(map[string][]string{"MessageSid": {"SM123:456"}}), wantErr: ErrInvalidField},
		{name: "id with hash tag", form: edit(map[string][]string{"MessageSid": {"SM{123}"}}), wantErr: ErrInvalidField},
		{name: "id with space", form: edit(map[string][]string{"MessageSid": {"SM 123"}}), wantErr: ErrInvalidField},
		{name: "id with accent", form: edit(map[string][]string{"MessageSid": {"SMñ123"}}), wantErr: ErrInvalidField},
		{name: "fallback id checked too", form: edit(map[string][]string{"MessageSid": nil, "SmsMessageSid": {"SM-1"}}), wantErr: ErrInvalidField},
		{name: "body too long", form: edit(map[string][]string{"Body": {longBody + "x"}}), wantErr: ErrInvalidField},
		{name: "From too long", form: edit(map[string][]string{"From": {"+" + strings.Repeat("1", maxAddressLen)}}), wantErr: ErrInvalidField},
		{name: "From with newline", form: edit(map[string][]string{"From": {"+1505555\n0142"}}), wantErr: ErrInvalidField},
		{name: "From not utf-8", form: edit(map[string][]string{"From": {"+1505\xff"}}), wantErr: ErrInvalidField},
		{name: "To with control character", form: edit(map[string][]string{"To": {"+1505\x00"}}), wantErr: ErrInvalidField},
		{name: "OptOutType too long", form: edit(map[string][]string{"OptOutType": {strings.Repeat("S", maxOptOutTypeLen+1)}}), wantErr: ErrInvalidField},
		{name: "From repeated", form: edit(map[string][]string{"From": {"+15055550142", "+15055550143"}}), wantErr: ErrInvalidField},
		{name: "MessageSid repeated", form: edit(map[string][]string{"MessageSid": {sid, sid}}), wantErr: ErrInvalidField},
		{name: "Body repeated", form: edit(map[string][]string{"Body": {"a", "b"}}), wantErr: ErrInvalidField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInbound(tt.form)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				if got != (hotline.Inbound{}) {
					t.Errorf("result with error = %+v, want zero", got)
				}
				assertNoValues(t, err.Error(), tt.form)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// assertNoValues fails if msg contains any value of form long enough to be recognised:
// errors are logged, and values are phone numbers and what members wrote.
func assertNoValues(t *testing.T, msg string, form url.Values) {
	t.Helper()
	for name, values := range form {
		for _, v := range values {
			if len(v) >= 4 && strings.Contains(msg, v) {
				t.Errorf("error %q contains the value of %s", msg, name)
			}
		}
	}
}

// TestParseInboundDropsLocation checks that where the number is registered goes nowhere:
// Twilio's FromCity, FromState and FromZip describe the number, and the hotline keeps none
// of them.
func TestParseInboundDropsLocation(t *testing.T) {
	form := smsForm()
	location := map[string]string{"FromCity": "XLOCCITYX", "FromState": "XLOCSTATEX", "FromZip": "XLOCZIPX", "FromCountry": "XLOCCOUNTRYX"}
	for name, v := range location {
		form.Set(name, v)
	}
	in, err := ParseInbound(form)
	if err != nil {
		t.Fatal(err)
	}
	dump := fmt.Sprintf("%#v", in)
	for name, v := range location {
		if strings.Contains(dump, v) {
			t.Errorf("result carries %s: %s", name, dump)
		}
	}
}

func FuzzParseInbound(f *testing.F) {
	f.Add(smsForm().Encode())
	f.Add("MessageSid=SM1&From=whatsapp%3A%2B1&Body=")
	f.Add("SmsMessageSid=SM1&From=%2B1&Body=%FF%FE&OptOutType=STOP")
	f.Add("MessageSid=SM1&MessageSid=SM2&From=x")
	f.Add("MessageSid=SM%3A1&From=%0A")
	f.Add("%zz&MessageSid")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		in, err := ParseInbound(form)
		if err != nil {
			if !errors.Is(err, ErrMissingField) && !errors.Is(err, ErrInvalidField) {
				t.Fatalf("error wraps neither sentinel: %v", err)
			}
			return
		}
		if in.ID == "" || in.From == "" {
			t.Fatalf("success without ID or From: %+v", in)
		}
		if len(in.ID) > maxIDLen {
			t.Fatalf("ID of %d bytes accepted", len(in.ID))
		}
		if !utf8.ValidString(in.Text) || utf8.RuneCountInString(in.Text) > maxBodyRunes {
			t.Fatalf("Text not UTF-8 or too long: %d runes", utf8.RuneCountInString(in.Text))
		}
		if in.Channel != hotline.SMS && in.Channel != hotline.WhatsApp {
			t.Fatalf("channel %q", in.Channel)
		}
	})
}
