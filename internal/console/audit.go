package console

import "net/http"

// auditPageSize is how many entries the audit page shows: the newest.
const auditPageSize = 200

func (s *server) handleAudit(w http.ResponseWriter, r *http.Request, rq *request) error {
	entries, err := s.cfg.Audit.Recent(r.Context(), auditPageSize)
	if err != nil {
		return err
	}
	s.render(w, r, rq, http.StatusOK, "audit", entries)
	return nil
}
