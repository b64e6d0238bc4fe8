package console

import (
	"errors"
	"net/http"

	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/staff"
)

// rosterData is the roster page: both rosters, phones masked by the directory.
type rosterData struct {
	Organizers []staff.OrganizerView
	Volunteers []staff.VolunteerView
}

func (s *server) handleRoster(w http.ResponseWriter, r *http.Request, rq *request) error {
	orgs, err := s.cfg.Directory.Organizers(r.Context())
	if err != nil {
		return err
	}
	vols, err := s.cfg.Directory.Volunteers(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, rq, http.StatusOK, "roster", rosterData{Organizers: orgs, Volunteers: vols})
	return nil
}

// backToRoster answers a roster POST with the page and a note (Post/Redirect/Get).
func backToRoster(w http.ResponseWriter, r *http.Request, note string) {
	http.Redirect(w, r, "/console/roster?note="+note, http.StatusSeeOther)
}

// invalid reports whether err is the directory refusing the input (a bad phone, a phone on
// the roster already): the organizer is told to check what they typed.
func invalid(err error) bool {
	var inv *broadcast.InvalidError
	return errors.As(err, &inv)
}

// The directory checks what was typed (a name, a phone, languages it speaks, one role a
// phone): the same rules as the admin API, said here as one note.

func (s *server) handleAddOrganizer(w http.ResponseWriter, r *http.Request, rq *request) error {
	_, err := s.cfg.Directory.AddOrganizer(r.Context(), rq.Actor(), r.PostFormValue("name"),
		normalizePhone(r.PostFormValue("phone")), r.PostFormValue("lang"))
	return added(w, r, err)
}

func (s *server) handleAddVolunteer(w http.ResponseWriter, r *http.Request, rq *request) error {
	_, err := s.cfg.Directory.AddVolunteer(r.Context(), rq.Actor(), r.PostFormValue("name"),
		normalizePhone(r.PostFormValue("phone")), r.PostForm["langs"])
	return added(w, r, err)
}

// added answers an add: back to the roster, saying it was added or to check what was typed.
func added(w http.ResponseWriter, r *http.Request, err error) error {
	switch {
	case invalid(err):
		backToRoster(w, r, "roster_invalid")
	case err != nil:
		return err
	default:
		backToRoster(w, r, "roster_added")
	}
	return nil
}

// confirmData is the remove step's confirmation page.
type confirmData struct {
	Kind, ID, Name string
}

// handleConfirmRemove asks before removing: removing a volunteer hands their cases back.
func (s *server) handleConfirmRemove(w http.ResponseWriter, r *http.Request, rq *request) error {
	kind, id := r.PathValue("kind"), r.PathValue("id")
	if kind == "organizers" && rq.Session.Role != staff.RoleAdmin {
		s.forbidden(w, r, rq)
		return nil
	}
	name, found, err := s.staffName(r, kind, id)
	if err != nil {
		return err
	}
	if !found {
		backToRoster(w, r, "roster_not_found")
		return nil
	}
	s.render(w, r, rq, http.StatusOK, "remove", confirmData{Kind: kind, ID: id, Name: name})
	return nil
}

func (s *server) handleRemove(w http.ResponseWriter, r *http.Request, rq *request) error {
	kind, id := r.PathValue("kind"), r.PathValue("id")
	if kind == "organizers" && rq.Session.Role != staff.RoleAdmin {
		s.forbidden(w, r, rq) // as adding one: the administrator's alone
		return nil
	}
	_, found, err := s.staffName(r, kind, id)
	if err != nil {
		return err
	}
	if !found {
		backToRoster(w, r, "roster_not_found")
		return nil
	}
	if kind == "organizers" {
		err = s.cfg.Directory.RemoveOrganizer(r.Context(), rq.Actor(), id)
	} else {
		err = s.cfg.Directory.RemoveVolunteer(r.Context(), rq.Actor(), id)
	}
	if errors.Is(err, hotline.ErrNotFound) {
		backToRoster(w, r, "roster_not_found")
		return nil
	}
	if err != nil {
		return err
	}
	backToRoster(w, r, "roster_removed")
	return nil
}

// handleOnCall puts a volunteer on call or off, as their texting ON or OFF would.
func (s *server) handleOnCall(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	on := r.PostFormValue("on") == "1"
	name, found, err := s.staffName(r, "volunteers", id)
	if err != nil {
		return err
	}
	if !found {
		backToRoster(w, r, "roster_not_found")
		return nil
	}
	if err := s.cfg.Directory.SetOnCall(r.Context(), id, on); err != nil {
		return err
	}
	detail, note := "off", "roster_oncall_off"
	if on {
		detail, note = "on", "roster_oncall_on"
	}
	s.record(r, rq.Session.Person, "roster.oncall", "volunteer "+id, name+": "+detail)
	backToRoster(w, r, note)
	return nil
}

// handleUnlinkWhatsApp unlinks a person's WhatsApp address (a phone handed on, a linked
// account lost): their WhatsApp messages are a member's until they link it again. An
// organizer's is the administrator's to unlink, as removing one is.
func (s *server) handleUnlinkWhatsApp(w http.ResponseWriter, r *http.Request, rq *request) error {
	kind, id := r.PathValue("kind"), r.PathValue("id")
	if kind == "organizers" && rq.Session.Role != staff.RoleAdmin {
		s.forbidden(w, r, rq)
		return nil
	}
	role, ok := map[string]string{"organizers": staff.RoleOrganizer, "volunteers": staff.RoleVolunteer}[kind]
	if !ok {
		backToRoster(w, r, "roster_not_found")
		return nil
	}
	err := s.cfg.Directory.UnlinkWhatsApp(r.Context(), rq.Actor(), role, id)
	if errors.Is(err, hotline.ErrNotFound) {
		backToRoster(w, r, "roster_not_found")
		return nil
	}
	if err != nil {
		return err
	}
	backToRoster(w, r, "roster_wa_unlinked")
	return nil
}

// staffName finds an organizer's or volunteer's name by id in the directory.
func (s *server) staffName(r *http.Request, kind, id string) (string, bool, error) {
	switch kind {
	case "organizers":
		orgs, err := s.cfg.Directory.Organizers(r.Context())
		if err != nil {
			return "", false, err
		}
		for _, o := range orgs {
			if o.ID == id {
				return o.Name, true, nil
			}
		}
	case "volunteers":
		vols, err := s.cfg.Directory.Volunteers(r.Context())
		if err != nil {
			return "", false, err
		}
		for _, v := range vols {
			if v.ID == id {
				return v.Name, true, nil
			}
		}
	}
	return "", false, nil
}
