package console

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/staff"
)

const (
	// sessionCookie holds the session id; langCookie the language chosen in the header.
	sessionCookie = "hotline_console"
	langCookie    = "hotline_console_lang"
)

// secureHeaders sets the headers every console response carries: no resource from another
// origin, no framing, no sniffing, no referrer, nothing cached (pages hold staff data).
// maxBody is the largest request body the console reads: its biggest form (an alert's two
// texts of at most 1,600 characters) is a few KiB.
const maxBody = 64 << 10

func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		// No console form comes near this; a larger body is refused before it is read.
		if r.ContentLength > maxBody {
			http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next.ServeHTTP(w, r)
	})
}

// request is what the middleware learned of a request: its language and session.
type request struct {
	Lang string
	// Session is nil when nobody is signed in.
	Session *staff.Session
}

// Actor is who is signed in, as the services' rules and the audit log name them.
func (rq *request) Actor() audit.Actor {
	p := rq.Session.Person
	return audit.Actor{ID: p.Actor, Name: p.Name, Via: audit.ViaConsole}
}

// newRequest picks the language: the header's switch (a cookie), else the person's own (their
// roster entry's, the language of their texts), else the browser's.
func (s *server) newRequest(r *http.Request, sess *staff.Session) *request {
	lang := ""
	switch c, err := r.Cookie(langCookie); {
	case err == nil && s.msgs.Supports(c.Value):
		lang = c.Value // the header's switch
	case sess != nil && s.msgs.Supports(sess.Lang):
		lang = sess.Lang // the language on their roster entry, as their texts come in
	default:
		lang = s.msgs.Match(r.Header.Get("Accept-Language"))
	}
	return &request{Lang: lang, Session: sess}
}

// handler is a console handler: it may return an error, which fail shows and logs.
type handler func(w http.ResponseWriter, r *http.Request, rq *request) error

// Who may see a page.
var (
	organizers = []string{staff.RoleOrganizer, staff.RoleAdmin}
	// admins is the holder of ADMIN_TOKEN alone: who the organizers are is theirs to decide,
	// as in the admin API. An organizer who could add organizers could add a second phone of
	// their own and approve their own alerts.
	admins   = []string{staff.RoleAdmin}
	everyone = []string{staff.RoleOrganizer, staff.RoleAdmin, staff.RoleVolunteer}
)

// public serves a page that needs no session (sign-in, language).
func (s *server) public(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := s.newRequest(r, nil)
		if err := h(w, r, rq); err != nil {
			s.fail(w, r, rq, err)
		}
	})
}

// signedIn serves a page to a session whose role is in roles: without a session it sends the
// browser to sign in; with another role it answers 403; a POST must carry the session's CSRF
// token (the cross-origin check has run before, for every request).
func (s *server) signedIn(roles []string, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookie := ""
		if c, err := r.Cookie(sessionCookie); err == nil {
			cookie = c.Value
		}
		sess, err := s.cfg.Sessions.Lookup(r.Context(), cookie)
		if errors.Is(err, staff.ErrNoSession) {
			http.Redirect(w, r, "/console/login", http.StatusSeeOther)
			return
		}
		if err != nil {
			s.fail(w, r, s.newRequest(r, nil), err)
			return
		}
		rq := s.newRequest(r, &sess)
		if !slices.Contains(roles, sess.Role) {
			s.forbidden(w, r, rq)
			return
		}
		if r.Method == http.MethodPost && subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.CSRF)) != 1 {
			s.forbidden(w, r, rq)
			return
		}
		if err := h(w, r, rq); err != nil {
			s.fail(w, r, rq, err)
		}
	})
}

// clientAddr is the address the sign-in limits count by: the client's, as the proxy in
// front reports it in ClientIPHeader (Fly's Fly-Client-IP) when set, else the connection's.
// Behind a proxy the connection's address is the proxy's, shared by every user, so one
// stranger could use up everyone's sign-in attempts. An IPv6 address counts by its /64, the
// block one subscriber is usually given.
func (s *server) clientAddr(r *http.Request) string {
	addr := ""
	if s.cfg.ClientIPHeader != "" {
		addr = strings.TrimSpace(r.Header.Get(s.cfg.ClientIPHeader))
	}
	if addr == "" {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		addr = host
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	if ip.Is6() && !ip.Is4In6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.Unmap().String()
}

// nav is the header's links for role.
func nav(role, current string) []navItem {
	var items []navItem
	add := func(href, label string) {
		items = append(items, navItem{Href: href, Label: label, Current: href == current})
	}
	if role != staff.RoleVolunteer {
		add("/console/", "nav_overview")
		add("/console/broadcasts", "nav_broadcasts")
		add("/console/roster", "nav_roster")
		add("/console/audit", "nav_audit")
		add("/console/simulator", "nav_simulator")
		add("/console/policy", "nav_policy")
	}
	add("/console/cases", "nav_cases")
	add("/console/reports", "nav_reports")
	return items
}
