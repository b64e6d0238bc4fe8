package organizer

import (
	"context"
	"fmt"
	"strings"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/hotline"
)

// Notifier returns what texts organizers about approvals (broadcast.Notifier), for the
// broadcast service to call whatever channel an action came through.
func (c *Composer) Notifier() broadcast.Notifier { return notices{c: c} }

type notices struct{ c *Composer }

// ApprovalRequested texts every organizer who may approve b (not its creator, not whoever
// asked to send it) both texts, the areas, the reach and how to approve it.
func (n notices) ApprovalRequested(ctx context.Context, b hotline.Broadcast, by audit.Actor) {
	recs, err := n.c.cfg.Roster.Organizers(ctx)
	if err != nil {
		n.c.cfg.Log.Error("listing organizers for approval", "err", err)
		return
	}
	for _, r := range recs {
		if r.ID == b.CreatedBy || r.ID == b.RequestedBy {
			continue
		}
		data := n.c.draftData(b, r.Lang)
		data["Name"] = by.Name
		n.c.notify(ctx, r, "org_approve_request", data)
	}
}

// Approved tells whoever asked to send b, and its creator, that by approved it, and
// whether it is going out now or waits for someone to send it.
func (n notices) Approved(ctx context.Context, b hotline.Broadcast, by audit.Actor) {
	recs, err := n.c.cfg.Roster.Organizers(ctx)
	if err != nil {
		n.c.cfg.Log.Error("listing organizers for an approval", "err", err)
		return
	}
	for _, r := range recs {
		if r.ID != b.CreatedBy && r.ID != b.RequestedBy {
			continue
		}
		n.c.notify(ctx, r, "org_approved_notice", map[string]string{
			"Name": by.Name, "ID": b.ID, "Sent": flag(b.Status == hotline.Sending),
		})
	}
}

// maxAreaNames is how many area names an SMS lists before "+n": an alert for a county also
// reaches its cities, which would fill a message.
const maxAreaNames = 3

// draftData is what messages about broadcast b show an organizer reading lang: its id, both
// texts, its areas by name and how many people it reaches.
func (c *Composer) draftData(b hotline.Broadcast, lang string) map[string]string {
	data := map[string]string{"ID": b.ID, "Areas": c.areaList(b.Areas, lang), "Status": string(b.Status)}
	var reach int64
	for _, l := range c.cfg.Broadcasts.Languages() {
		reach += b.Recipients[l]
		data["Recipients"+strings.ToUpper(l)] = fmt.Sprint(b.Recipients[l])
		data["Text"+strings.ToUpper(l)] = b.Text[l]
	}
	data["Reach"] = fmt.Sprint(reach)
	return data
}

// areaList names areas in lang, at most maxAreaNames and "+n" more; "" for every
// subscriber (the messages say so in their language).
func (c *Composer) areaList(areas []string, lang string) string {
	names := make([]string, 0, maxAreaNames)
	for i, id := range areas {
		if i == maxAreaNames {
			names = append(names, fmt.Sprintf("+%d", len(areas)-maxAreaNames))
			break
		}
		names = append(names, c.cfg.Broadcasts.AreaLabel(id, lang))
	}
	return strings.Join(names, ", ")
}
