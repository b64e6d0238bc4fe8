package app

import (
	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/web"
	"github.com/communityhotline/hotline/internal/whatsapp"
)

// WebDeps is what the web server needs of the app, as serve runs it: the webhook answered
// by volunteers' and organizers' commands or the member engine, with the rendered fallback;
// the admin API when ADMIN_TOKEN is set; signatures checked unless in local mode. The spool,
// which is the serving process's own, is the caller's to add.
func (a *App) WebDeps() (web.Deps, error) {
	fallback, err := a.fallback()
	if err != nil {
		return web.Deps{}, err
	}
	kept, err := a.kept()
	if err != nil {
		return web.Deps{}, err
	}
	cfg := a.cfg
	deps := web.Deps{Bot: a.answerer, PublicURL: cfg.PublicURL, Ready: a.store.Ping, Fallback: fallback, Kept: kept, Log: a.log,
		Deliveries: a.store, Metrics: a.metrics, MetricsElsewhere: cfg.MetricsAddr != "", Voice: a.voiceLine()}
	if cfg.AdminToken != "" {
		deps.Broadcasts, deps.Cases, deps.Staff = a.broadcasts, a.cases, a.directory
	}
	// Counting messages for the console costs the webhook no Redis round trip (stats.Day).
	deps.Bot = a.day.Answerer(a.answerer)
	deps.WhatsApp = whatsapp.Reports{Keys: a.keys, Store: a.store, Members: a.engine}
	if deps.Console, err = a.Console(); err != nil {
		return web.Deps{}, err
	}
	if !cfg.Local() {
		deps.Verifier = twilio.NewVerifier(cfg.AuthToken)
	}
	return deps, nil
}
