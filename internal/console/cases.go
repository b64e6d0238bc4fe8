package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/escalation"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/staff"
)

// volunteers may act on cases: claim, reply, close, judge a report. Organizers read every case
// and report but do none of these: they are not volunteers, cannot claim, and closing a
// conversation a volunteer is holding with a member would cut it off under them; a volunteer
// who is gone is taken off the roster, which hands their cases back to everyone.
var volunteers = []string{staff.RoleVolunteer}

// caseRow is a case in a list, with what the viewer may do with it.
type caseRow struct {
	escalation.CaseSummary
	// Mine: the viewer holds it. Open: the viewer may open it (read its words).
	Mine, Open bool
}

// handleCloseUnclaimed is an organizer closing a request nobody claimed: the decision on a
// stale case, which no timer takes. The member is told no volunteer was free and how to ask
// again; a case someone holds is theirs to close.
func (s *server) handleCloseUnclaimed(w http.ResponseWriter, r *http.Request, rq *request) error {
	n, ok := caseNumber(r)
	if !ok {
		return s.handleNotFound(w, r, rq)
	}
	res, err := s.cfg.Cases.CloseUnclaimed(r.Context(), rq.Actor(), n)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/cases?note="+outcomeNote("close", res), http.StatusSeeOther)
	return nil
}

// AgeMinutes is the case's age in whole minutes, for the page.
func (c caseRow) AgeMinutes() int { return int(c.Age / time.Minute) }

// casesData is the cases or reports list.
type casesData struct {
	Rows      []caseRow
	Volunteer bool
	// Sig names the list as shown; the page's script reloads it when the list changes.
	Sig string
}

// mayRead reports whether a viewer may read case c's words: organizers (and admin) every
// case; a volunteer a case nobody holds yet (a page quotes it to them by SMS too) or their own.
func mayRead(role, volunteerID string, c escalation.CaseSummary) bool {
	if role != staff.RoleVolunteer {
		return true
	}
	if c.Status == hotline.CaseOpen {
		return true
	}
	return volunteerID != "" && c.Volunteer == volunteerID
}

// viewerID is the signed-in volunteer's id ("" for anyone else).
func viewerID(rq *request) string {
	id, _ := strings.CutPrefix(rq.Session.Person.Actor, "volunteer:")
	if id == rq.Session.Person.Actor {
		return ""
	}
	return id
}

// rows lists the cases of kind, with what the viewer may do.
func (s *server) rows(r *http.Request, rq *request, kind string) (casesData, error) {
	all, err := s.cfg.Cases.ListCases(r.Context(), rq.Lang)
	if err != nil {
		return casesData{}, err
	}
	me := viewerID(rq)
	d := casesData{Volunteer: rq.Session.Role == staff.RoleVolunteer}
	var sig []string
	for _, c := range all {
		if c.Kind != kind {
			continue
		}
		d.Rows = append(d.Rows, caseRow{CaseSummary: c, Mine: me != "" && c.Volunteer == me, Open: mayRead(rq.Session.Role, me, c)})
		sig = append(sig, strconv.FormatInt(c.N, 10)+c.Status[:1]+map[bool]string{true: "u"}[c.Urgent])
	}
	d.Sig = strings.Join(sig, ",")
	return d, nil
}

func (s *server) handleCases(w http.ResponseWriter, r *http.Request, rq *request) error {
	d, err := s.rows(r, rq, "person")
	if err != nil {
		return err
	}
	s.render(w, r, rq, http.StatusOK, "cases", d)
	return nil
}

// handleCasesSig answers the list page's script: the list's signature, no case data.
func (s *server) handleCasesSig(kind string) handler {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		d, err := s.rows(r, rq, kind)
		if err != nil {
			return err
		}
		return writeJSON(w, map[string]string{"sig": d.Sig})
	}
}

// caseData is one case's page.
type caseData struct {
	escalation.CaseDetail
	Lines []lineView
	// Mine: the viewer holds it; Claimable: the viewer is a volunteer and nobody holds it.
	Mine, Claimable bool
	// Next is how many lines the page shows, where the script's polling starts.
	Next int
}

// lineView is a transcript line as a page or lines.json shows it: the member as "Member #n".
type lineView struct {
	Who    string `json:"who"`
	Member bool   `json:"member"`
	Text   string `json:"text"`
	Time   string `json:"time"`
}

// caseNumber reads {n}; ok is false for anything but a positive number.
func caseNumber(r *http.Request) (int64, bool) {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	return n, err == nil && n > 0
}

// loadCase finds case n of kind for the viewer: ok false when it has answered (not found,
// not allowed, or the other kind's page).
func (s *server) loadCase(w http.ResponseWriter, r *http.Request, rq *request, kind string) (caseData, bool, error) {
	n, ok := caseNumber(r)
	if !ok {
		return caseData{}, false, s.handleNotFound(w, r, rq)
	}
	d, err := s.cfg.Cases.CaseDetail(r.Context(), n, rq.Lang)
	if errors.Is(err, hotline.ErrNotFound) {
		return caseData{}, false, s.handleNotFound(w, r, rq)
	}
	if err != nil {
		return caseData{}, false, err
	}
	if d.Kind != kind {
		http.Redirect(w, r, pageOf(d.Kind, n), http.StatusSeeOther)
		return caseData{}, false, nil
	}
	me := viewerID(rq)
	if !mayRead(rq.Session.Role, me, d.CaseSummary) {
		s.forbidden(w, r, rq)
		return caseData{}, false, nil
	}
	cd := caseData{CaseDetail: d, Lines: s.lineViews(rq, n, d.Lines), Next: len(d.Lines),
		Mine:      me != "" && d.Volunteer == me && d.Status == hotline.CaseClaimed,
		Claimable: me != "" && d.Status == hotline.CaseOpen}
	return cd, true, nil
}

