package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/communityhotline/hotline/internal/audit"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/web"
)

// broadcastCLI talks to a hotline's admin API (HOTLINE_URL, HOTLINE_TOKEN), so organizers can
// work from a terminal: create (with the preview), approve, send, status [--watch], cancel.
func broadcastCLI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = `usage:
  hotline broadcast create --area NAME [--area NAME…] --es TEXT --en TEXT [--urgent]
  hotline broadcast approve ID | send ID | cancel ID
  hotline broadcast status [ID] [--watch]`
	if len(args) == 0 {
		return errors.New(usage)
	}
	cfg, err := config.Parse(getenv)
	if err != nil {
		return fmt.Errorf("settings:\n%w", err)
	}
	if cfg.HotlineToken == "" {
		return errors.New("set HOTLINE_TOKEN to your organizer token (or ADMIN_TOKEN)")
	}
	c := apiClient{base: cfg.HotlineURL, token: cfg.HotlineToken, http: &http.Client{Timeout: 30 * time.Second}}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "create":
		fs := flag.NewFlagSet("create", flag.ContinueOnError)
		fs.SetOutput(stderr)
		var areas multiFlag
		fs.Var(&areas, "area", "a county, city or place id (repeat for several; none = every subscriber)")
		es := fs.String("es", "", "the alert in Spanish")
		en := fs.String("en", "", "the alert in English")
		urgent := fs.Bool("urgent", false, "send ahead of ordinary alerts")
		if err := fs.Parse(args); err != nil {
			return err
		}
		text := map[string]string{}
		if *es != "" {
			text["es"] = *es
		}
		if *en != "" {
			text["en"] = *en
		}
		var b bcView
		if err := c.do(ctx, "POST", "/admin/broadcasts", map[string]any{"text": text, "areas": areas, "urgent": *urgent}, &b); err != nil {
			return err
		}
		printPreview(stdout, b)
		return nil
	case "approve", "send", "cancel":
		if len(args) != 1 {
			return errors.New(usage)
		}
		var b bcView
		if err := c.do(ctx, "POST", "/admin/broadcasts/"+args[0]+"/"+cmd, nil, &b); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "broadcast %s: %s\n", b.ID, b.Status)
		switch {
		case b.Status == "awaiting_approval":
			fmt.Fprintln(stdout, "the other organizers were asked to approve it; it is sent once one does")
		case cmd == "approve" && b.Status == "draft":
			fmt.Fprintf(stdout, "approved; nobody has asked to send it yet: hotline broadcast send %s\n", b.ID)
		}
		return nil
	case "status":
		fs := flag.NewFlagSet("status", flag.ContinueOnError)
		fs.SetOutput(stderr)
		watch := fs.Bool("watch", false, "follow a sending broadcast with a progress bar until it ends")
		if err := fs.Parse(reorder(args)); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			var list struct{ Broadcasts []bcView }
			if err := c.do(ctx, "GET", "/admin/broadcasts", nil, &list); err != nil {
				return err
			}
			for _, b := range list.Broadcasts {
				fmt.Fprintf(stdout, "%s  %-17s  %s  sent %d/%d\n", b.ID, b.Status, b.CreatedAt.Format("2006-01-02 15:04"), b.Sent, b.Queued)
			}
			return nil
		}
		return watchStatus(ctx, c, fs.Arg(0), *watch, stdout)
	}
	return errors.New(usage)
}

