package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/staff"
)

// maxAdminBody bounds an admin request; a broadcast is at most a few KiB.
const maxAdminBody = 1 << 20

type actorKey struct{}

// actor is the organizer an authenticated admin request acts as.
func actor(ctx context.Context) string { s, _ := ctx.Value(actorKey{}).(string); return s }

// adminHandler is an admin endpoint: it may return an error, which errorResponse maps.
type adminHandler func(w http.ResponseWriter, r *http.Request) error

// admin wraps an endpoint with what every admin call needs: the API exists only when an
// ADMIN_TOKEN is configured, security headers, a body limit, and a bearer token (the root
// token alone when rootOnly).
func (d Deps) admin(rootOnly bool, h adminHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d.Broadcasts == nil || d.Staff == nil {
			http.NotFound(w, r)
			return
		}
		hdr := w.Header()
		hdr.Set("Cache-Control", "no-store")
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		hdr.Set("Referrer-Policy", "no-referrer")
		hdr.Set("Strict-Transport-Security", "max-age=63072000")
		r.Body = http.MaxBytesReader(w, r.Body, maxAdminBody)
		token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		who, err := d.Staff.Authenticate(r.Context(), strings.TrimSpace(token))
		if err == nil && rootOnly && who != staff.RootActor {
			err = staff.ErrUnauthorized
		}
		if err == nil {
			err = h(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, who)))
		}
		if err != nil {
			d.errorResponse(w, r, err)
		}
	})
}

// errorResponse is the one place an error becomes an HTTP status and a JSON message; the
// cause goes to the log, the client gets what it can act on.
func (d Deps) errorResponse(w http.ResponseWriter, r *http.Request, err error) {
	var invalid *broadcast.InvalidError
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	status, body := http.StatusInternalServerError, map[string]any{"error": "internal error"}
	switch {
	case errors.As(err, &invalid):
		status, body = http.StatusBadRequest, map[string]any{"error": invalid.Msg}
		if len(invalid.Suggestions) > 0 {
			body["suggestions"] = invalid.Suggestions
		}
	case errors.As(err, &tooBig):
		status, body = http.StatusRequestEntityTooLarge, map[string]any{"error": "request body over 1 MiB"}
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, errBadJSON):
		status, body = http.StatusBadRequest, map[string]any{"error": "malformed JSON: " + err.Error()}
	case errors.Is(err, staff.ErrUnauthorized):
		status, body = http.StatusUnauthorized, map[string]any{"error": "missing or wrong bearer token"}
	case errors.Is(err, hotline.ErrNotFound):
		status, body = http.StatusNotFound, map[string]any{"error": "not found"}
	case errors.Is(err, hotline.ErrSameActor), errors.Is(err, hotline.ErrWrongState):
		status, body = http.StatusConflict, map[string]any{"error": err.Error()}
	default:
		d.Log.Error("admin request failed", "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

var errBadJSON = errors.New("unexpected content")

// decode reads a JSON body strictly: an unknown field is a typo the organizer should hear of.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return errors.Join(errBadJSON, err)
	}
	if dec.More() {
		return errBadJSON
	}
	return nil
}

// broadcastView is a broadcast as the API shows it.
type broadcastView struct {
	ID         string                  `json:"id"`
	Status     hotline.BroadcastStatus `json:"status"`
	Text       map[string]string       `json:"text"`
	Areas      []string                `json:"areas"`
	Urgent     bool                    `json:"urgent"`
	CreatedBy  string                  `json:"created_by"`
	ApprovedBy string                  `json:"approved_by,omitempty"`
	CreatedAt  time.Time               `json:"created_at"`
	SentAt     *time.Time              `json:"sent_at,omitempty"`
	DoneAt     *time.Time              `json:"done_at,omitempty"`
	hotline.BroadcastCounts
	broadcast.Preview
}

func view(b hotline.Broadcast, p broadcast.Preview) broadcastView {
	v := broadcastView{ID: b.ID, Status: b.Status, Text: b.Text, Areas: b.Areas, Urgent: b.Urgent,
		CreatedBy: b.CreatedBy, ApprovedBy: b.ApprovedBy, CreatedAt: b.CreatedAt, BroadcastCounts: b.Counts, Preview: p}
	if v.Areas == nil {
		v.Areas = []string{}
	}
	if !b.SentAt.IsZero() {
		v.SentAt = &b.SentAt
	}
	if !b.DoneAt.IsZero() {
		v.DoneAt = &b.DoneAt
	}
	return v
}

func handleCreateBroadcast(d Deps) adminHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var draft broadcast.Draft
		if err := decode(r, &draft); err != nil {
			return err
		}
		b, p, err := d.Broadcasts.Create(r.Context(), staffActor(r, d), draft)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, view(b, p))
		return nil
	}
}

func handleGetBroadcast(d Deps) adminHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		b, err := d.Broadcasts.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			return err
		}
		p, err := d.Broadcasts.Preview(r.Context(), b)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, view(b, p))
		return nil
	}
}

func handleListBroadcasts(d Deps) adminHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		list, err := d.Broadcasts.List(r.Context())
		if err != nil {
			return err
		}
		views := make([]broadcastView, len(list))
		for i, b := range list {
			views[i] = view(b, broadcast.Preview{Recipients: b.Recipients})
		}
		writeJSON(w, http.StatusOK, map[string]any{"broadcasts": views})
		return nil
	}
}

// ViaHeader is the header `hotline broadcast` sets on its requests, so that the audit log
// tells the CLI from other API clients. It names a channel only: it grants nothing.
const ViaHeader = "X-Hotline-Via"

// staffActor is who an authenticated admin request acts as, for the rules and the audit
// log: the administrator, or an organizer by the name the roster has.
func staffActor(r *http.Request, d Deps) audit.Actor {
	via := audit.ViaAPI
	if r.Header.Get(ViaHeader) == audit.ViaCLI {
		via = audit.ViaCLI
	}
	who := actor(r.Context())
	if who == staff.RootActor {
		return audit.Admin(via)
	}
	name := ""
	if o, err := d.Broadcasts.Organizer(r.Context(), who); err == nil {
		name = o.Name
	}
	return audit.Organizer(who, name, via)
}

// handleBroadcastAction serves approve, send and cancel.
func handleBroadcastAction(d Deps, action string) adminHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		ctx, id, by := r.Context(), r.PathValue("id"), staffActor(r, d)
		var err error
		switch action {
		case "approve":
			_, err = d.Broadcasts.Approve(ctx, id, by)
		case "send":
			_, err = d.Broadcasts.Send(ctx, id, by)
		case "cancel":
			err = d.Broadcasts.Cancel(ctx, id, by)
		}
		if err != nil {
			return err
		}
		return handleGetBroadcast(d)(w, r)
	}
}
