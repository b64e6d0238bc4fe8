package effects

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// Store keeps jobs: written by the member commit, leased, taken over, finished.
type Store interface {
	BucketsWithJobs(ctx context.Context) ([]string, error)
	Jobs(ctx context.Context, bucket string) (map[hotline.JobRef]hotline.StoredJob, error)
	TakeJob(ctx context.Context, r hotline.JobRef, lease, maxLease time.Duration) (int64, error)
	MarkJobApplied(ctx context.Context, r hotline.JobRef, lease time.Duration) error
	RenewJobLease(ctx context.Context, r hotline.JobRef, lease time.Duration) error
	FinishJob(ctx context.Context, r hotline.JobRef) error
	TrySweepLease(ctx context.Context, owner string, ttl time.Duration) (bool, error)
}

// Handler carries out a job's effects with Redis work only: what must be sent goes to send,
// which only collects it. It returns the member's replies: the job's, amended with what
// carrying out the effects learned ("nobody is on call", the safety advice). Running it again
// for the same job must change nothing more (docs/durable-effects.md).
type Handler interface {
	HandleJob(ctx context.Context, job Job, send hotline.Sender) ([]flow.Reply, error)
}

// Queue sends messages to one person at most once per id (dispatch.Outbox): at once when
// the provider takes them, otherwise queued for the workers' retries.
type Queue interface {
	// SendOnce sends m unless a message with id was sent already; an error means it was
	// neither sent nor queued.
	SendOnce(ctx context.Context, id string, m hotline.Outbound) error
}

// ChannelRenderer renders replies for a channel (render.Set).
type ChannelRenderer interface {
	Render(ch hotline.Channel, lang string, replies []flow.Reply) ([]string, error)
}

// Members is what the runner needs of the member engine: a member's state as it is now.
type Members interface {
	State(ctx context.Context, id string) (flow.State, error)
}

// Config holds a Runner's dependencies and settings.
type Config struct {
	Store   Store
	Keys    *privacy.Keys
	Handler Handler
	Queue   Queue
	Members Members
	// Renderers write a taken-over reply for the member's channel (render.Set).
	Renderers ChannelRenderer
	Log       *slog.Logger
	// Lease is how long a job is left to the process that wrote it before another takes it
	// over; each take-over that fails doubles it, up to MaxLease.
	Lease, MaxLease time.Duration
	// GiveUp is how old a job that keeps failing may get before it is dropped (logged): well
	// under the day for which a sent message's id is remembered.
	GiveUp time.Duration
	Now    func() time.Time
}

// Runner runs jobs: at once for the process that committed them, and by sweeping for the
// ones a dead or failing process left.
type Runner struct {
	cfg Config
	// sending counts the jobs whose messages are still going out, for Drain.
	sending sync.WaitGroup
}

// Default timings: a job left by a dead process is taken over within about Lease plus one
// sweep.
const (
	DefaultLease    = 5 * time.Second
	DefaultMaxLease = 5 * time.Minute
	DefaultGiveUp   = time.Hour
)

// New returns a Runner.
func New(cfg Config) *Runner {
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.MaxLease < cfg.Lease {
		cfg.MaxLease = max(DefaultMaxLease, cfg.Lease)
	}
	if cfg.GiveUp <= 0 {
		cfg.GiveUp = DefaultGiveUp
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Runner{cfg: cfg}
}

// Lease is how long a job written now is left to its writer.
func (r *Runner) Lease() time.Duration { return r.cfg.Lease }

// Seal seals job for the commit.
func (r *Runner) Seal(job Job) ([]byte, error) {
	plain, err := Encode(job)
	if err != nil {
		return nil, err
	}
	return r.cfg.Keys.Seal(plain, privacy.JobContext(job.Member, job.Msg)), nil
}

// Run carries out a job its caller has just committed, and returns the member's replies at
// once: the messages it decided on are sent after, without holding up the reply, and the job
// is finished when they are sent or queued. On an error the job stays, to be taken over once
// its lease ends; the replies are then the job's own with whatever was learned before.
func (r *Runner) Run(ctx context.Context, job Job) ([]flow.Reply, error) {
	ref := hotline.JobRef{Member: job.Member, Msg: job.Msg}
	out := &collected{token: job.Token()}
	replies, err := r.cfg.Handler.HandleJob(ctx, job, out)
	if err != nil {
		// The member gets these replies now: a process taking the job over must not send
		// them again.
		r.markApplied(ctx, ref)
		return replies, err
	}
	if len(out.messages) == 0 {
		r.finish(context.WithoutCancel(ctx), ref)
		return replies, nil
	}
	r.markApplied(ctx, ref)
	r.sending.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// The lease is renewed while the messages go out, so that no sweeper takes over a job
		// whose writer is alive and only waiting for Twilio.
		stop := r.keepLeased(ctx, ref)
		ok := r.send(ctx, out.messages)
		stop()
		if ok {
			r.finish(ctx, ref)
		}
	})
	return replies, nil
}

