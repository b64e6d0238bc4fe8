package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/bot"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/locale"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/smstext"
	"github.com/communityhotline/hotline/locales"
)

// goMessageIDs are the messages Go code renders itself (not named by a flow); check makes
// sure they exist in every language.
var goMessageIDs = []string{"error_generic"}

// content is the hotline's data: flows and messages, loaded and checked.
type content struct {
	flows   *flow.Set
	catalog *locale.Catalog
}

func loadContent(flowsFS, localesFS fs.FS) (content, error) {
	set, err := flow.Load(flowsFS, actions.Core())
	if err != nil {
		return content{}, fmt.Errorf("flows:\n%w", err)
	}
	cat, err := locale.Load(localesFS)
	if err != nil {
		return content{}, fmt.Errorf("locales: %w", err)
	}
	if probs := set.Check(cat, goMessageIDs); len(probs) > 0 {
		return content{}, fmt.Errorf("flows and messages:\n%w", probs)
	}
	return content{flows: set, catalog: cat}, nil
}

// app is the wired hotline.
type app struct {
	cfg      config.Config
	content  content
	store    *redisstore.Store
	engine   *bot.Engine
	renderer *smstext.Renderer
	log      *slog.Logger
	close    func()
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// openRedis connects to REDIS_URL, or starts the embedded Redis when it is unset.
func openRedis(cfg config.Config, log *slog.Logger) (redis.UniversalClient, func(), error) {
	if cfg.RedisURL == "" {
		m := miniredis.NewMiniRedis()
		if err := m.Start(); err != nil {
			return nil, nil, fmt.Errorf("starting the embedded Redis: %w", err)
		}
		log.Warn("REDIS_URL is not set: using an embedded in-memory Redis; nothing survives a restart")
		rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
		return rdb, func() { rdb.Close(); m.Close() }, nil
	}
	opt, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	opt.ContextTimeoutEnabled = true
	rdb := redis.NewClient(opt)
	return rdb, func() { rdb.Close() }, nil
}

func newApp(ctx context.Context, cfg config.Config, log *slog.Logger) (*app, error) {
	c, err := loadContent(flows.FS, locales.FS)
	if err != nil {
		return nil, err
	}
	keys, err := privacy.NewKeys(cfg.Secret)
	if err != nil {
		return nil, fmt.Errorf("HOTLINE_SECRET: %w", err)
	}
	rdb, closeRedis, err := openRedis(cfg, log)
	if err != nil {
		return nil, err
	}
	store, err := redisstore.New(rdb, cfg.KeyPrefix, redisstore.DefaultReplyTTL)
	if err != nil {
		closeRedis()
		return nil, err
	}
	renderer := smstext.New(c.catalog, map[string]string{"Program": cfg.ProgramName, "Contact": cfg.Contact}, cfg.GSM)
	engine := bot.New(bot.Config{
		Flows: c.flows, Renderer: renderer, Store: store, Keys: keys, Log: log,
		ConversationTTL: cfg.ConversationTTL,
	})
	return &app{cfg: cfg, content: c, store: store, engine: engine, renderer: renderer, log: log, close: closeRedis}, nil
}

// fallback is the reply when a message cannot be handled: the generic error in every
// language, in one SMS, since we may not know the member's language.
func (a *app) fallback() (string, error) {
	var parts []string
	for _, lang := range a.content.flows.Settings().Languages {
		texts, err := a.renderer.Render(lang, []flow.Reply{{ID: "error_generic"}})
		if err != nil {
			return "", err
		}
		parts = append(parts, texts...)
	}
	return strings.Join(parts, "\n"), nil
}
