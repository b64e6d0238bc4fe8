// Package organizer answers SMS from organizers' phones, which never enter the member flows:
// ALERTA/ALERT starts composing an alert (area, English text, Spanish text, preview), ENVIAR/
// SEND sends it or asks the other organizers to approve it, DESCARTAR/DISCARD drops the
// draft. Any draft, however made (by SMS, a verified report, the console, the API), is
// handled by its id: VER/SHOW <id>, ENVIAR/SEND <id>, DESCARTAR/DISCARD <id> and
// APROBAR/APPROVE <id>. The approval rule itself is the broadcast service's; this package
// also provides the notices it sends organizers (notices.go).
package organizer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/fold"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// Config holds a Composer's dependencies.
type Config struct {
	Broadcasts *broadcast.Service
	Store      Store
	Keys       *privacy.Keys
	Renderer   flow.Renderer
	Sender     hotline.Sender
	Log        *slog.Logger
	// Roster lists the organizers, to notify them, from memory; nil reads one of its own
	// from Store.
	Roster Roster
}

// Roster is the staff roster (internal/staff), kept in memory.
type Roster interface {
	// Organizers lists every organizer, to notify them.
	Organizers(ctx context.Context) ([]hotline.OrganizerRecord, error)
}

// Composer handles organizers' SMS.
type Composer struct {
	cfg Config
}

// New returns a Composer.
func New(cfg Config) *Composer {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Composer{cfg: cfg}
}

// MessageIDs are the messages this package renders; every language must have them.
var MessageIDs = []string{
	"org_help", "org_ask_area", "org_area_unknown", "org_ask_en", "org_ask_es", "org_preview",
	"org_sending", "org_approval_requested", "org_approve_request", "org_approved", "org_approved_notice",
	"org_canceled", "org_cannot_approve_own", "org_not_found", "org_too_long", "org_failed",
	"org_show", "org_wrong_state", "org_already_approved",
	"org_status_draft", "org_status_awaiting_approval", "org_status_sending", "org_status_done", "org_status_canceled",
}

// The commands, folded. Organizers learn them once; they work in either language.
var (
	wordsStart = []string{"alerta", "alert"}
	wordsSend  = []string{"enviar", "send"}
	// Not CANCEL or STOP alone as the command: Twilio treats those as opt-out words and would
	// block the organizer's phone. They still end a draft, and DESCARTAR/DISCARD is the
	// command organizers are taught.
	wordsCancel  = []string{"descartar", "discard", "cancelar", "cancel", "stop", "parar"}
	wordsApprove = []string{"aprobar", "approve"}
	wordsShow    = []string{"ver", "show", "mostrar"}
	wordsAll     = []string{"todas", "todos", "all"}
)

// composeTTL is how long an unfinished draft conversation is kept.
const composeTTL = 2 * time.Hour

// Answer handles one SMS from organizer org.
func (c *Composer) Answer(ctx context.Context, org hotline.OrganizerRecord, in hotline.Inbound) ([]string, error) {
	// A retried webhook gets the answer already given, and changes nothing; the claim is
	// atomic, so two deliveries of one message never both send an alert or ask approval.
	scope := "org:" + org.ID
	first, prev, err := c.cfg.Store.ClaimStaffMessage(ctx, scope, in.ID)
	if err != nil {
		return nil, err
	}
	if !first {
		if prev == "" {
			return nil, nil
		}
		return []string{prev}, nil
	}
	st, err := c.cfg.Store.ComposeState(ctx, org.ID)
	if err != nil {
		return nil, err
	}
	reply, next := c.step(ctx, org, st, in.Text)
	texts, err := c.cfg.Renderer.Render(org.Lang, []flow.Reply{reply})
	if err != nil {
		return nil, err
	}
	if err := c.cfg.Store.SaveComposeState(ctx, org.ID, next, composeTTL); err != nil {
		return nil, err
	}
	if err := c.cfg.Store.SaveStaffReply(ctx, scope, in.ID, strings.Join(texts, "\n")); err != nil {
		c.cfg.Log.Error("saving an organizer's reply for retries", "org", org.ID, "err", err)
	}
	return texts, nil
}

