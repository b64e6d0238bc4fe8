package app

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/communityhotline/hotline/internal/console"
	"github.com/communityhotline/hotline/internal/escalation"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/staff"
	"github.com/communityhotline/hotline/internal/stats"
	"github.com/communityhotline/hotline/locales"
)

// hotlineZone is where "today" is for the overview's message counts: New Mexico's.
const hotlineZone = "America/Denver"

// newDayCounts counts messages per day in the hotline's time zone (UTC when the system has no
// zone data, which the log says).
func newDayCounts(store *redisstore.Store, log *slog.Logger) *stats.Day {
	loc, err := time.LoadLocation(hotlineZone)
	if err != nil {
		log.Warn("time zone data missing: the console counts messages per UTC day", "zone", hotlineZone, "err", err)
		loc = time.UTC
	}
	return stats.New(store, loc, nil, log)
}

// Console is the staff console over the same services the SMS commands and the admin API use.
func (a *App) Console() (http.Handler, error) {
	langs := a.content.Flows.Settings().Languages
	msgs, err := console.LoadMessages(locales.FS, langs)
	if err != nil {
		return nil, err
	}
	sandbox, err := a.Sandbox()
	if err != nil {
		return nil, err
	}
	signin := staff.NewSignIn(staff.SignInConfig{
		Store: a.store, Roster: a.roster, Sender: a.sender, AdminToken: a.cfg.AdminToken, Log: a.log,
		PhoneID: func(phone string) string { return a.keys.MemberID(hotline.SMS, phone) },
		// Keyed, as member ids are: a copy of Redis does not give a live code away.
		CodeHash: func(phoneID, code string) string { return a.keys.MemberID("console-code", phoneID+":"+code) },
		Text: func(lang, code string) (string, error) {
			if !msgs.Supports(lang) {
				lang = langs[0]
			}
			return msgs.T(lang, "sms_code", map[string]any{"Program": a.cfg.ProgramName, "Code": code})
		},
	})
	a.signins = signin
	return console.New(console.Config{
		SignIn:         signin,
		Sessions:       &staff.Sessions{Store: a.store, Roster: a.roster, AdminToken: a.cfg.AdminToken},
		Directory:      directory{a.directory, a.cases},
		Audit:          a.audit,
		Stats:          overviewSource{a: a, langs: langs},
		Policies:       a.policyChecks,
		StaleDays:      int(a.cfg.PolicyStale.Hours() / 24),
		Languages:      langs,
		Messages:       locales.FS,
		Program:        a.cfg.ProgramName,
		Secure:         strings.HasPrefix(a.cfg.PublicURL, "https://"),
		ClientIPHeader: a.cfg.ClientIPHeader,
		Log:            a.log,
		// cases and reports
		Cases:      a.cases,
		Volunteers: a.roster,
		Location:   hotlineLocation(),
		// broadcasts pages
		Broadcasts: a.broadcasts,
		Subscribers: func(ctx context.Context) (map[string]map[string]int64, error) {
			return a.store.SubscriberCounts(ctx, langs)
		},
		Simulator: sandbox,
		GSM:       a.cfg.GSM,
		Policy:    a.policy,
	})
}

// hotlineLocation is New Mexico's time zone, for the times the cases pages show (UTC when the
// system has no zone data).
func hotlineLocation() *time.Location {
	loc, err := time.LoadLocation(hotlineZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// directory is the staff directory with escalation's on-call switch, which pages the waiting
// cases as texting ON does: the console's Directory.
type directory struct {
	*staff.Directory
	cases *escalation.Service
}

func (d directory) SetOnCall(ctx context.Context, id string, on bool) error {
	return d.cases.SetOnCall(ctx, id, on)
}

// policyChecks lists the shipped places data's checked dates.
func (a *App) policyChecks(context.Context) ([]console.PolicyCheck, error) {
	var out []console.PolicyCheck
	for _, p := range a.content.Places.Places() {
		out = append(out, console.PolicyCheck{ID: p.ID, Checked: p.Checked})
	}
	return out, nil
}

// overviewSource gathers the overview's counts from the store and the services.
type overviewSource struct {
	a     *App
	langs []string
}

func (o overviewSource) Overview(ctx context.Context) (console.Overview, error) {
	var out console.Overview
	var err error
	if out.MessagesIn, out.MessagesOut, err = o.a.day.Today(ctx); err != nil {
		return out, fmt.Errorf("today's message counts: %w", err)
	}
	cases, err := o.a.cases.Cases(ctx)
	if err != nil {
		return out, fmt.Errorf("open cases: %w", err)
	}
	for _, c := range cases {
		out.Cases = append(out.Cases, console.CaseAge{N: c.N, Kind: c.Kind, Urgent: c.Urgent, Claimed: c.Status == "claimed",
			Age: time.Duration(c.AgeS) * time.Second})
	}
	bcs, err := o.a.broadcasts.List(ctx)
	if err != nil {
		return out, fmt.Errorf("broadcasts: %w", err)
	}
	for _, b := range bcs {
		if b.Status != hotline.Sending && b.Status != hotline.AwaitingApproval {
			continue
		}
		var n int64
		for _, r := range b.Recipients {
			n += r
		}
		out.Broadcasts = append(out.Broadcasts, console.BroadcastProgress{ID: b.ID, Status: string(b.Status), Recipients: n,
			Sent: b.Counts.Sent, Failed: b.Counts.Failed, Queue: b.Counts.Queued})
	}
	depth, err := o.a.store.QueueDepth(ctx)
	if err != nil {
		return out, fmt.Errorf("queue depth: %w", err)
	}
	for _, d := range depth {
		out.QueueDepth += d
	}
	subs, err := o.a.store.SubscriberCounts(ctx, o.langs)
	if err != nil {
		return out, err
	}
	for lang, areas := range subs {
		for area, n := range areas {
			out.Subscribers = append(out.Subscribers, console.AreaCount{Area: area, Lang: lang, N: n})
		}
	}
	slices.SortFunc(out.Subscribers, func(x, y console.AreaCount) int {
		return cmp.Or(cmp.Compare(x.Area, y.Area), cmp.Compare(x.Lang, y.Lang))
	})
	return out, nil
}