// pageOf is the page of case or report n.
func pageOf(kind string, n int64) string {
	if kind == "report" {
		return "/console/reports/" + strconv.FormatInt(n, 10)
	}
	return "/console/cases/" + strconv.FormatInt(n, 10)
}

func (s *server) lineViews(rq *request, n int64, lines []escalation.Line) []lineView {
	out := make([]lineView, len(lines))
	clock := s.loc(rq.Lang)
	for i, l := range lines {
		v := lineView{Text: l.Text}
		switch {
		case l.Who == escalation.SpeakerMember:
			v.Member = true
			v.Who, _ = s.msgs.T(rq.Lang, "kind_person", map[string]any{"N": n})
		case l.Name != "":
			v.Who = l.Name
		default:
			v.Who, _ = s.msgs.T(rq.Lang, "case_a_volunteer", nil)
		}
		if !l.At.IsZero() {
			v.Time = when(clock, l.At)
		}
		out[i] = v
	}
	return out
}

func (s *server) handleCase(w http.ResponseWriter, r *http.Request, rq *request) error {
	d, ok, err := s.loadCase(w, r, rq, "person")
	if !ok || err != nil {
		return err
	}
	s.render(w, r, rq, http.StatusOK, "cases_case", d)
	return nil
}

// handleCaseLines answers the case page's script: the lines after the first `after`, and the
// case's status (closed: no lines at all).
func (s *server) handleCaseLines(w http.ResponseWriter, r *http.Request, rq *request) error {
	n, ok := caseNumber(r)
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return writeJSON(w, map[string]string{"error": "not found"})
	}
	d, err := s.cfg.Cases.CaseDetail(r.Context(), n, rq.Lang)
	if errors.Is(err, hotline.ErrNotFound) {
		w.WriteHeader(http.StatusNotFound)
		return writeJSON(w, map[string]string{"error": "not found"})
	}
	if err != nil {
		return err
	}
	if !mayRead(rq.Session.Role, viewerID(rq), d.CaseSummary) {
		w.WriteHeader(http.StatusForbidden)
		return writeJSON(w, map[string]string{"error": "forbidden"})
	}
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	after = min(max(after, 0), len(d.Lines))
	return writeJSON(w, struct {
		Status string     `json:"status"`
		Next   int        `json:"next"`
		Lines  []lineView `json:"lines"`
	}{d.Status, len(d.Lines), s.lineViews(rq, n, d.Lines[after:])})
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	return json.NewEncoder(w).Encode(v)
}

// me is the signed-in volunteer's roster record; ok false when they are no longer on it.
func (s *server) me(r *http.Request, rq *request) (hotline.VolunteerRecord, bool, error) {
	return s.cfg.Volunteers.Volunteer(r.Context(), rq.Session.Person.PhoneID)
}

// caseAction runs act for the signed-in volunteer on case {n} and goes back to the page
// (the case's, or the list when it is no longer theirs to see) with a note for the outcome.
func (s *server) caseAction(kind, action string, act func(r *http.Request, v hotline.VolunteerRecord, n int64) (escalation.Result, error)) handler {
	return func(w http.ResponseWriter, r *http.Request, rq *request) error {
		n, ok := caseNumber(r)
		if !ok {
			return s.handleNotFound(w, r, rq)
		}
		v, found, err := s.me(r, rq)
		if err != nil {
			return err
		}
		if !found {
			s.forbidden(w, r, rq)
			return nil
		}
		res, err := act(r, v, n)
		if err != nil {
			return err
		}
		back := pageOf(kind, n)
		if res.Outcome == escalation.Taken || res.Outcome == escalation.NoCase {
			back = "/console/cases"
			if kind == "report" {
				back = "/console/reports"
			}
		}
		http.Redirect(w, r, back+"?note="+outcomeNote(action, res), http.StatusSeeOther)
		return nil
	}
}

// outcomeNote is the note a page shows for an action's outcome.
func outcomeNote(action string, res escalation.Result) string {
	switch res.Outcome {
	case escalation.Done:
		return "case_done_" + action
	case escalation.NoArea:
		return "report_no_area"
	}
	return "case_" + string(res.Outcome)
}

func (s *server) handleClaim(kind string) handler {
	return s.caseAction(kind, "claim", func(r *http.Request, v hotline.VolunteerRecord, n int64) (escalation.Result, error) {
		return s.cfg.Cases.Claim(r.Context(), v, n, audit.ViaConsole)
	})
}

func (s *server) handleReply(w http.ResponseWriter, r *http.Request, rq *request) error {
	text := strings.TrimSpace(r.PostFormValue("text"))
	if text == "" {
		n, _ := caseNumber(r)
		http.Redirect(w, r, pageOf("person", n)+"?note=case_empty_reply", http.StatusSeeOther)
		return nil
	}
	return s.caseAction("person", "reply", func(r *http.Request, v hotline.VolunteerRecord, n int64) (escalation.Result, error) {
		return s.cfg.Cases.Reply(r.Context(), v, n, text)
	})(w, r, rq)
}

func (s *server) handleClose(w http.ResponseWriter, r *http.Request, rq *request) error {
	return s.caseAction("person", "close", func(r *http.Request, v hotline.VolunteerRecord, n int64) (escalation.Result, error) {
		return s.cfg.Cases.Close(r.Context(), v, n, audit.ViaConsole)
	})(w, r, rq)
}

// AgeMinutes is the case's age in whole minutes, for the page.
func (c caseData) AgeMinutes() int { return int(c.Age / time.Minute) }
