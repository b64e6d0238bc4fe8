package web

import "net/http"

// addRoutes is the one place every URL of the hotline is listed.
func addRoutes(mux *http.ServeMux, d Deps) {
	mux.Handle("POST /twilio/sms", handleInboundSMS(d))
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(d))
	if !d.MetricsElsewhere {
		mux.Handle("GET /metrics", MetricsHandler(d.Metrics))
	}
	mux.Handle("POST /twilio/status", handleStatusCallback(d))
	if d.Voice != nil {
		mux.Handle("POST /twilio/voice", handleVoiceStart(d))
		mux.Handle("POST /twilio/voice/gather", handleVoiceGather(d))
		mux.Handle("POST /twilio/voice/dial", handleVoiceDial(d))
		mux.Handle("POST /twilio/voice/consent", handleVoiceConsent(d))
		mux.Handle("POST /twilio/voice/case", handleVoiceCase(d))
		mux.Handle("POST /twilio/voice/whisper", handleVoiceWhisper(d))
		mux.Handle("POST /twilio/voice/whisper/accept", handleVoiceAccept(d))
		mux.Handle("POST /twilio/voice/status", handleVoiceStatus(d))
		mux.Handle("POST /twilio/voice/fallback", handleVoiceFallback(d))
	}
	if d.Console != nil {
		mux.Handle("/console/", d.Console)
		mux.Handle("/console", d.Console) // redirected by the console, with its headers
	}

	mux.Handle("POST /admin/organizers", d.admin(true, handleAddOrganizer(d)))
	mux.Handle("GET /admin/organizers", d.admin(true, handleListOrganizers(d)))
	mux.Handle("DELETE /admin/organizers/{id}", d.admin(true, handleRemoveOrganizer(d)))
	mux.Handle("POST /admin/volunteers", d.admin(true, handleAddVolunteer(d)))
	mux.Handle("GET /admin/volunteers", d.admin(true, handleListVolunteers(d)))
	mux.Handle("DELETE /admin/volunteers/{id}", d.admin(true, handleRemoveVolunteer(d)))
	mux.Handle("GET /admin/cases", d.admin(false, handleListCases(d)))
	mux.Handle("POST /admin/broadcasts", d.admin(false, handleCreateBroadcast(d)))
	mux.Handle("GET /admin/broadcasts", d.admin(false, handleListBroadcasts(d)))
	mux.Handle("GET /admin/broadcasts/{id}", d.admin(false, handleGetBroadcast(d)))
	mux.Handle("POST /admin/broadcasts/{id}/approve", d.admin(false, handleBroadcastAction(d, "approve")))
	mux.Handle("POST /admin/broadcasts/{id}/send", d.admin(false, handleBroadcastAction(d, "send")))
	mux.Handle("POST /admin/broadcasts/{id}/cancel", d.admin(false, handleBroadcastAction(d, "cancel")))
}
