package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/bot"
	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/content"
	"github.com/communityhotline/hotline/internal/dispatch"
	"github.com/communityhotline/hotline/internal/effects"
	"github.com/communityhotline/hotline/internal/escalation"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/metrics"
	"github.com/communityhotline/hotline/internal/organizer"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/policyedit"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/ratelimit"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/render"
	"github.com/communityhotline/hotline/internal/staff"
	"github.com/communityhotline/hotline/internal/stats"
	"github.com/communityhotline/hotline/internal/streak"
	"github.com/communityhotline/hotline/internal/subindex"
	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/whatsapp"
	"github.com/communityhotline/hotline/locales"
)

// App is the wired hotline: every part, built once from the settings. Its parts are read
// through the methods of the same names (parts.go).
type App struct {
	cfg      config.Config
	keys     *privacy.Keys
	sender   hotline.Sender
	metrics  *metrics.Registry
	content  content.Content
	store    *redisstore.Store
	engine   *bot.Engine
	renderer *render.Renderer
	// renderers render for each channel; renderer is SMS's.
	renderers render.Set
	zips      *places.ZipTable
	log       *slog.Logger
	// roster is who the organizers and volunteers are, kept in memory.
	roster *staff.Roster
	// directory adds, lists and removes them, and tells who a token belongs to.
	directory *staff.Directory
	// audit is the log of what staff did, whatever the channel.
	audit *audit.Log
	// policy is the organizers' corrections of county and city entries (policy.go).
	policy *policyedit.Service
	// signins texts console sign-in codes (console.go), after the page has answered.
	signins *staff.SignIn
	// links texts the codes that link staff's WhatsApp to their phones, after the answer.
	links *staff.Linker
	// day counts messages in and out today, for the console (console.go).
	day *stats.Day

	broadcasts *broadcast.Service
	dispatcher *dispatch.Dispatcher
	cases      *escalation.Service
	// jobs carries out what members' messages promised beyond their replies, and takes over
	// what a dead process left.
	jobs *effects.Runner
	// answerer routes an inbound message to the organizer or volunteer commands or the
	// member engine (staff.Router), gives a WhatsApp member what was held for them
	// (whatsapp.Answerer), and deletes a message's media once it is answered.
	answerer hotline.Answerer
	// wa is the WhatsApp answerer inside answerer, whose releases of held messages DrainJobs waits for.
	wa *whatsapp.Answerer
	// media deletes inbound messages' media from Twilio; nil without the REST API (local
	// mode, or no sender configured).
	media *twilio.MediaJanitor
	rdb   redis.UniversalClient
	close func()
}

// NewLogger is the log the settings ask for, written to w.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// OpenRedis connects to REDIS_URL, or starts the embedded Redis when it is unset.
func OpenRedis(cfg config.Config, log *slog.Logger) (redis.UniversalClient, func(), error) {
	if cfg.RedisURL == "" {
		m := miniredis.NewMiniRedis()
		if err := m.Start(); err != nil {
			return nil, nil, fmt.Errorf("starting the embedded Redis: %w", err)
		}
		log.Warn("REDIS_URL is not set: using an embedded in-memory Redis; nothing survives a restart")
		rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
		return rdb, func() { rdb.Close(); m.Close() }, nil
	}
	if cfg.RedisCluster {
		opt, err := redis.ParseClusterURL(cfg.RedisURL)
		if err != nil {
			// The parser's message can quote the URL, password included.
			return nil, nil, errors.New("REDIS_URL is not a valid Redis Cluster URL")
		}
		opt.ContextTimeoutEnabled = true
		opt.ClusterStateReloadInterval = ClusterStateReload
		rdb := redis.NewClusterClient(opt)
		rdb.AddHook(reloadOnFailure{rdb})
		return rdb, func() { rdb.Close() }, nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, errors.New("REDIS_URL is not a valid redis:// or rediss:// URL")
	}
	opt.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opt)
	return rdb, func() { rdb.Close() }, nil
}

