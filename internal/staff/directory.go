package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// DirectoryStore keeps the roster (redisstore.Store).
type DirectoryStore interface {
	CreateOrganizer(ctx context.Context, o hotline.OrganizerRecord) error
	DeleteOrganizer(ctx context.Context, id string) error
	Organizer(ctx context.Context, id string) (hotline.OrganizerRecord, error)
	Organizers(ctx context.Context) ([]hotline.OrganizerRecord, error)
	OrganizerByToken(ctx context.Context, hash string) (string, error)
	OrganizerByPhone(ctx context.Context, phoneID string) (string, error)
	CreateVolunteer(ctx context.Context, v hotline.VolunteerRecord) error
	DeleteVolunteer(ctx context.Context, id string) error
	Volunteer(ctx context.Context, id string) (hotline.VolunteerRecord, error)
	Volunteers(ctx context.Context) ([]hotline.VolunteerRecord, error)
	VolunteerByPhone(ctx context.Context, phoneID string) (string, error)
	// SetOrganizerWhatsApp and SetVolunteerWhatsApp link a WhatsApp address to a person's
	// phone, or unlink it given ""; hotline.ErrNotFound when there is no such person.
	SetOrganizerWhatsApp(ctx context.Context, id, waID string) error
	SetVolunteerWhatsApp(ctx context.Context, id, waID string) error
}

// DirectoryConfig holds a Directory's dependencies and settings.
type DirectoryConfig struct {
	Store DirectoryStore
	Keys  *privacy.Keys
	// Languages the hotline speaks: an organizer reads in one, a volunteer answers in some.
	Languages []string
	// RootToken is the administrator's token (ADMIN_TOKEN); empty: no administrator.
	RootToken string
	// Roster is told of every change, so that the SMS router sees it at once.
	Roster *Roster
	// OnVolunteerRemoved gives a removed volunteer's cases back to everyone (escalation), so
	// that no member is left talking to no one. Called before the volunteer is deleted.
	OnVolunteerRemoved func(ctx context.Context, volunteerID string) error
	Audit              audit.Recorder
	Now                func() time.Time
}

// Directory is the staff roster as people manage it: add, list and remove organizers and
// volunteers, and tell who a token belongs to.
type Directory struct {
	cfg DirectoryConfig
}

// NewDirectory returns a Directory.
func NewDirectory(cfg DirectoryConfig) *Directory {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Audit == nil {
		cfg.Audit = audit.Nop{}
	}
	return &Directory{cfg: cfg}
}

// RootActor is the actor id of the administrator's token.
const RootActor = "admin"

// ErrUnauthorized means the token is missing or wrong.
var ErrUnauthorized = errors.New("missing or wrong token")

// HasRoot reports whether an administrator's token is configured (the admin API exists).
func (d *Directory) HasRoot() bool { return d.cfg.RootToken != "" }

// IsRoot reports whether token is the administrator's, in constant time.
func (d *Directory) IsRoot(token string) bool {
	return d.cfg.RootToken != "" && subtle.ConstantTimeCompare([]byte(token), []byte(d.cfg.RootToken)) == 1
}

// Authenticate returns the organizer a token belongs to (RootActor for the administrator).
func (d *Directory) Authenticate(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", ErrUnauthorized
	}
	if d.IsRoot(token) {
		return RootActor, nil
	}
	// Tokens are looked up by their hash, so neither the stored value nor the lookup's
	// timing reveals a token.
	id, err := d.cfg.Store.OrganizerByToken(ctx, hashToken(token))
	if errors.Is(err, hotline.ErrNotFound) {
		return "", ErrUnauthorized
	}
	return id, err
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// checkPerson validates what every person on the roster has: a name and a phone that no one
// on the roster has in another role (a phone's texts are read as one role's commands).
func (d *Directory) checkPerson(ctx context.Context, name, phone, otherRole string, other func(context.Context, string) (string, error)) error {
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return &hotline.InvalidError{Msg: "name is required (at most 100 characters)"}
	}
	if !hotline.ValidE164(phone) {
		return &hotline.InvalidError{Msg: "phone must be in E.164 form, like +15055550100"}
	}
	if _, err := other(ctx, d.cfg.Keys.MemberID(hotline.SMS, phone)); err == nil {
		return &hotline.InvalidError{Msg: "that phone is " + otherRole + "'s; one phone can have one role"}
	}
	return nil
}

