// Package web is the hotline's HTTP face: the Twilio webhook and health checks.
package web

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/escalation"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/metrics"
	"github.com/communityhotline/hotline/internal/staff"
	"github.com/communityhotline/hotline/internal/twilio"
)

// Deps are what the server needs.
type Deps struct {
	Bot hotline.Answerer
	// Verifier checks Twilio signatures; nil turns the check off (local mode only).
	Verifier *twilio.Verifier
	// PublicURL is the base URL Twilio calls, without a trailing slash.
	PublicURL string
	// Ready reports whether the store answers.
	Ready func(ctx context.Context) error
	// Fallback is the reply when a message cannot be handled: short, bilingual, with the
	// organization's contact, so a member is never left with silence.
	Fallback string
	// Kept is the reply when a message could not be handled now but was spooled, to be
	// answered later: it tells the member not to write again. Empty: Fallback.
	Kept string
	Log  *slog.Logger
	// Broadcasts is the organizers' API; nil (no ADMIN_TOKEN) answers 404 to /admin/.
	Broadcasts *broadcast.Service
	// Cases is the open cases, under the same admin API.
	Cases *escalation.Service
	// Staff is the roster of organizers and volunteers, and who a token belongs to.
	Staff *staff.Directory
	// Spool keeps messages that could not be handled (Redis down) for replay; nil keeps none.
	Spool Spooler
	// Metrics is what GET /metrics shows; nil shows an empty registry.
	Metrics *metrics.Registry
	// MetricsElsewhere means the metrics are served on a private listener
	// (MetricsHandler): this server answers 404 to /metrics, so the public port does not
	// show queue depths and case counts to anyone.
	MetricsElsewhere bool
	// Deliveries counts delivery reports from status callbacks.
	Deliveries DeliveryCounter
	// Console is the staff console (internal/console), served under /console/; nil answers 404.
	Console http.Handler
	// Voice is the voice line (voice.go); nil answers 404 to /twilio/voice/.
	Voice *VoiceLine
	// WhatsApp acts on the WhatsApp failures status callbacks report about a member
	// (whatsapp.Reports); nil only counts them.
	WhatsApp WhatsAppReports
}

// WhatsAppReports acts on WhatsApp failures reported for the member whose sealed reference a
// status callback's "wa" parameter carries. Each is safe to repeat; an error wrapping
// whatsapp.ErrBadReference means there is nobody to act on.
type WhatsAppReports interface {
	// WindowClosed: Twilio 63016, the member's 24-hour window was closed.
	WindowClosed(ctx context.Context, ref string) error
	// NotAUser: Twilio 63003 or 63024, the address gets no WhatsApp messages.
	NotAUser(ctx context.Context, ref string) error
}

// Spooler keeps an inbound message durably for later.
type Spooler interface {
	Append(in hotline.Inbound) error
}

// DeliveryCounter records a broadcast message's final delivery status, once per message.
type DeliveryCounter interface {
	CountDelivery(ctx context.Context, broadcastID, messageSID, status string) error
}

// NewServer returns the hotline's HTTP handler.
func NewServer(d Deps) http.Handler {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New()
	}
	mux := http.NewServeMux()
	addRoutes(mux, d)
	return mux
}
