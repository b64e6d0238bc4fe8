package twilio

import (
	"io"
	"net/url"
	"testing"
)

const benchURL = "https://hotline.example.org/twilio/sms"

// benchForm is a realistic inbound SMS webhook of twelve fields.
func benchForm() url.Values {
	return url.Values{
		"MessageSid":          {sid},
		"SmsMessageSid":       {sid},
		"SmsSid":              {sid},
		"AccountSid":          {"AC0123456789abcdef0123456789abcdef"},
		"MessagingServiceSid": {"MG0123456789abcdef0123456789abcdef"},
		"From":                {"+15055550142"},
		"To":                  {"+15055550199"},
		"Body":                {"Hola, necesito ayuda con la renta este mes. ¿Qué opciones hay?"},
		"NumMedia":            {"0"},
		"NumSegments":         {"1"},
		"SmsStatus":           {"received"},
		"ApiVersion":          {"2010-04-01"},
	}
}

func BenchmarkValid(b *testing.B) {
	form := benchForm()
	v := NewVerifier("0123456789abcdef0123456789abcdef")
	sig := Sign("0123456789abcdef0123456789abcdef", benchURL, form)
	for b.Loop() {
		if !v.Valid(benchURL, form, sig) {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkSign is the cost of one signature computed directly, to compare with Valid,
// which goes through twilio-go.
func BenchmarkSign(b *testing.B) {
	form := benchForm()
	for b.Loop() {
		Sign("0123456789abcdef0123456789abcdef", benchURL, form)
	}
}

func BenchmarkParseInbound(b *testing.B) {
	form := benchForm()
	for b.Loop() {
		if _, err := ParseInbound(form); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteTwiML(b *testing.B) {
	bodies := []string{
		"Gracias. Un voluntario le escribirá pronto. Responda AYUDA para el menú o PARAR para no recibir más mensajes.",
		"Thanks. A volunteer will text you soon. Reply HELP for the menu or STOP to opt out.",
	}
	for b.Loop() {
		if err := WriteTwiML(io.Discard, bodies); err != nil {
			b.Fatal(err)
		}
	}
}
