// Package broadcast is what organizers do with alerts: compose one for some areas in every
// language, preview who it reaches and what it costs, have it approved, send it, cancel it;
// and the organizer roster that says who may. Sending itself is the dispatch package's job.
package broadcast

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/segment"
	"github.com/communityhotline/hotline/internal/staff"
)

// MaxText is the longest alert, in characters (Twilio's limit for one message).
const MaxText = 1600

// Config holds a Service's dependencies and settings.
type Config struct {
	Store  Store
	Places *places.Directory
	Keys   *privacy.Keys
	// Languages the hotline speaks; an alert needs text in each that has recipients.
	Languages []string
	// Rate is the send rate in segments per second (0 = unlimited), for the duration estimate.
	Rate float64
	// WARate is WhatsApp's send rate in messages per second (0 = unlimited), likewise.
	WARate float64
	// CostPerSegment is in USD, for the cost estimate.
	CostPerSegment float64
	// Approvals requires a second organizer to approve every broadcast before it is sent.
	Approvals bool
	// GSM means messages are sent transliterated to GSM-7, which changes their cost.
	GSM bool
	Now func() time.Time
	// Audit keeps the staff action log; nil keeps none.
	Audit audit.Recorder
}

// Service is the organizers' side of broadcasts.
type Service struct {
	cfg      Config
	notifier Notifier
}

// Organizer returns one organizer's record.
func (s *Service) Organizer(ctx context.Context, id string) (hotline.OrganizerRecord, error) {
	return s.cfg.Store.Organizer(ctx, id)
}

// OrganizerPhone opens an organizer's sealed phone number, to text them.
func (s *Service) OrganizerPhone(r hotline.OrganizerRecord) (string, error) {
	p, err := s.cfg.Keys.Open(r.SealedPhone, privacy.OrganizerPhone(r.ID))
	return string(p), err
}

// Languages are the languages the hotline speaks.
func (s *Service) Languages() []string { return s.cfg.Languages }

// CostPerSegment is the price of one segment in USD, for the console's live cost estimate.
func (s *Service) CostPerSegment() float64 { return s.cfg.CostPerSegment }

// GSM reports whether texts are sent transliterated to GSM-7, which the console's live
// counter must do too to count what is sent.
func (s *Service) GSM() bool { return s.cfg.GSM }

// Approvals reports whether broadcasts need a second organizer's approval.
func (s *Service) Approvals() bool { return s.cfg.Approvals }

// AreaLabel returns a place id's name in lang.
func (s *Service) AreaLabel(id, lang string) string {
	if p, ok := s.cfg.Places.Get(id); ok {
		return p.Label(lang)
	}
	return id
}

// ResolveArea turns one typed area into a place id ("" with ok for every subscriber is not
// handled here), with the same refusal of anything unclear as Create.
func (s *Service) ResolveArea(name string) (string, error) {
	ids, err := s.resolveAreas([]string{name})
	if err != nil {
		return "", err
	}
	return ids[0], nil
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Audit == nil {
		cfg.Audit = audit.Nop{}
	}
	return &Service{cfg: cfg, notifier: nopNotifier{}}
}

// InvalidError is a request the organizer must correct; its message says how.
type InvalidError = hotline.InvalidError

// Draft is what an organizer composes.
type Draft struct {
	Text   map[string]string `json:"text"`
	Areas  []string          `json:"areas"`
	Urgent bool              `json:"urgent"`
	// Report is the verified report the draft is written from (0: none).
	Report int64 `json:"report,omitempty"`
}

