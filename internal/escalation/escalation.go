// Package escalation connects members with volunteers without either seeing the other's
// number: it opens cases, pages the volunteers on call who speak the member's language
// (every one for urgent words), gives a case to the first who claims it, relays messages
// both ways through the hotline's number, re-pages cases nobody claimed, and turns a
// verified report into an alert draft for the organizers.
package escalation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/effects"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/fold"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/staff"
)

// Members is what escalation needs of the member engine.
type Members interface {
	State(ctx context.Context, id string) (flow.State, error)
	Update(ctx context.Context, id string, change func(st *flow.State) bool) error
	// Create gives a member with no state one (bot.Members.Create).
	Create(ctx context.Context, id string, st flow.State) error
}

// Config holds a Service's dependencies and settings.
type Config struct {
	Store    Store
	Keys     *privacy.Keys
	Members  Members
	Sender   hotline.Sender
	Renderer flow.Renderer
	// Channels, when set, render what members on another channel than SMS are sent (render.Set);
	// staff's messages are always Renderer's.
	Channels interface {
		Render(ch hotline.Channel, lang string, replies []flow.Reply) ([]string, error)
	}
	Broadcasts *broadcast.Service
	Languages  []string
	// Timeout is how long a case may wait unclaimed before everyone on call, and the
	// organizers, are paged.
	Timeout time.Duration
	// Retention is how long a closed case's transcript is kept.
	Retention time.Duration
	// ShowNames tells members the claiming volunteer's first name; otherwise "a volunteer".
	ShowNames bool
	Log       *slog.Logger
	Now       func() time.Time
	// OnClaim, when set, is told how long each case waited to be claimed, for metrics.
	OnClaim func(wait time.Duration)
	// Roster lists the organizers for notices, from memory; nil reads one of its own from Store.
	Roster Roster
	// Audit keeps the staff action log (claims, closes, report verdicts); nil keeps none.
	Audit audit.Recorder
	// Location is the hotline's time zone, in which drafts name a report's time; nil is
	// America/Denver.
	Location *time.Location
}

// Service runs cases and volunteers.
type Service struct {
	cfg Config
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 7 * 24 * time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Roster == nil {
		cfg.Roster = staff.New(staff.Config{Source: cfg.Store, Log: cfg.Log, Now: cfg.Now})
	}
	if cfg.Audit == nil {
		cfg.Audit = audit.Nop{}
	}
	if cfg.Location == nil {
		cfg.Location = loadZone()
	}
	return &Service{cfg: cfg}
}

// MessageIDs are the messages this package renders itself: to members, to volunteers and
// organizers (StaffMessageIDs), and the alert draft a verified report becomes
// (DraftMessageIDs).
var MessageIDs = slices.Concat([]string{"case_nobody", "case_joined", "case_closed", "case_closed_unclaimed", "case_waiting"}, DraftMessageIDs, StaffMessageIDs)

// DraftMessageIDs are the messages that become alert drafts, which an organizer reviews (the
// preview shows their cost) before any member gets them.
var DraftMessageIDs = []string{"report_alert", "report_time", "months_short", "clock_hours"}

// StaffMessageIDs are the messages for volunteers and organizers.
var StaffMessageIDs = []string{
	"vol_help", "vol_page", "vol_on", "vol_off", "vol_claimed", "vol_taken", "vol_no_case", "vol_closed",
	"vol_cases", "vol_which", "vol_from_member", "vol_verified", "vol_false", "org_report_draft", "org_case_unclaimed", "org_case_urgent",
	"vol_verified_no_area", "org_report_no_area", "vol_claimed_report", "vol_claim_first", "vol_report_no_relay", "vol_member_left", "vol_member_menu",
	CallerNoTexts,
	"urgent_safety", "urgent_situation_home", "urgent_situation_detained", "urgent_situation_checkpoint",
	"urgent_situation_work", "urgent_situation_street",
}

// HandleJob carries out the case effects of a member's message (effects.Handler): opening a
// case, making it urgent, relaying what the member wrote to it, closing it when they leave,
// erasing them. It does Redis work only; what must be sent (pages, relays, notices) goes to
// out, which keeps it for after the member's reply. The member's address (job.From) is kept
// sealed in a case only while the case is open. It returns the job's replies with what the
// member must also be told, or told instead. Run again for the same job, it changes nothing
// more and sends the same messages (docs/durable-effects.md).
func (s *Service) HandleJob(ctx context.Context, job effects.Job, out hotline.Sender) ([]flow.Reply, error) {
	var errs []error
	// What the member is told goes into the reply to the message they just sent: it arrives
	// with it, in order, and costs no message of its own.
	r := &jobRun{s: s, job: job, out: out, reply: slices.Clone(job.Replies)}
	if r.lang() == "" {
		return job.Replies, errors.New("no language to open a case in")
	}
	// Danger words first: a member told the case is now urgent needs no "your message is
	// with the volunteers" on top.
	answered := false
	for _, e := range job.Effects {
		if u, ok := e.(actions.UrgentCase); ok {
			a, err := r.escalate(ctx, u)
			answered = answered || a
			errs = append(errs, err)
		}
	}
	for _, e := range job.Effects {
		switch e := e.(type) {
		case actions.OpenCase:
			errs = append(errs, r.open(ctx, e))
		case flow.Relay:
			errs = append(errs, r.relayFromMember(ctx, e, answered))
		case actions.EraseMember:
			errs = append(errs, s.forget(ctx, job.Member, job.Msg))
		case actions.LeftCase:
			errs = append(errs, r.memberLeft(ctx, e))
		}
	}
	return r.reply, errors.Join(errs...)
}

// jobRun is one run of a member message's job.
type jobRun struct {
	s     *Service
	job   effects.Job
	out   hotline.Sender
	reply []flow.Reply
}

