package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/communityhotline/hotline/internal/staff"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the parsed templates, one set per page: layout.html with the page's file, which
// defines "title" and "content".
type pages struct{ byName map[string]*template.Template }

// loc renders messages in one language for a template ({{t .L "id" "Key" value}}).
type loc struct {
	msgs *Messages
	lang string
	// zone is where times are shown: the hotline's, New Mexico's.
	zone *time.Location
	// months are the month names in lang, read once for all the times of a page.
	months []string
}

// when is a time as staff read it, in the hotline's zone and their language:
// "6 dic 2026 14:05" / "Dec 6 2026 14:05" (console_date in the message files).
func when(l *loc, at time.Time) string {
	if at.IsZero() {
		return ""
	}
	at = at.In(l.zone)
	if l.months == nil {
		l.months = strings.Fields(l.text("months_short"))
	}
	month := at.Format("Jan")
	if len(l.months) == 12 {
		month = l.months[at.Month()-1]
	}
	s, err := l.msgs.T(l.lang, "console_date", map[string]any{"Day": at.Day(), "Month": month, "Year": at.Year(), "Clock": at.Format("15:04")})
	if err != nil {
		return at.Format("2006-01-02 15:04")
	}
	return s
}

// text is message id with no data, "" if missing.
func (l *loc) text(id string) string {
	s, _ := l.msgs.T(l.lang, id, nil)
	return s
}

// t is the templates' message function: id, then pairs of field name and value.
func t(l *loc, id string, kv ...any) (string, error) {
	data := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		data[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return l.msgs.T(l.lang, id, data)
}

func parsePages() (*pages, error) {
	names, err := templateFS.ReadDir("templates")
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{"t": t, "when": when}
	p := &pages{byName: map[string]*template.Template{}}
	for _, e := range names {
		if e.Name() == "layout.html" {
			continue
		}
		tpl, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", e.Name(), err)
		}
		p.byName[strings.TrimSuffix(e.Name(), path.Ext(e.Name()))] = tpl
	}
	return p, nil
}

// navItem is a link in the header, shown by role.
type navItem struct {
	Href, Label string
	Current     bool
}

// view is what every page template gets; Data is the page's own.
type view struct {
	L        *loc
	Lang     string
	Langs    []string
	Program  string
	Session  *staff.Session
	CSRF     string
	Nav      []navItem
	Path     string
	Flash    string
	Data     any
	MainPage bool
}

// render writes page with data, status code. The page is rendered whole before anything is
// written, so a template failure is a clean 500 and not half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, rq *request, code int, page string, data any) {
	tpl, ok := s.pages.byName[page]
	if !ok {
		s.cfg.Log.Error("console page without a template", "page", page)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	v := view{L: s.loc(rq.Lang), Lang: rq.Lang, Langs: s.cfg.Languages, Program: s.cfg.Program,
		Session: rq.Session, Path: r.URL.Path, Data: data, Flash: rq.flash(r)}
	if r.Method != http.MethodGet {
		v.Path = "/console/" // the language switch returns with a GET: not to a POST's URL
	}
	if rq.Session != nil {
		v.CSRF = rq.Session.CSRF
		v.Nav = nav(rq.Session.Role, r.URL.Path)
	}
	var buf bytes.Buffer
	if err := tpl.Execute(&buf, v); err != nil {
		s.cfg.Log.Error("rendering a console page", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// forbidden is the 403 page: a cross-site POST, a missing CSRF token, or a page the role
// may not see.
func (s *server) forbidden(w http.ResponseWriter, r *http.Request, rq *request) {
	s.render(w, r, rq, http.StatusForbidden, "forbidden", nil)
}

// fail logs err's cause and shows the error page; the page says nothing of the cause.
func (s *server) fail(w http.ResponseWriter, r *http.Request, rq *request, err error) {
	s.cfg.Log.Error("console request failed", "path", r.URL.Path, "err", err)
	s.render(w, r, rq, http.StatusInternalServerError, "error", nil)
}

// flashes are the notes a redirect after a POST may show, by the query's ok/err value: only
// these message ids, so a link cannot put words of its own on a page.
var flashes = map[string]bool{
	"roster_added": true, "roster_removed": true, "roster_oncall_on": true, "roster_oncall_off": true,
	"roster_invalid": true, "roster_not_found": true, "roster_wa_unlinked": true, "signed_out": true,
	// cases and reports
	"case_done_claim": true, "case_done_reply": true, "case_done_close": true, "case_done_verified": true, "case_done_false": true,
	"report_no_area": true, "case_taken": true, "case_no_case": true, "case_claim_first": true, "case_not_conversation": true,
	"case_member_left": true, "case_no_texts": true, "case_empty_reply": true, "report_choose": true,
	// broadcasts
	"bc_created": true, "bc_sent": true, "bc_asked": true, "bc_approved": true, "bc_approved_sending": true,
	"bc_cancelled": true, "bc_discarded": true, "bc_same_actor": true, "bc_wrong_state": true,
	"policy_saved": true, "policy_checked": true,
}

func (rq *request) flash(r *http.Request) string {
	if f := r.URL.Query().Get("note"); flashes[f] {
		return f
	}
	return ""
}

// loc is the template's messages and clock for lang.
func (s *server) loc(lang string) *loc {
	zone := s.cfg.Location
	if zone == nil {
		zone = time.UTC
	}
	return &loc{msgs: s.msgs, lang: lang, zone: zone}
}
