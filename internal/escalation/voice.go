package escalation

import (
	"context"
	"errors"
	"fmt"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// A call's case. The flows open it as they open a texted one (the pages go out at once); the
// voice line then rings the volunteers on call, and the one who takes the call claims the
// case. Nothing is sent to a caller's number unless they say yes (AllowTexts): a call's case is
// opened with no address.

// CallerNoTexts is what a volunteer is told when they write to a caller who did not agree to
// texts: not an error, since the caller can call again.
const CallerNoTexts = "vol_caller_no_texts"

// ViaCall marks, in the audit log, what a volunteer did by answering a call.
const ViaCall = "call"

// MaxRung is the most phones one call rings at once: Twilio's limit of <Number>s in a <Dial>.
const MaxRung = 10

// Ring returns the phones of the volunteers to ring for case n, which a call opened: those on
// call who speak the case's language or, for an emergency with none of them, everyone on call;
// for a case a volunteer holds already (the caller calling back), that volunteer's alone. None
// when the case is closed. The phones are the volunteers' own: they go into the <Dial> and
// nowhere else.
func (s *Service) Ring(ctx context.Context, n int64) ([]string, error) {
	c, err := s.cfg.Store.Case(ctx, n)
	if errors.Is(err, hotline.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	switch c.Status {
	case hotline.CaseOpen:
		if ids, err = s.cfg.Store.OnCall(ctx, c.Lang); err != nil {
			return nil, fmt.Errorf("listing volunteers on call: %w", err)
		}
	case hotline.CaseClaimed:
		ids = []string{c.Volunteer}
	default:
		return nil, nil
	}
	if len(ids) == 0 && c.Urgent {
		if ids, err = s.cfg.Store.OnCall(ctx, s.cfg.Languages...); err != nil {
			return nil, fmt.Errorf("listing volunteers on call: %w", err)
		}
	}
	var phones []string
	for _, id := range ids {
		if len(phones) == MaxRung {
			break
		}
		v, err := s.cfg.Store.Volunteer(ctx, id)
		if err != nil {
			continue // removed meanwhile
		}
		phone, err := s.cfg.Keys.Open(v.SealedPhone, privacy.VolunteerPhone(v.ID))
		if err != nil {
			s.cfg.Log.Error("volunteer phone unreadable", "vol", v.ID)
			continue
		}
		phones = append(phones, string(phone))
	}
	return phones, nil
}

// Taken reports whether a volunteer holds case n.
func (s *Service) Taken(ctx context.Context, n int64) (bool, error) {
	c, err := s.cfg.Store.Case(ctx, n)
	if errors.Is(err, hotline.ErrNotFound) {
		return false, nil
	}
	return err == nil && c.Status == hotline.CaseClaimed, err
}

// AcceptCall claims case n for the volunteer whose phone is phone, who answered the call and
// pressed the key that takes it: the same claim as CLAIM n by text (the audit entry, the
// claim's notices). It reports whether they hold the case now; false, with no error, when the
// phone is no volunteer's or another volunteer has the case.
func (s *Service) AcceptCall(ctx context.Context, n int64, phone string) (bool, error) {
	id, err := s.cfg.Store.VolunteerByPhone(ctx, s.cfg.Keys.MemberID(hotline.SMS, phone))
	if errors.Is(err, hotline.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	v, err := s.cfg.Store.Volunteer(ctx, id)
	if errors.Is(err, hotline.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	res, err := s.Claim(ctx, v, n, ViaCall)
	if err != nil {
		return false, err
	}
	return res.Outcome == Done, nil
}

// ErrNoTexts means a caller's number cannot be given to their case: the case is not theirs,
// is closed, or the number's SMS member asked for no messages.
var ErrNoTexts = errors.New("escalation: this case cannot text the caller")

// AllowTexts hands case n, opened by a call of member memberID, to the SMS member of number:
// the caller said yes to texts. From then on the case is that member's, as if they had asked
// by text: the volunteer's words reach the number, what the member texts back reaches the
// volunteer (their state points at the case, unless they are in another case already, which
// keeps their texts), and an erasure by text erases it. The call's member is let out of it.
// It fails with ErrNoTexts when the case is not memberID's or is closed, or when number's SMS
// member opted out (texting them would break that).
func (s *Service) AllowTexts(ctx context.Context, n int64, memberID, number string) error {
	c, err := s.cfg.Store.Case(ctx, n)
	if errors.Is(err, hotline.ErrNotFound) {
		return ErrNoTexts
	}
	if err != nil {
		return err
	}
	if c.Member != memberID || c.Status == hotline.CaseClosed {
		return ErrNoTexts
	}
	texter := s.cfg.Keys.MemberID(hotline.SMS, number)
	st, err := s.cfg.Members.State(ctx, texter)
	if err != nil && !errors.Is(err, hotline.ErrNotFound) {
		return err
	}
	if err == nil && st.OptedOut {
		return ErrNoTexts
	}
	set, err := s.cfg.Store.SetCaseAddress(ctx, n, memberID, texter, s.cfg.Keys.Seal([]byte(number), privacy.CaseAddress(texter)))
	if err != nil && !set {
		return err
	}
	if !set {
		return ErrNoTexts
	}
	if err != nil {
		s.cfg.Log.Warn("a call's case handed to texts, not listed for erasure", "case", n, "err", err)
	}
	// Their texts now go to the case, unless they are in one already. A member the hotline
	// has never heard from by text is given a state that says only this and their language.
	toCase := func(st *flow.State) bool {
		if st.Case != 0 || st.OptedOut {
			return false
		}
		st.Case = n
		return true
	}
	err = s.cfg.Members.Update(ctx, texter, toCase)
	if errors.Is(err, hotline.ErrNotFound) {
		if err = s.cfg.Members.Create(ctx, texter, flow.State{Lang: c.Lang, Case: n}); errors.Is(err, hotline.ErrConflict) {
			err = s.cfg.Members.Update(ctx, texter, toCase) // they wrote meanwhile
		}
	}
	if err != nil {
		s.cfg.Log.Warn("a call's case: the caller's texts will reach the menus", "case", n, "err", err)
	}
	if err := s.cfg.Members.Update(ctx, memberID, func(st *flow.State) bool {
		if st.Case != n {
			return false
		}
		st.Case = 0
		return true
	}); err != nil && !errors.Is(err, hotline.ErrNotFound) {
		s.cfg.Log.Warn("a call's case: the caller's call state still names it", "case", n, "err", err)
	}
	return nil
}