func (r *jobRun) lang() string {
	if r.job.Lang != "" {
		return r.job.Lang
	}
	if len(r.s.cfg.Languages) > 0 {
		return r.s.cfg.Languages[0]
	}
	return ""
}

// open opens the case a member asked for (or a report) — once per message, however often the
// job runs — pages the volunteers, and adds to the reply what the member is told.
func (r *jobRun) open(ctx context.Context, oc actions.OpenCase) error {
	s, memberID := r.s, r.job.Member
	opened := time.Unix(r.job.At, 0)
	if r.job.At == 0 {
		opened = s.cfg.Now()
	}
	first := oc.Text
	if oc.Kind == "report" {
		first = fmt.Sprintf("%s | %s | %s", oc.Report["what"], oc.Report["where"], oc.Report["when"])
	}
	rec := hotline.CaseRecord{
		Member: memberID, Lang: r.lang(), Area: oc.Area, Kind: oc.Kind, Urgent: oc.Urgent, Situation: oc.Situation, Opened: opened,
	}
	// A caller is written to only once they say yes (AllowTexts): a call's case has no
	// address until then.
	if r.job.Channel != hotline.Voice {
		rec.SealedAddress = s.cfg.Keys.Seal([]byte(r.job.From), privacy.CaseAddress(memberID))
	} else {
		rec.Channel = hotline.Voice
		if strings.Trim(first, "0123456789*#") == "" {
			first = "" // a key pressed ("4", a person) is no words to show a volunteer
		}
	}
	// The first line is sealed to the case's number, known only once it is numbered: it is
	// written by a second call, once per job.
	n, err := s.cfg.Store.OpenCaseOnce(ctx, rec, opened.Add(s.cfg.Timeout), r.job.Token(), nil)
	if err != nil {
		return err
	}
	if first != "" {
		if err := s.transcriptOnce(ctx, n, r.job.Token(), "member", first); err != nil {
			return err
		}
	}
	c, err := s.cfg.Store.Case(ctx, n)
	if err != nil {
		return err
	}
	switch c.Status {
	case hotline.CaseClosed:
		return nil // a volunteer closed it before this run: nothing to page
	case hotline.CaseClaimed:
		return s.join(ctx, memberID, n) // claimed before this run: no page needed
	}
	langs := []string{c.Lang}
	if oc.Urgent {
		langs = s.cfg.Languages
	}
	paged, err := s.page(ctx, r.out, c, first, langs)
	if err != nil {
		return err
	}
	if oc.Urgent {
		s.tellOrganizersUrgent(ctx, r.out, n, paged)
	}
	if oc.Kind != "person" {
		return nil
	}
	if paged == 0 {
		// Nobody to talk to now: say so, instead of the step's "we are finding a volunteer;
		// if no one replies in 10 minutes we will alert more people", which would say the
		// opposite in the same SMS. The member joins the case all the same, so what they
		// write next is kept for whoever claims it (it is re-paged) rather than read as a
		// menu choice; MENU takes them out of it.
		r.reply = replaceReply(r.reply, OpenedMessage, flow.Reply{ID: "case_nobody"})
		if oc.Urgent {
			// An emergency's advice ends "we are finding a volunteer", which case_nobody,
			// said next, would contradict: the advice is said without it.
			r.reply = markNobody(r.reply, actions.UrgentReply(oc.Situation))
		}
	}
	return s.join(ctx, memberID, n)
}

// markNobody sets, on the reply whose message is id, the flag that leaves out its promise of a
// volunteer being found.
func markNobody(replies []flow.Reply, id string) []flow.Reply {
	out := slices.Clone(replies)
	for i, r := range out {
		if r.ID == id {
			data := maps.Clone(r.Data)
			if data == nil {
				data = map[string]string{}
			}
			data["Nobody"] = "1"
			out[i].Data = data
		}
	}
	return out
}

// OpenedMessage is the person flow's answer to a new request (flows/person.toml, node ask):
// it says volunteers are being paged, so with nobody on call case_nobody stands in its place.
const OpenedMessage = "case_opened"

// replaceReply puts with in the place of the reply whose message is id, or after the others
// when there is none (a flow that says something else still gets the news).
func replaceReply(replies []flow.Reply, id string, with flow.Reply) []flow.Reply {
	out := slices.Clone(replies)
	if i := slices.IndexFunc(out, func(r flow.Reply) bool { return r.ID == id }); i >= 0 {
		out[i] = with
		return out
	}
	return append(out, with)
}

// escalate answers danger words from a member in case u.Case, and reports whether it
// answered the member. While nobody has claimed the case it becomes urgent, once: the member
// gets the rights for that moment, every volunteer on call is paged and the organizers are
// told. A claimed case's volunteer has the words already, relayed, and the member is talking
// with them: nothing more is said. A case that ended as the member wrote (a volunteer closed
// it) must not swallow the words: an urgent case is opened instead.
func (r *jobRun) escalate(ctx context.Context, u actions.UrgentCase) (bool, error) {
	s, memberID := r.s, r.job.Member
	c, err := s.cfg.Store.Case(ctx, u.Case)
	if errors.Is(err, hotline.ErrNotFound) || (err == nil && (c.Member != memberID || (c.Status == hotline.CaseClosed && c.ClosedBy != r.job.Token()))) {
		r.reply = append(r.reply, flow.Reply{ID: actions.UrgentReply(u.Situation)})
		return true, r.open(ctx, actions.OpenCase{Kind: "person", Urgent: true, Text: u.Text, Situation: u.Situation})
	}
	if err != nil {
		return false, err
	}
	changed, err := s.cfg.Store.MarkUrgent(ctx, u.Case, u.Situation, r.job.Token())
	if err != nil || !changed || c.Status != hotline.CaseOpen {
		return false, err
	}
	r.reply = append(r.reply, flow.Reply{ID: actions.UrgentReply(u.Situation)})
	// It says a volunteer is being found: it counts as telling the member their words wait.
	s.cfg.Store.AckWaiting(ctx, c.N, s.cfg.Now(), 0)
	c.Urgent, c.Situation = true, u.Situation
	paged, err := s.page(ctx, r.out, c, u.Text, s.cfg.Languages)
	if err != nil {
		return true, err
	}
	s.tellOrganizersUrgent(ctx, r.out, c.N, paged)
	return true, nil
}

