package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/console"
	"github.com/communityhotline/hotline/internal/content"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/render"
	"github.com/communityhotline/hotline/internal/segment"
	"github.com/communityhotline/hotline/locales"
)

// check validates flows and messages, renders every message with real data (the places file,
// the configured program name and contact, the longest lists and free text a message can
// carry, every branch of its template) and prints what each costs at its longest, in the
// chosen encoding and in GSM-7, so an organization can choose. It renders every message for
// WhatsApp and the voice line too (check_channels.go). It fails on a flow problem, a message
// that does not render, a member message over HOTLINE_SEGMENT_BUDGET, or a member message a
// caller cannot hear or WhatsApp cannot carry as it is.
func check(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("check", flag.ContinueOnError)
	fset.SetOutput(stderr)
	flowsDir := fset.String("flows", "", "check the flows in this folder instead of the built-in ones")
	localesDir := fset.String("locales", "", "check the messages in this folder instead of the built-in ones")
	if err := fset.Parse(args); err != nil {
		return err
	}
	var flowsFS, localesFS fs.FS = flows.FS, locales.FS
	if *flowsDir != "" {
		flowsFS = os.DirFS(*flowsDir)
	}
	if *localesDir != "" {
		localesFS = os.DirFS(*localesDir)
	}
	cfg, err := config.Parse(getenv)
	if err != nil {
		return fmt.Errorf("settings:\n%w", err)
	}
	c, err := content.Load(flowsFS, localesFS, &places.ZipTable{})
	if err != nil {
		return err
	}
	base := map[string]string{"Program": cfg.ProgramName, "Contact": cfg.Contact,
		"Minutes": strconv.Itoa(int(cfg.EscalationTimeout.Minutes()))}
	rep := measure(c, render.New(c.Catalog, base, cfg.GSM), base, cfg.SegmentBudget)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MESSAGE\tLANG\tFOR\tENCODING\tCHARS\tSEGMENTS\tAS GSM-7\tLONGEST WITH\t")
	for _, row := range rep.rows {
		mark := ""
		switch allowed := c.Allowances[row.id]; {
		case row.over:
			mark = fmt.Sprintf("OVER BUDGET (%d)", max(cfg.SegmentBudget, allowed))
		case row.audience == string(content.ForMember) && row.segments > cfg.SegmentBudget:
			mark = fmt.Sprintf("allowed %d (%s)", allowed, content.AllowancesFile)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", row.id, row.lang, row.audience, row.encoding, row.chars, row.segments, row.gsm, row.from, mark)
	}
	tw.Flush()
	for _, id := range slices.Sorted(maps.Keys(c.Allowances)) {
		if rep.longest[id] <= cfg.SegmentBudget {
			fmt.Fprintf(stdout, "note: %s allows %s %d segments, but it takes at most %d: remove the line\n",
				content.AllowancesFile, id, c.Allowances[id], rep.longest[id])
		}
	}
	fmt.Fprintf(stdout, "\nflows: OK (%d nodes); %d messages in %d languages, rendered %d ways with the places data and this configuration\n",
		len(c.Flows.NodeIDs()), len(rep.longest), len(c.Catalog.Languages()), rep.renders)
	if err := checkIntents(flowsFS, stdout); err != nil {
		return err
	}
	forMember, onCalls := audiences(c)
	chans := checkChannels(channelInput{
		cat: c.Catalog, set: render.NewSet(c.Catalog, base, cfg.GSM), base: base, samples: c.Samples,
		onCalls: onCalls, forMember: forMember, voiceOnly: content.VoiceMessageIDs, baseVars: content.BaseVars,
		configured: []string{cfg.ProgramName, cfg.Contact},
	})
	chans.warnings = append(chans.warnings, settingWarnings(map[string]string{
		"HOTLINE_PROGRAM_NAME": cfg.ProgramName, "HOTLINE_CONTACT": getenv("HOTLINE_CONTACT")})...)
	fmt.Fprintf(stdout, "\nchannels: every message rendered for WhatsApp (%d ways) and the voice line (%d ways)\n",
		chans.renders[hotline.WhatsApp], chans.renders[hotline.Voice])
	for _, w := range chans.warnings {
		fmt.Fprintln(stdout, "  warning: "+w)
	}
	for _, p := range chans.problems {
		fmt.Fprintln(stdout, "  "+p)
	}
	if len(chans.problems) == 0 {
		fmt.Fprintln(stdout, "  OK: nothing a caller cannot hear, nothing WhatsApp cannot carry, every variant stands for a message")
	}
	// The console's words are checked the same way: every id in every language, each renders.
	if problems := console.Check(localesFS, c.Flows.Settings().Languages); len(problems) > 0 {
		fmt.Fprintln(stdout, "\nconsole messages:")
		for _, p := range problems {
			fmt.Fprintln(stdout, "  "+p)
		}
		return fmt.Errorf("check failed: %d problems in the console's messages (locales/console.<lang>.toml), listed above", len(problems))
	}
	fmt.Fprintln(stdout, "console messages: OK, the same ids in every language, each renders")
	if len(rep.problems) == 0 && len(rep.overIDs()) == 0 && len(chans.problems) == 0 {
		fmt.Fprintf(stdout, "every member message fits the budget of %d segments (HOTLINE_SEGMENT_BUDGET) or its allowance in locales/%s\n", cfg.SegmentBudget, content.AllowancesFile)
		return nil
	}
	var why []string
	if over := rep.overIDs(); len(over) > 0 {
		why = append(why, fmt.Sprintf("%d member messages over the budget of %d segments (HOTLINE_SEGMENT_BUDGET), marked above: %s",
			len(over), cfg.SegmentBudget, strings.Join(over, ", ")))
	}
	if len(rep.problems) > 0 {
		fmt.Fprintln(stdout, "\nproblems:")
		for _, p := range rep.problems {
			fmt.Fprintln(stdout, "  "+p)
		}
		why = append(why, fmt.Sprintf("%d messages that fail to render or leave a branch untried, listed above", len(rep.problems)))
	}
	if len(chans.problems) > 0 {
		why = append(why, fmt.Sprintf("%d problems with what WhatsApp or the voice line would say, listed under channels", len(chans.problems)))
	}
	return errors.New("check failed: " + strings.Join(why, "; "))
}

// checkRow is what one message costs at its longest in one language.
type checkRow struct {
	id, lang, audience, encoding, from string
	chars, segments, gsm               int
	over                               bool
}

type checkReport struct {
	rows     []checkRow
	problems []string
	renders  int
	longest  map[string]int // message → its most segments in any language
}

// measure renders every message in every language with every sample of its data
// (content.Samples: real places, the longest lists, free text at its cap, both ways of every
// flag), as the member gets it, options included. It reports each message's longest real
// rendering, a member message over budget, a rendering that fails, and a condition
// ({{if .X}}) that no sample takes one way or the other.
func measure(c content.Content, r *render.Renderer, base map[string]string, budget int) checkReport {
	rep := checkReport{longest: map[string]int{}}
	var ids []string
	for _, lang := range c.Catalog.Languages() {
		ids = append(ids, c.Catalog.IDs(lang)...)
	}
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if !sentBySMS(id) {
			continue
		}
		for _, lang := range c.Catalog.Languages() {
			samples, err := c.Samples(id, lang)
			if err != nil {
				rep.problems = append(rep.problems, fmt.Sprintf("%s (%s): %v", id, lang, err))
				continue
			}
			row := checkRow{id: id, lang: lang, audience: string(content.AudienceOf(id)), encoding: "-", from: "-"}
			conds, _ := c.Catalog.Conditions(lang, id)
			truth := make([][2]bool, len(conds)) // each condition: seen false, seen true
			for _, s := range samples {
				rep.renders++
				texts, err := r.Render(lang, []flow.Reply{{ID: id, Data: s.Data, Options: s.Options}})
				if err != nil {
					rep.problems = append(rep.problems, fmt.Sprintf("%s (%s) with %s: %v", id, lang, s.From, err))
					continue
				}
				for i, cond := range conds {
					if holds, ok := evalCondition(cond.Expr, base, s.Data); ok {
						truth[i][boolIndex(holds)] = true
					}
				}
				if s.Variant {
					continue
				}
				chars, segs, gsm, enc := 0, 0, 0, segment.GSM7
				for _, t := range texts {
					info := segment.Count(t)
					chars, segs, gsm = chars+info.Chars, segs+info.Segments, gsm+segment.Count(segment.ToGSM(t)).Segments
					if info.Encoding == segment.UCS2 {
						enc = segment.UCS2
					}
				}
				if segs > row.segments || (segs == row.segments && chars > row.chars) {
					row.chars, row.segments, row.gsm, row.encoding, row.from = chars, segs, gsm, string(enc), s.From
				}
			}
			for i, cond := range conds {
				if !slices.ContainsFunc(cond.Vars, func(v string) bool { return !slices.Contains(content.BaseVars, v) }) {
					continue // only the configuration decides; there is only its value to try
				}
				if seen := truth[i]; !seen[0] || !seen[1] {
					rep.problems = append(rep.problems, fmt.Sprintf("%s (%s): no sample data makes {{if %s}} %v, so that branch was never rendered (internal/content/samples.go)",
						id, lang, cond.Expr, !seen[1]))
				}
			}
			if row.from == "" {
				row.from = "-"
			}
			rep.longest[id] = max(rep.longest[id], row.segments)
			if content.AudienceOf(id) == content.ForMember && row.segments > max(budget, c.Allowances[id]) {
				row.over = true
			}
			rep.rows = append(rep.rows, row)
		}
	}
	return rep
}

// sentBySMS reports whether message id can go out by SMS: not another channel's variant of a
// message ("menu_prompt_voice"), nor a message only the voice line says.
func sentBySMS(id string) bool {
	_, ch := render.BaseID(id)
	return ch == "" && !slices.Contains(content.VoiceMessageIDs, id)
}

// overIDs are the messages over budget in some language.
func (rep checkReport) overIDs() []string {
	var ids []string
	for _, row := range rep.rows {
		if row.over && !slices.Contains(ids, row.id) {
			ids = append(ids, row.id)
		}
	}
	return ids
}

// evalCondition reports whether a template condition holds for the renderer's base data and
// data, as text/template (which go-i18n renders with) would decide it; false for ok when it
// cannot be evaluated (the rendering itself reports why).
func evalCondition(expr string, base, data map[string]string) (holds, ok bool) {
	t, err := template.New("").Parse("{{if " + expr + "}}1{{end}}")
	if err != nil {
		return false, false
	}
	all := maps.Clone(base)
	maps.Copy(all, data)
	var b strings.Builder
	if err := t.Execute(&b, all); err != nil {
		return false, false
	}
	return b.String() == "1", true
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}
