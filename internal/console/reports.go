package console

import (
	"net/http"
	"strings"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/escalation"
	"github.com/communityhotline/hotline/internal/hotline"
)

// The reports pages: a member's report (what, where, when, area) is claimed, checked and
// verified or marked false with a note, by the same rules as VERIFY n and FALSE n by SMS. A
// verified report with an area becomes an alert draft, which its page links to; organizers
// review and send drafts on the broadcasts page.

func (s *server) handleReports(w http.ResponseWriter, r *http.Request, rq *request) error {
	d, err := s.rows(r, rq, "report")
	if err != nil {
		return err
	}
	s.render(w, r, rq, http.StatusOK, "reports", d)
	return nil
}

func (s *server) handleReport(w http.ResponseWriter, r *http.Request, rq *request) error {
	d, ok, err := s.loadCase(w, r, rq, "report")
	if !ok || err != nil {
		return err
	}
	s.render(w, r, rq, http.StatusOK, "reports_report", d)
	return nil
}

// maxNote is how long a verdict's note may be, in bytes: a few lines for the audit log.
const maxNote = 500

// handleVerdict verifies a report or marks it false, with the volunteer's note (kept in the
// report and the audit log, never sent to anyone).
func (s *server) handleVerdict(w http.ResponseWriter, r *http.Request, rq *request) error {
	verified := r.PostFormValue("verdict") == "verified"
	if !verified && r.PostFormValue("verdict") != "false" {
		n, _ := caseNumber(r)
		http.Redirect(w, r, pageOf("report", n)+"?note=report_choose", http.StatusSeeOther)
		return nil
	}
	note := strings.Join(strings.Fields(r.PostFormValue("note")), " ")
	if len(note) > maxNote {
		note = strings.ToValidUTF8(note[:maxNote], "")
	}
	action := "false"
	if verified {
		action = "verified"
	}
	return s.caseAction("report", action, func(r *http.Request, v hotline.VolunteerRecord, n int64) (escalation.Result, error) {
		return s.cfg.Cases.Verdict(r.Context(), v, n, verified, note, audit.ViaConsole)
	})(w, r, rq)
}