// tellOrganizersUrgent tells the organizers that case n is urgent, and how many volunteers
// were paged: none on call at night is what they most need to know.
func (s *Service) tellOrganizersUrgent(ctx context.Context, out hotline.Sender, n int64, paged int) {
	s.tellOrganizers(ctx, out, "org_case_urgent", func(string) map[string]string {
		return map[string]string{"N": strconv.FormatInt(n, 10), "Paged": strconv.Itoa(paged), "Nobody": flag(paged == 0)}
	})
}

// join puts a member in case n: from now on their messages go to it.
func (s *Service) join(ctx context.Context, memberID string, n int64) error {
	err := s.cfg.Members.Update(ctx, memberID, func(st *flow.State) bool {
		if st.Case == n || st.OptedOut {
			return false
		}
		st.Case = n
		return true
	})
	if errors.Is(err, hotline.ErrNotFound) {
		return nil // erased meanwhile: there is no one to join
	}
	return err
}

// memberLeft closes the case a member left (by opting out, or for the menus: one open
// request at a time, so that a member's words never split between two volunteers), and
// tells its volunteer which.
func (r *jobRun) memberLeft(ctx context.Context, left actions.LeftCase) error {
	s, n := r.s, left.Case
	c, err := s.cfg.Store.Case(ctx, n)
	if errors.Is(err, hotline.ErrNotFound) || (err == nil && (c.Member != r.job.Member || (c.Status == hotline.CaseClosed && c.ClosedBy != r.job.Token()))) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.Status != hotline.CaseClosed {
		if err := s.cfg.Store.CloseCaseBy(ctx, n, "", r.job.Token(), s.cfg.Now(), s.cfg.Retention); err != nil {
			return err
		}
	}
	if c.Volunteer != "" {
		v, err := s.cfg.Store.Volunteer(ctx, c.Volunteer)
		if errors.Is(err, hotline.ErrNotFound) {
			return nil // removed from the roster since: nobody to tell
		}
		if err != nil {
			return err
		}
		msg := "vol_member_menu"
		if left.OptedOut {
			msg = "vol_member_left"
		}
		s.toVolunteer(ctx, r.out, v, msg, map[string]string{"N": strconv.FormatInt(n, 10)})
	}
	return nil
}

// forget erases a member: their cases, open or closed, with transcripts, every key of their
// own, and any job of theirs still waiting (it would bring back what is erased). The
// subscription lists were already emptied by the engine when the state lost its areas.
// msg is the erasure's own message, whose job this is.
func (s *Service) forget(ctx context.Context, memberID, msg string) error {
	if err := s.cfg.Store.DropMemberJobs(ctx, memberID, msg); err != nil {
		return err
	}
	ns, err := s.cfg.Store.MemberCases(ctx, memberID)
	if err != nil {
		return err
	}
	// Open cases from before the member's list of cases existed are found in the index.
	open, err := s.cfg.Store.OpenCases(ctx)
	if err != nil {
		return err
	}
	for _, c := range open {
		if c.Member == memberID && !slices.Contains(ns, c.N) {
			ns = append(ns, c.N)
		}
	}
	for _, n := range ns {
		c, err := s.cfg.Store.Case(ctx, n)
		if errors.Is(err, hotline.ErrNotFound) || (err == nil && c.Member != memberID) {
			continue // gone with its retention (or not theirs)
		}
		if err != nil {
			return err
		}
		if err := s.cfg.Store.DeleteCase(ctx, n); err != nil {
			return err
		}
	}
	if err := s.cfg.Store.ForgetRecipient(ctx, memberID); err != nil {
		return err
	}
	return s.cfg.Store.Erase(ctx, memberID)
}

// page texts the case to the on-call volunteers speaking one of langs, through out; it
// returns how many.
func (s *Service) page(ctx context.Context, out hotline.Sender, c hotline.CaseRecord, text string, langs []string) (int, error) {
	ids, err := s.cfg.Store.OnCall(ctx, langs...)
	if err != nil {
		return 0, fmt.Errorf("listing volunteers on call: %w", err)
	}
	for _, id := range ids {
		v, err := s.cfg.Store.Volunteer(ctx, id)
		if err != nil {
			continue
		}
		s.toVolunteer(ctx, out, v, "vol_page", s.caseData(c, v.Langs[0], text))
	}
	return len(ids), nil
}

// MaxPageText is how much of a member's words a page quotes, in runes; the volunteer reads the
// rest once they claim the case.
const MaxPageText = 300

func (s *Service) caseData(c hotline.CaseRecord, lang, text string) map[string]string {
	area := ""
	if c.Area != "" && s.cfg.Broadcasts != nil {
		area = s.cfg.Broadcasts.AreaLabel(c.Area, lang)
	}
	if utf8.RuneCountInString(text) > MaxPageText {
		text = string([]rune(text)[:MaxPageText]) + "…"
	}
	return map[string]string{"N": strconv.FormatInt(c.N, 10), "Urgent": flag(c.Urgent), "Lang": s.langName(c.Lang, lang), "Area": area,
		"Report": flag(c.Kind == "report"), "Text": text, "Situation": s.situationLabel(c.Situation, lang),
		"Call": flag(c.Channel == hotline.Voice)}
}

