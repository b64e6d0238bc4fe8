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
	mux.Handle("POST /console/roster/organizers", s.signedIn(organizers, s.handleAddOrganizer))
	mux.Handle("POST /console/roster/volunteers", s.signedIn(organizers, s.handleAddVolunteer))
	mux.Handle("GET /console/roster/{kind}/{id}/remove", s.signedIn(organizers, s.handleConfirmRemove))
	mux.Handle("POST /console/roster/{kind}/{id}/remove", s.signedIn(organizers, s.handleRemove))
	mux.Handle("POST /console/roster/volunteers/{id}/oncall", s.signedIn(organizers, s.handleOnCall))

	mux.Handle("GET /console/audit", s.signedIn(organizers, s.handleAudit))

	mux.Handle("GET /console/static/segment.js", http.HandlerFunc(serveSegmentJS))
	mux.Handle("GET /console/broadcasts", s.signedIn(organizers, s.handleBroadcasts))
	mux.Handle("GET /console/broadcasts/new", s.signedIn(organizers, s.handleComposeBroadcast))
	mux.Handle("POST /console/broadcasts", s.signedIn(organizers, s.handleCreateBroadcast))
	mux.Handle("GET /console/broadcasts/{id}", s.signedIn(organizers, s.handleBroadcast))
	mux.Handle("GET /console/broadcasts/{id}/progress.json", s.signedIn(organizers, s.handleBroadcastProgress))
	mux.Handle("POST /console/broadcasts/{id}/{action}", s.signedIn(organizers, s.handleBroadcastAction))

	mux.Handle("/console/", s.public(s.handleNotFound))
}