// reorder puts flags before the broadcast id, so "status ID --watch" works too.
func reorder(args []string) []string {
	var flags, rest []string
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
		} else {
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type bcView struct {
	ID                 string            `json:"id"`
	Status             string            `json:"status"`
	Areas              []string          `json:"areas"`
	CreatedAt          time.Time         `json:"created_at"`
	Recipients         map[string]int64  `json:"recipients"`
	Segments           map[string]int    `json:"segments"`
	Encoding           map[string]string `json:"encoding"`
	EstimatedCostUSD   float64           `json:"estimated_cost_usd"`
	EstimatedDurationS float64           `json:"estimated_duration_s"`
	AreaNames          map[string]string `json:"area_names"`
	Queued             int64             `json:"queued"`
	Sent               int64             `json:"sent"`
	Delivered          int64             `json:"delivered"`
	Failed             int64             `json:"failed"`
	Undelivered        int64             `json:"undelivered"`
	SkippedOptedOut    int64             `json:"skipped_opted_out"`
	Text               map[string]string `json:"text"`
}

func printPreview(w io.Writer, b bcView) {
	fmt.Fprintf(w, "broadcast %s (%s)\n", b.ID, b.Status)
	if len(b.Areas) == 0 {
		fmt.Fprintln(w, "  areas: every subscriber")
	}
	for _, a := range b.Areas {
		fmt.Fprintf(w, "  area: %s\n", b.AreaNames[a])
	}
	for _, lang := range []string{"es", "en"} {
		n, segs := b.Recipients[lang], b.Segments[lang]
		fmt.Fprintf(w, "  %s: %d %s, %d %s each (%s)\n", lang, n, plural(int(n), "recipient", "recipients"), segs, plural(segs, "segment", "segments"), b.Encoding[lang])
	}
	fmt.Fprintf(w, "  estimated cost: $%.2f   estimated time: %s\n", b.EstimatedCostUSD, time.Duration(b.EstimatedDurationS*float64(time.Second)))
	switch b.Status {
	case "draft":
		fmt.Fprintf(w, "to send it (or, when approvals are on, ask the other organizers to approve it): hotline broadcast send %s\n", b.ID)
	}
}

// printContent shows what a broadcast says and where: its areas by name and its text in each
// language, so that an organizer asked to approve or send it reads what they approve.
func printContent(w io.Writer, b bcView) {
	if len(b.Areas) == 0 {
		fmt.Fprintln(w, "  areas: every subscriber")
	} else {
		names := make([]string, len(b.Areas))
		for i, a := range b.Areas {
			names[i] = cmp.Or(b.AreaNames[a], a)
		}
		fmt.Fprintf(w, "  areas: %s\n", strings.Join(names, ", "))
	}
	for _, lang := range []string{"es", "en"} {
		if t := b.Text[lang]; t != "" {
			fmt.Fprintf(w, "  %s: %s\n", lang, strings.ReplaceAll(t, "\n", "\n      "))
		}
	}
}

func watchStatus(ctx context.Context, c apiClient, id string, watch bool, w io.Writer) error {
	start := time.Now()
	var startDone int64 = -1
	for {
		var b bcView
		if err := c.do(ctx, "GET", "/admin/broadcasts/"+id, nil, &b); err != nil {
			return err
		}
		done := b.Sent + b.Failed + b.SkippedOptedOut
		if !watch {
			fmt.Fprintf(w, "broadcast %s: %s\n", b.ID, b.Status)
			printContent(w, b)
			fmt.Fprintf(w, "  queued %d  sent %d  delivered %d  failed %d  undelivered %d  skipped (opted out) %d\n",
				b.Queued, b.Sent, b.Delivered, b.Failed, b.Undelivered, b.SkippedOptedOut)
			return nil
		}
		if startDone < 0 {
			startDone = done
		}
		fmt.Fprintf(w, "\r%s %s", progressBar(done, b.Queued, 30), eta(done-startDone, b.Queued-done, time.Since(start)))
		if b.Status == "done" || b.Status == "canceled" || (b.Status != "sending" && b.Queued == 0) {
			fmt.Fprintf(w, "\nbroadcast %s: %s  sent %d  delivered %d  failed %d  skipped (opted out) %d\n",
				b.ID, b.Status, b.Sent, b.Delivered, b.Failed, b.SkippedOptedOut)
			return nil
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(w)
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

func progressBar(done, total int64, width int) string {
	filled := 0
	if total > 0 {
		filled = int(int64(width) * min(done, total) / total)
	}
	return fmt.Sprintf("[%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat("-", width-filled), done, total)
}

func eta(progress, remaining int64, elapsed time.Duration) string {
	if progress <= 0 || remaining <= 0 {
		return "ETA --      "
	}
	left := time.Duration(float64(elapsed) / float64(progress) * float64(remaining)).Round(time.Second)
	return fmt.Sprintf("ETA %-8s", left)
}

type apiClient struct {
	base, token string
	http        *http.Client
}

func (c apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	// The audit log records what organizers do from here as done by CLI.
	req.Header.Set(web.ViaHeader, audit.ViaCLI)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		var e struct {
			Error       string   `json:"error"`
			Suggestions []string `json:"suggestions"`
		}
		json.Unmarshal(raw, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(raw))
		}
		if len(e.Suggestions) > 0 {
			e.Error += " (suggestions: " + strings.Join(e.Suggestions, ", ") + ")"
		}
		return fmt.Errorf("%s %s: %d: %s", method, path, resp.StatusCode, e.Error)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}