// step is the compose conversation: the reply and the next state (nil ends it).
func (c *Composer) step(ctx context.Context, org hotline.OrganizerRecord, st map[string]string, text string) (flow.Reply, map[string]string) {
	words := fold.Words(text)
	first := ""
	if len(words) > 0 {
		first = words[0]
	}
	by := audit.Organizer(org.ID, org.Name, audit.ViaSMS)
	// A command naming a draft ends the draft conversation about it: it has been acted on.
	after := func(id string) map[string]string {
		if st["bc"] == id {
			return nil
		}
		return st
	}
	switch {
	case in(first, wordsApprove) && len(words) == 2:
		return c.approve(ctx, org, by, words[1]), after(words[1])
	case in(first, wordsShow) && len(words) == 2:
		return c.show(ctx, org, words[1]), st
	case in(first, wordsSend) && len(words) == 2:
		return c.send(ctx, org, by, words[1]), after(words[1])
	case in(first, wordsCancel) && len(words) == 2:
		return c.discard(ctx, org, by, words[1]), after(words[1])
	case in(first, wordsCancel) && len(words) == 1:
		if st["bc"] != "" {
			if err := c.cfg.Broadcasts.Discard(ctx, st["bc"], by); err != nil && !errors.Is(err, hotline.ErrWrongState) {
				return c.failed(err), st
			}
		}
		return flow.Reply{ID: "org_canceled"}, nil
	case in(first, wordsStart) && len(words) == 1:
		return flow.Reply{ID: "org_ask_area"}, map[string]string{"step": "area"}
	}
	switch st["step"] {
	case "area":
		area := pick(st["choices"], text)
		if area == "" && !in(fold.Text(text), wordsAll) {
			id, err := c.cfg.Broadcasts.ResolveArea(text)
			var invalid *broadcast.InvalidError
			if errors.As(err, &invalid) {
				// The places are offered by name, numbered, and the number picks one: the
				// ids behind them are for the API, and a name like "Santa Fe" would only be
				// ambiguous again.
				names := make([]string, len(invalid.Suggestions))
				for i, id := range invalid.Suggestions {
					names[i] = c.cfg.Broadcasts.AreaLabel(id, org.Lang)
				}
				return flow.Reply{ID: "org_area_unknown", Data: map[string]string{"Suggestions": NumberedList(names)}},
					map[string]string{"step": "area", "choices": strings.Join(invalid.Suggestions, ",")}
			}
			if err != nil {
				return c.failed(err), st
			}
			area = id
		}
		return flow.Reply{ID: "org_ask_en", Data: map[string]string{"Areas": c.areaNames(area, org.Lang)}},
			map[string]string{"step": "en", "area": area}
	case "en":
		st["en"], st["step"] = strings.TrimSpace(text), "es"
		return flow.Reply{ID: "org_ask_es"}, st
	case "es":
		var areas []string
		if st["area"] != "" {
			areas = []string{st["area"]}
		}
		b, p, err := c.cfg.Broadcasts.Create(ctx, by, broadcast.Draft{
			Text: map[string]string{"en": st["en"], "es": strings.TrimSpace(text)}, Areas: areas,
		})
		var invalid *broadcast.InvalidError
		if errors.As(err, &invalid) && strings.Contains(invalid.Msg, "characters") {
			return flow.Reply{ID: "org_too_long"}, map[string]string{"step": "en", "area": st["area"]}
		}
		if err != nil {
			return c.failed(err), nil
		}
		data := map[string]string{
			"ID": b.ID, "Areas": c.areaNames(st["area"], org.Lang),
			"RecipientsES": fmt.Sprint(p.Recipients["es"]), "RecipientsEN": fmt.Sprint(p.Recipients["en"]),
			"SegmentsES": fmt.Sprint(p.Segments["es"]), "SegmentsEN": fmt.Sprint(p.Segments["en"]),
			"Cost": fmt.Sprintf("%.2f", p.EstimatedCostUSD), "Approvals": flag(c.cfg.Broadcasts.Approvals()),
		}
		return flow.Reply{ID: "org_preview", Data: data}, map[string]string{"step": "confirm", "bc": b.ID, "area": st["area"]}
	case "confirm":
		if in(first, wordsSend) && len(words) == 1 {
			return c.send(ctx, org, by, st["bc"]), nil
		}
	}
	return flow.Reply{ID: "org_help"}, st
}

// send sends draft id, or asks for its approval: the broadcast service decides which.
func (c *Composer) send(ctx context.Context, org hotline.OrganizerRecord, by audit.Actor, id string) flow.Reply {
	b, err := c.cfg.Broadcasts.Send(ctx, id, by)
	if err != nil {
		return c.refused(ctx, org, id, err)
	}
	if b.Status == hotline.AwaitingApproval {
		return flow.Reply{ID: "org_approval_requested", Data: map[string]string{"ID": id}}
	}
	return flow.Reply{ID: "org_sending", Data: map[string]string{"ID": id}}
}

// approve approves broadcast id; it is sent now only if someone had asked to send it.
func (c *Composer) approve(ctx context.Context, org hotline.OrganizerRecord, by audit.Actor, id string) flow.Reply {
	b, err := c.cfg.Broadcasts.Approve(ctx, id, by)
	if err != nil {
		return c.refused(ctx, org, id, err)
	}
	return flow.Reply{ID: "org_approved", Data: map[string]string{"ID": id, "Sent": flag(b.Status == hotline.Sending)}}
}

