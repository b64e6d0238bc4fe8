package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/segment"
)

// serveSegmentJS serves internal/segment's own counter, so that the page counts with the
// very file the segment tests compare with the Go counter (no copy to drift).
func serveSegmentJS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Write(segment.CounterJS)
}

// bcRow is a broadcast as the list shows it.
type bcRow struct {
	ID, State, Areas, CreatedBy string
	Created                     string
	Recipients                  int64
	Report                      int64
}

func (s *server) handleBroadcasts(w http.ResponseWriter, r *http.Request, rq *request) error {
	bcs, err := s.cfg.Broadcasts.List(r.Context())
	if err != nil {
		return err
	}
	names, err := s.staffNames(r.Context())
	if err != nil {
		return err
	}
	rows := make([]bcRow, len(bcs))
	l := s.loc(rq.Lang)
	for i, b := range bcs {
		var n int64
		for _, c := range b.Recipients {
			n += c
		}
		rows[i] = bcRow{ID: b.ID, State: bcState(b), Areas: s.areaNames(b.Areas, rq), CreatedBy: names(b.CreatedBy, rq),
			Created: when(l, b.CreatedAt), Recipients: n, Report: b.Report}
	}
	s.render(w, r, rq, http.StatusOK, "broadcasts", rows)
	return nil
}

// areaNames is a broadcast's areas by name in the page's language ("everyone" for none).
func (s *server) areaNames(ids []string, rq *request) string {
	if len(ids) == 0 {
		out, _ := s.msgs.T(rq.Lang, "bc_everyone", nil)
		return out
	}
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = s.cfg.Broadcasts.AreaLabel(id, rq.Lang)
	}
	return strings.Join(names, ", ")
}

// staffNames returns a function naming the person a broadcast records (an organizer's bare
// id, "volunteer:<id>", "admin"), from the roster: names only, never a phone.
func (s *server) staffNames(ctx context.Context) (func(ref string, rq *request) string, error) {
	byRef := map[string]string{}
	orgs, err := s.cfg.Directory.Organizers(ctx)
	if err != nil {
		return nil, err
	}
	for _, o := range orgs {
		byRef[o.ID] = o.Name
	}
	vols, err := s.cfg.Directory.Volunteers(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range vols {
		byRef["volunteer:"+v.ID] = v.Name
	}
	return func(ref string, rq *request) string {
		switch {
		case ref == "":
			return ""
		case ref == "admin":
			return "admin"
		case byRef[ref] != "":
			return byRef[ref]
		}
		out, _ := s.msgs.T(rq.Lang, "bc_someone", nil)
		return out
	}, nil
}

// bcText is one language's text of a broadcast with what it costs.
type bcText struct {
	Lang, Text, Encoding string
	Segments             int
	Recipients           int64
}

// bcPage is one broadcast's page: its state, who, texts, reach and cost, buttons, progress.
type bcPage struct {
	ID, State                          string
	CreatedBy, RequestedBy, ApprovedBy string
	Created                            string
	Areas                              string
	Report                             int64
	Texts                              []bcText
	Recipients, SegmentsTotal          int64
	Cost                               float64
	DurationMinutes                    int
	Buttons                            bcButtons
	Approvals                          bool
	Progress                           bcProgress
	ShowProgress, Polling              bool
}

func (s *server) handleBroadcast(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := s.cfg.Broadcasts.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, hotline.ErrNotFound) {
		return s.handleNotFound(w, r, rq)
	}
	if err != nil {
		return err
	}
	p, err := s.cfg.Broadcasts.Preview(r.Context(), b)
	if err != nil {
		return err
	}
	names, err := s.staffNames(r.Context())
	if err != nil {
		return err
	}
	page := bcPage{ID: b.ID, State: bcState(b), CreatedBy: names(b.CreatedBy, rq), RequestedBy: names(b.RequestedBy, rq),
		ApprovedBy: names(b.ApprovedBy, rq), Created: when(s.loc(rq.Lang), b.CreatedAt),
		Areas: s.areaNames(b.Areas, rq), Report: b.Report, SegmentsTotal: p.SegmentsTotal, Cost: p.EstimatedCostUSD,
		DurationMinutes: int((p.EstimatedDurationS + 59) / 60), Approvals: s.cfg.Broadcasts.Approvals(),
		Buttons: buttons(b, s.cfg.Broadcasts.Approvals(), rq.Actor().Ref()), Progress: progressOf(b),
		ShowProgress: b.Status == hotline.Sending || b.Status == hotline.Done || (b.Status == hotline.Canceled && !b.SentAt.IsZero()),
		Polling:      b.Status == hotline.Sending}
	for _, lang := range s.cfg.Languages {
		page.Recipients += p.Recipients[lang]
		if b.Text[lang] == "" && p.Recipients[lang] == 0 {
			continue
		}
		page.Texts = append(page.Texts, bcText{Lang: lang, Text: b.Text[lang], Encoding: p.Encoding[lang],
			Segments: p.Segments[lang], Recipients: p.Recipients[lang]})
	}
	s.render(w, r, rq, http.StatusOK, "broadcasts_show", page)
	return nil
}

// handleBroadcastProgress answers the page's script with counts only: no member, no text.
func (s *server) handleBroadcastProgress(w http.ResponseWriter, r *http.Request, rq *request) error {
	b, err := s.cfg.Broadcasts.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, hotline.ErrNotFound) {
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		return nil
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(progressOf(b))
}

// handleBroadcastAction sends, asks approval for, approves, cancels or discards a broadcast
// as the signed-in person; the service records each in the audit log and says no when the
// rules do (the creator approving, a state that has moved on).
func (s *server) handleBroadcastAction(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	ctx, by := r.Context(), rq.Actor()
	var note string
	var err error
	switch r.PathValue("action") {
	case "send":
		var b hotline.Broadcast
		if b, err = s.cfg.Broadcasts.Send(ctx, id, by); err == nil {
			note = "bc_sent"
			if b.Status == hotline.AwaitingApproval {
				note = "bc_asked"
			}
		}
	case "approve":
		var b hotline.Broadcast
		if b, err = s.cfg.Broadcasts.Approve(ctx, id, by); err == nil {
			note = "bc_approved"
			if b.Status == hotline.Sending || b.Status == hotline.Done {
				note = "bc_approved_sending"
			}
		}
	case "cancel":
		err, note = s.cfg.Broadcasts.Cancel(ctx, id, by), "bc_cancelled"
	case "discard":
		err, note = s.cfg.Broadcasts.Discard(ctx, id, by), "bc_discarded"
	default:
		return s.handleNotFound(w, r, rq)
	}
	switch {
	case errors.Is(err, hotline.ErrNotFound):
		return s.handleNotFound(w, r, rq)
	case errors.Is(err, hotline.ErrSameActor):
		note = "bc_same_actor"
	case errors.Is(err, hotline.ErrWrongState):
		note = "bc_wrong_state"
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/console/broadcasts/"+url.PathEscape(id)+"?note="+note, http.StatusSeeOther)
	return nil
}
