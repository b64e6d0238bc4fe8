package dispatch

import (
	"fmt"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// openState opens a member's sealed state as read by Store.ClaimSends, as the
// conversation engine opens it (bot.Engine.State): sealed with the member id and ":s" as
// context. The dispatcher reads a whole batch of states in one round trip, which the
// engine's one-member State cannot; TestOpenStateAgreesWithEngine keeps the two alike.
//
// It returns hotline.ErrNotFound when there is no state, and an error wrapping
// hotline.ErrDoNotAnswer when the state does not open (a retired secret, damage).
func openState(keys *privacy.Keys, id string, sealed []byte) (flow.State, error) {
	if sealed == nil {
		return flow.State{}, hotline.ErrNotFound
	}
	plain, err := keys.Open(sealed, privacy.MemberState(id))
	if err != nil {
		return flow.State{}, fmt.Errorf("%w: %w", hotline.ErrDoNotAnswer, err)
	}
	st, err := flow.DecodeState(plain)
	if err != nil {
		return flow.State{}, fmt.Errorf("%w: %w", hotline.ErrDoNotAnswer, err)
	}
	return st, nil
}
