package console

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/communityhotline/hotline/internal/segment"
)

//go:embed static
var staticFS embed.FS

// addRoutes is the one place every console URL is listed, with who may use it. Every route
// also passes secureHeaders and http.CrossOriginProtection (New).
func (s *server) addRoutes(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /console/static/segment.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(segment.CounterJS)
	})

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

	mux.Handle("GET /console/policy", s.signedIn(organizers, s.handlePolicyList))
	mux.Handle("GET /console/policy/export", s.signedIn(organizers, s.handlePolicyExport))
	mux.Handle("GET /console/policy/{id}", s.signedIn(organizers, s.handlePolicyEntry))
	mux.Handle("POST /console/policy/{id}", s.signedIn(organizers, s.handlePolicyEdit))
	mux.Handle("POST /console/policy/{id}/checked", s.signedIn(organizers, s.handlePolicyChecked))

	mux.Handle("/console/", s.public(s.handleNotFound))
}
