package web

import "net/http"

// addRoutes is the one place every URL of the hotline is listed.
func addRoutes(mux *http.ServeMux, d Deps) {
	mux.Handle("POST /twilio/sms", handleInboundSMS(d))
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(d))
}