// New wires the hotline from cfg. Close releases what it holds.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	zips := &places.ZipTable{}
	c, err := content.Load(flows.FS, locales.FS, zips)
	if err != nil {
		return nil, err
	}
	keys, err := privacy.NewKeys(cfg.Secret, cfg.SealingSecrets...)
	if err != nil {
		return nil, fmt.Errorf("HOTLINE_SECRET: %w", err)
	}
	rdb, closeRedis, err := OpenRedis(cfg, log)
	if err != nil {
		return nil, err
	}
	store, err := redisstore.New(rdb, cfg.KeyPrefix, redisstore.DefaultReplyTTL)
	if err != nil {
		closeRedis()
		return nil, err
	}
	// Members are answered on the channel they wrote on; staff's messages (pages, commands,
	// approvals) go by SMS.
	renderers := render.NewSet(c.Catalog, map[string]string{"Program": cfg.ProgramName, "Contact": cfg.Contact,
		"Minutes": strconv.Itoa(int(cfg.EscalationTimeout.Minutes()))}, cfg.GSM)
	renderer := renderers.SMS
	// The subscriber index is written after the member's state; when Redis fails to take it
	// (its master dying), subs repairs it from the state once Redis does.
	var members *bot.Members
	subs := subindex.New(store, func(ctx context.Context, id string) (hotline.Subscription, error) {
		st, err := members.State(ctx, id)
		if errors.Is(err, hotline.ErrNotFound) {
			return hotline.Subscription{}, nil
		}
		return subscription(st), err
	}, log, nil)
	botCfg := bot.Config{
		Flows: c.Flows, Renderer: renderers, Store: store, Keys: keys, Log: log,
		ConversationTTL: cfg.ConversationTTL,
		SenderLimit:     cfg.SenderLimit, ReplyCap: cfg.ReplyCap, LimitNotice: "rate_limited",
		// Consent to alerts by voice, alerts by SMS and a STOP on another member id would not
		// fit together: a caller is told to text ALERTAS instead (docs/channels.md, point 10);
		// and a caller is never sent anything to opt out of.
		Channels: map[hotline.Channel]bot.ChannelRules{hotline.Voice: {Leave: []string{"alerts"}, NeverOptedOut: true}},
		Subscriptions: func(ctx context.Context, id string, before, after flow.State) error {
			return subs.Sync(ctx, id, subscription(before), subscription(after))
		},
	}
	// The services that act on members outside a conversation share the engine's view of
	// them, without the engine: the engine needs them (through its jobs), not the reverse.
	members = bot.NewMembers(botCfg)
	reg := metrics.New()
	rdb.AddHook(redisErrors{reg.Counter("hotline_redis_errors_total", "Redis commands that failed (not counting misses).", "", "")})
	if cfg.RedisWait > 0 {
		// A write no replica confirms in time is kept on the master alone: refusing it would
		// turn a master without a replica (the state right after a failover, until the dead
		// node comes back) into an outage of its slots.
		unreplicated := reg.Counter("hotline_redis_unreplicated_writes_total", "Promised writes no replica confirmed within HOTLINE_REDIS_WAIT (kept on the master alone).", "", "")
		lagging := streak.New(log, "waiting for a replica to confirm promised writes (HOTLINE_REDIS_WAIT; each is kept on the master alone meanwhile)", nil)
		store.WaitForReplica(cfg.RedisWait, func(replicated bool) {
			if replicated {
				lagging.OK()
				return
			}
			unreplicated.Inc()
			lagging.Fail(errors.New("no replica confirmed the write in time"))
		})
	}
	sender, err := newSender(cfg, log)
	if err != nil {
		closeRedis()
		return nil, err
	}
	var media *twilio.MediaJanitor
	if rest, ok := sender.(*twilio.RESTSender); ok {
		media = twilio.NewMediaJanitor(rest, log)
		media.OnDeleted = func(n int) {
			reg.Counter("hotline_media_deleted_total", "Media of inbound messages deleted from Twilio.", "", "").Add(int64(n))
		}
		media.OnFailed = reg.Counter("hotline_media_delete_failures_total", "Inbound messages whose media could not be deleted from Twilio (logged by message id).", "", "").Inc
	}
	day := newDayCounts(store, log)
	sender = day.Sender(sender)
	// One roster of organizers and volunteers, in memory, for both SMS routers: every message
	// is checked against it, and a Redis that fails to answer must not fail them all.
	roster := staff.New(staff.Config{Source: store, Log: log, Announce: store.AnnounceStaffChange})
	// One staff action log for every channel: the services record, whoever calls them.
	auditLog := &audit.Log{Store: store, Log: log}
	bcs := broadcast.New(broadcast.Config{
		Store: store, Places: c.Places, Keys: keys, Languages: c.Flows.Settings().Languages,
		Rate: cfg.SendRate, WARate: cfg.WARate, CostPerSegment: cfg.CostPerSegment, Approvals: cfg.Approvals, GSM: cfg.GSM,
		Audit: auditLog,
	})
	callback := ""
	if cfg.PublicURL != "" {
		callback = cfg.PublicURL + "/twilio/status"
	}
	// A message to one member on WhatsApp goes as text inside their 24-hour window, and
	// outside it is held behind the reply template; alerts are the dispatcher's to decide.
	waTemplates := whatsapp.Templates{
		whatsapp.Alert: cfg.WATemplates[config.WATemplateAlert], whatsapp.Reply: cfg.WATemplates[config.WATemplateReply]}
	sender = &whatsapp.Sender{Next: sender, Store: store, Keys: keys, Members: members, Templates: waTemplates,
		Language: c.Flows.Settings().Languages[0], StatusCallback: callback, Log: log,
		OnDecided: func(how string) {
			reg.Counter("hotline_whatsapp_direct_total", "Messages to one WhatsApp member, by how they went (free text, template, held behind one sent before, skip: outside the window without a template).", "how", how).Inc()
		}}
	dispatcher := dispatch.New(dispatch.Config{
		Store: store, Keys: keys, Members: members, Sender: sender,
		Limiter:        ratelimit.New(rdb, cfg.KeyPrefix+":rate", cfg.SendRate, 1),
		StatusCallback: callback, GSM: cfg.GSM, Consumer: consumerName(), Concurrency: cfg.WorkerConcurrency, ClaimIdle: cfg.ClaimIdle, Backoff: cfg.SendBackoff, Rate: cfg.SendRate, Log: log,
		OnOutcome: func(o string) {
			reg.Counter("hotline_sends_total", "Outbound sends by outcome (sent, failed, skipped, skipped_no_template, retry).", "outcome", o).Inc()
		},
		WhatsApp: dispatch.WhatsApp{Templates: waTemplates, Windows: store,
			Limiter: ratelimit.New(rdb, cfg.KeyPrefix+":rate:wa", cfg.WARate, 1), Rate: cfg.WARate},
	})
	// Messages to one person go out at once, and wait in the queue only when Twilio fails.
	outbox := dispatch.Outbox{Sender: sender, Store: store, Keys: keys, Log: log,
		OnQueued: reg.Counter("hotline_sends_queued_total", "Messages to one person (pages, relays, notices) queued for a retry after Twilio failed.", "", "").Inc}
	composer := organizer.New(organizer.Config{Broadcasts: bcs, Store: store, Keys: keys, Renderer: renderer, Sender: outbox, Log: log, Roster: roster})
	// Approval requests and approvals reach organizers' phones whatever channel they came
	// through (SMS, console, API, CLI).
	bcs.SetNotifier(composer.Notifier())
	cases := escalation.New(escalation.Config{
		Store: store, Keys: keys, Members: members, Sender: outbox, Renderer: renderer, Channels: renderers, Broadcasts: bcs,
		Languages: c.Flows.Settings().Languages, Timeout: cfg.EscalationTimeout, Retention: cfg.CaseRetention,
		ShowNames: cfg.VolunteerNames, Log: log, Roster: roster, Audit: auditLog,
		OnClaim: reg.Histogram("hotline_case_time_to_claim_seconds", "How long cases waited for a volunteer.",
			[]float64{30, 60, 120, 300, 600, 1200, 3600}).Observe,
	})
	reg.Gauge("hotline_queue_depth", "Sends waiting in the queue, by priority.", "priority", func(ctx context.Context) (map[string]float64, error) {
		depth, err := store.QueueDepth(ctx)
		out := map[string]float64{}
		for k, v := range depth {
			out[k] = float64(v)
		}
		return out, err
	})
	reg.Gauge("hotline_cases", "Cases not closed, by status (open = waiting for a volunteer).", "status", func(ctx context.Context) (map[string]float64, error) {
		cs, err := store.OpenCases(ctx)
		out := map[string]float64{"open": 0, "claimed": 0}
		for _, c := range cs {
			out[c.Status]++
		}
		return out, err
	})
	jobs := effects.New(effects.Config{Store: store, Keys: keys, Handler: cases, Queue: outbox, Members: members,
		Renderers: renderers, Log: log})
	botCfg.Jobs = jobs
	if os.Getenv("HOTLINE_FAILPOINT") == "after-job-commit" {
		// For the test that kills a process between a commit and its effects: hang there.
		log.Warn("HOTLINE_FAILPOINT=after-job-commit: messages with effects hang after their commit (tests only)")
		botCfg.AfterJobCommit = func() { select {} }
	}
	engine := bot.New(botCfg)
	directory := staff.NewDirectory(staff.DirectoryConfig{Store: store, Keys: keys, Languages: c.Flows.Settings().Languages,
		RootToken: cfg.AdminToken, Roster: roster, OnVolunteerRemoved: cases.ReopenVolunteerCases, Audit: auditLog})
	// Staff on WhatsApp are staff once a code texted to their phone is typed there.
	links := staff.NewLinker(staff.LinkConfig{
		Store: store, Roster: roster, Directory: directory, Sender: outbox, Renderer: renderers,
		Languages: c.Flows.Settings().Languages, Log: log,
		PhoneID: func(phone string) string { return keys.MemberID(hotline.SMS, phone) },
		// Keyed as the console's sign-in codes are (their key space is another).
		CodeHash: func(phoneID, code string) string { return keys.MemberID("console-code", phoneID+":"+code) },
	})
	released := reg.Counter("hotline_whatsapp_released_total", "Held messages given to WhatsApp members when they wrote again.", "", "")
	waAnswerer := &whatsapp.Answerer{Next: staff.Router{Keys: keys, Roster: roster, Organizers: composer, Volunteers: cases, Members: engine, Links: links},
		Store: store, Keys: keys, Members: members, Out: outbox, Log: log,
		OnReleased: func(n int) { released.Add(int64(n)) }}
	a := &App{cfg: cfg, metrics: reg, keys: keys, sender: outbox, content: c, store: store, engine: engine, renderer: renderer, renderers: renderers, zips: zips, log: log, rdb: rdb, close: closeRedis,
		broadcasts: bcs, dispatcher: dispatcher, roster: roster, audit: auditLog, day: day, cases: cases, jobs: jobs, media: media,
		answerer: waAnswerer, wa: waAnswerer,
		directory: directory, links: links,
	}
	if media != nil {
		// A picture or voice note is deleted from Twilio once its message is answered.
		a.answerer = media.Answerer(a.answerer)
	}
	if a.policy, err = newPolicy(ctx, cfg, c, store, log); err != nil {
		a.close()
		return nil, err
	}
	if err := a.LoadZips(ctx); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// jobSweepEvery is how often the process holding the sweep lease looks for jobs a dead
