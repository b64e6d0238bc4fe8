package app

import (
	"fmt"
	"time"

	"github.com/communityhotline/hotline/internal/bot"
	"github.com/communityhotline/hotline/internal/redisstore"
)

// sandboxTTL is how long a sandbox conversation is remembered: a trial, not a member.
const sandboxTTL = 24 * time.Hour

// Sandbox returns an engine over the real flows and messages for the console's simulator,
// kept apart from members: its state lives under a key prefix of its own
// (<prefix>:sandbox), so no broadcast's subscriber index ever lists it and no count includes
// it; it carries out no effects (asking for a person opens no case and pages no one), and it
// sends nothing: the caller shows the replies. It forgets a conversation after a day.
func (a *App) Sandbox() (*bot.Engine, error) {
	store, err := redisstore.New(a.rdb, a.cfg.KeyPrefix+":sandbox", redisstore.DefaultReplyTTL)
	if err != nil {
		return nil, fmt.Errorf("the simulator's store: %w", err)
	}
	return bot.New(bot.Config{Flows: a.content.Flows, Renderer: a.renderer, Store: store, Keys: a.keys, Log: a.log,
		ConversationTTL: sandboxTTL}), nil
}