// situationLabel is how a page names a situation in the volunteer's language ("agents at
// home"), or "" when it is not known.
func (s *Service) situationLabel(situation, lang string) string {
	if !slices.Contains(actions.Situations, situation) {
		return ""
	}
	texts, err := s.cfg.Renderer.Render(lang, []flow.Reply{{ID: "urgent_situation_" + situation}})
	if err != nil || len(texts) == 0 {
		return ""
	}
	return texts[0]
}

// LangNameID is the message that names language code ("lang_name_en": "inglés" in Spanish,
// "English" in English): volunteers read language names, not codes.
func LangNameID(code string) string { return "lang_name_" + code }

// langName is language code's name in language in, or the code itself when no message
// names it (`hotline check` makes sure every configured language has one).
func (s *Service) langName(code, in string) string {
	texts, err := s.cfg.Renderer.Render(in, []flow.Reply{{ID: LangNameID(code)}})
	if err != nil || len(texts) != 1 {
		s.cfg.Log.Error("naming a language", "lang", code, "err", err)
		return code
	}
	return texts[0]
}

// relayFromMember passes what a member wrote to their case's volunteer, or keeps it in the
// transcript for whoever claims the case.
func (r *jobRun) relayFromMember(ctx context.Context, rl flow.Relay, quiet bool) error {
	s, memberID := r.s, r.job.Member
	c, err := s.cfg.Store.Case(ctx, rl.Case)
	if err != nil || c.Status == hotline.CaseClosed || c.Member != memberID {
		if err != nil && !errors.Is(err, hotline.ErrNotFound) {
			return err
		}
		// The case is gone: let the member back into the menus.
		err := s.cfg.Members.Update(ctx, memberID, func(st *flow.State) bool {
			if st.Case != rl.Case {
				return false
			}
			st.Case = 0
			return true
		})
		if errors.Is(err, hotline.ErrNotFound) {
			return nil
		}
		return err
	}
	if err := s.transcriptOnce(ctx, c.N, r.job.Token(), "member", rl.Text); err != nil {
		return err
	}
	if c.Status != hotline.CaseClaimed {
		// Kept for whoever claims it; tell the member it is not lost — once in a while,
		// not after every message, unless it is an emergency.
		if quiet {
			return nil
		}
		every := waitingAckEvery
		if c.Urgent {
			// Someone in an emergency waiting for a volunteer is never met with silence.
			every = 0
		}
		if ack, err := s.cfg.Store.AckWaiting(ctx, c.N, s.cfg.Now(), every); err != nil || !ack {
			return err
		}
		r.reply = append(r.reply, flow.Reply{ID: "case_waiting"})
		return nil
	}
	v, err := s.cfg.Store.Volunteer(ctx, c.Volunteer)
	if errors.Is(err, hotline.ErrNotFound) {
		return nil // removed since: the case is re-paged, and the words wait in its transcript
	}
	if err != nil {
		return err
	}
	s.toVolunteer(ctx, r.out, v, "vol_from_member", map[string]string{"N": strconv.FormatInt(c.N, 10), "Text": rl.Text})
	return nil
}

// waitingAckEvery is how often at most a member writing to a case nobody has claimed yet is
// told that their messages wait for a volunteer.
const waitingAckEvery = 10 * time.Minute

// transcriptOnce keeps a member's line in the case's conversation once per job.
func (s *Service) transcriptOnce(ctx context.Context, n int64, token, who, text string) error {
	line := formatLine(who, s.cfg.Now(), text)
	return s.cfg.Store.AppendTranscriptOnce(ctx, n, token, s.cfg.Keys.Seal([]byte(line), privacy.CaseTranscript(n)))
}

// transcript keeps a sealed line of the case's conversation, for volunteers and for review
// during the retention period.
func (s *Service) transcript(ctx context.Context, n int64, who, text string) {
	line := formatLine(who, s.cfg.Now(), text)
	if err := s.cfg.Store.AppendTranscript(ctx, n, s.cfg.Keys.Seal([]byte(line), privacy.CaseTranscript(n))); err != nil {
		s.cfg.Log.Error("saving transcript", "case", n, "err", err)
	}
}

func (s *Service) toVolunteer(ctx context.Context, out hotline.Sender, v hotline.VolunteerRecord, id string, data map[string]string) {
	phone, err := s.cfg.Keys.Open(v.SealedPhone, privacy.VolunteerPhone(v.ID))
	if err != nil {
		s.cfg.Log.Error("volunteer phone unreadable", "vol", v.ID)
		return
	}
	s.send(ctx, out, hotline.Outbound{To: string(phone)}, v.Langs[0], id, data)
}

func (s *Service) toMember(ctx context.Context, c hotline.CaseRecord, id string, data map[string]string) {
	if len(c.SealedAddress) == 0 || !s.reachable(ctx, c.Member) {
		return // a caller who did not agree to texts, or a member who opted out
	}
	addr, err := s.cfg.Keys.Open(c.SealedAddress, privacy.CaseAddress(c.Member))
	if err != nil {
		s.cfg.Log.Error("case address unreadable", "case", c.N)
		return
	}
	s.send(ctx, s.cfg.Sender, hotline.Outbound{To: string(addr), Member: c.Member}, c.Lang, id, data)
}

