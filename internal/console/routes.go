package console

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var staticFS embed.FS

// addRoutes is the one place every console URL is listed, with who may use it. Every route
// also passes secureHeaders and http.CrossOriginProtection (New).
func (s *server) addRoutes(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))

	mux.Handle("GET /console/login", s.public(s.handleLoginPage))
	mux.Handle("POST /console/login/code", s.public(s.handleRequestCode))
	mux.Handle("POST /console/login/verify", s.public(s.handleVerifyCode))
	mux.Handle("POST /console/login/token", s.public(s.handleAdminToken))
	mux.Handle("POST /console/lang", s.public(s.handleLanguage))
	mux.Handle("POST /console/logout", s.signedIn(everyone, s.handleSignOut))

	mux.Handle("GET /console/{$}", s.signedIn(everyone, s.handleOverview))

	mux.Handle("GET /console/roster", s.signedIn(organizers, s.handleRoster))
	mux.Handle("POST /console/roster/organizers", s.signedIn(admins, s.handleAddOrganizer))
	mux.Handle("POST /console/roster/volunteers", s.signedIn(organizers, s.handleAddVolunteer))
	mux.Handle("GET /console/roster/{kind}/{id}/remove", s.signedIn(organizers, s.handleConfirmRemove))
	mux.Handle("POST /console/roster/{kind}/{id}/remove", s.signedIn(organizers, s.handleRemove))
	mux.Handle("POST /console/roster/volunteers/{id}/oncall", s.signedIn(organizers, s.handleOnCall))
	mux.Handle("POST /console/roster/{kind}/{id}/whatsapp/unlink", s.signedIn(organizers, s.handleUnlinkWhatsApp))

	mux.Handle("GET /console/audit", s.signedIn(organizers, s.handleAudit))

	// Cases and reports: everyone reads (organizers every case, volunteers the waiting ones and
	// their own); only volunteers act.
	mux.Handle("GET /console/cases", s.signedIn(everyone, s.handleCases))
	mux.Handle("GET /console/cases/list.json", s.signedIn(everyone, s.handleCasesSig("person")))
	mux.Handle("GET /console/cases/{n}", s.signedIn(everyone, s.handleCase))
	mux.Handle("GET /console/cases/{n}/lines.json", s.signedIn(everyone, s.handleCaseLines))
	mux.Handle("POST /console/cases/{n}/claim", s.signedIn(volunteers, s.handleClaim("person")))
	mux.Handle("POST /console/cases/{n}/reply", s.signedIn(volunteers, s.handleReply))
	mux.Handle("POST /console/cases/{n}/close", s.signedIn(volunteers, s.handleClose))
	mux.Handle("POST /console/cases/{n}/close-unclaimed", s.signedIn(organizers, s.handleCloseUnclaimed))
	mux.Handle("GET /console/reports", s.signedIn(everyone, s.handleReports))
	mux.Handle("GET /console/reports/list.json", s.signedIn(everyone, s.handleCasesSig("report")))
	mux.Handle("GET /console/reports/{n}", s.signedIn(everyone, s.handleReport))
	mux.Handle("POST /console/reports/{n}/claim", s.signedIn(volunteers, s.handleClaim("report")))
	mux.Handle("POST /console/reports/{n}/verdict", s.signedIn(volunteers, s.handleVerdict))
	mux.Handle("GET /console/static/segment.js", http.HandlerFunc(serveSegmentJS))
	mux.Handle("GET /console/broadcasts", s.signedIn(organizers, s.handleBroadcasts))
	mux.Handle("GET /console/broadcasts/new", s.signedIn(organizers, s.handleComposeBroadcast))
	mux.Handle("POST /console/broadcasts", s.signedIn(organizers, s.handleCreateBroadcast))
	mux.Handle("GET /console/broadcasts/{id}", s.signedIn(organizers, s.handleBroadcast))
	mux.Handle("GET /console/broadcasts/{id}/progress.json", s.signedIn(organizers, s.handleBroadcastProgress))
	mux.Handle("POST /console/broadcasts/{id}/{action}", s.signedIn(organizers, s.handleBroadcastAction))
	mux.Handle("GET /console/simulator", s.signedIn(organizers, s.handleSimulator))
	mux.Handle("POST /console/simulator/send", s.signedIn(organizers, s.handleSimulatorSend))
	mux.Handle("POST /console/simulator/lang", s.signedIn(organizers, s.handleSimulatorLanguage))
	mux.Handle("POST /console/simulator/restart", s.signedIn(organizers, s.handleSimulatorRestart))
	mux.Handle("POST /console/simulator/channel", s.signedIn(organizers, s.handleSimulatorChannel))
	mux.Handle("GET /console/policy", s.signedIn(organizers, s.handlePolicyList))
	mux.Handle("GET /console/policy/export", s.signedIn(organizers, s.handlePolicyExport))
	mux.Handle("GET /console/policy/{id}", s.signedIn(organizers, s.handlePolicyEntry))
	mux.Handle("POST /console/policy/{id}", s.signedIn(organizers, s.handlePolicyEdit))
	mux.Handle("POST /console/policy/{id}/checked", s.signedIn(organizers, s.handlePolicyChecked))

	mux.Handle("/console/", s.public(s.handleNotFound))
	mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
}
