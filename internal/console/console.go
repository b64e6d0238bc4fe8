package console

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/escalation"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/policyedit"
	"github.com/communityhotline/hotline/internal/staff"
)

// SignIn texts codes and checks them (staff.SignIn).
type SignIn interface {
	RequestCode(ctx context.Context, phone, clientAddr string) error
	Verify(ctx context.Context, phone, code, clientAddr string) (staff.Person, error)
	Admin(ctx context.Context, token, clientAddr string) (staff.Person, error)
}

// Sessions starts, finds and ends sessions (staff.Sessions).
type Sessions interface {
	Start(ctx context.Context, p staff.Person) (string, staff.Session, error)
	Lookup(ctx context.Context, cookie string) (staff.Session, error)
	End(ctx context.Context, cookie string) error
}

// Directory is the staff roster as the roster page changes it: the same methods, with the same
// rules and the same audit entries, as the admin API uses (staff.Directory, with
// escalation's on-call switch).
type Directory interface {
	AddOrganizer(ctx context.Context, by audit.Actor, name, phone, lang string) (staff.OrganizerView, error)
	Organizers(ctx context.Context) ([]staff.OrganizerView, error)
	RemoveOrganizer(ctx context.Context, by audit.Actor, id string) error
	AddVolunteer(ctx context.Context, by audit.Actor, name, phone string, langs []string) (staff.VolunteerView, error)
	Volunteers(ctx context.Context) ([]staff.VolunteerView, error)
	RemoveVolunteer(ctx context.Context, by audit.Actor, id string) error
	// SetOnCall does what texting ON or OFF does (escalation.Service.SetOnCall).
	SetOnCall(ctx context.Context, volunteerID string, on bool) error
	// UnlinkWhatsApp unlinks a person's WhatsApp address (role staff.RoleOrganizer or
	// staff.RoleVolunteer); they may link it again with a code sent by SMS.
	UnlinkWhatsApp(ctx context.Context, by audit.Actor, role, id string) error
}

// AuditLog records staff actions and reads them back (audit.Log).
type AuditLog interface {
	audit.Recorder
	Recent(ctx context.Context, limit int) ([]audit.Entry, error)
}

// Stats gathers the overview's counts (wired in internal/app). It returns counts only: no
// member's number, id or words.
type Stats interface {
	Overview(ctx context.Context) (Overview, error)
}

// Overview is what the overview page shows.
type Overview struct {
	// MessagesIn and MessagesOut are today's.
	MessagesIn, MessagesOut int64
	// Cases are the cases not closed, urgent first, then oldest first.
	Cases []CaseAge
	// Broadcasts are those awaiting approval or sending.
	Broadcasts []BroadcastProgress
	// QueueDepth is how many sends wait in the queue.
	QueueDepth int64
	// Subscribers are counts per area and language.
	Subscribers []AreaCount
}

// CaseAge is a case as the overview counts it.
type CaseAge struct {
	N       int64
	Kind    string // "person" or "report"
	Urgent  bool
	Claimed bool
	Age     time.Duration
}

// BroadcastProgress is a broadcast in progress.
type BroadcastProgress struct {
	ID, Status                      string
	Recipients, Sent, Failed, Queue int64
}

// AreaCount is how many members take alerts for one area in one language.
type AreaCount struct {
	Area, Lang string
	N          int64
}

// PolicyCheck is when a policy entry was last checked against its source (YYYY-MM-DD).
type PolicyCheck struct {
	ID, Checked string
}

// Cases are the cases and reports pages' service (escalation.Service): the same claim, relay,
// close and verdict, with the same checks and audit entries, as a volunteer's SMS commands.
type Cases interface {
	ListCases(ctx context.Context, lang string) ([]escalation.CaseSummary, error)
	CaseDetail(ctx context.Context, n int64, lang string) (escalation.CaseDetail, error)
	Claim(ctx context.Context, v hotline.VolunteerRecord, n int64, via string) (escalation.Result, error)
	Reply(ctx context.Context, v hotline.VolunteerRecord, n int64, text string) (escalation.Result, error)
	Close(ctx context.Context, v hotline.VolunteerRecord, n int64, via string) (escalation.Result, error)
	// CloseUnclaimed is an organizer closing a request nobody claimed.
	CloseUnclaimed(ctx context.Context, by audit.Actor, n int64) (escalation.Result, error)
	Verdict(ctx context.Context, v hotline.VolunteerRecord, n int64, verified bool, note, via string) (escalation.Result, error)
}

// Volunteers finds a signed-in volunteer's roster record by their phone's id (staff.Roster).
type Volunteers interface {
	Volunteer(ctx context.Context, phoneID string) (hotline.VolunteerRecord, bool, error)
}