// send renders message id for the recipient of m and sends it through out.
func (s *Service) send(ctx context.Context, out hotline.Sender, m hotline.Outbound, lang, id string, data map[string]string) {
	var texts []string
	var err error
	if ch := hotline.ChannelOf(m.To); ch != hotline.SMS && s.cfg.Channels != nil && m.Member != "" {
		// A member on WhatsApp reads the notice as WhatsApp writes it (accents kept).
		texts, err = s.cfg.Channels.Render(ch, lang, []flow.Reply{{ID: id, Data: data}})
	} else {
		texts, err = s.cfg.Renderer.Render(lang, []flow.Reply{{ID: id, Data: data}})
	}
	if err != nil {
		s.cfg.Log.Error("rendering", "message_id", id, "err", err)
		return
	}
	for _, t := range texts {
		m.Body = t
		if _, err := out.Send(ctx, m); err != nil {
			s.cfg.Log.Error("sending", "message_id", id, "err", err)
		}
	}
}

// reachable reports whether a member may be written to: never once they have opted out.
func (s *Service) reachable(ctx context.Context, member string) bool {
	st, err := s.cfg.Members.State(ctx, member)
	return err == nil && !st.OptedOut
}

// Command handles one SMS from a volunteer (staff.Router sends them here). A retried webhook gets the earlier answer.
func (s *Service) Command(ctx context.Context, v hotline.VolunteerRecord, in hotline.Inbound) ([]string, error) {
	scope := "vol:" + v.ID
	first, prev, err := s.cfg.Store.ClaimStaffMessage(ctx, scope, in.ID)
	if err != nil {
		return nil, err
	}
	if !first {
		// A retried webhook: answer as before, and do not relay the text a second time.
		if prev == "" {
			return nil, nil
		}
		return []string{prev}, nil
	}
	reply := s.step(ctx, v, in.Text)
	var texts []string
	if reply.ID != "" {
		if texts, err = s.cfg.Renderer.Render(v.Langs[0], []flow.Reply{reply}); err != nil {
			return nil, err
		}
	}
	if err := s.cfg.Store.SaveStaffReply(ctx, scope, in.ID, strings.Join(texts, "\n")); err != nil {
		// What the message did is done; only a retry's copy of the answer is lost.
		s.cfg.Log.Error("saving a volunteer's reply for retries", "vol", v.ID, "err", err)
	}
	return texts, nil
}

// The volunteer commands, folded; each works in either language.
var (
	cmdOn = []string{"on", "activo", "activa"}
	// STOP and its kin take a volunteer off call rather than reach a member: Twilio may
	// block the phone on them, and they are never meant for the member.
	cmdOff    = []string{"off", "inactivo", "inactiva", "stop", "parar", "alto", "cancel", "cancelar", "unsubscribe", "quit", "end", "baja"}
	cmdClaim  = []string{"claim", "tomar"}
	cmdClose  = []string{"close", "cerrar"}
	cmdCases  = []string{"cases", "casos"}
	cmdHelp   = []string{"help", "ayuda"}
	cmdVerify = []string{"verify", "confirmar"}
	cmdFalse  = []string{"false", "falso"}
)

func (s *Service) step(ctx context.Context, v hotline.VolunteerRecord, text string) flow.Reply {
	words := fold.Words(text)
	first, num := "", int64(0)
	if len(words) > 0 {
		first = words[0]
	}
	if len(words) > 1 {
		num, _ = strconv.ParseInt(words[1], 10, 64)
	}
	switch {
	case slices.Contains(cmdOn, first) && len(words) == 1:
		if err := s.setOnCall(ctx, v, true, false); err != nil {
			return s.failed(err)
		}
		return s.onCallReply(v, true)
	case slices.Contains(cmdOff, first) && len(words) == 1:
		if err := s.setOnCall(ctx, v, false, false); err != nil {
			return s.failed(err)
		}
		return s.onCallReply(v, false)
	case slices.Contains(cmdHelp, first) && len(words) == 1:
		return flow.Reply{ID: "vol_help"}
	case slices.Contains(cmdCases, first) && len(words) == 1:
		ns, err := s.cfg.Store.VolunteerCases(ctx, v.ID)
		if err != nil {
			return s.failed(err)
		}
		waiting, err := s.waitingFor(ctx, v)
		if err != nil {
			return s.failed(err)
		}
		waitingNs := make([]int64, len(waiting))
		for i, c := range waiting {
			waitingNs[i] = c.N
		}
		return flow.Reply{ID: "vol_cases", Data: map[string]string{"Cases": caseList(ns), "Waiting": caseList(waitingNs)}}
	case slices.Contains(cmdClaim, first) && num > 0 && len(words) == 2:
		return s.orFailed(s.claim(ctx, v, num, audit.ViaSMS))
	case slices.Contains(cmdClose, first) && num > 0 && len(words) == 2:
		return s.orFailed(s.closeCase(ctx, v, num, "", audit.ViaSMS))
	case (slices.Contains(cmdVerify, first) || slices.Contains(cmdFalse, first)) && num > 0:
		// What follows "VERIFY 7" is the volunteer's note.
		note := strings.Join(strings.Fields(text)[min(2, len(strings.Fields(text))):], " ")
		return s.orFailed(s.verdict(ctx, v, num, slices.Contains(cmdVerify, first), note, audit.ViaSMS))
	}
	// Anything else is a message for a member.
	held, err := s.cfg.Store.VolunteerCases(ctx, v.ID)
	if err != nil {
		return s.failed(err)
	}
	body := strings.TrimSpace(text)
	target := int64(0)
	if strings.HasPrefix(body, "#") {
		numText, rest, _ := strings.Cut(body[1:], " ")
		target, _ = strconv.ParseInt(numText, 10, 64)
		body = strings.TrimSpace(rest)
		if !slices.Contains(held, target) {
			return flow.Reply{ID: "vol_no_case", Data: map[string]string{"N": numText}}
		}
	} else {
		switch len(held) {
		case 0:
			return flow.Reply{ID: "vol_help"}
		case 1:
			target = held[0]
		default:
			return flow.Reply{ID: "vol_which"}
		}
	}
	if body == "" {
		return flow.Reply{ID: "vol_help"}
	}
	return s.orFailed(s.relay(ctx, v, target, body))
}

