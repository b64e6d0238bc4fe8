// Package bot answers one inbound message: it recognises a retried webhook, loads the
// member's state, runs the flow step, saves the new state together with the reply, and
// returns the reply, rendered for the channel the message came on. It knows no HTTP and no
// Redis: both are passed in.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"time"

	"github.com/communityhotline/hotline/internal/effects"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// JobRunner keeps what a step promised beyond its reply (effects.Runner): the engine writes
// the sealed job in the same atomic commit as the state, then has it carried out. Run returns
// the replies the member gets now: the step's, amended with what carrying out the effects
// learned — added to ("your message waits") or, where the step could not know better,
// corrected (nobody is on call to be paged), so that the member gets one coherent answer. A
// retried webhook gets the step's replies only.
type JobRunner interface {
	Seal(job effects.Job) ([]byte, error)
	Lease() time.Duration
	Run(ctx context.Context, job effects.Job) ([]flow.Reply, error)
}

// SubscriptionSync updates the subscriber index when a member's areas or language change
// (before and after), or, with before == after, re-adds the member after a retried message.
// It must be idempotent. The member's state is the record of truth: a broadcast re-checks it,
// so an index entry a crash left behind does no harm.
type SubscriptionSync func(ctx context.Context, memberID string, before, after flow.State) error

// Renderer renders a step's replies for the channel a message came on (render.Set).
type Renderer interface {
	Render(ch hotline.Channel, lang string, replies []flow.Reply) ([]string, error)
	// Options are the last menu's choices as the channel says them (for the voice line).
	Options(ch hotline.Channel, lang string, replies []flow.Reply) ([]hotline.Option, error)
}

// Config holds an Engine's dependencies and settings.
type Config struct {
	Flows    *flow.Set
	Renderer Renderer
	Store    hotline.MemberStore
	Keys     *privacy.Keys
	Log      *slog.Logger
	// Now is the clock; tests inject one.
	Now func() time.Time
	// ConversationTTL is how long an idle member's state is kept (30 days by default).
	ConversationTTL time.Duration
	// Jobs carries out effects; nil ignores them.
	Jobs JobRunner
	// Subscriptions keeps the subscriber index; nil keeps none.
	Subscriptions SubscriptionSync
	// SenderLimit is how many messages a minute one member may send before the rest are
	// dropped unread (after one polite notice); 0 means no limit.
	SenderLimit int64
	// ReplyCap is how many replies one member gets in an hour, so two bots answering each
	// other cannot loop for ever; 0 means no cap.
	ReplyCap int64
	// LimitNotice is the message ID of the notice a member gets on passing SenderLimit.
	LimitNotice string
	// Channels are the rules of a channel that cannot do all a text can (the voice line);
	// a channel not listed has none.
	Channels map[hotline.Channel]ChannelRules
	// AfterJobCommit, when set, is called once a message's state and job are committed and
	// before the job is carried out: a failpoint for the test that kills a real process
	// there (HOTLINE_FAILPOINT=after-job-commit). Never set in production.
	AfterJobCommit func()
}

// ChannelRules are what a channel's members cannot do that a texter can.
type ChannelRules struct {
	// Leave names the flows a member on the channel cannot go on with past their first
	// message (flow.Options.Leave): the voice line takes no alert sign-up.
	Leave []string
	// NeverOptedOut keeps the channel's members from opting out: nothing is ever sent to
	// them (a call's member), so there is nothing to opt out of, and one word ("parar",
	// which may only mean "wait") must not shut them out of the channel. The opt-out's
	// words there say how to stop texts instead.
	NeverOptedOut bool
}

// Engine answers inbound messages. It is safe for concurrent use.
type Engine struct {
	cfg     Config
	recent  *recentStates
	members *Members
}

// DefaultConversationTTL is how long an idle conversation is remembered.
const DefaultConversationTTL = 30 * 24 * time.Hour

// maxAttempts bounds the optimistic retries when one member's messages race. Each attempt
// that loses is beaten by a write that succeeded, so n simultaneous messages need at most n
// attempts each; 200 leaves room for bursts well past what the per-sender limit allows.
const maxAttempts = 200

// New returns an Engine.
func New(cfg Config) *Engine {
	cfg = withDefaults(cfg)
	return &Engine{cfg: cfg, recent: newRecentStates(recentMembers, recentFor), members: NewMembers(cfg)}
}

