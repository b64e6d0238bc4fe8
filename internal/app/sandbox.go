package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/bot"
	"github.com/communityhotline/hotline/internal/console"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
)

// sandboxTTL is how long a sandbox conversation is remembered: a trial, not a member.
const sandboxTTL = 24 * time.Hour

// sandboxLogKeep is how many lines of one simulator conversation are kept: enough to scroll
// back through a long trial, few enough that a page stays small.
const sandboxLogKeep = 200

// Sandbox is the console simulator's back end: an engine over the real flows and messages,
// and the log of each simulator conversation (console.Simulator).
type Sandbox struct {
	*bot.Engine
	store *redisstore.Store
	keys  *privacy.Keys
}

// Sandbox returns an engine over the real flows and messages for the console's simulator,
// kept apart from members: its state lives under a key prefix of its own
// (<prefix>:sandbox), so no broadcast's subscriber index ever lists it and no count includes
// it; it carries out no effects (asking for a person opens no case and pages no one), and it
// sends nothing: the caller shows the replies. It forgets a conversation after a day.
func (a *App) Sandbox() (*Sandbox, error) {
	return NewSandbox(a.rdb, a.cfg.KeyPrefix, a.content.Flows, a.renderers, a.keys, a.log)
}

// NewSandbox is Sandbox from its parts, for tests that build the console without an App.
// prefix is the hotline's key prefix; the sandbox adds ":sandbox" to it.
func NewSandbox(rdb redis.UniversalClient, prefix string, flows *flow.Set, renderer bot.Renderer, keys *privacy.Keys, log *slog.Logger) (*Sandbox, error) {
	store, err := redisstore.New(rdb, prefix+":sandbox", redisstore.DefaultReplyTTL)
	if err != nil {
		return nil, fmt.Errorf("the simulator's store: %w", err)
	}
	engine := bot.New(bot.Config{Flows: flows, Renderer: renderer, Store: store, Keys: keys, Log: log,
		ConversationTTL: sandboxTTL})
	return &Sandbox{Engine: engine, store: store, keys: keys}, nil
}

// Append adds lines to a simulator conversation's log. The lines are sealed like every text
// the hotline keeps, although nobody real wrote them: a person trying the simulator may well
// type something true about themselves.
func (s *Sandbox) Append(ctx context.Context, convo string, lines ...console.SimLine) error {
	sealed := make([][]byte, len(lines))
	for i, l := range lines {
		b, err := json.Marshal(l)
		if err != nil {
			return fmt.Errorf("a simulator line: %w", err)
		}
		sealed[i] = s.keys.Seal(b, simContext(convo))
	}
	return s.store.AppendSimLog(ctx, convo, sandboxTTL, sandboxLogKeep, sealed...)
}

// Lines returns a simulator conversation's log, oldest first.
func (s *Sandbox) Lines(ctx context.Context, convo string) ([]console.SimLine, error) {
	sealed, err := s.store.SimLog(ctx, convo)
	if err != nil {
		return nil, err
	}
	out := make([]console.SimLine, 0, len(sealed))
	for _, v := range sealed {
		plain, err := s.keys.Open(v, simContext(convo))
		if err != nil {
			return nil, fmt.Errorf("opening a simulator line: %w", err)
		}
		var l console.SimLine
		if err := json.Unmarshal(plain, &l); err != nil {
			return nil, fmt.Errorf("a simulator line: %w", err)
		}
		out = append(out, l)
	}
	return out, nil
}

// simContext binds a sealed line to its conversation, so a line copied into another
// conversation's log does not open.
func simContext(convo string) []byte { return []byte("simlog:" + convo) }
