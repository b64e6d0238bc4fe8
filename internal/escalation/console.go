package escalation

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// The console's way in: the same claim, relay, close and verdict as the SMS commands (the
// same code, checks and audit entries), returning what happened as an Outcome for a page
// rather than an SMS reply. Nothing here shows a member's id or address.

// Outcome is what a volunteer's action came to.
type Outcome string

// The outcomes of Claim, Reply, Close and Verdict.
const (
	// Done: claimed, relayed, closed, or the verdict recorded.
	Done Outcome = "done"
	// Taken: another volunteer holds the case.
	Taken Outcome = "taken"
	// NoCase: there is no such open case, or (reply, close) the volunteer does not hold it.
	NoCase Outcome = "no_case"
	// ClaimFirst: a report is claimed before it is judged.
	ClaimFirst Outcome = "claim_first"
	// NotConversation: a report's sender cannot be written to.
	NotConversation Outcome = "not_conversation"
	// NoTexts: the member called, and did not agree to be texted.
	NoTexts Outcome = "no_texts"
	// MemberLeft: the member asked for no more messages.
	MemberLeft Outcome = "member_left"
	// NoArea: the report was verified, but without an area no draft was written.
	NoArea Outcome = "no_area"
)

// Result is an action's outcome; Draft is the alert draft a verified report became.
type Result struct {
	Outcome Outcome
	Draft   string
}

// result reads the reply the SMS command would have sent.
func result(r flow.Reply, err error) (Result, error) {
	if err != nil {
		return Result{}, err
	}
	switch r.ID {
	case "", "vol_claimed", "vol_claimed_report", "vol_closed", "vol_false":
		return Result{Outcome: Done}, nil
	case "vol_verified":
		return Result{Outcome: Done, Draft: r.Data["ID"]}, nil
	case "vol_verified_no_area":
		return Result{Outcome: NoArea}, nil
	case "vol_taken":
		return Result{Outcome: Taken}, nil
	case "vol_no_case":
		return Result{Outcome: NoCase}, nil
	case "vol_claim_first":
		return Result{Outcome: ClaimFirst}, nil
	case "vol_report_no_relay":
		return Result{Outcome: NotConversation}, nil
	case CallerNoTexts:
		return Result{Outcome: NoTexts}, nil
	case "vol_member_left":
		return Result{Outcome: MemberLeft}, nil
	}
	return Result{}, fmt.Errorf("escalation: unexpected answer %q", r.ID)
}

// Claim gives case n to volunteer v if nobody has it (the atomic claim of CLAIM n), through
// channel via.
func (s *Service) Claim(ctx context.Context, v hotline.VolunteerRecord, n int64, via string) (Result, error) {
	return result(s.claim(ctx, v, n, via))
}

// Reply sends text to case n's member from the hotline's number, as "#n text" by SMS does:
// only from the volunteer holding the case, kept in the same transcript.
func (s *Service) Reply(ctx context.Context, v hotline.VolunteerRecord, n int64, text string) (Result, error) {
	return result(s.relay(ctx, v, n, text))
}

// Close closes case n, held by v, as CLOSE n does.
func (s *Service) Close(ctx context.Context, v hotline.VolunteerRecord, n int64, via string) (Result, error) {
	return result(s.closeCase(ctx, v, n, "", via))
}

// CloseUnclaimed closes case n, which nobody has claimed, for an organizer (by): the
// organizers' decision on a stale request, which no timer takes (docs/durable-effects.md).
// The member is told no volunteer was free and how to ask again or whom to call; a report
// closes with no verdict. A case someone holds is theirs to close (Taken).
func (s *Service) CloseUnclaimed(ctx context.Context, by audit.Actor, n int64) (Result, error) {
	c, err := s.cfg.Store.Case(ctx, n)
	if errors.Is(err, hotline.ErrNotFound) || (err == nil && c.Status == hotline.CaseClosed) {
		return Result{Outcome: NoCase}, nil
	}
	if err != nil {
		return Result{}, err
	}
	if c.Status != hotline.CaseOpen {
		return Result{Outcome: Taken}, nil
	}
	if err := s.close(ctx, c, "unclaimed", "case_closed_unclaimed", by); err != nil {
		return Result{}, err
	}
	return Result{Outcome: Done}, nil
}

// Verdict records v's check of report n (VERIFY n or FALSE n, with note): claimed first; a
// verified report with an area becomes an alert draft (Result.Draft).
func (s *Service) Verdict(ctx context.Context, v hotline.VolunteerRecord, n int64, verified bool, note, via string) (Result, error) {
	return result(s.verdict(ctx, v, n, verified, note, via))
}

