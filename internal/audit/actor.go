package audit

import "strings"

// Actor is a person on staff acting through a channel: who the audit log names, and who a
// service checks rules against (the creator of a broadcast cannot approve it).
type Actor struct {
	// ID is "organizer:<id>", "volunteer:<id>" or "admin".
	ID string
	// Name is the person's name as the roster has it.
	Name string
	// Via is the channel: "sms", "console", "api" or "cli".
	Via string
}

// The channels an action comes through.
const (
	ViaSMS     = "sms"
	ViaConsole = "console"
	ViaAPI     = "api"
	ViaCLI     = "cli"
)

// Organizer is organizer id acting through via.
func Organizer(id, name, via string) Actor { return Actor{ID: "organizer:" + id, Name: name, Via: via} }

// Volunteer is volunteer id acting through via.
func Volunteer(id, name, via string) Actor { return Actor{ID: "volunteer:" + id, Name: name, Via: via} }

// Admin is the holder of ADMIN_TOKEN acting through via.
func Admin(via string) Actor { return Actor{ID: "admin", Name: "admin", Via: via} }

// OrganizerID is the organizer's own id for an organizer ("" for anyone else): broadcasts
// record organizers by their bare id, as the roster does.
func (a Actor) OrganizerID() string {
	id, _ := strings.CutPrefix(a.ID, "organizer:")
	if id == a.ID {
		return ""
	}
	return id
}

// Ref is how a broadcast records who created, asked to send or approved it: an organizer's
// bare id, or the actor id of anyone else ("volunteer:<id>", "admin").
func (a Actor) Ref() string {
	if id := a.OrganizerID(); id != "" {
		return id
	}
	return a.ID
}

// Entry is the log entry of a doing action to object, with a short detail.
func (a Actor) Entry(action, object, detail string) Entry {
	return Entry{Actor: a.ID, ActorName: a.Name, Action: action, Object: object, Via: a.Via, Detail: detail}
}
