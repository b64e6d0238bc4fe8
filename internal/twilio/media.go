package twilio

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/communityhotline/hotline/internal/hotline"
)

// Media a member sends (a picture, a voice note) stays in Twilio's storage, readable by
// anyone with the account's credentials, until it is deleted. The hotline reads none of it
// (a message with media and no text is answered that it cannot listen or look), so it is
// deleted as soon as the message is answered: there is then nothing of it to keep, to leak
// or to erase later (docs/channels.md, "After the review", 8).

// maxMediaPage is how many media one listing asks for. A WhatsApp message carries one, an
// MMS at most ten: one page is all there is.
const maxMediaPage = 50

// DeleteMedia deletes every media file Twilio keeps of message messageSID (an inbound
// message's MessageSid) and returns how many it deleted: it lists them
// (GET …/Messages/{MessageSid}/Media.json), then deletes each
// (DELETE …/Messages/{MessageSid}/Media/{Sid}.json). A medium already gone (404) counts
// as deleted. Failures are *hotline.SendError, classified as Send's are (Retry for no
// answer, a 429 or a 5xx), and never carry the account's URL.
func (s *RESTSender) DeleteMedia(ctx context.Context, messageSID string) (int, error) {
	// The SID goes into the request's path: only letters and digits, as Twilio's are.
	if messageSID == "" || checkID("MessageSid", messageSID) != nil {
		return 0, &hotline.SendError{Kind: hotline.Permanent, Err: fmt.Errorf("twilio: deleting media: %w: MessageSid", ErrInvalidField)}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	api, rt := s.call(ctx)
	page, err := api.PageMedia(messageSID, (&openapi.ListMediaParams{}).SetPageSize(maxMediaPage), "", "")
	rt.closeBody()
	if err != nil {
		return 0, mediaError(rt.status, err)
	}
	deleted := 0
	for _, m := range page.MediaList {
		if m.Sid == nil || checkID("Sid", *m.Sid) != nil || *m.Sid == "" {
			continue
		}
		err := api.DeleteMedia(messageSID, *m.Sid, nil)
		rt.closeBody()
		if err != nil && rt.status != 404 {
			return deleted, mediaError(rt.status, err)
		}
		deleted++
	}
	return deleted, nil
}

// mediaError classifies a failed media request as classify does a failed send; there is no
// address or body to take out of Twilio's message.
func mediaError(status int, err error) *hotline.SendError {
	se := classify(status, err, hotline.Outbound{})
	se.Err = fmt.Errorf("deleting media: %w", se.Err)
	return se
}

// MediaDeleter deletes the media of a member's message, if any (RESTSender.DeleteMedia).
type MediaDeleter interface {
	DeleteMedia(ctx context.Context, messageSID string) (int, error)
}

// MediaJanitor deletes inbound messages' media in the background, so that the webhook that
// answered the message neither waits for Twilio nor fails with it. It is safe for
// concurrent use; the zero value is not: use NewMediaJanitor.
type MediaJanitor struct {
	deleter MediaDeleter
	log     *slog.Logger
	// Tries and Backoff bound the retries of a passing failure (a 429, a 5xx, no answer):
	// Tries attempts in all, the first wait Backoff, doubling.
	Tries   int
	Backoff time.Duration
	// OnDeleted, when set, is told how many media each deletion removed, for metrics.
	OnDeleted func(n int)
	// OnFailed, when set, is told of each deletion given up on, for metrics.
	OnFailed func()

	wg sync.WaitGroup
}

// NewMediaJanitor returns a MediaJanitor that deletes through d, logging to log (nil: none).
func NewMediaJanitor(d MediaDeleter, log *slog.Logger) *MediaJanitor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &MediaJanitor{deleter: d, log: log, Tries: 4, Backoff: 2 * time.Second}
}

// Delete starts deleting messageSID's media and returns at once. A deletion that fails for a
// passing reason is tried again a few times, seconds apart; one that still fails is logged
// (by message id, which names no member) and left: Twilio keeps the file until someone
// deletes it by hand.
func (j *MediaJanitor) Delete(messageSID string) {
	j.wg.Go(func() {
		for try := 1; ; try++ {
			n, err := j.deleter.DeleteMedia(context.Background(), messageSID)
			if err == nil {
				if j.OnDeleted != nil {
					j.OnDeleted(n)
				}
				return
			}
			if hotline.SendErrorKindOf(err) != hotline.Retry || try >= j.Tries {
				j.log.Error("inbound media not deleted from Twilio", "msg_id", messageSID, "err", err)
				if j.OnFailed != nil {
					j.OnFailed()
				}
				return
			}
			time.Sleep(j.Backoff << (try - 1))
		}
	})
}

// Wait waits for the deletions under way (tests, and shutdown).
func (j *MediaJanitor) Wait() { j.wg.Wait() }

// Answerer wraps next so that a message that came with media (in.Media > 0) has them
// deleted, in the background, once next has answered it: whatever the answer, an error
// included, since nothing the hotline does reads them. The answer passes through untouched,
// and the webhook does not wait for the deletion.
func (j *MediaJanitor) Answerer(next hotline.Answerer) hotline.Answerer {
	return mediaAnswerer{next: next, j: j}
}

type mediaAnswerer struct {
	next hotline.Answerer
	j    *MediaJanitor
}

func (m mediaAnswerer) Answer(ctx context.Context, in hotline.Inbound) (hotline.Reply, error) {
	reply, err := m.next.Answer(ctx, in)
	if in.Media > 0 && in.Channel != hotline.Voice {
		m.j.Delete(in.ID)
	}
	return reply, err
}