// process left: with effects.DefaultLease, a job is taken over within about 7 s of its
// writer's death.
const jobSweepEvery = 2 * time.Second

// WatchRoster marks the staff roster stale whenever another process announces a change to
// it, until ctx ends: a volunteer added through one server is one on every server at once.
func (a *App) WatchRoster(ctx context.Context) { a.store.WatchStaffChanges(ctx, a.roster.Heard) }

// DrainJobs waits, up to 30 s, for the messages of the jobs this process carried out to be
// sent or queued (effects.Runner.Drain), and for the deletions of inbound media under way.
func (a *App) DrainJobs() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a.jobs.Drain(ctx)
	if a.signins != nil {
		a.signins.Drain()
	}
	a.links.Drain()
	a.wa.Drain()
	if a.media != nil {
		done := make(chan struct{})
		go func() { a.media.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
}

// RunJobSweeps takes over, until ctx ends, the jobs dead processes left (one process at a time
// sweeps; every process offers).
func (a *App) RunJobSweeps(ctx context.Context) {
	a.jobs.RunSweeps(ctx, consumerName(), jobSweepEvery)
}

// redisErrors counts failed Redis commands for /metrics.
type redisErrors struct{ c metrics.Counter }

func (h redisErrors) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h redisErrors) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if countable(err) {
			h.c.Inc()
		}
		return err
	}
}
func (h redisErrors) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if countable(err) {
			h.c.Inc()
		}
		return err
	}
}

