package whatsapp

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/hotline"
)

const (
	alertES = "HX00000000000000000000000000000a1e"
	alertEN = "HX00000000000000000000000000000a1f"
	replyES = "HX0000000000000000000000000000012e"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 12, 10, 15, 0, 0, 0, time.UTC)
	all := Templates{Alert: {"es": alertES, "en": alertEN}, Reply: {"es": replyES}}
	tests := []struct {
		name      string
		last      time.Time
		ch        hotline.Channel
		purpose   Purpose
		lang      string
		templates Templates
		want      Decision
	}{
		{"SMS, never wrote", time.Time{}, hotline.SMS, Alert, "es", nil, Decision{Action: FreeText}},
		{"SMS, wrote long ago", now.Add(-30 * 24 * time.Hour), hotline.SMS, Reply, "es", all, Decision{Action: FreeText}},
		{"wrote a minute ago", now.Add(-time.Minute), hotline.WhatsApp, Alert, "es", all, Decision{Action: FreeText}},
		{"wrote 22h59m ago", now.Add(-22*time.Hour - 59*time.Minute), hotline.WhatsApp, Alert, "es", nil, Decision{Action: FreeText}},
		{"wrote exactly 23h ago", now.Add(-23 * time.Hour), hotline.WhatsApp, Alert, "es", nil, Decision{Action: FreeText}},
		{"wrote 23h01m ago: inside Meta's window, past the margin", now.Add(-23*time.Hour - time.Minute), hotline.WhatsApp, Alert, "es", all, Decision{Template, alertES}},
		{"wrote 2 days ago, alert in English", now.Add(-48 * time.Hour), hotline.WhatsApp, Alert, "en", all, Decision{Template, alertEN}},
		{"never known to write, reply", time.Time{}, hotline.WhatsApp, Reply, "es", all, Decision{Template, replyES}},
		{"clock behind: last message a minute ahead", now.Add(time.Minute), hotline.WhatsApp, Reply, "en", nil, Decision{Action: FreeText}},
		{"outside, no template at all", now.Add(-25 * time.Hour), hotline.WhatsApp, Alert, "es", nil, Decision{Action: Skip}},
		{"outside, no reply template in English (no Spanish one instead)", now.Add(-25 * time.Hour), hotline.WhatsApp, Reply, "en", all, Decision{Action: Skip}},
		{"outside, language unknown", time.Time{}, hotline.WhatsApp, Alert, "", all, Decision{Action: Skip}},
		{"outside, only the other purpose's template", now.Add(-25 * time.Hour), hotline.WhatsApp, Alert, "es", Templates{Reply: {"es": replyES}}, Decision{Action: Skip}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(tt.last, now, tt.ch, tt.purpose, tt.lang, tt.templates); got != tt.want {
				t.Errorf("Decide = %v %q, want %v %q", got.Action, got.ContentSid, tt.want.Action, tt.want.ContentSid)
			}
		})
	}
}

func TestLastInbound(t *testing.T) {
	state := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name     string
		active   int64
		recorded time.Time
		want     time.Time
	}{
		{"neither", 0, time.Time{}, time.Time{}},
		{"state only (a member mid-conversation)", state.Unix(), time.Time{}, state},
		{"record only (a member at home keeps no Active)", 0, state, state},
		{"the later of the two", state.Unix(), state.Add(time.Hour), state.Add(time.Hour)},
		{"the later of the two, the other way", state.Add(time.Hour).Unix(), state, state.Add(time.Hour)},
	}
	for _, tt := range tests {
		if got := LastInbound(tt.active, tt.recorded); !got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestAlertVariables(t *testing.T) {
	long := strings.Repeat("Redada en la calle Central, ", 60)
	tests := []struct {
		name string
		text string
		want string // the variable, or its start and end when cut ("…" last)
	}{
		{"accents and signs kept", "¿Dónde? Niños, señoras: ¡no abran!", "¿Dónde? Niños, señoras: ¡no abran!"},
		{"lines flattened", "ALERTA\n\nRetén en Av. Central.\r\n\tNo maneje   por ahí.", "ALERTA Retén en Av. Central. No maneje por ahí."},
		{"quotes and markup escaped, not lost", `Dijeron "ICE" <aquí> & allá`, `Dijeron "ICE" <aquí> & allá`},
		{"empty", "  \n ", "…"},
	}
	for _, tt := range tests {
		var vars map[string]string
		if err := json.Unmarshal([]byte(AlertVariables(tt.text)), &vars); err != nil {
			t.Fatalf("%s: not JSON: %v", tt.name, err)
		}
		if len(vars) != 1 || vars["1"] != tt.want {
			t.Errorf("%s: %q, want {1: %q}", tt.name, vars, tt.want)
		}
	}

	var vars map[string]string
	json.Unmarshal([]byte(AlertVariables(long)), &vars)
	v := vars["1"]
	if n := utf8.RuneCountInString(v); n > MaxVariable || n < MaxVariable-40 {
		t.Errorf("a long alert's variable has %d characters; want at most %d, cut near it", n, MaxVariable)
	}
	words := strings.Fields(strings.TrimSuffix(v, "…"))
	if last := words[len(words)-1]; !strings.HasSuffix(v, "…") || !strings.Contains(" Redada en la calle Central, ", " "+last+" ") {
		t.Errorf("a long alert's variable is not cut after a whole word, with …: %q", v[len(v)-40:])
	}
	if strings.ContainsAny(v, "\n\t") || strings.Contains(v, "  ") {
		t.Errorf("a variable holds a line break, a tab or spaces in a row: %q", v)
	}
}