// Preview is who a broadcast reaches and what it costs.
type Preview struct {
	// Recipients per language, on every channel.
	Recipients map[string]int64 `json:"recipients"`
	// WhatsApp per language are those of Recipients on WhatsApp, who get one message
	// whatever its length (a template outside their 24-hour window, which Meta prices on
	// its own): Segments, SegmentsTotal and EstimatedCostUSD count the others only. A
	// subscriber who has not changed their subscription since WhatsApp recipients were
	// first counted apart is counted as SMS, which errs on the costly side.
	WhatsApp map[string]int64 `json:"whatsapp"`
	// Segments and Encoding are the SMS message's, per language.
	Segments map[string]int    `json:"segments"`
	Encoding map[string]string `json:"encoding"`
	// EstimatedCostUSD is the SMS segments' cost (HOTLINE_COST_PER_SEGMENT).
	EstimatedCostUSD   float64           `json:"estimated_cost_usd"`
	EstimatedDurationS float64           `json:"estimated_duration_s"`
	Areas              []string          `json:"areas"`
	AreaNames          map[string]string `json:"area_names"`
	// SegmentsTotal is the SMS segments sent, SMS recipients times their message's.
	SegmentsTotal int64 `json:"segments_total"`
}

// Create validates a draft and stores it as a draft. Creating never sends, and never asks
// for approval: that is Send's job, whoever creates it and however.
func (s *Service) Create(ctx context.Context, by audit.Actor, d Draft) (hotline.Broadcast, Preview, error) {
	areas, err := s.resolveAreas(d.Areas)
	if err != nil {
		return hotline.Broadcast{}, Preview{}, err
	}
	for lang, text := range d.Text {
		if !slices.Contains(s.cfg.Languages, lang) {
			return hotline.Broadcast{}, Preview{}, &InvalidError{Msg: fmt.Sprintf("text.%s: the hotline speaks %s", lang, strings.Join(s.cfg.Languages, ", "))}
		}
		if n := utf8.RuneCountInString(text); n > MaxText {
			return hotline.Broadcast{}, Preview{}, &InvalidError{Msg: fmt.Sprintf("text.%s is %d characters; the most one message can carry is %d", lang, n, MaxText)}
		}
	}
	b := hotline.Broadcast{
		ID: hotline.NewID(), Status: hotline.Draft, Text: map[string]string{}, Areas: s.reach(areas), Urgent: d.Urgent,
		Report: d.Report, CreatedBy: by.Ref(), CreatedAt: s.cfg.Now(),
	}
	for lang, text := range d.Text {
		if t := strings.TrimSpace(text); t != "" {
			b.Text[lang] = t
		}
	}
	p, err := s.preview(ctx, b)
	if err != nil {
		return hotline.Broadcast{}, Preview{}, err
	}
	for _, lang := range s.cfg.Languages {
		if p.Recipients[lang] > 0 && b.Text[lang] == "" {
			return hotline.Broadcast{}, Preview{}, &InvalidError{Msg: fmt.Sprintf("text.%s is missing: %d subscribers read %s", lang, p.Recipients[lang], lang)}
		}
	}
	if len(b.Text) == 0 {
		return hotline.Broadcast{}, Preview{}, &InvalidError{Msg: "text is empty: write the alert in every language"}
	}
	b.Recipients = p.Recipients
	if err := s.cfg.Store.CreateBroadcast(ctx, b); err != nil {
		return hotline.Broadcast{}, Preview{}, err
	}
	s.cfg.Audit.Record(ctx, by.Entry("broadcast.create", Object(b.ID), ""))
	return b, p, nil
}

// resolveAreas turns what an organizer typed ("Bernalillo", "santa fe county", a place id)
// into place ids, refusing anything unclear with suggestions: an alert to the wrong county
// is worse than none.
func (s *Service) resolveAreas(names []string) ([]string, error) {
	var ids []string
	for _, name := range names {
		if p, ok := s.cfg.Places.Get(name); ok {
			ids = appendNew(ids, p.ID)
			continue
		}
		r := s.cfg.Places.Lookup(name)
		switch {
		case r.Place != nil && !r.Corrected:
			ids = appendNew(ids, r.Place.ID)
		case r.Place != nil:
			return nil, &InvalidError{Msg: fmt.Sprintf("area %q: did you mean %s?", name, r.Place.Label("en")), Suggestions: []string{r.Place.ID}}
		case len(r.Choices) > 0:
			return nil, &InvalidError{Msg: fmt.Sprintf("area %q is ambiguous", name), Suggestions: placeIDs(r.Choices)}
		default:
			return nil, &InvalidError{Msg: fmt.Sprintf("unknown area %q", name), Suggestions: placeIDs(r.Suggestions)}
		}
	}
	return ids, nil
}