// relay sends volunteer v's words to the member of case n from the hotline's number and keeps
// them in the transcript: the one path for a reply, texted or typed in the console. Only the
// volunteer holding the case may write to its member.
func (s *Service) relay(ctx context.Context, v hotline.VolunteerRecord, n int64, body string) (flow.Reply, error) {
	data := map[string]string{"N": strconv.FormatInt(n, 10)}
	c, err := s.cfg.Store.Case(ctx, n)
	if errors.Is(err, hotline.ErrNotFound) || (err == nil && (c.Volunteer != v.ID || c.Status != hotline.CaseClaimed)) {
		return flow.Reply{ID: "vol_no_case", Data: data}, nil
	}
	if err != nil {
		return flow.Reply{}, err
	}
	if c.Kind == "report" {
		return flow.Reply{ID: "vol_report_no_relay", Data: data}, nil
	}
	if !s.reachable(ctx, c.Member) {
		return flow.Reply{ID: "vol_member_left", Data: data}, nil
	}
	if len(c.SealedAddress) == 0 {
		return flow.Reply{ID: CallerNoTexts, Data: data}, nil
	}
	addr, err := s.cfg.Keys.Open(c.SealedAddress, privacy.CaseAddress(c.Member))
	if err != nil {
		return flow.Reply{}, fmt.Errorf("opening case %d's address: %w", n, err)
	}
	if _, err := s.cfg.Sender.Send(ctx, hotline.Outbound{To: string(addr), Body: body, Member: c.Member}); err != nil {
		return flow.Reply{}, fmt.Errorf("relaying to case %d: %w", n, err)
	}
	s.transcript(ctx, n, volunteerLine(v.ID), body)
	return flow.Reply{}, nil // relayed; nothing to answer the volunteer
}

// CaseObject names case (or report) n in the audit log.
func CaseObject(kind string, n int64) string {
	if kind == "report" {
		return "report " + strconv.FormatInt(n, 10)
	}
	return "case " + strconv.FormatInt(n, 10)
}

// claim gives case n to volunteer v, who asked through channel via, if nobody has it.
func (s *Service) claim(ctx context.Context, v hotline.VolunteerRecord, n int64, via string) (flow.Reply, error) {
	data := map[string]string{"N": strconv.FormatInt(n, 10)}
	won, holder, err := s.cfg.Store.ClaimCase(ctx, n, v.ID, s.cfg.Now())
	if errors.Is(err, hotline.ErrNotFound) {
		return flow.Reply{ID: "vol_no_case", Data: data}, nil
	}
	if err != nil {
		return flow.Reply{}, err
	}
	if !won && holder != v.ID {
		return flow.Reply{ID: "vol_taken", Data: data}, nil
	}
	c, cerr := s.cfg.Store.Case(ctx, n)
	if won {
		s.cfg.Audit.Record(ctx, audit.Volunteer(v.ID, v.Name, via).Entry("case.claim", CaseObject(c.Kind, n), ""))
		if cerr == nil && s.cfg.OnClaim != nil {
			s.cfg.OnClaim(c.Claimed.Sub(c.Opened))
		}
		// What the member wrote while nobody had the case, so the volunteer starts with it.
		if cerr == nil {
			if lines := s.memberLines(ctx, n); len(lines) > 0 {
				s.toVolunteer(ctx, s.cfg.Sender, v, "vol_from_member", map[string]string{"N": data["N"], "Text": strings.Join(lines, "\n")})
			}
		}
		if cerr == nil && c.Kind == "person" {
			if err := s.join(ctx, c.Member, n); err != nil {
				s.cfg.Log.Error("bringing the member into the case", "case", n, "err", err)
			}
			name := ""
			if s.cfg.ShowNames {
				name, _, _ = strings.Cut(v.Name, " ")
			}
			s.toMember(ctx, c, "case_joined", map[string]string{"Volunteer": name})
		}
	}
	if cerr == nil && c.Kind == "report" {
		return flow.Reply{ID: "vol_claimed_report", Data: data}, nil
	}
	// Holding other cases too, a plain message would be refused as ambiguous: say how to
	// write to this member now rather than after the first refusal.
	if held, err := s.cfg.Store.VolunteerCases(ctx, v.ID); err == nil && slices.ContainsFunc(held, func(h int64) bool { return h != n }) {
		data["Others"] = "1"
	}
	return flow.Reply{ID: "vol_claimed", Data: data}, nil
}

// caseList is case numbers as a volunteer reads them: "#4, #7".
func caseList(ns []int64) string {
	ns = slices.Clone(ns)
	slices.Sort(ns)
	list := make([]string, len(ns))
	for i, n := range ns {
		list[i] = "#" + strconv.FormatInt(n, 10)
	}
	return strings.Join(list, ", ")
}

// waitingFor lists the cases nobody has claimed that volunteer v could take: in one of their
// languages, or urgent (every volunteer is paged for those), at most maxWaitingPages, the
// longest-waiting first, as pageWaiting pages them.
func (s *Service) waitingFor(ctx context.Context, v hotline.VolunteerRecord) ([]hotline.CaseRecord, error) {
	cases, err := s.cfg.Store.OpenCases(ctx)
	if err != nil {
		return nil, err
	}
	var out []hotline.CaseRecord
	for _, c := range cases {
		if c.Status != hotline.CaseOpen || !(c.Urgent || slices.Contains(v.Langs, c.Lang)) {
			continue
		}
		if out = append(out, c); len(out) == maxWaitingPages {
			break
		}
	}
	return out, nil
}