// countable reports whether a Redis error is a failure worth counting: not a miss, not a
// script not yet loaded (go-redis loads it and retries), not a consumer group that exists.
func countable(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) {
		return false
	}
	msg := err.Error()
	return !strings.HasPrefix(msg, "NOSCRIPT") && !strings.HasPrefix(msg, "BUSYGROUP")
}

// newSender returns the Twilio REST sender, or in local mode one that prints to stdout.
func newSender(cfg config.Config, log *slog.Logger) (hotline.Sender, error) {
	if cfg.Local() {
		return &consoleSender{w: os.Stdout}, nil
	}
	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		log.Warn("neither TWILIO_FROM nor TWILIO_MESSAGING_SERVICE_SID is set: alerts cannot be sent")
		return unconfiguredSender{}, nil
	}
	s, err := twilio.NewRESTSender(twilio.RESTConfig{
		AccountSID: cfg.AccountSID, AuthToken: cfg.AuthToken, From: cfg.From,
		MessagingServiceSID: cfg.MessagingServiceSID, APIBase: cfg.APIBase,
	})
	if err != nil {
		return nil, fmt.Errorf("Twilio sender: %w", err)
	}
	return s, nil
}

// unconfiguredSender refuses every send, so a hotline with no sender configured keeps its
// queue (and says why) rather than dropping alerts.
type unconfiguredSender struct{}

