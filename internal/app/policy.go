package app

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/content"
	"github.com/communityhotline/hotline/internal/policyedit"
	"github.com/communityhotline/hotline/internal/redisstore"
)

// PolicyReloadEvery is how often a process rereads the policy corrections, in case it missed
// an announcement (its subscription down for a moment): the longest a member of another
// process may get an entry as it was before a correction.
const PolicyReloadEvery = 30 * time.Second

// newPolicy builds the organizers' corrections of the places data over the directory members
// read (c.Places), and lays the stored corrections before the first message is answered.
func newPolicy(ctx context.Context, cfg config.Config, c content.Content, store *redisstore.Store, log *slog.Logger) (*policyedit.Service, error) {
	shipped, err := fs.ReadFile(flows.FS, content.PlacesFile)
	if err != nil {
		return nil, fmt.Errorf("flows/%s: %w", content.PlacesFile, err)
	}
	svc := policyedit.New(policyedit.Config{
		Places: c.Places, Shipped: shipped, Texts: c.Catalog, Store: store,
		Audit: &audit.Log{Store: store, Log: log}, StaleAfter: cfg.PolicyStale, Log: log,
		Location: hotlineLocation(),
	})
	if err := svc.Reload(ctx); err != nil {
		return nil, err
	}
	return svc, nil
}

// Policy is the organizers' corrections of county and city entries.
func (a *App) Policy() *policyedit.Service { return a.policy }

// WatchPolicy keeps this process's policy data current until ctx ends: at once when another
// process announces a correction, and every PolicyReloadEvery in case one was missed.
func (a *App) WatchPolicy(ctx context.Context) {
	go a.policy.RunReloads(ctx, PolicyReloadEvery)
	a.store.WatchPolicyChanges(ctx, func() { a.policy.Heard(ctx) })
}