// memberLines returns what the member wrote in case n, in order, opened.
func (s *Service) memberLines(ctx context.Context, n int64) []string {
	sealed, err := s.cfg.Store.Transcript(ctx, n)
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range sealed {
		plain, err := s.cfg.Keys.Open(l, privacy.CaseTranscript(n))
		if err != nil {
			continue
		}
		if l := parseLine(string(plain)); l.Who == SpeakerMember {
			out = append(out, l.Text)
		}
	}
	return out
}

func (s *Service) closeCase(ctx context.Context, v hotline.VolunteerRecord, n int64, verdict, via string) (flow.Reply, error) {
	data := map[string]string{"N": strconv.FormatInt(n, 10)}
	c, err := s.cfg.Store.Case(ctx, n)
	if errors.Is(err, hotline.ErrNotFound) || (err == nil && (c.Volunteer != v.ID || c.Status == hotline.CaseClosed)) {
		return flow.Reply{ID: "vol_no_case", Data: data}, nil
	}
	if err != nil {
		return flow.Reply{}, err
	}
	if err := s.close(ctx, c, verdict, "case_closed", audit.Volunteer(v.ID, v.Name, via)); err != nil {
		return flow.Reply{}, err
	}
	return flow.Reply{ID: "vol_closed", Data: data}, nil
}

// close closes case c for by: a member waiting in it is told (message tell) and goes back to
// the menus; the case keeps its transcript for the retention period.
func (s *Service) close(ctx context.Context, c hotline.CaseRecord, verdict, tell string, by audit.Actor) error {
	if c.Kind == "person" {
		s.toMember(ctx, c, tell, nil)
		if err := s.cfg.Members.Update(ctx, c.Member, func(st *flow.State) bool {
			if st.Case != c.N {
				return false
			}
			st.Case = 0
			return true
		}); err != nil {
			s.cfg.Log.Error("releasing member from case", "case", c.N, "err", err)
		}
	}
	if err := s.cfg.Store.CloseCase(ctx, c.N, verdict, s.cfg.Now(), s.cfg.Retention); err != nil {
		return err
	}
	s.cfg.Audit.Record(ctx, by.Entry("case.close", CaseObject(c.Kind, c.N), verdict))
	return nil
}

// verdict records a volunteer's check of a report, given through channel via. A verified
// report becomes an alert draft for its area, written from the report_alert template; it is
// never sent without an organizer.
//
// note is the volunteer's own words on it: kept, sealed, in the report's transcript (the audit
// entry says only that there is one), never sent to anyone.
func (s *Service) verdict(ctx context.Context, v hotline.VolunteerRecord, n int64, verified bool, note, via string) (flow.Reply, error) {
	data := map[string]string{"N": strconv.FormatInt(n, 10)}
	c, err := s.cfg.Store.Case(ctx, n)
	if errors.Is(err, hotline.ErrNotFound) || (err == nil && (c.Kind != "report" || c.Status == hotline.CaseClosed)) {
		return flow.Reply{ID: "vol_no_case", Data: data}, nil
	}
	if err != nil {
		return flow.Reply{}, err
	}
	// One rule, as the page says: a report is claimed first (TOMAR n), then judged, so that
	// two volunteers never check the same report unknowingly.
	if c.Status == hotline.CaseOpen {
		return flow.Reply{ID: "vol_claim_first", Data: data}, nil
	}
	if c.Volunteer != v.ID {
		return flow.Reply{ID: "vol_taken", Data: data}, nil
	}
	by := audit.Volunteer(v.ID, v.Name, via)
	if note = strings.Join(strings.Fields(note), " "); note != "" {
		s.transcript(ctx, n, volunteerLine(v.ID), note)
	}
	if !verified {
		if err := s.cfg.Store.CloseCase(ctx, n, "false", s.cfg.Now(), s.cfg.Retention); err != nil {
			return flow.Reply{}, err
		}
		s.cfg.Audit.Record(ctx, by.Entry("report.false", CaseObject(c.Kind, n), withNote("", note)))
		return flow.Reply{ID: "vol_false", Data: data}, nil
	}
	if c.Area == "" {
		// Without a known area a draft would go to every subscriber: leave the choice to
		// the organizers instead.
		if err := s.cfg.Store.CloseCase(ctx, n, "verified", s.cfg.Now(), s.cfg.Retention); err != nil {
			return flow.Reply{}, err
		}
		s.cfg.Audit.Record(ctx, by.Entry("report.verify", CaseObject(c.Kind, n), withNote("no area: no draft", note)))
		s.tellOrganizers(ctx, s.cfg.Sender, "org_report_no_area", func(string) map[string]string { return map[string]string{"N": data["N"]} })
		return flow.Reply{ID: "vol_verified_no_area", Data: data}, nil
	}
	alert, err := s.draftTexts(ctx, c)
	if err != nil {
		return flow.Reply{}, err
	}
	b, _, err := s.cfg.Broadcasts.Create(ctx, by, broadcast.Draft{Text: alert, Areas: []string{c.Area}, Report: n})
	if err != nil {
		return flow.Reply{}, err
	}
	if err := s.cfg.Store.CloseCase(ctx, n, "verified", s.cfg.Now(), s.cfg.Retention); err != nil {
		return flow.Reply{}, err
	}
	// The draft's id stays with the report, so the console can link the report to it.
	s.transcript(ctx, n, draftLine(b.ID), "")
	s.cfg.Audit.Record(ctx, by.Entry("report.verify", CaseObject(c.Kind, n), withNote("draft "+b.ID, note)))
	s.tellOrganizers(ctx, s.cfg.Sender, "org_report_draft", func(lang string) map[string]string {
		return map[string]string{"N": data["N"], "ID": b.ID, "Area": s.cfg.Broadcasts.AreaLabel(c.Area, lang),
			"TextES": alert["es"], "TextEN": alert["en"]}
	})
	return flow.Reply{ID: "vol_verified", Data: map[string]string{"N": data["N"], "ID": b.ID}}, nil
}

