package web

import (
	"errors"
	"net/http"

	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/whatsapp"
)

// handleStatusCallback counts Twilio's delivery reports for broadcast messages, and counts
// and acts on WhatsApp's failures (twilio.ClassifyWhatsApp), which arrive here rather than
// when the message is created. The broadcast id and the member's sealed reference are in
// the URL's query, which the signature covers, so they cannot be forged.
func handleStatusCallback(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !d.twilioForm(w, r) {
			return
		}
		up, err := twilio.ParseStatusCallback(r.PostForm)
		if err != nil {
			http.Error(w, "bad status callback: "+err.Error(), http.StatusBadRequest)
			return
		}
		bc := r.URL.Query().Get("bc")
		switch up.Status {
		case "delivered", "failed", "undelivered":
			if bc != "" && d.Deliveries != nil {
				if err := d.Deliveries.CountDelivery(r.Context(), bc, up.MessageSID, up.Status); err != nil {
					// Twilio retries a failed callback; a 5xx asks it to.
					d.Log.Error("counting delivery", "bc", bc, "err", err)
					http.Error(w, "try again", http.StatusServiceUnavailable)
					return
				}
			}
		}
		if up.Status == "failed" || up.Status == "undelivered" {
			if !d.whatsAppFailure(r, up) {
				http.Error(w, "try again", http.StatusServiceUnavailable)
				return
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// whatsAppFailure counts a WhatsApp failure and acts on it for the member the callback's
// "wa" parameter names. It reports false when the action failed for a passing reason (Twilio
// is asked to retry); a reference that does not open is logged and dropped.
func (d Deps) whatsAppFailure(r *http.Request, up twilio.StatusUpdate) bool {
	f, ok := twilio.ClassifyWhatsApp(up.ErrorCode)
	if !ok {
		return true
	}
	d.Metrics.Counter("hotline_whatsapp_failures_total", "WhatsApp messages Twilio reported failed, by what it calls for (outside_window 63016, marketing_refused 63049/63032, not_a_user 63003, recipient_unable 63024, rate_limited 63018).", "reason", string(f)).Inc()
	ref := r.URL.Query().Get("wa")
	var err error
	switch {
	case ref == "" || d.WhatsApp == nil:
	case f == twilio.WhatsAppOutsideWindow:
		err = d.WhatsApp.WindowClosed(r.Context(), ref)
	case f == twilio.WhatsAppNotAUser:
		err = d.WhatsApp.NotAUser(r.Context(), ref)
	}
	switch f {
	case twilio.WhatsAppMarketing:
		// Every template to a U.S. number will fail the same way until its category is
		// fixed: say so where the operators look.
		d.Log.Warn("Meta refused a WhatsApp template as Marketing: submit it as Utility (docs/deploy.md, WhatsApp)", "msg_sid", up.MessageSID, "code", up.ErrorCode)
	case twilio.WhatsAppRateLimited:
		d.Log.Warn("WhatsApp's messaging limit was passed; the message is lost: lower HOTLINE_WA_RATE", "msg_sid", up.MessageSID)
	}
	switch {
	case errors.Is(err, whatsapp.ErrBadReference):
		d.Log.Error("a WhatsApp status callback names nobody that can be read", "msg_sid", up.MessageSID, "err", err)
	case err != nil:
		d.Log.Error("acting on a WhatsApp failure", "msg_sid", up.MessageSID, "reason", string(f), "err", err)
		return false
	}
	return true
}