// Broadcasts is the broadcast service as the broadcasts pages use it (broadcast.Service):
// every rule (who may approve, what each state allows, who is told) is decided there, for
// every channel; the pages only show its answers.
type Broadcasts interface {
	Create(ctx context.Context, by audit.Actor, d broadcast.Draft) (hotline.Broadcast, broadcast.Preview, error)
	Preview(ctx context.Context, b hotline.Broadcast) (broadcast.Preview, error)
	Get(ctx context.Context, id string) (hotline.Broadcast, error)
	List(ctx context.Context) ([]hotline.Broadcast, error)
	Send(ctx context.Context, id string, by audit.Actor) (hotline.Broadcast, error)
	Approve(ctx context.Context, id string, by audit.Actor) (hotline.Broadcast, error)
	Cancel(ctx context.Context, id string, by audit.Actor) error
	Discard(ctx context.Context, id string, by audit.Actor) error
	Approvals() bool
	AreaLabel(id, lang string) string
	CostPerSegment() float64
	GSM() bool
}

// Simulator is the simulator page's sandbox (app.Sandbox): the real flows and messages for
// sandbox members kept apart from members (keys of its own, no effects, nothing sent, nothing
// counted), and the log of each simulator conversation, kept a day.
type Simulator interface {
	// Answer is what the hotline would reply to in, as sent (sandbox.Answer).
	Answer(ctx context.Context, in hotline.Inbound) (hotline.Reply, error)
	// Append adds lines to conversation convo's log.
	Append(ctx context.Context, convo string, lines ...SimLine) error
	// Lines returns convo's log, oldest first; none when it is unknown or forgotten.
	Lines(ctx context.Context, convo string) ([]SimLine, error)
}

// SimLine is one message of a simulator conversation.
type SimLine struct {
	// Member is true for what was written as the sandbox member, false for the hotline's reply.
	Member bool   `json:"m,omitempty"`
	Text   string `json:"t"`
	// Channel is the channel a reply was given on ("" for SMS, as before channels were
	// chosen), and Keys the keys a call would then listen for.
	Channel hotline.Channel  `json:"c,omitempty"`
	Keys    []hotline.Option `json:"k,omitempty"`
}

// Policy is the organizers' corrections of county and city entries (policyedit.Service): the
// same rules, change log and audit entries whatever the channel.
type Policy interface {
	Entries(ctx context.Context) ([]policyedit.Entry, error)
	Entry(ctx context.Context, id string) (policyedit.Entry, error)
	Edit(ctx context.Context, actor policyedit.Actor, id string, ch policyedit.Change) (policyedit.Entry, error)
	MarkChecked(ctx context.Context, actor policyedit.Actor, id string) (policyedit.Entry, error)
	Changes(ctx context.Context, limit int) ([]policyedit.ChangeRecord, error)
	ExportTOML(ctx context.Context) ([]byte, error)
}

// Config holds the console's dependencies.
type Config struct {
	SignIn    SignIn
	Sessions  Sessions
	Directory Directory
	Audit     AuditLog
	Stats     Stats
	// Broadcasts and Subscribers serve the broadcasts pages. Subscribers counts members per
	// language and area (language → area → count): counts only, for the area picker.
	Broadcasts  Broadcasts
	Subscribers func(ctx context.Context) (map[string]map[string]int64, error)
	// Simulator is the simulator page's sandbox.
	Simulator Simulator
	// GSM is HOTLINE_SMS_ENCODING=GSM: replies are sent in GSM-7, accents taken out.
	GSM bool
	// Policies lists the policy entries with their checked dates, for the overview's stale count.
	Policies func(ctx context.Context) ([]PolicyCheck, error)
	// Policy is the policy page's service.
	Policy Policy
	// StaleDays is how old a check may be before the overview counts the entry (0: 60).
	StaleDays int
	// Languages are the hotline's languages, the first the default.
	Languages []string
	// Messages holds console.<lang>.toml (locales.FS).
	Messages fs.FS
	// Program is the hotline's name, shown in the header.
	Program string
	// Secure marks the session cookie Secure (PUBLIC_URL is https).
	Secure bool
	// ClientIPHeader names the header in which the proxy in front gives the client's address
	// (HOTLINE_CLIENT_IP_HEADER, "Fly-Client-IP" on Fly.io); empty: the connection's.
	ClientIPHeader string
	Log            *slog.Logger
	// Cases and Volunteers serve the cases and reports pages; Location is the zone their
	// times are shown in (nil: UTC).
	Cases      Cases
	Volunteers Volunteers
	Location   *time.Location
	// Now is the clock; tests inject one.
	Now func() time.Time
}

// server is the console: its config, messages and templates.
type server struct {
	cfg   Config
	msgs  *Messages
	pages *pages
	cop   *http.CrossOriginProtection
}

// New returns the console's handler, to be mounted at /console/.
func New(cfg Config) (http.Handler, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StaleDays <= 0 {
		cfg.StaleDays = 60
	}
	if len(cfg.Languages) == 0 {
		return nil, fmt.Errorf("console: no languages")
	}
	msgs, err := LoadMessages(cfg.Messages, cfg.Languages)
	if err != nil {
		return nil, err
	}
	pg, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, msgs: msgs, pages: pg, cop: http.NewCrossOriginProtection()}
	s.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.forbidden(w, r, s.newRequest(r, nil))
	}))
	mux := http.NewServeMux()
	s.addRoutes(mux)
	return secureHeaders(s.cop.Handler(mux)), nil
}
