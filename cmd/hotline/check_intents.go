package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"text/tabwriter"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/understand"
)

// checkIntents cross-validates the examples the model is built from (five folds) and prints
// precision and recall by intent; it fails when any falls below the floors
// (understand.DefaultFloors, justified in docs/understanding.md).
func checkIntents(flowsFS fs.FS, stdout io.Writer) error {
	ex, err := understand.LoadExamples(flowsFS, flow.IntentsDir)
	if err != nil {
		return fmt.Errorf("intent examples: %w", err)
	}
	cues, err := understand.LoadCues(flowsFS, flow.IntentsDir)
	if err != nil {
		return fmt.Errorf("intent cues: %w", err)
	}
	r := understand.CrossValidate(ex, cues, 5)
	fmt.Fprintf(stdout, "\nunderstanding: %d examples, 5-fold cross-validation\n", len(ex))
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "INTENT\tEXAMPLES\tPRECISION\tRECALL\t")
	for _, s := range r.Intents {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t\n", s.Label, s.Support, s.Precision, s.Recall)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "emergencies recalled %.2f; other messages read as emergencies %.2f; labels exact %.2f\n", r.Urgent, r.FalseUrgent, r.Accuracy)
	if below := understand.DefaultFloors.Below(r); len(below) > 0 {
		return errors.New("understanding is below its floors:\n" + strings.Join(below, "\n"))
	}
	return nil
}
