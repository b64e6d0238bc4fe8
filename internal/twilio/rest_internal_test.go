package twilio

import (
	"testing"

	"github.com/communityhotline/hotline/internal/hotline"
)

func TestRedact(t *testing.T) {
	m := hotline.Outbound{To: "+15055550142", Body: "Reunión el martes a las 7"}
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"no private data", "Attempt to send to unsubscribed recipient", "Attempt to send to unsubscribed recipient"},
		{"the To address", "The 'To' number +15055550142 is not a valid phone number.", "The 'To' number [to] is not a valid phone number."},
		{"without the plus", "Invalid To: 15055550142", "Invalid To: [number]"},
		{"written with separators", "Number +1 (505) 555-0142 is a landline", "Number [number] is a landline"},
		{"another number", "From +15055550100 cannot send", "From [number] cannot send"},
		{"short numbers stay", "The concatenated message body exceeds the 1600 character limit (21617)", "The concatenated message body exceeds the 1600 character limit (21617)"},
		{"the body", "Body 'Reunión el martes a las 7' refused", "Body '[body]' refused"},
		{"cut short", string(make([]byte, 400)), string(make([]byte, 300)) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact(tt.in, m); got != tt.want {
				t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	wa := hotline.Outbound{To: "whatsapp:+15055550142"}
	if got := redact("Bad address +15055550142", wa); got != "Bad address [to]" {
		t.Errorf("WhatsApp address without its prefix: got %q", got)
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		status, code int
		want         hotline.SendErrorKind
	}{
		{400, 21610, hotline.OptedOut},
		{400, 21211, hotline.Undeliverable},
		{400, 21614, hotline.Undeliverable},
		{429, 20429, hotline.Retry},
		{400, 21611, hotline.Retry},
		{429, 0, hotline.Retry},
		{408, 0, hotline.Retry},
		{500, 20500, hotline.Retry},
		{503, 0, hotline.Retry},
		{400, 21617, hotline.Permanent},
		{400, 21606, hotline.Permanent},
		{401, 20003, hotline.Permanent},
		{403, 0, hotline.Permanent},
		{404, 20404, hotline.Permanent},
		{200, 0, hotline.Permanent},
		{302, 0, hotline.Permanent},
	}
	for _, tt := range tests {
		if got := kindOf(tt.status, tt.code); got != tt.want {
			t.Errorf("kindOf(%d, %d) = %d, want %d", tt.status, tt.code, got, tt.want)
		}
	}
}
