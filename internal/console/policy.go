package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/policyedit"
)

// policyLogSize is how many lines of the change log the entry page reads to find its own: the
// log keeps 2000, newest first.
const policyLogSize = 2000

// policyActor is the signed-in organizer as the policy service's change log names them.
func policyActor(rq *request) policyedit.Actor {
	a := rq.Actor()
	return policyedit.Actor{ID: a.ID, Name: a.Name, Role: rq.Session.Role, Via: a.Via}
}

// policyListData is the list page: every entry, or the stale or edited ones.
type policyListData struct {
	Entries   []policyedit.Entry
	Show      string // "all", "stale" or "edited"
	StaleDays int
	// Stale and Edited count the entries flagged, whatever is shown.
	Stale, Edited int
}

func (s *server) handlePolicyList(w http.ResponseWriter, r *http.Request, rq *request) error {
	all, err := s.cfg.Policy.Entries(r.Context())
	if err != nil {
		return err
	}
	d := policyListData{Show: r.URL.Query().Get("show"), StaleDays: s.cfg.StaleDays}
	if d.Show != "stale" && d.Show != "edited" {
		d.Show = "all"
	}
	for _, e := range all {
		if e.Stale {
			d.Stale++
		}
		if e.Edited {
			d.Edited++
		}
		if d.Show == "all" || (d.Show == "stale" && e.Stale) || (d.Show == "edited" && e.Edited) {
			d.Entries = append(d.Entries, e)
		}
	}
	s.render(w, r, rq, http.StatusOK, "policy", d)
	return nil
}

// policyEntryData is the entry page: the entry in force, the edit form, its change log.
type policyEntryData struct {
	Entry policyedit.Entry
	// CountyName is the county's name for a city or place.
	CountyName string
	// Form holds the form's values: the entry's, or what was posted and refused.
	Form policyedit.Change
	// Refusals are why the posted correction was not saved, in the page's language.
	Refusals    []string
	Changes     []policyChangeLine
	StaleDays   int
	MaxSegments int
}

// policyChangeLine is one line of the entry's change log.
type policyChangeLine struct {
	policyedit.ChangeRecord
	Who    string
	Fields []policyFieldChange
}

// policyFieldChange is one field's old and new value; a yes-or-no field's values are said in
// words (the message ids OldID and NewID).
type policyFieldChange struct {
	policyedit.FieldChange
	OldID, NewID string
}

// boolWord is the message id that says a yes-or-no value, or "" for any other value.
func boolWord(v string) string {
	switch v {
	case "true":
		return "policy_value_yes"
	case "false":
		return "policy_value_no"
	}
	return ""
}

func (s *server) handlePolicyEntry(w http.ResponseWriter, r *http.Request, rq *request) error {
	e, err := s.cfg.Policy.Entry(r.Context(), r.PathValue("id"))
	if errors.Is(err, policyedit.ErrNotFound) {
		return s.handleNotFound(w, r, rq)
	}
	if err != nil {
		return err
	}
	return s.renderPolicyEntry(w, r, rq, http.StatusOK, e, policyedit.ChangeOf(e), nil)
}

func (s *server) renderPolicyEntry(w http.ResponseWriter, r *http.Request, rq *request, code int, e policyedit.Entry, form policyedit.Change, refusals []string) error {
	d := policyEntryData{Entry: e, Form: form, Refusals: refusals, StaleDays: s.cfg.StaleDays, MaxSegments: actions.MaxPolicySegments}
	if e.County != "" {
		if c, err := s.cfg.Policy.Entry(r.Context(), e.County); err == nil {
			d.CountyName = c.Name
		}
	}
	log, err := s.cfg.Policy.Changes(r.Context(), policyLogSize)
	if err != nil {
		return err
	}
	for _, c := range log {
		if c.Place != e.ID {
			continue
		}
		who := c.ActorName
		if who == "" {
			who = c.Actor
		}
		line := policyChangeLine{ChangeRecord: c, Who: who}
		for _, f := range c.Fields {
			line.Fields = append(line.Fields, policyFieldChange{FieldChange: f, OldID: boolWord(f.Old), NewID: boolWord(f.New)})
		}
		d.Changes = append(d.Changes, line)
	}
	s.render(w, r, rq, code, "policy_entry", d)
	return nil
}