func (unconfiguredSender) Send(context.Context, hotline.Outbound) (string, error) {
	return "", &hotline.SendError{Kind: hotline.Retry, Err: errors.New("no sender: set TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID")}
}

// consumerName names this process in the send queue's consumer group.
func consumerName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hotline.NewID())
}

// Replay answers a message spooled while Redis failed: the member had only the fallback, so
// the real replies go out as ordinary messages. A member who must not be answered comes back
// as hotline.ErrDoNotAnswer, and the spool drops the record. A reply the provider failed to
// take for a passing reason, and that could not be queued for a retry either, fails the
// replay so that it is tried again: the message is then answered from the reply log, and
// only the send repeats.
func (a *App) Replay(ctx context.Context, in hotline.Inbound) error {
	if in.Channel == hotline.Voice {
		// A call is over by now: its words cannot be sent as texts (voice is never spooled).
		return hotline.ErrDoNotAnswer
	}
	reply, err := a.answerer.Answer(ctx, in)
	if err != nil {
		return err
	}
	for _, t := range reply.Texts {
		out := hotline.Outbound{To: in.From, Body: t, Member: a.keys.MemberID(in.Channel, in.From)}
		if _, err := a.sender.Send(ctx, out); err != nil {
			if hotline.SendErrorKindOf(err) == hotline.Retry {
				return fmt.Errorf("sending a replayed reply: %w", err)
			}
			a.log.Error("sending a replayed reply", "msg_id", in.ID, "err", err)
		}
	}
	return nil
}

// subscription is where a member's state lists them: nowhere once opted out; on WhatsApp
// when alerts go to a WhatsApp address.
func subscription(st flow.State) hotline.Subscription {
	if st.OptedOut {
		return hotline.Subscription{Lang: st.Lang}
	}
	return hotline.Subscription{Areas: st.Areas, Lang: st.Lang, Channel: hotline.ChannelOf(st.Address)}
}

// LoadZips reads the imported ZIP table from Redis into memory, where lookups read it
// without a round trip. Unknown ids in it (a place removed from the data) are dropped.
func (a *App) LoadZips(ctx context.Context) error {
	raw, err := a.store.Zips(ctx)
	if err != nil {
		return err
	}
	m := make(map[string]places.ZipEntry, len(raw))
	for zip, v := range raw {
		county, city := redisstore.SplitZip(v)
		if _, ok := a.content.Places.Get(county); ok {
			m[zip] = places.ZipEntry{County: county, City: city}
		}
	}
	a.zips.Replace(m)
	return nil
}

// RefreshZips reloads the ZIP table every interval, so an import reaches every running
// process without a restart, and forgets stale member states kept in memory.
func (a *App) RefreshZips(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.LoadZips(ctx); err != nil {
				a.log.Warn("ZIP table not reloaded", "err", err)
			}
			// The same minute's housekeeping: member states kept in memory go after
			// five minutes even when no message comes to push them out.
			a.engine.ForgetStale()
		}
	}
}

// fallback is the reply when a message cannot be handled: the generic error in every
// language, in one SMS, since we may not know the member's language.
func (a *App) fallback() (string, error) { return a.everyLanguage("error_generic") }

// kept is the reply when a message could not be handled now but is kept (spooled) and will be
// answered: it says so, so that the member does not write again, in every language.
func (a *App) kept() (string, error) { return a.everyLanguage("error_kept") }

// everyLanguage is message id in every language, one after the other, in one SMS: we may not
// know the member's language.
func (a *App) everyLanguage(id string) (string, error) {
	var parts []string
	for _, lang := range a.content.Flows.Settings().Languages {
		texts, err := a.renderer.Render(lang, []flow.Reply{{ID: id}})
		if err != nil {
			return "", err
		}
		parts = append(parts, texts...)
	}
	return strings.Join(parts, "\n"), nil
}
