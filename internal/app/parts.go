// Package app wires the hotline: New builds every part (store, engine, escalation,
// broadcasts, dispatcher, metrics…) from the settings, once, the same way for `hotline
// serve`, `hotline worker`, the other commands and the end-to-end tests, so that no test
// wires the hotline by hand and drifts from what runs.
package app

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/bot"
	"github.com/communityhotline/hotline/internal/content"
	"github.com/communityhotline/hotline/internal/dispatch"
	"github.com/communityhotline/hotline/internal/escalation"
	"github.com/communityhotline/hotline/internal/metrics"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/staff"
)

// Close releases the app's Redis connection (and stops the embedded Redis, if it started one).
func (a *App) Close() { a.close() }

// Keys derives member ids and seals what is stored.
func (a *App) Keys() *privacy.Keys { return a.keys }

// Metrics is the registry /metrics shows.
func (a *App) Metrics() *metrics.Registry { return a.metrics }

// Content is the flows, messages and places the app runs on.
func (a *App) Content() content.Content { return a.content }

// Store is the hotline's Redis data.
func (a *App) Store() *redisstore.Store { return a.store }

// Engine answers members' messages.
func (a *App) Engine() *bot.Engine { return a.engine }

// Dispatcher sends what waits in the queue.
func (a *App) Dispatcher() *dispatch.Dispatcher { return a.dispatcher }

// Cases handles escalations to volunteers.
func (a *App) Cases() *escalation.Service { return a.cases }

// Redis is the client every part of the app shares, so that a test can watch what the app
// sends to Redis.
func (a *App) Redis() redis.UniversalClient { return a.rdb }

// LoadRoster reads the staff roster before the first message, so that no message waits for
// it; if this fails, the first message tries again.
func (a *App) LoadRoster(ctx context.Context) { a.roster.Load(ctx) }

// Directory is the staff roster as people manage it (add, list, remove).
func (a *App) Directory() *staff.Directory { return a.directory }

// Audit is the log of what staff did.
func (a *App) Audit() *audit.Log { return a.audit }
