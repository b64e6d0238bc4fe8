package web

import (
	"net/http"
)

// The roster: organizers (the administrator's token only) and volunteers.

func handleAddOrganizer(d Deps) adminHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req struct{ Name, Phone, Lang string }
		if err := decode(r, &req); err != nil {
			return err
		}
		o, err := d.Staff.AddOrganizer(r.Context(), staffActor(r, d), req.Name, req.Phone, req.Lang)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, o)
		return nil
	}
}

func handleListOrganizers(d Deps) adminHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		list, err := d.Staff.Organizers(r.Context())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"organizers": list})
		return nil
	}
}

func handleRemoveOrganizer(d Deps) adminHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := d.Staff.RemoveOrganizer(r.Context(), staffActor(r, d), r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func handleAddVolunteer(d Deps) adminHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			Name, Phone string
			Languages   []string
		}
		if err := decode(r, &req); err != nil {
			return err
		}
		v, err := d.Staff.AddVolunteer(r.Context(), staffActor(r, d), req.Name, req.Phone, req.Languages)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, v)
		return nil
	}
}

func handleListVolunteers(d Deps) adminHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		list, err := d.Staff.Volunteers(r.Context())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"volunteers": list})
		return nil
	}
}

func handleRemoveVolunteer(d Deps) adminHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := d.Staff.RemoveVolunteer(r.Context(), staffActor(r, d), r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// handleListCases lists open and claimed cases with their age and time to claim; never a
// member's number or words.
func handleListCases(d Deps) adminHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		list, err := d.Cases.Cases(r.Context())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"cases": list})
		return nil
	}
}
