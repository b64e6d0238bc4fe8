package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"text/tabwriter"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/config"
	"github.com/communityhotline/hotline/internal/content"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/segment"
	"github.com/communityhotline/hotline/locales"
)

// check validates flows and messages (exit non-zero on a problem) and prints what every
// message costs, in the chosen encoding and in GSM-7, so an organization can choose.
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
	base := map[string]string{"Program": cfg.ProgramName, "Contact": cfg.Contact}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLANG\tENCODING\tCHARS\tSEGMENTS\tAS GSM-7\t")
	over := 0
	for _, lang := range c.Catalog.Languages() {
		for _, id := range c.Catalog.IDs(lang) {
			text, approx, err := sampleText(c, lang, id, base)
			if err != nil {
				return err
			}
			uni, gsm := segment.Count(text), segment.Count(segment.ToGSM(text))
			chosen := uni
			if cfg.GSM {
				chosen = gsm
			}
			warn := ""
			if chosen.Segments > cfg.SegmentBudget {
				warn = fmt.Sprintf("over budget (%d)", cfg.SegmentBudget)
				over++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s%d\t%d\t%d\t%s\n", id, lang, chosen.Encoding, approx, chosen.Chars, chosen.Segments, gsm.Segments, warn)
		}
	}
	tw.Flush()
	if err := checkIntents(flowsFS, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nflows and messages: OK (%d nodes, %d languages)\n", len(c.Flows.NodeIDs()), len(c.Catalog.Languages()))
	if over > 0 {
		fmt.Fprintf(stdout, "warning: %d messages are over the budget of %d segments (HOTLINE_SEGMENT_BUDGET)\n", over, cfg.SegmentBudget)
	}
	return nil
}

// sampleText renders a message with the configured program name and contact; variables only
// known at run time are shown as [Name], so their cost is approximate (marked "~").
func sampleText(c content.Content, lang, id string, base map[string]string) (string, string, error) {
	vars, err := c.Catalog.Vars(lang, id)
	if err != nil {
		return "", "", err
	}
	data := map[string]string{}
	approx := ""
	for _, v := range vars {
		if b, ok := base[v]; ok {
			data[v] = b
		} else {
			data[v] = "[" + v + "]"
			approx = "~"
		}
	}
	text, err := c.Catalog.Text(lang, id, data)
	if err != nil {
		return "", "", err
	}
	return text, approx, nil
}