// markApplied records that job ref's member has their reply and its effects are applied.
func (r *Runner) markApplied(ctx context.Context, ref hotline.JobRef) {
	if err := r.cfg.Store.MarkJobApplied(context.WithoutCancel(ctx), ref, r.cfg.Lease); err != nil {
		r.cfg.Log.Warn("marking a job applied", "member", short(ref.Member), "err", err)
	}
}

// keepLeased renews job ref's lease every third of it until stop is called.
func (r *Runner) keepLeased(ctx context.Context, ref hotline.JobRef) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(r.cfg.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if err := r.cfg.Store.RenewJobLease(ctx, ref, r.cfg.Lease); err != nil {
					r.cfg.Log.Warn("renewing a job's lease", "member", short(ref.Member), "err", err)
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// Drain waits, up to ctx's end, for the messages of the jobs this process ran to be sent or
// queued: a process shutting down must not die between Twilio taking a message and the mark
// that it was sent, or the message would go twice.
func (r *Runner) Drain(ctx context.Context) {
	done := make(chan struct{})
	go func() { r.sending.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// send sends messages in order, and reports whether each was sent or queued.
func (r *Runner) send(ctx context.Context, messages []message) bool {
	for _, m := range messages {
		if err := r.cfg.Queue.SendOnce(ctx, m.id, m.out); err != nil {
			r.cfg.Log.Warn("a job's message neither sent nor queued; the job is retried", "err", err)
			return false
		}
	}
	return true
}

func (r *Runner) finish(ctx context.Context, ref hotline.JobRef) {
	if err := r.cfg.Store.FinishJob(ctx, ref); err != nil {
		r.cfg.Log.Error("finishing a job", "member", short(ref.Member), "err", err)
	}
}

// collected is the Sender a job's handler sends through: it keeps each message with an id
// made of the job and the message, so the same job run again gives the same ids, which are
// sent once.
type collected struct {
	token    string
	messages []message
}

type message struct {
	id  string
	out hotline.Outbound
}

var ids = base32.StdEncoding.WithPadding(base32.NoPadding)

// MessageID is the send id of message m of job token: the same job, recipient and text give
// the same id.
func MessageID(token string, m hotline.Outbound) string {
	h := sha256.New()
	for _, s := range []string{token, m.To, m.Body} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "fx" + ids.EncodeToString(h.Sum(nil)[:16])
}

func (c *collected) Send(_ context.Context, m hotline.Outbound) (string, error) {
	c.messages = append(c.messages, message{id: MessageID(c.token, m), out: m})
	return "", nil
}

// Sweep takes over every job whose lease has ended: its writer died, or failed. It returns how
// many it carried out.
func (r *Runner) Sweep(ctx context.Context) int {
	buckets, err := r.cfg.Store.BucketsWithJobs(ctx)
	if err != nil {
		r.cfg.Log.Warn("sweeping jobs: some buckets not read", "err", err)
	}
	done := 0
	for _, b := range buckets {
		jobs, err := r.cfg.Store.Jobs(ctx, b)
		if err != nil {
			r.cfg.Log.Warn("sweeping jobs", "err", err)
			continue
		}
		for ref, stored := range jobs {
			if r.takeOver(ctx, ref, stored) {
				done++
			}
		}
	}
	return done
}

// takeOver carries out job ref if no process holds it, and reports whether it did.
func (r *Runner) takeOver(ctx context.Context, ref hotline.JobRef, stored hotline.StoredJob) bool {
	attempt, err := r.cfg.Store.TakeJob(ctx, ref, r.cfg.Lease, r.cfg.MaxLease)
	if err != nil || attempt == 0 {
		return false
	}
	plain, err := r.cfg.Keys.Open(stored.Sealed, privacy.JobContext(ref.Member, ref.Msg))
	var job Job
	if err == nil {
		job, err = Decode(ref.Member, ref.Msg, plain)
	}
	if err != nil {
		// Sealed with a secret since retired, or damaged: it can never be carried out.
		r.cfg.Log.Error("job unreadable; dropped", "member", short(ref.Member), "err", err)
		r.finish(ctx, ref)
		return false
	}
	if age := r.cfg.Now().Sub(time.Unix(job.At, 0)); age > r.cfg.GiveUp {
		r.cfg.Log.Error("job still failing; dropped", "member", short(ref.Member), "attempts", attempt, "age", age.Round(time.Second))
		r.finish(ctx, ref)
		return false
	}
	// The member as they are now: erased, or opted out, since the message.
	st, err := r.cfg.Members.State(ctx, ref.Member)
	exists := err == nil
	if err != nil && !errors.Is(err, hotline.ErrNotFound) {
		r.cfg.Log.Warn("job waits: member not readable", "member", short(ref.Member), "err", err)
		return false
	}
	job.Effects = Allowed(job.Effects, exists, st.OptedOut)
	out := &collected{token: job.Token()}
	replies, err := r.cfg.Handler.HandleJob(ctx, job, out)
	if err != nil {
		r.cfg.Log.Warn("job failed; retried later", "member", short(ref.Member), "attempt", attempt, "err", err)
		return false
	}
	// A process that died before answering left the member with no reply at all: they get it
	// now, as amended by the effects, as messages of their own.
	if !stored.Applied && exists && !st.OptedOut && job.From != "" {
		if err := r.tellMember(job, replies, out); err != nil {
			r.cfg.Log.Error("rendering a taken-over reply", "member", short(ref.Member), "err", err)
		}
	}
	if !r.send(ctx, out.messages) {
		return false
	}
	r.finish(ctx, ref)
	r.cfg.Log.Info("job taken over", "member", short(ref.Member), "attempt", attempt)
	return true
}

func (r *Runner) tellMember(job Job, replies []flow.Reply, out *collected) error {
	if job.Channel == hotline.Voice {
		// The call is over; a text to the caller's number needs their yes, which the
		// call's own steps ask for.
		return nil
	}
	texts, err := r.cfg.Renderers.Render(job.Channel, job.Lang, replies)
	if err != nil {
		return err
	}
	member := make([]message, 0, len(texts))
	for _, t := range texts {
		m := hotline.Outbound{To: job.From, Body: t, Member: job.Member}
		member = append(member, message{id: MessageID(job.Token(), m), out: m})
	}
	// The member's answer first, then the pages and relays.
	out.messages = append(member, out.messages...)
	return nil
}

// RunSweeps sweeps every interval until ctx ends, while this process (owner) holds the sweep
// lease: one process sweeps at a time, and another takes over within a few intervals of its
// death.
func (r *Runner) RunSweeps(ctx context.Context, owner string, every time.Duration) {
	for {
		wait := every/2 + time.Duration(rand.Int64N(int64(every)))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
			if ok, err := r.cfg.Store.TrySweepLease(ctx, owner, 3*every); err == nil && ok {
				r.Sweep(ctx)
			}
		}
	}
}

// short is how a log line names a member (privacy.LogRef: never their member id).
func short(id string) string { return privacy.LogRef(id) }
