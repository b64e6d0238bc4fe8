package loadgen

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/twilio"
)

// CeilingReply is what the ceiling answers every message with: the hotline's greeting and
// menu, so that its TwiML is as long as a typical reply of the real hotline.
const CeilingReply = "Hola, le responde Community Hotline. Información gratuita y confidencial.\n" +
	"Envíe un número:\n1 Sus derechos\n2 Política local\n3 Alertas\n4 Hablar con alguien\n5 Reportar actividad de ICE"

// CeilingTTL is how long the ceiling keeps each member's key.
const CeilingTTL = time.Hour

// maxCeilingBody is the real hotline's limit on a webhook's body.
const maxCeilingBody = 64 << 10

// CeilingHandler is the least a signed webhook with Redis state can do, to measure the
// hotline against on the same machine: POST /twilio/sms parses the form, checks the
// signature against publicURL + the request's path and query with token (403 when it does
// not match), sends one pipelined GET and SET of keyPrefix + ":ceiling:" + From (the
// MessageSid, kept CeilingTTL), and answers CeilingReply as TwiML. GET /healthz and
// GET /readyz (a Redis PING) answer as the hotline's do, so the same scripts can wait for
// either server.
//
// It is a measuring stick, not a hotline: it keeps From in its keys in clear.
func CeilingHandler(rdb redis.UniversalClient, keyPrefix, token, publicURL string) http.Handler {
	v := twilio.NewVerifier(token)
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+Path, func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxCeilingBody)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "malformed form body", http.StatusBadRequest)
			return
		}
		if !v.Valid(publicURL+r.URL.RequestURI(), r.PostForm, r.Header.Get(twilio.SignatureHeader)) {
			http.Error(w, "invalid signature", http.StatusForbidden)
			return
		}
		from, sid := r.PostForm.Get("From"), r.PostForm.Get("MessageSid")
		if from == "" || sid == "" {
			http.Error(w, "bad webhook: From and MessageSid are required", http.StatusBadRequest)
			return
		}
		ctx := r.Context()
		key := keyPrefix + ":ceiling:" + from
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Get(ctx, key)
			p.Set(ctx, key, sid, CeilingTTL)
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			http.Error(w, "store unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", twilio.ContentType)
		twilio.WriteTwiML(w, []string{CeilingReply})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := rdb.Ping(ctx).Err(); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux
}
