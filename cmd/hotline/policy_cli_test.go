package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/communityhotline/hotline/internal/app"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/policyedit"
	"github.com/communityhotline/hotline/internal/redistest"
)

func TestPolicyCLI(t *testing.T) {
	ctx := context.Background()
	_, prefix := redistest.Open(t)
	env := envOf(map[string]string{"REDIS_URL": redistest.URL(t), "HOTLINE_KEY_PREFIX": prefix})
	cfg, err := config.Parse(env)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	e, err := a.Policy().Entry(ctx, "taos-county")
	if err != nil {
		t.Fatal(err)
	}
	ch := policyedit.ChangeOf(e)
	ch.PolicyEN = "Taos County test policy (June 2026)."
	ch.PolicyES = "Norma de prueba del condado de Taos (junio de 2026)."
	ch.PolicyDate, ch.Source, ch.SourceURL, ch.Verified = "2026-06", "Taos News 2026", "https://www.taosnews.com/", true
	if _, err := a.Policy().Edit(ctx, policyedit.Actor{ID: "admin", Name: "Admin", Role: "admin", Via: "cli"}, "taos-county", ch); err != nil {
		t.Fatal(err)
	}

	var list bytes.Buffer
	if err := run(ctx, []string{"policy", "list"}, env, nil, &list, io.Discard); err != nil {
		t.Fatal(err)
	}
	var taos, catron string
	for _, l := range strings.Split(list.String(), "\n") {
		switch strings.SplitN(l, " ", 2)[0] {
		case "taos-county":
			taos = l
		case "catron-county":
			catron = l
		}
	}
	if !strings.Contains(taos, "Admin (admin)") || strings.Contains(taos, "STALE") || !strings.Contains(taos, "true") {
		t.Errorf("taos line: %q\n%s", taos, list.String())
	}
	if catron == "" || strings.Contains(catron, "Admin") {
		t.Errorf("catron line: %q", catron)
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"policy", "export"}, env, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	got, err := places.Parse(out.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := places.SameEntries(a.Content().Places, got); err != nil {
		t.Error(err)
	}
	if p, _ := got.Get("taos-county"); p.PolicyEN != ch.PolicyEN {
		t.Errorf("exported taos-county: %+v", p.Facts)
	}

	if err := run(ctx, []string{"policy", "delete"}, env, nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("an unknown subcommand: %v", err)
	}
	if err := run(ctx, []string{"policy", "list"}, envOf(nil), nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Errorf("without REDIS_URL: %v", err)
	}
}
