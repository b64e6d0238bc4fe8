package escalation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/staff"
)

// Roster is the staff roster (internal/staff), kept in memory: every inbound message is
// checked against it before it reaches the member menus, without a round trip to Redis.
type Roster interface {
	// Volunteer returns the volunteer whose phone has member id phoneID; it fails only when
	// the roster was never read.
	Volunteer(ctx context.Context, phoneID string) (hotline.VolunteerRecord, bool, error)
	// Organizers returns every organizer, for notices: from memory, so a notice needs no
	// Redis read per organizer and still goes while their keys' master fails over.
	Organizers(ctx context.Context) ([]hotline.OrganizerRecord, error)
	// Changed makes the next lookup read the roster first, after this process changed it.
	Changed()
}

// VolunteerView is a volunteer as the admin API shows them (staff.VolunteerView).
type VolunteerView = staff.VolunteerView

// AddVolunteer adds a volunteer to the roster (off call until they text ON/ACTIVO).
func (s *Service) AddVolunteer(ctx context.Context, name, phone string, langs []string) (VolunteerView, error) {
	name, phone = strings.TrimSpace(name), strings.TrimSpace(phone)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return VolunteerView{}, &broadcast.InvalidError{Msg: "name is required (at most 100 characters)"}
	}
	if !hotline.ValidE164(phone) {
		return VolunteerView{}, &broadcast.InvalidError{Msg: "phone must be in E.164 form, like +15055550100"}
	}
	if _, err := s.cfg.Store.OrganizerByPhone(ctx, s.cfg.Keys.MemberID(hotline.SMS, phone)); err == nil {
		return VolunteerView{}, &broadcast.InvalidError{Msg: "that phone is an organizer's; one phone can have one role"}
	}
	if len(langs) == 0 {
		return VolunteerView{}, &broadcast.InvalidError{Msg: fmt.Sprintf("languages is required: one or more of %s", strings.Join(s.cfg.Languages, ", "))}
	}
	for _, l := range langs {
		if !slices.Contains(s.cfg.Languages, l) {
			return VolunteerView{}, &broadcast.InvalidError{Msg: fmt.Sprintf("languages: %q is not one of %s", l, strings.Join(s.cfg.Languages, ", "))}
		}
	}
	id := hotline.NewID()
	rec := hotline.VolunteerRecord{ID: id, Name: name, SealedPhone: s.cfg.Keys.Seal([]byte(phone), privacy.VolunteerPhone(id)),
		PhoneID: s.cfg.Keys.MemberID(hotline.SMS, phone), Langs: langs, CreatedAt: s.cfg.Now()}
	if err := s.cfg.Store.CreateVolunteer(ctx, rec); err != nil {
		if errors.Is(err, hotline.ErrDuplicate) {
			return VolunteerView{}, &broadcast.InvalidError{Msg: "a volunteer with that phone exists already"}
		}
		return VolunteerView{}, err
	}
	s.cfg.Roster.Changed()
	return VolunteerView{ID: id, Name: name, Phone: hotline.MaskPhone(phone), Languages: langs, CreatedAt: rec.CreatedAt.UTC()}, nil
}

// Volunteers lists the roster, phones masked.
func (s *Service) Volunteers(ctx context.Context) ([]VolunteerView, error) {
	recs, err := s.cfg.Store.Volunteers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]VolunteerView, 0, len(recs))
	for _, r := range recs {
		masked := "(unreadable)"
		if p, err := s.cfg.Keys.Open(r.SealedPhone, privacy.VolunteerPhone(r.ID)); err == nil {
			masked = hotline.MaskPhone(string(p))
		}
		out = append(out, VolunteerView{ID: r.ID, Name: r.Name, Phone: masked, Languages: r.Langs, OnCall: r.OnCall, CreatedAt: r.CreatedAt})
	}
	slices.SortFunc(out, func(a, b VolunteerView) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// RemoveVolunteer takes a volunteer off the roster.
func (s *Service) RemoveVolunteer(ctx context.Context, id string) error {
	// Their cases go back to everyone, at once, rather than leave members talking to no one.
	if held, err := s.cfg.Store.VolunteerCases(ctx, id); err == nil {
		for _, n := range held {
			if err := s.cfg.Store.ReopenCase(ctx, n, id, s.cfg.Now()); err != nil {
				return err
			}
		}
	}
	err := s.cfg.Store.DeleteVolunteer(ctx, id)
	s.cfg.Roster.Changed()
	if errors.Is(err, hotline.ErrNotFound) {
		return hotline.ErrNotFound
	}
	return err
}

// CaseView is a case as the admin API shows it: no member id, address or message.
type CaseView struct {
	N           int64      `json:"n"`
	Kind        string     `json:"kind"`
	Urgent      bool       `json:"urgent"`
	Status      string     `json:"status"`
	Lang        string     `json:"lang"`
	Area        string     `json:"area,omitempty"`
	Volunteer   string     `json:"volunteer,omitempty"`
	Opened      time.Time  `json:"opened"`
	AgeS        int64      `json:"age_s"`
	Claimed     *time.Time `json:"claimed,omitempty"`
	TimeToClaim int64      `json:"time_to_claim_s,omitempty"`
	Paged       int64      `json:"paged"`
}

// Cases lists open and claimed cases, oldest first.
func (s *Service) Cases(ctx context.Context) ([]CaseView, error) {
	recs, err := s.cfg.Store.OpenCases(ctx)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	out := make([]CaseView, 0, len(recs))
	for _, c := range recs {
		v := CaseView{N: c.N, Kind: c.Kind, Urgent: c.Urgent, Status: c.Status, Lang: c.Lang, Area: c.Area,
			Volunteer: c.Volunteer, Opened: c.Opened, AgeS: int64(now.Sub(c.Opened).Seconds()), Paged: c.Paged}
		if !c.Claimed.IsZero() {
			claimed := c.Claimed
			v.Claimed, v.TimeToClaim = &claimed, int64(c.Claimed.Sub(c.Opened).Seconds())
		}
		out = append(out, v)
	}
	return out, nil
}
