package whatsapp

import (
	"context"
	"errors"
	"fmt"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// Reports acts on what a status callback reports about a message to a WhatsApp member whose
// reference (StatusCallback's "wa" parameter) it carries. Each action is safe to repeat:
// Twilio may report a message's failure more than once.
type Reports struct {
	Keys    *privacy.Keys
	Store   Store
	Members Members
}

// ErrBadReference means a status callback's member reference does not open (sealed with a
// retired secret, or damaged): there is nobody to act on, and asking Twilio to retry would
// not change that.
var ErrBadReference = errors.New("whatsapp: a status callback's member reference does not open")

// WindowClosed forgets the member's window (Twilio 63016): the hotline took it for open and
// it was not, so what follows goes as a template. Both records of their last message go: the
// window's own and the state's Active (kept mid-conversation), or the next message would be
// taken for inside the window again and refused again.
func (r Reports) WindowClosed(ctx context.Context, ref string) error {
	member, err := r.member(ref)
	if err != nil {
		return err
	}
	if err := r.Store.ForgetWhatsAppWindow(ctx, member); err != nil {
		return err
	}
	err = r.Members.Update(ctx, member, func(st *flow.State) bool {
		if st.Active == 0 {
			return false
		}
		st.Active = 0
		return true
	})
	if errors.Is(err, hotline.ErrNotFound) {
		return nil
	}
	return err
}

// NotAUser marks the member undeliverable (Twilio 63003), as an invalid SMS number is: alerts
// skip them until they write again, which clears it.
func (r Reports) NotAUser(ctx context.Context, ref string) error {
	member, err := r.member(ref)
	if err != nil {
		return err
	}
	err = r.Members.Update(ctx, member, func(st *flow.State) bool {
		if st.Undeliverable {
			return false
		}
		st.Undeliverable = true
		return true
	})
	if errors.Is(err, hotline.ErrNotFound) {
		return nil // erased meanwhile: nothing to mark
	}
	return err
}

func (r Reports) member(ref string) (string, error) {
	member, err := memberOf(r.Keys, ref)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadReference, err)
	}
	return member, nil
}