// reach widens the chosen areas to everyone an alert there concerns: an alert for a city
// also reaches its county's subscribers, and one for a county its cities' subscribers.
func (s *Service) reach(ids []string) []string {
	out := append([]string(nil), ids...)
	for _, id := range ids {
		p, ok := s.cfg.Places.Get(id)
		if !ok {
			continue
		}
		if !p.IsCounty() {
			out = appendNew(out, p.County)
			continue
		}
		for _, q := range s.cfg.Places.Places() {
			if q.County == p.ID {
				out = appendNew(out, q.ID)
			}
		}
	}
	return out
}

func placeIDs(ps []*places.Place) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ID
	}
	return ids
}

func appendNew(ids []string, id string) []string {
	if slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}

// Preview recomputes a stored broadcast's reach and cost now.
func (s *Service) Preview(ctx context.Context, b hotline.Broadcast) (Preview, error) {
	return s.preview(ctx, b)
}

func (s *Service) preview(ctx context.Context, b hotline.Broadcast) (Preview, error) {
	p := Preview{Recipients: map[string]int64{}, WhatsApp: map[string]int64{}, Segments: map[string]int{}, Encoding: map[string]string{},
		Areas: b.Areas, AreaNames: map[string]string{}}
	for _, id := range b.Areas {
		if pl, ok := s.cfg.Places.Get(id); ok {
			p.AreaNames[id] = pl.Label("en")
		}
	}
	for _, lang := range s.cfg.Languages {
		if b.Status == hotline.Sending || b.Status == hotline.Done {
			p.Recipients[lang] = b.Recipients[lang] // frozen when sending began
		} else {
			n, err := s.cfg.Store.CountRecipients(ctx, b.Areas, lang)
			if err != nil {
				return Preview{}, err
			}
			p.Recipients[lang] = n
		}
		// Counted now even for a frozen list: the frozen lists keep no channel. It cannot
		// pass the frozen count.
		wa, err := s.cfg.Store.CountWhatsAppRecipients(ctx, b.Areas, lang)
		if err != nil {
			return Preview{}, err
		}
		p.WhatsApp[lang] = min(wa, p.Recipients[lang])
		// Only SMS is transliterated: WhatsApp gets the text as written.
		text := b.Text[lang]
		if s.cfg.GSM {
			text = segment.ToGSM(text)
		}
		info := segment.Count(text)
		p.Segments[lang], p.Encoding[lang] = info.Segments, string(info.Encoding)
		p.SegmentsTotal += (p.Recipients[lang] - p.WhatsApp[lang]) * int64(info.Segments)
	}
	p.EstimatedCostUSD = math.Round(float64(p.SegmentsTotal)*s.cfg.CostPerSegment*100) / 100
	// SMS and WhatsApp are paced apart, side by side: the longer of the two.
	if s.cfg.Rate > 0 {
		p.EstimatedDurationS = math.Ceil(float64(p.SegmentsTotal) / s.cfg.Rate)
	}
	if s.cfg.WARate > 0 {
		var wa int64
		for _, n := range p.WhatsApp {
			wa += n
		}
		p.EstimatedDurationS = max(p.EstimatedDurationS, math.Ceil(float64(wa)/s.cfg.WARate))
	}
	return p, nil
}

// Get returns a broadcast.
func (s *Service) Get(ctx context.Context, id string) (hotline.Broadcast, error) {
	return s.cfg.Store.Broadcast(ctx, id)
}

// List returns recent broadcasts, newest first.
func (s *Service) List(ctx context.Context) ([]hotline.Broadcast, error) {
	return s.cfg.Store.Broadcasts(ctx, 50)
}

// OrganizerView is an organizer as the API shows it (staff.OrganizerView).
type OrganizerView = staff.OrganizerView