// changed tells the roster and the audit log of a change.
func (d *Directory) changed(ctx context.Context, by audit.Actor, action, object, detail string) {
	if d.cfg.Roster != nil {
		d.cfg.Roster.Changed()
	}
	d.cfg.Audit.Record(ctx, by.Entry(action, object, detail))
}

// AddOrganizer creates an organizer and returns their token, which is shown only now.
func (d *Directory) AddOrganizer(ctx context.Context, by audit.Actor, name, phone, lang string) (OrganizerView, error) {
	name, phone = strings.TrimSpace(name), strings.TrimSpace(phone)
	if lang == "" {
		lang = d.cfg.Languages[0]
	}
	if !slices.Contains(d.cfg.Languages, lang) {
		return OrganizerView{}, &hotline.InvalidError{Msg: fmt.Sprintf("lang must be one of %s", strings.Join(d.cfg.Languages, ", "))}
	}
	if err := d.checkPerson(ctx, name, phone, "a volunteer", d.cfg.Store.VolunteerByPhone); err != nil {
		return OrganizerView{}, err
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	token := "hot_" + base64.RawURLEncoding.EncodeToString(raw)
	id := hotline.NewID()
	rec := hotline.OrganizerRecord{
		ID: id, Name: name, SealedPhone: d.cfg.Keys.Seal([]byte(phone), privacy.OrganizerPhone(id)),
		PhoneID: d.cfg.Keys.MemberID(hotline.SMS, phone), TokenHash: hashToken(token), Lang: lang, CreatedAt: d.cfg.Now(),
	}
	if err := d.cfg.Store.CreateOrganizer(ctx, rec); err != nil {
		if errors.Is(err, hotline.ErrDuplicate) {
			return OrganizerView{}, &hotline.InvalidError{Msg: "an organizer with that phone exists already"}
		}
		return OrganizerView{}, err
	}
	d.changed(ctx, by, "roster.add", "organizer "+id, name)
	return OrganizerView{ID: id, Name: name, Phone: hotline.MaskPhone(phone), Lang: lang, CreatedAt: rec.CreatedAt.UTC(), Token: token}, nil
}

// Organizers lists the organizers, phones masked, by name.
func (d *Directory) Organizers(ctx context.Context) ([]OrganizerView, error) {
	recs, err := d.cfg.Store.Organizers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]OrganizerView, 0, len(recs))
	for _, r := range recs {
		out = append(out, OrganizerView{ID: r.ID, Name: r.Name, Phone: d.masked(r.SealedPhone, privacy.OrganizerPhone(r.ID)), Lang: r.Lang,
			WhatsApp: r.WhatsAppID != "", CreatedAt: r.CreatedAt})
	}
	slices.SortFunc(out, func(a, b OrganizerView) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// masked opens a sealed phone and masks it; one that cannot be opened (a key rotated away)
// says so rather than fail the whole list.
func (d *Directory) masked(sealed, sealedFor []byte) string {
	p, err := d.cfg.Keys.Open(sealed, sealedFor)
	if err != nil {
		return "(unreadable)"
	}
	return hotline.MaskPhone(string(p))
}

// RemoveOrganizer deletes an organizer; their token stops working at once.
func (d *Directory) RemoveOrganizer(ctx context.Context, by audit.Actor, id string) error {
	o, err := d.cfg.Store.Organizer(ctx, id)
	if err != nil {
		return err
	}
	err = d.cfg.Store.DeleteOrganizer(ctx, id)
	if errors.Is(err, hotline.ErrNotFound) {
		return hotline.ErrNotFound
	}
	if err != nil {
		return err
	}
	d.changed(ctx, by, "roster.remove", "organizer "+id, o.Name)
	return nil
}

// AddVolunteer adds a volunteer to the roster (off call until they text ON/ACTIVO).
func (d *Directory) AddVolunteer(ctx context.Context, by audit.Actor, name, phone string, langs []string) (VolunteerView, error) {
	name, phone = strings.TrimSpace(name), strings.TrimSpace(phone)
	if err := d.checkPerson(ctx, name, phone, "an organizer", d.cfg.Store.OrganizerByPhone); err != nil {
		return VolunteerView{}, err
	}
	if len(langs) == 0 {
		return VolunteerView{}, &hotline.InvalidError{Msg: fmt.Sprintf("languages is required: one or more of %s", strings.Join(d.cfg.Languages, ", "))}
	}
	for _, l := range langs {
		if !slices.Contains(d.cfg.Languages, l) {
			return VolunteerView{}, &hotline.InvalidError{Msg: fmt.Sprintf("languages: %q is not one of %s", l, strings.Join(d.cfg.Languages, ", "))}
		}
	}
	id := hotline.NewID()
	rec := hotline.VolunteerRecord{ID: id, Name: name, SealedPhone: d.cfg.Keys.Seal([]byte(phone), privacy.VolunteerPhone(id)),
		PhoneID: d.cfg.Keys.MemberID(hotline.SMS, phone), Langs: langs, CreatedAt: d.cfg.Now()}
	if err := d.cfg.Store.CreateVolunteer(ctx, rec); err != nil {
		if errors.Is(err, hotline.ErrDuplicate) {
			return VolunteerView{}, &hotline.InvalidError{Msg: "a volunteer with that phone exists already"}
		}
		return VolunteerView{}, err
	}
	d.changed(ctx, by, "roster.add", "volunteer "+id, name)
	return VolunteerView{ID: id, Name: name, Phone: hotline.MaskPhone(phone), Languages: langs, CreatedAt: rec.CreatedAt.UTC()}, nil
}

// Volunteers lists the volunteers, phones masked, by name.
func (d *Directory) Volunteers(ctx context.Context) ([]VolunteerView, error) {
	recs, err := d.cfg.Store.Volunteers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]VolunteerView, 0, len(recs))
	for _, r := range recs {
		out = append(out, VolunteerView{ID: r.ID, Name: r.Name, Phone: d.masked(r.SealedPhone, privacy.VolunteerPhone(r.ID)), Languages: r.Langs,
			OnCall: r.OnCall, WhatsApp: r.WhatsAppID != "", CreatedAt: r.CreatedAt})
	}
	slices.SortFunc(out, func(a, b VolunteerView) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// RemoveVolunteer takes a volunteer off the roster; their cases go back to everyone first.
func (d *Directory) RemoveVolunteer(ctx context.Context, by audit.Actor, id string) error {
	v, err := d.cfg.Store.Volunteer(ctx, id)
	if err != nil {
		return err
	}
	if d.cfg.OnVolunteerRemoved != nil {
		if err := d.cfg.OnVolunteerRemoved(ctx, id); err != nil {
			return err
		}
	}
	err = d.cfg.Store.DeleteVolunteer(ctx, id)
	if errors.Is(err, hotline.ErrNotFound) {
		return hotline.ErrNotFound
	}
	if err != nil {
		return err
	}
	d.changed(ctx, by, "roster.remove", "volunteer "+id, v.Name)
	return nil
}

// LinkWhatsApp links the WhatsApp address with member id waID to p's phone, so that p's
// WhatsApp messages reach their commands as their SMS do. p proved they hold the phone by
// typing on WhatsApp a code texted to it (Linker): the change is theirs, made by SMS. It
// returns hotline.ErrNotFound when p is no longer on the team.
func (d *Directory) LinkWhatsApp(ctx context.Context, p Person, waID string) error {
	role, id, _ := strings.Cut(p.Actor, ":")
	if err := d.setWhatsApp(ctx, role, id, waID); err != nil {
		return err
	}
	by := audit.Actor{ID: p.Actor, Name: p.Name, Via: audit.ViaSMS}
	d.changed(ctx, by, "roster.whatsapp", role+" "+id, p.Name+": linked WhatsApp")
	return nil
}

// UnlinkWhatsApp unlinks the WhatsApp address of the person of role (RoleOrganizer or
// RoleVolunteer) and id: their WhatsApp messages are a member's again until they link it
// anew. It returns hotline.ErrNotFound when there is no such person.
func (d *Directory) UnlinkWhatsApp(ctx context.Context, by audit.Actor, role, id string) error {
	var name string
	switch role {
	case RoleOrganizer:
		o, err := d.cfg.Store.Organizer(ctx, id)
		if err != nil {
			return err
		}
		name = o.Name
	case RoleVolunteer:
		v, err := d.cfg.Store.Volunteer(ctx, id)
		if err != nil {
			return err
		}
		name = v.Name
	}
	if err := d.setWhatsApp(ctx, role, id, ""); err != nil {
		return err
	}
	d.changed(ctx, by, "roster.whatsapp", role+" "+id, name+": unlinked WhatsApp")
	return nil
}

func (d *Directory) setWhatsApp(ctx context.Context, role, id, waID string) error {
	switch role {
	case RoleOrganizer:
		return d.cfg.Store.SetOrganizerWhatsApp(ctx, id, waID)
	case RoleVolunteer:
		return d.cfg.Store.SetVolunteerWhatsApp(ctx, id, waID)
	}
	return hotline.ErrNotFound
}