// show answers VER/SHOW: a broadcast's texts, areas, reach and cost now, and what can be
// done with it.
func (c *Composer) show(ctx context.Context, org hotline.OrganizerRecord, id string) flow.Reply {
	b, err := c.cfg.Broadcasts.Get(ctx, id)
	if err != nil {
		return c.refused(ctx, org, id, err)
	}
	p, err := c.cfg.Broadcasts.Preview(ctx, b)
	if err != nil {
		return c.failed(err)
	}
	b.Recipients = p.Recipients
	data := c.draftData(b, org.Lang)
	data["StatusName"] = c.statusName(b.Status, org.Lang)
	data["Cost"] = fmt.Sprintf("%.2f", p.EstimatedCostUSD)
	data["Open"] = flag(b.Status == hotline.Draft || b.Status == hotline.AwaitingApproval)
	data["Approve"] = flag(b.Status == hotline.AwaitingApproval && b.CreatedBy != org.ID && b.RequestedBy != org.ID)
	return flow.Reply{ID: "org_show", Data: data}
}

// discard drops a draft nobody has started sending.
func (c *Composer) discard(ctx context.Context, org hotline.OrganizerRecord, by audit.Actor, id string) flow.Reply {
	if err := c.cfg.Broadcasts.Discard(ctx, id, by); err != nil {
		return c.refused(ctx, org, id, err)
	}
	return flow.Reply{ID: "org_canceled", Data: map[string]string{"ID": id}}
}

// refused says why an action on broadcast id was not done.
func (c *Composer) refused(ctx context.Context, org hotline.OrganizerRecord, id string, err error) flow.Reply {
	data := map[string]string{"ID": id}
	switch {
	case errors.Is(err, hotline.ErrSameActor):
		return flow.Reply{ID: "org_cannot_approve_own"}
	case errors.Is(err, hotline.ErrNotFound):
		return flow.Reply{ID: "org_not_found", Data: data}
	case errors.Is(err, hotline.ErrWrongState):
		b, gerr := c.cfg.Broadcasts.Get(ctx, id)
		if gerr != nil {
			return c.failed(gerr)
		}
		if b.ApprovedBy != "" && (b.Status == hotline.Draft || b.Status == hotline.AwaitingApproval) {
			return flow.Reply{ID: "org_already_approved", Data: data}
		}
		data["StatusName"] = c.statusName(b.Status, org.Lang)
		return flow.Reply{ID: "org_wrong_state", Data: data}
	}
	return c.failed(err)
}

// statusName is a broadcast status in words an organizer reads ("borrador").
func (c *Composer) statusName(st hotline.BroadcastStatus, lang string) string {
	texts, err := c.cfg.Renderer.Render(lang, []flow.Reply{{ID: "org_status_" + string(st)}})
	if err != nil || len(texts) != 1 {
		return string(st)
	}
	return texts[0]
}

// notify texts an organizer outside a reply.
func (c *Composer) notify(ctx context.Context, to hotline.OrganizerRecord, id string, data map[string]string) {
	phone, err := c.cfg.Broadcasts.OrganizerPhone(to)
	if err != nil {
		c.cfg.Log.Error("organizer phone unreadable", "org", to.ID)
		return
	}
	texts, err := c.cfg.Renderer.Render(to.Lang, []flow.Reply{{ID: id, Data: data}})
	if err != nil {
		c.cfg.Log.Error("rendering organizer notice", "err", err)
		return
	}
	for _, t := range texts {
		if _, err := c.cfg.Sender.Send(ctx, hotline.Outbound{To: phone, Body: t}); err != nil {
			c.cfg.Log.Error("texting organizer", "org", to.ID, "err", err)
		}
	}
}

func (c *Composer) failed(err error) flow.Reply {
	c.cfg.Log.Error("organizer command failed", "err", err)
	return flow.Reply{ID: "org_failed"}
}

func (c *Composer) areaNames(area, lang string) string {
	if area == "" {
		return "" // every subscriber; the messages say so in their language
	}
	return c.cfg.Broadcasts.AreaLabel(area, lang)
}

// NumberedList writes names as "1 Santa Fe, 2 Condado de Santa Fe", the way an organizer
// is offered areas to choose from by number.
func NumberedList(names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = strconv.Itoa(i+1) + " " + n
	}
	return strings.Join(parts, ", ")
}

// wordsYes take the one area suggested ("did you mean Las Cruces?").
var wordsYes = []string{"si", "yes", "y", "s"}

// pick returns the id among choices (comma-separated) that text chooses: its number, or a
// yes when there is one choice; "" for none.
func pick(choices, text string) string {
	if choices == "" {
		return ""
	}
	ids := strings.Split(choices, ",")
	t := fold.Text(text)
	if n, err := strconv.Atoi(t); err == nil && n >= 1 && n <= len(ids) {
		return ids[n-1]
	}
	if len(ids) == 1 && in(t, wordsYes) {
		return ids[0]
	}
	return ""
}

func in(w string, words []string) bool {
	for _, x := range words {
		if w == x {
			return true
		}
	}
	return false
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return ""
}