// CaseSummary is a case as the console lists it: no member id, address or words.
type CaseSummary struct {
	N      int64
	Kind   string // "person" or "report"
	Urgent bool
	Status string // hotline.CaseOpen, CaseClaimed or CaseClosed
	Lang   string
	// AreaName and Situation are in the language asked for ("" when not known).
	Area, AreaName, Situation string
	// Volunteer is the holder's id and VolunteerName their name ("" when nobody holds it).
	Volunteer, VolunteerName string
	Opened                   time.Time
	Age                      time.Duration
	Verdict                  string // reports: "verified" or "false", once closed
}

// ListCases lists the cases not closed, urgent first, then the longest waiting, with labels
// in lang.
func (s *Service) ListCases(ctx context.Context, lang string) ([]CaseSummary, error) {
	recs, err := s.cfg.Store.OpenCases(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]string{}
	out := make([]CaseSummary, 0, len(recs))
	for _, c := range recs {
		out = append(out, s.summary(ctx, c, lang, names))
	}
	SortCases(out)
	return out, nil
}

// SortCases puts urgent cases first, then the oldest.
func SortCases(cs []CaseSummary) {
	slices.SortStableFunc(cs, func(a, b CaseSummary) int {
		if a.Urgent != b.Urgent {
			if a.Urgent {
				return -1
			}
			return 1
		}
		return cmp.Or(a.Opened.Compare(b.Opened), cmp.Compare(a.N, b.N))
	})
}

func (s *Service) summary(ctx context.Context, c hotline.CaseRecord, lang string, names map[string]string) CaseSummary {
	cs := CaseSummary{N: c.N, Kind: c.Kind, Urgent: c.Urgent, Status: c.Status, Lang: c.Lang, Area: c.Area,
		Situation: s.situationLabel(c.Situation, lang), Volunteer: c.Volunteer, Opened: c.Opened,
		Age: s.cfg.Now().Sub(c.Opened), Verdict: c.Verdict}
	if c.Area != "" && s.cfg.Broadcasts != nil {
		cs.AreaName = s.cfg.Broadcasts.AreaLabel(c.Area, lang)
	}
	if c.Volunteer != "" && c.Status != hotline.CaseOpen {
		cs.VolunteerName = s.volunteerName(ctx, c.Volunteer, names)
	}
	return cs
}

// volunteerName is volunteer id's name, "" once removed from the roster; names caches them.
func (s *Service) volunteerName(ctx context.Context, id string, names map[string]string) string {
	if name, ok := names[id]; ok {
		return name
	}
	v, err := s.cfg.Store.Volunteer(ctx, id)
	if err != nil && !errors.Is(err, hotline.ErrNotFound) {
		s.cfg.Log.Error("reading a volunteer", "vol", id, "err", err)
	}
	names[id] = v.Name
	return v.Name
}

// CaseDetail is one case with its conversation.
type CaseDetail struct {
	CaseSummary
	// Draft is the alert draft a verified report became ("" for none).
	Draft string
	// Lines are the conversation, in order, while the case is open; none once it is closed
	// (a closed case's words are kept for review by its retention only, not shown).
	Lines []Line
	// What, Where and When are a report's fields, while it is open.
	What, Where, When string
}

// CaseDetail returns case n, with its transcript while it is not closed and labels in lang.
// It returns hotline.ErrNotFound when there is no such case (or its retention is over).
func (s *Service) CaseDetail(ctx context.Context, n int64, lang string) (CaseDetail, error) {
	c, err := s.cfg.Store.Case(ctx, n)
	if err != nil {
		return CaseDetail{}, err
	}
	names := map[string]string{}
	d := CaseDetail{CaseSummary: s.summary(ctx, c, lang, names)}
	sealed, err := s.cfg.Store.Transcript(ctx, n)
	if err != nil {
		return CaseDetail{}, err
	}
	var lines []Line
	for _, l := range sealed {
		plain, err := s.cfg.Keys.Open(l, privacy.CaseTranscript(n))
		if err != nil {
			s.cfg.Log.Error("transcript line unreadable", "case", n)
			continue
		}
		line := parseLine(string(plain))
		if line.Draft != "" {
			d.Draft = line.Draft
			continue
		}
		if line.Volunteer != "" {
			line.Name = s.volunteerName(ctx, line.Volunteer, names)
		}
		lines = append(lines, line)
	}
	if c.Status == hotline.CaseClosed {
		return d, nil
	}
	d.Lines = lines
	if c.Kind == "report" {
		d.What, d.Where, d.When = s.reportFields(ctx, n)
	}
	return d, nil
}