// changeFromForm reads the edit form. Line breaks a textarea posts are kept, for the service
// to refuse with a reason the organizer can act on.
func changeFromForm(r *http.Request) policyedit.Change {
	on := func(name string) bool { return r.PostFormValue(name) == "1" }
	trim := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	return policyedit.Change{
		DHSList: on("dhs_list"), DOJList: on("doj_list"),
		PolicyEN: trim("policy_en"), PolicyES: trim("policy_es"),
		PolicyDate: trim("policy_date"), PolicyDateApprox: on("policy_date_approx"),
		Source: trim("source"), SourceURL: trim("source_url"), Verified: on("verified"),
	}
}

// handlePolicyEdit saves a correction; members get it at once. A refused one shows the form
// again, as posted, with why in the organizer's language.
func (s *server) handlePolicyEdit(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	form := changeFromForm(r)
	e, err := s.cfg.Policy.Edit(r.Context(), policyActor(rq), id, form)
	var inv *policyedit.InvalidError
	switch {
	case errors.Is(err, policyedit.ErrNotFound):
		return s.handleNotFound(w, r, rq)
	case errors.As(err, &inv):
		cur, err := s.cfg.Policy.Entry(r.Context(), id)
		if err != nil {
			return err
		}
		return s.renderPolicyEntry(w, r, rq, http.StatusUnprocessableEntity, cur, form, s.refusals(r, rq, inv))
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/console/policy/"+e.ID+"?note=policy_saved", http.StatusSeeOther)
	return nil
}

// handlePolicyChecked records that the entry was checked against its source today and is
// still right.
func (s *server) handlePolicyChecked(w http.ResponseWriter, r *http.Request, rq *request) error {
	e, err := s.cfg.Policy.MarkChecked(r.Context(), policyActor(rq), r.PathValue("id"))
	if errors.Is(err, policyedit.ErrNotFound) {
		return s.handleNotFound(w, r, rq)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/policy/"+e.ID+"?note=policy_checked", http.StatusSeeOther)
	return nil
}

// refusals says each problem of a refused correction in the page's language: a message per
// reason (policy_refused_<reason>), with the language, place, characters or segments it names.
func (s *server) refusals(r *http.Request, rq *request, inv *policyedit.InvalidError) []string {
	out := make([]string, 0, len(inv.Problems))
	for _, p := range inv.Problems {
		data := map[string]any{"Msg": p.Msg, "Chars": p.Chars, "Segments": p.Segments, "Max": actions.MaxPolicySegments}
		if p.Lang != "" {
			data["Lang"], _ = s.msgs.T(rq.Lang, "lang_word_"+p.Lang, nil)
		}
		if p.Field != "" {
			data["Field"], _ = s.msgs.T(rq.Lang, "policy_field_"+p.Field, nil)
		}
		data["Place"] = p.Place
		if pl, err := s.cfg.Policy.Entry(r.Context(), p.Place); err == nil {
			data["Place"] = pl.Name
		}
		id := "policy_refused_" + string(p.Reason)
		msg, err := s.msgs.T(rq.Lang, id, data)
		if err != nil {
			// A reason the messages lack yet: the general sentence, and the cause in the log.
			s.cfg.Log.Error("a policy refusal without its message", "reason", p.Reason, "err", err)
			msg, _ = s.msgs.T(rq.Lang, "policy_refused_other", data)
		}
		out = append(out, msg)
	}
	return out
}

// handlePolicyExport downloads places.toml with the corrections in force written into it,
// read back by the places loader before it is sent, for review and a commit.
func (s *server) handlePolicyExport(w http.ResponseWriter, r *http.Request, rq *request) error {
	out, err := s.cfg.Policy.ExportTOML(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/toml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="places.toml"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.Write(out)
	return nil
}
