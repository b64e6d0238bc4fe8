package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/twilio"
)

// answerTimeout bounds the work on one message, well inside Twilio's 15 s.
const answerTimeout = 8 * time.Second

// maxWebhookBody is far above any real inbound SMS webhook (a 1,600-character body and
// twenty fields fit in a few KiB) and small enough that no one can make us buffer much.
const maxWebhookBody = 64 << 10

// twilioForm reads a Twilio webhook's form and checks its signature, answering the request
// itself (413, 400, 403) and returning false when it must go no further. Nothing is read from
// or written to Redis before this passes.
func (d Deps) twilioForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxWebhookBody)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return false
		}
		http.Error(w, "malformed form body", http.StatusBadRequest)
		return false
	}
	if d.Verifier != nil {
		// Behind a proxy the request's own scheme and host are not what Twilio signed;
		// the configured public URL is.
		url := d.PublicURL + r.URL.RequestURI()
		if !d.Verifier.Valid(url, r.PostForm, r.Header.Get(twilio.SignatureHeader)) {
			d.Log.Warn("webhook signature rejected", "path", r.URL.Path)
			http.Error(w, "invalid signature", http.StatusForbidden)
			return false
		}
	}
	return true
}

// handleInboundSMS answers Twilio's inbound-message webhook with TwiML. A request that is
// not Twilio's (bad signature) is refused before anything is read from or written to Redis.
func handleInboundSMS(d Deps) http.Handler {
	inbound := d.Metrics.Counter("hotline_inbound_messages_total", "Inbound messages accepted (signature valid).", "", "")
	replies := d.Metrics.Counter("hotline_replies_total", "Reply messages returned in TwiML.", "", "")
	failures := d.Metrics.Counter("hotline_message_failures_total", "Inbound messages the engine could not handle (mostly Redis errors).", "", "")
	silent := d.Metrics.Counter("hotline_unanswered_messages_total", "Inbound messages answered with no reply: from opted-out members, past the per-sender limit or hourly cap, or whose state cannot be read.", "", "")
	latency := d.Metrics.Histogram("hotline_webhook_seconds", "Time to answer an inbound-message webhook.",
		[]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		defer func() { latency.Observe(time.Since(start)) }()
		if !d.twilioForm(w, r) {
			return
		}
		in, err := twilio.ParseInbound(r.PostForm)
		if err != nil {
			// The error names the field, never its value.
			d.Log.Warn("webhook rejected", "err", err)
			http.Error(w, "bad webhook: "+err.Error(), http.StatusBadRequest)
			return
		}
		inbound.Inc()
		// Twilio waits 15 s; an answer after that is lost, so give up in time to answer safely.
		ctx, cancel := context.WithTimeout(r.Context(), answerTimeout)
		defer cancel()
		reply, err := d.Bot.Answer(ctx, in)
		texts := reply.Texts
		switch {
		case errors.Is(err, hotline.ErrDoNotAnswer):
			d.Log.Error("message not answered", "msg_id", in.ID, "err", err)
			texts = nil
		case errors.Is(err, hotline.ErrContent):
			// A defect of our own (`hotline check` should have caught it), not an outage:
			// replaying the message later would fail the same way.
			failures.Inc()
			d.Log.Error("message not handled: content defect; fallback sent", "msg_id", in.ID, "err", err)
			texts = []string{d.Fallback}
		case err != nil:
			failures.Inc()
			// Most likely Redis is unreachable: keep the message to replay when it is back,
			// and tell the member something useful now rather than nothing.
			spooled := false
			if d.Spool != nil {
				if serr := d.Spool.Append(in); serr != nil {
					d.Log.Error("message could not be spooled", "msg_id", in.ID, "err", serr)
				} else {
					spooled = true
				}
			}
			d.Log.Error("message not handled; fallback sent", "msg_id", in.ID, "spooled", spooled, "err", err)
			texts = []string{d.Fallback}
			if spooled && d.Kept != "" {
				// It will be answered: "try again" would only bring a second message.
				texts = []string{d.Kept}
			}
		}
		var buf bytes.Buffer
		if err := twilio.WriteTwiML(&buf, texts); err != nil {
			d.Log.Error("writing TwiML", "msg_id", in.ID, "err", err)
			buf.Reset()
			twilio.WriteTwiML(&buf, []string{d.Fallback})
		}
		replies.Add(int64(len(texts)))
		if len(texts) == 0 {
			silent.Inc()
		}
		w.Header().Set("Content-Type", twilio.ContentType)
		w.Write(buf.Bytes())
	})
}