// MaxQuote is how much of a reporter's words a draft quotes, in runes, so that a draft stays
// a few segments; the volunteer has read them whole.
const MaxQuote = 120

// draftTexts writes the alert a verified report c becomes, in every language: that
// language's template, filled with the area's name there, the report's time in the
// hotline's zone, and the reporter's own words (what, where) quoted as theirs — never passed
// off as a translation. The reporter's "when" is left out: "right now" is wrong by the time
// the alert is read, and the report's time says it better.
func (s *Service) draftTexts(ctx context.Context, c hotline.CaseRecord) (map[string]string, error) {
	what, where, _ := s.reportFields(ctx, c.N)
	alert := map[string]string{}
	for _, lang := range s.cfg.Languages {
		when, err := s.reportTime(c.Opened, lang)
		if err != nil {
			return nil, err
		}
		t, err := s.cfg.Renderer.Render(lang, []flow.Reply{{ID: "report_alert", Data: map[string]string{
			"Area": s.cfg.Broadcasts.AreaLabel(c.Area, lang), "What": quote(what), "Where": quote(where), "Time": when,
		}}})
		if err != nil {
			return nil, fmt.Errorf("writing a report's draft: %w", err)
		}
		alert[lang] = strings.Join(t, "\n")
	}
	return alert, nil
}

// quote trims a reporter's words for a draft: spaces, and at most MaxQuote runes.
func quote(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > MaxQuote {
		s = string([]rune(s)[:MaxQuote]) + "…"
	}
	return s
}

// reportFields reads what, where and when from a report's first transcript line.
func (s *Service) reportFields(ctx context.Context, n int64) (what, where, when string) {
	lines, err := s.cfg.Store.Transcript(ctx, n)
	if err != nil || len(lines) == 0 {
		return "", "", ""
	}
	plain, err := s.cfg.Keys.Open(lines[0], privacy.CaseTranscript(n))
	if err != nil {
		return "", "", ""
	}
	first := parseLine(string(plain)).Text
	parts := strings.SplitN(first, " | ", 3)
	if len(parts) < 3 {
		return first, "", ""
	}
	return parts[0], parts[1], parts[2]
}

func (s *Service) tellOrganizers(ctx context.Context, out hotline.Sender, id string, data func(lang string) map[string]string) {
	recs, err := s.cfg.Roster.Organizers(ctx)
	if err != nil {
		s.cfg.Log.Error("listing organizers", "err", err)
		return
	}
	for _, r := range recs {
		phone, err := s.cfg.Broadcasts.OrganizerPhone(r)
		if err != nil {
			continue
		}
		s.send(ctx, out, hotline.Outbound{To: phone}, r.Lang, id, data(r.Lang))
	}
}

// Run re-pages cases nobody claimed within the timeout — every volunteer on call, whatever
// their language, and the organizers — until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(min(s.cfg.Timeout/4, 15*time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.RepageDue(ctx)
		}
	}
}

// lastWords is the member's last line in case n's transcript, for a page.
func (s *Service) lastWords(ctx context.Context, n int64) string {
	lines := s.memberLines(ctx, n)
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
}

// maxWaitingPages is how many waiting cases a volunteer coming on call is paged for at once:
// the longest-waiting first; the rest come with the next re-page.
const maxWaitingPages = 5

// pageWaiting pages a volunteer who has just come on call for the cases already waiting for
// someone who speaks their language (or urgent ones), so a member who asked in the night is
// not left until the next re-page.
func (s *Service) pageWaiting(ctx context.Context, v hotline.VolunteerRecord) {
	cases, err := s.waitingFor(ctx, v)
	if err != nil {
		s.cfg.Log.Error("listing waiting cases", "err", err)
		return
	}
	for _, c := range cases {
		s.toVolunteer(ctx, s.cfg.Sender, v, "vol_page", s.caseData(c, v.Langs[0], s.lastWords(ctx, c.N)))
	}
}

// RepageDue pages again every case past its deadline (one process wins each).
func (s *Service) RepageDue(ctx context.Context) {
	now := s.cfg.Now()
	due, err := s.cfg.Store.DueCases(ctx, now, now.Add(s.cfg.Timeout))
	if err != nil {
		s.cfg.Log.Error("listing unclaimed cases", "err", err)
		return
	}
	for _, n := range due {
		c, err := s.cfg.Store.Case(ctx, n)
		if err != nil || c.Status != hotline.CaseOpen {
			continue
		}
		if _, err := s.page(ctx, s.cfg.Sender, c, s.lastWords(ctx, n), s.cfg.Languages); err != nil {
			s.cfg.Log.Error("re-paging", "case", n, "err", err)
		}
		minutes := strconv.Itoa(int(now.Sub(c.Opened).Minutes()))
		s.tellOrganizers(ctx, s.cfg.Sender, "org_case_unclaimed", func(string) map[string]string {
			return map[string]string{"N": strconv.FormatInt(n, 10), "Urgent": flag(c.Urgent), "Minutes": minutes}
		})
	}
}

// orFailed is a reply, or the help that answers a command that failed (logged).
func (s *Service) orFailed(r flow.Reply, err error) flow.Reply {
	if err != nil {
		return s.failed(err)
	}
	return r
}

func (s *Service) failed(err error) flow.Reply {
	s.cfg.Log.Error("volunteer command failed", "err", err)
	return flow.Reply{ID: "vol_help"}
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return ""
}