// withDefaults fills in the clock, the conversation TTL and the log when cfg leaves them out.
func withDefaults(cfg Config) Config {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ConversationTTL <= 0 {
		cfg.ConversationTTL = DefaultConversationTTL
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Answer is the reply to one inbound message.
type Answer struct {
	hotline.Reply
	// Repeat is true when the message had been answered before (a retried webhook): the
	// reply is that earlier answer and nothing changed.
	Repeat bool
}

// ErrGaveUp means the member's state kept changing under us; the caller should answer
// with a safe message and Twilio may retry.
var ErrGaveUp = errors.New("member state kept changing; gave up")

// Handle answers in. It never logs the sender's address or the message text.
func (e *Engine) Handle(ctx context.Context, in hotline.Inbound) (Answer, error) {
	id := in.MemberID
	if id == "" {
		id = e.cfg.Keys.MemberID(in.Channel, in.From)
	}
	stateCtx := privacy.MemberState(id)
	replyCtx := privacy.Reply(id, in.ID)
	now := e.cfg.Now()
	// Step from the state this process last saw the member in (none for a member it has not
	// seen) and commit in one round trip: the commit refuses a stale state and hands back
	// the current one, to step again from. A member's messages usually reach the same
	// process within minutes, so most messages cost one round trip instead of a read and
	// a write.
	sealed, st, _ := e.recent.get(id, now)
	compliance := e.cfg.Flows.Compliance(in.Text, in.OptOutType)
	counted := false
	if !compliance && e.recent.held(id, now) {
		// The member passed a limit moments ago: count and drop without flow work, unless
		// the limit has reset meanwhile (another process's count may be lower).
		minute, hour, err := e.cfg.Store.Count(ctx, id, in.ID, now)
		var answered *hotline.AnsweredError
		if errors.As(err, &answered) {
			reply, err := e.openReply(answered.Reply, replyCtx)
			return Answer{Reply: reply, Repeat: true}, err
		}
		if err != nil {
			return Answer{}, err
		}
		if l := (&hotline.LimitedError{Minute: minute, Hour: hour}); e.over(l) {
			// No notice from here: the state in memory may be minutes old (the member may
			// have opted out through another process), and a member held back has had
			// their notice already.
			return e.limit(in.Channel, l, flow.State{OptedOut: true}), nil
		}
		counted = true
	}
	rules := e.cfg.Channels[in.Channel]
	for attempt := 0; attempt < maxAttempts; attempt++ {
		res := e.cfg.Flows.Step(st, flow.Input{Text: in.Text, ProviderKeyword: in.OptOutType, Now: now, Media: in.Media > 0},
			flow.Options{ConversationTTL: e.cfg.ConversationTTL, Leave: rules.Leave})
		if rules.NeverOptedOut {
			res.State.OptedOut = false
		}
		// A member who writes can receive; keep the address only while alerts need it.
		res.State.Undeliverable = false
		if len(res.State.Areas) > 0 && !res.State.OptedOut {
			res.State.Address = in.From
		} else {
			res.State.Address = ""
		}
		// Rendered before the commit, so that a content defect commits nothing.
		reply, err := e.reply(in.Channel, res.Lang, res.Replies)
		if err != nil {
			return Answer{}, err
		}
		reply.Escalated, reply.Urgent = effects.Escalates(res.Effects)
		replyJSON, err := encodeReply(in.Channel, reply)
		if err != nil {
			return Answer{}, fmt.Errorf("encoding reply: %w", err)
		}
		ttl := e.cfg.ConversationTTL
		if res.State.Durable() {
			ttl = 0
		}
		job, err := e.job(id, in, res, now)
		if err != nil {
			return Answer{}, err
		}
		commit := hotline.Commit{
			Expect: sealed,
			State:  e.cfg.Keys.Seal(flow.EncodeState(res.State), stateCtx),
			TTL:    ttl,
			MsgID:  in.ID,
			Reply:  e.cfg.Keys.Seal(replyJSON, replyCtx),
			Now:    now,
			// The first attempt counts the message against the member's limits (if there
			// are any); a retry after a conflict is the same message. Opt-out, opt-in and
			// help words are counted but never held back by a limit.
			Count: attempt == 0 && !counted && (e.cfg.SenderLimit > 0 || e.cfg.ReplyCap > 0),
		}
		if job != nil {
			commit.Job, commit.JobLease = job.sealed, e.cfg.Jobs.Lease()
		}
		if commit.Count && !compliance {
			commit.MinuteLimit, commit.HourLimit = e.cfg.SenderLimit, e.cfg.ReplyCap
		}
		err = e.cfg.Store.Save(ctx, id, commit)
		var (
			answered *hotline.AnsweredError
			limited  *hotline.LimitedError
			conflict *hotline.ConflictError
		)
		switch {
		case err == nil:
			e.recent.put(id, commit.State, res.State, now)
			if res.Problem != "" {
				e.cfg.Log.Error("flow problem", "member", privacy.LogRef(id), "problem", res.Problem)
			}
			if subscriptionChanged(st, res.State) {
				e.syncSubscriptions(ctx, id, st, res.State)
			}
			if job != nil && e.cfg.AfterJobCommit != nil {
				e.cfg.AfterJobCommit()
			}
			if job != nil {
				// Effects may change the member behind this engine's back (an erasure
				// deletes them): forget the copy rather than keep what may be gone.
				e.recent.drop(id)
				final, err := e.cfg.Jobs.Run(ctx, job.job)
				if err != nil {
					// The job is saved with the state: it is taken over once its lease
					// ends, and the member hears what it adds then.
					e.cfg.Log.Error("effects failed; left to be retried", "member", privacy.LogRef(id), "err", err)
				}
				if final != nil && !reflect.DeepEqual(final, res.Replies) {
					if amended, err := e.reply(in.Channel, res.Lang, final); err != nil {
						e.cfg.Log.Error("rendering the effects' replies", "member", privacy.LogRef(id), "err", err)
					} else {
						reply.Texts, reply.Options = amended.Texts, amended.Options
					}
				}
			}
			return Answer{Reply: reply}, nil
		case errors.As(err, &answered):
			if cur, err := e.openState(answered.State, id, stateCtx); err == nil {
				e.recent.put(id, answered.State, cur, now)
				e.resync(ctx, id, cur)
			}
			reply, err := e.openReply(answered.Reply, replyCtx)
			return Answer{Reply: reply, Repeat: true}, err
		case errors.As(err, &limited):
			cur, err := e.openState(limited.State, id, stateCtx)
			if err != nil {
				return Answer{}, err
			}
			e.recent.put(id, limited.State, cur, now)
			e.recent.hold(id, e.limitResets(limited, now))
			return e.limit(in.Channel, limited, cur), nil
		case errors.As(err, &conflict):
			sealed, st = conflict.State, flow.State{}
			if sealed != nil {
				if st, err = e.openState(sealed, id, stateCtx); err != nil {
					e.recent.drop(id)
					return Answer{}, err
				}
			}
			e.recent.put(id, sealed, st, now)
			if attempt == 0 {
				continue // the copy was stale or missing: not a race, so no wait
			}
			// Another message from the same member won the race; back off a little, with
			// jitter so the losers do not collide again in step.
			backoff := time.Duration(rand.Int64N(int64(min(attempt, 20)) * int64(200*time.Microsecond)))
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return Answer{}, ctx.Err()
			}
		default:
			return Answer{}, err
		}
	}
	return Answer{}, ErrGaveUp
}

// pendingJob is a step's job, and the same sealed for the commit.
type pendingJob struct {
	job    effects.Job
	sealed []byte
}

// job is what step res promised beyond its reply, ready for the commit; nil when nothing.
func (e *Engine) job(id string, in hotline.Inbound, res flow.Result, now time.Time) (*pendingJob, error) {
	if e.cfg.Jobs == nil || len(res.Effects) == 0 || in.ID == "" {
		return nil, nil
	}
	j := effects.Job{Member: id, Msg: in.ID, From: in.From, Channel: in.Channel, Lang: res.Lang, At: now.Unix(),
		Effects: res.Effects, Replies: slices.Clone(res.Replies)}
	sealed, err := e.cfg.Jobs.Seal(j)
	if err != nil {
		return nil, fmt.Errorf("keeping the step's effects: %w", err)
	}
	return &pendingJob{job: j, sealed: sealed}, nil
}

// ForgetStale drops the member states kept in memory longer than they may be (five
// minutes). Messages do it as they come; a process should also call it now and then, so
// that the states of the last members to write do not stay in memory through a quiet night.
func (e *Engine) ForgetStale() { e.recent.sweep(e.cfg.Now()) }

// State returns member id's current state; see Members.State.
func (e *Engine) State(ctx context.Context, id string) (flow.State, error) {
	return e.members.State(ctx, id)
}

// Update changes member id's state outside a conversation; see Members.Update.
func (e *Engine) Update(ctx context.Context, id string, change func(st *flow.State) bool) error {
	return e.members.Update(ctx, id, change)
}

func (e *Engine) openState(sealed []byte, id string, ctx []byte) (flow.State, error) {
	return e.members.openState(sealed, id, ctx)
}

func (e *Engine) syncSubscriptions(ctx context.Context, id string, before, after flow.State) {
	e.members.syncSubscriptions(ctx, id, before, after)
}

func (e *Engine) resync(ctx context.Context, id string, st flow.State) { e.members.resync(ctx, id, st) }

// over reports whether counts pass the engine's limits.
func (e *Engine) over(l *hotline.LimitedError) bool {
	return (e.cfg.SenderLimit > 0 && l.Minute > e.cfg.SenderLimit) || (e.cfg.ReplyCap > 0 && l.Hour > e.cfg.ReplyCap)
}

// limitResets is when the limit l passed starts counting afresh.
func (e *Engine) limitResets(l *hotline.LimitedError, now time.Time) time.Time {
	if e.cfg.SenderLimit > 0 && l.Minute > e.cfg.SenderLimit {
		return now.Truncate(time.Minute).Add(time.Minute)
	}
	return now.Truncate(time.Hour).Add(time.Hour)
}

// limit answers a message the store held back for passing a limit (no flow work was kept
// and nothing was written): past the per-minute limit a member gets one notice, then
// nothing; past the hourly cap, nothing. Opted-out members get nothing anyway.
func (e *Engine) limit(ch hotline.Channel, l *hotline.LimitedError, st flow.State) Answer {
	if e.cfg.SenderLimit > 0 && l.Minute > e.cfg.SenderLimit {
		e.cfg.Log.Warn("sender over the per-minute limit; message dropped", "count", l.Minute)
		if l.Minute == e.cfg.SenderLimit+1 && !st.OptedOut && e.cfg.LimitNotice != "" {
			lang := st.Lang
			if lang == "" {
				lang = e.cfg.Flows.Settings().Languages[0]
			}
			if texts, err := e.cfg.Renderer.Render(ch, lang, []flow.Reply{{ID: e.cfg.LimitNotice}}); err == nil {
				return Answer{Reply: hotline.Reply{Texts: texts, Lang: lang}}
			}
		}
		return Answer{}
	}
	e.cfg.Log.Warn("member over the hourly reply cap; message dropped", "count", l.Hour)
	return Answer{}
}

// subscriptionChanged reports whether the subscriber index must change. It lists only
// members with areas, so a member who has none before or after needs nothing (a first
// message, which sets the language, costs no trip to the index).
func subscriptionChanged(before, after flow.State) bool {
	if len(before.Areas) == 0 && len(after.Areas) == 0 {
		return false
	}
	return before.Lang != after.Lang || before.OptedOut != after.OptedOut || !slices.Equal(before.Areas, after.Areas)
}

// reply renders a step's replies for channel ch; the voice line also gets the last menu's
// choices, which it listens for.
func (e *Engine) reply(ch hotline.Channel, lang string, replies []flow.Reply) (hotline.Reply, error) {
	texts, err := e.cfg.Renderer.Render(ch, lang, replies)
	if err != nil {
		return hotline.Reply{}, fmt.Errorf("%w: rendering replies: %w", hotline.ErrContent, err)
	}
	reply := hotline.Reply{Texts: texts, Lang: lang}
	if ch == hotline.Voice {
		if reply.Options, err = e.cfg.Renderer.Options(ch, lang, replies); err != nil {
			return hotline.Reply{}, fmt.Errorf("%w: rendering options: %w", hotline.ErrContent, err)
		}
	}
	return reply, nil
}

// storedReply is a voice reply as the reply log keeps it: what "*" (say it again) needs
// besides the words. Not whether the message escalated: saying it again must not ring the
// volunteers again. Text channels keep the texts alone, a JSON array, as they always have,
// so that a process of the previous release reads what this one writes.
type storedReply struct {
	Texts   []string         `json:"t"`
	Lang    string           `json:"l,omitempty"`
	Options []hotline.Option `json:"o,omitempty"`
}

func encodeReply(ch hotline.Channel, r hotline.Reply) ([]byte, error) {
	if ch != hotline.Voice {
		return json.Marshal(r.Texts)
	}
	return json.Marshal(storedReply{Texts: r.Texts, Lang: r.Lang, Options: r.Options})
}

func (e *Engine) openReply(sealed, ctx []byte) (hotline.Reply, error) {
	plain, err := e.cfg.Keys.Open(sealed, ctx)
	if err != nil {
		return hotline.Reply{}, fmt.Errorf("opening stored reply: %w", err)
	}
	if len(plain) > 0 && plain[0] == '{' {
		var s storedReply
		if err := json.Unmarshal(plain, &s); err != nil {
			return hotline.Reply{}, fmt.Errorf("decoding stored reply: %w", err)
		}
		return hotline.Reply{Texts: s.Texts, Lang: s.Lang, Options: s.Options}, nil
	}
	var texts []string
	if err := json.Unmarshal(plain, &texts); err != nil {
		return hotline.Reply{}, fmt.Errorf("decoding stored reply: %w", err)
	}
	return hotline.Reply{Texts: texts}, nil
}

// Answer is Handle for callers that need only the reply (the webhooks).
func (e *Engine) Answer(ctx context.Context, in hotline.Inbound) (hotline.Reply, error) {
	a, err := e.Handle(ctx, in)
	return a.Reply, err
}
