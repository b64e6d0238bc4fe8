package console

import (
	"errors"
	"net/http"
	"path"
	"strings"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/staff"
)

// loginData is the sign-in page: the phone step, or the code step for Phone.
type loginData struct {
	Step  string // "phone" or "code"
	Phone string
	Error string // a message id
}

func (s *server) handleLoginPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	s.render(w, r, rq, http.StatusOK, "login", loginData{Step: "phone"})
	return nil
}

// handleRequestCode texts a code when the number is on the roster, and shows the code step
// either way: the page is the same for a number on no roster.
func (s *server) handleRequestCode(w http.ResponseWriter, r *http.Request, rq *request) error {
	phone := normalizePhone(r.PostFormValue("phone"))
	err := s.cfg.SignIn.RequestCode(r.Context(), phone, s.clientAddr(r))
	if errors.Is(err, staff.ErrRateLimited) {
		s.render(w, r, rq, http.StatusTooManyRequests, "login", loginData{Step: "phone", Error: "login_too_many"})
		return nil
	}
	if err != nil {
		return err
	}
	s.render(w, r, rq, http.StatusOK, "login", loginData{Step: "code", Phone: phone})
	return nil
}

func (s *server) handleVerifyCode(w http.ResponseWriter, r *http.Request, rq *request) error {
	phone := normalizePhone(r.PostFormValue("phone"))
	code := strings.TrimSpace(r.PostFormValue("code"))
	p, err := s.cfg.SignIn.Verify(r.Context(), phone, code, s.clientAddr(r))
	switch {
	case errors.Is(err, staff.ErrRateLimited):
		s.render(w, r, rq, http.StatusTooManyRequests, "login", loginData{Step: "code", Phone: phone, Error: "login_too_many"})
		return nil
	case errors.Is(err, staff.ErrBadCode):
		s.render(w, r, rq, http.StatusUnauthorized, "login", loginData{Step: "code", Phone: phone, Error: "login_bad_code"})
		return nil
	case err != nil:
		return err
	}
	return s.startSession(w, r, p)
}

func (s *server) handleAdminToken(w http.ResponseWriter, r *http.Request, rq *request) error {
	p, err := s.cfg.SignIn.Admin(r.Context(), r.PostFormValue("token"), s.clientAddr(r))
	switch {
	case errors.Is(err, staff.ErrRateLimited):
		s.render(w, r, rq, http.StatusTooManyRequests, "login", loginData{Step: "phone", Error: "login_too_many"})
		return nil
	case errors.Is(err, staff.ErrBadCode):
		s.render(w, r, rq, http.StatusUnauthorized, "login", loginData{Step: "phone", Error: "login_bad_token"})
		return nil
	case err != nil:
		return err
	}
	return s.startSession(w, r, p)
}

func (s *server) startSession(w http.ResponseWriter, r *http.Request, p staff.Person) error {
	// A session this browser had ends: signing in again (as someone else, say) never leaves
	// two alive.
	if old, err := r.Cookie(sessionCookie); err == nil {
		if err := s.cfg.Sessions.End(r.Context(), old.Value); err != nil {
			return err
		}
	}
	cookie, _, err := s.cfg.Sessions.Start(r.Context(), p)
	if err != nil {
		return err
	}
	// A browser-session cookie: the server ends the session after SessionIdle without use
	// (or SessionMax), which a fixed cookie lifetime could only approximate.
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: cookie, Path: "/console", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.Secure})
	s.record(r, p, "signin", "", "")
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
	return nil
}

func (s *server) handleSignOut(w http.ResponseWriter, r *http.Request, rq *request) error {
	c, _ := r.Cookie(sessionCookie)
	if err := s.cfg.Sessions.End(r.Context(), c.Value); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/console", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.Secure, MaxAge: -1})
	s.record(r, rq.Session.Person, "signout", "", "")
	http.Redirect(w, r, "/console/login?note=signed_out", http.StatusSeeOther)
	return nil
}

// record writes an audit entry for an action taken in the console.
func (s *server) record(r *http.Request, p staff.Person, action, object, detail string) {
	s.cfg.Audit.Record(r.Context(), audit.Entry{At: s.cfg.Now().UTC(), Actor: p.Actor, ActorName: p.Name,
		Action: action, Object: object, Via: "console", Detail: detail})
}

// handleLanguage is the header's language switch: a cookie, then back to the page it was on.
func (s *server) handleLanguage(w http.ResponseWriter, r *http.Request, rq *request) error {
	if lang := r.PostFormValue("lang"); s.msgs.Supports(lang) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/console", HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Secure: s.cfg.Secure, MaxAge: 365 * 24 * 3600})
	}
	back := r.PostFormValue("back")
	if strings.ContainsAny(back, "\\\r\n\t") {
		back = ""
	}
	// Only a console path: never another site, nor "//host" which a browser reads as one,
	// nor "/console/../x", cleaned.
	if back = path.Clean("/" + back); !strings.HasPrefix(back, "/console/") {
		back = "/console/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}

func (s *server) handleNotFound(w http.ResponseWriter, r *http.Request, rq *request) error {
	s.render(w, r, rq, http.StatusNotFound, "notfound", nil)
	return nil
}
