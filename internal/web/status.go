package web

import (
	"net/http"

	"github.com/communityhotline/hotline/internal/twilio"
)

// handleStatusCallback counts Twilio's delivery reports for broadcast messages. The
// broadcast id is in the URL's query, which the signature covers, so it cannot be forged.
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
		w.WriteHeader(http.StatusNoContent)
	})
}
