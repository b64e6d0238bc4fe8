package web

import (
	"errors"
	"net/http"

	"github.com/communityhotline/hotline/internal/twilio"
)

// handleStatusCallback counts Twilio's delivery reports for broadcast messages. The
// broadcast id is in the URL's query, which the signature covers, so it cannot be forged.
func handleStatusCallback(d Deps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxWebhookBody)
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "malformed form body", http.StatusBadRequest)
			return
		}
		if d.Verifier != nil && !d.Verifier.Valid(d.PublicURL+r.URL.RequestURI(), r.PostForm, r.Header.Get(twilio.SignatureHeader)) {
			d.Log.Warn("status callback signature rejected")
			http.Error(w, "invalid signature", http.StatusForbidden)
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
