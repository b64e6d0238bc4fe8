package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"text/tabwriter"

	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
)

// reseal re-seals with the newest sealing key every value in Redis sealed with an older one,
// so that old sealing secrets can be removed (docs/privacy.md, "Rotating the sealing key").
// It runs beside a live hotline: each rewrite is a compare-and-set, and a value the hotline
// rewrote meanwhile is left alone. It exits non-zero when a value does not open, so nobody
// removes a secret while something depends on it.
func reseal(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	dryRun, err := parseDryRun("reseal", "re-sealed", args, stderr)
	if err != nil {
		return err
	}
	cfg, err := sharedRedisConfig(getenv, "reseal", "it re-seals the data of a deployed hotline")
	if err != nil {
		return err
	}
	// Without it, local mode would fall back to the local secret, and nothing would open.
	if strings.TrimSpace(getenv("HOTLINE_SECRET")) == "" {
		return errors.New("reseal needs HOTLINE_SECRET (and HOTLINE_SEALING_SECRETS, if any), exactly as the hotline has them")
	}
	keys, err := privacy.NewKeys(cfg.Secret, cfg.SealingSecrets...)
	if err != nil {
		return fmt.Errorf("HOTLINE_SECRET: %w", err)
	}
	store, closeStore, err := openDeployedStore(cfg, stderr)
	if err != nil {
		return err
	}
	defer closeStore()
	rep, err := resealAll(ctx, store, keys, dryRun)
	if err != nil {
		return err
	}
	rep.print(stdout, cfg.SealingSecrets)
	return rep.err()
}

// sealedStore is what a reseal pass needs of the store.
type sealedStore interface {
	SealedValues(ctx context.Context) iter.Seq2[redisstore.Sealed, error]
	ReplaceSealed(ctx context.Context, batch []redisstore.Replacement) ([]redisstore.Replaced, error)
}

// resealBatch is how many rewrites go to Redis in one pipeline.
const resealBatch = 256

// maxListed is how many places of unreadable (or meanwhile re-sealed with an old key) values
// a report names; past that the cause is a wrong secret, not a few damaged values.
const maxListed = 100

// resealCounts are the outcomes for one kind of value.
type resealCounts struct {
	checked    int
	resealed   int // or, in a dry run, would be
	current    int // already sealed with the newest key
	changed    int // rewritten by the hotline between read and compare-and-set
	unreadable int
}

// resealReport is the outcome of a pass.
type resealReport struct {
	dryRun bool
	counts map[redisstore.SealedKind]*resealCounts
	// unreadable and stillOld name the places (never the values) of values that do not open,
	// and of values the hotline rewrote meanwhile with a key other than the newest.
	unreadable, stillOld   []string
	unreadableN, stillOldN int
	// oldLayout counts the member keys still in the layout before bucket hashes: reseal does
	// not touch them, so until `hotline migrate` moves them they may hold old keys' seals.
	oldLayout int
	// queuedOld counts pages and relays waiting in the send queue sealed with an older key:
	// a stream entry is not rewritten, it goes out (or is given up on) within minutes.
	queuedOld int
}

// resealAll opens every sealed value of st and, when it was sealed with an older key, seals
// it again with the newest under the same context, and writes it back if it is still there
// unchanged. Values that do not open are counted and left as they are. Nothing decrypted
// leaves this function.
func resealAll(ctx context.Context, st sealedStore, keys *privacy.Keys, dryRun bool) (*resealReport, error) {
	rep := &resealReport{dryRun: dryRun, counts: map[redisstore.SealedKind]*resealCounts{}}
	for _, k := range redisstore.SealedKinds {
		rep.counts[k] = &resealCounts{}
	}
	var batch []redisstore.Replacement
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res, err := st.ReplaceSealed(ctx, batch)
		if err != nil {
			return err
		}
		for i, r := range res {
			old := batch[i].Old
			c := rep.counts[old.Kind]
			switch {
			case r.Done:
				c.resealed++
			default:
				c.changed++
				// A writer with the new secrets seals with the newest key; one without them
				// (a process not yet redeployed) would leave an old key behind.
				if r.Current != nil && keys.NeedsReseal(r.Current) {
					rep.stillOldN++
					if len(rep.stillOld) < maxListed {
						rep.stillOld = append(rep.stillOld, old.Where()+" ("+string(old.Kind)+")")
					}
				}
			}
		}
		batch = batch[:0]
		return nil
	}
	for v, err := range st.SealedValues(ctx) {
		if err != nil {
			return nil, err
		}
		if v.Kind == redisstore.KindOldLayout {
			rep.oldLayout++
			continue
		}
		c := rep.counts[v.Kind]
		c.checked++
		plain, err := keys.Open(v.Value, v.Context)
		if err != nil {
			c.unreadable++
			rep.unreadableN++
			if len(rep.unreadable) < maxListed {
				rep.unreadable = append(rep.unreadable, v.Where()+" ("+string(v.Kind)+")")
			}
			continue
		}
		if !keys.NeedsReseal(v.Value) {
			c.current++
			clear(plain)
			continue
		}
		if v.Kind == redisstore.KindQueued {
			rep.queuedOld++
			clear(plain)
			continue
		}
		if dryRun {
			c.resealed++
			clear(plain)
			continue
		}
		batch = append(batch, redisstore.Replacement{Old: v, New: keys.Seal(plain, v.Context)})
		clear(plain)
		if len(batch) == resealBatch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return rep, nil
}

// total sums the counts of every kind.
func (r *resealReport) total() resealCounts {
	var t resealCounts
	for _, c := range r.counts {
		t.checked += c.checked
		t.resealed += c.resealed
		t.current += c.current
		t.changed += c.changed
		t.unreadable += c.unreadable
	}
	return t
}

// safe reports whether every sealed value opens and is sealed with the newest key, so that
// the older sealing secrets can go.
func (r *resealReport) safe() bool {
	t := r.total()
	return t.unreadable == 0 && r.stillOldN == 0 && r.oldLayout == 0 && r.queuedOld == 0 && (!r.dryRun || t.resealed == 0)
}

// print writes the counts per kind, the places of unreadable values, and, last, whether the
// old sealing secrets (all of sealing but the last) may now be removed.
func (r *resealReport) print(w io.Writer, sealing []string) {
	newest := len(sealing) + 1
	if r.dryRun {
		fmt.Fprintf(w, "dry run: nothing written; the newest sealing key is version %d\n", newest)
	} else {
		fmt.Fprintf(w, "re-sealed with the newest sealing key, version %d\n", newest)
	}
	resealed := "RESEALED"
	if r.dryRun {
		resealed = "WOULD RESEAL"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "KIND\tCHECKED\t%s\tCURRENT\tCHANGED MEANWHILE\tUNREADABLE\n", resealed)
	row := func(name string, c resealCounts) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", name, c.checked, c.resealed, c.current, c.changed, c.unreadable)
	}
	for _, k := range redisstore.SealedKinds {
		row(string(k), *r.counts[k])
	}
	row("total", r.total())
	tw.Flush()
	list := func(what string, n int, places []string) {
		for _, p := range places {
			fmt.Fprintf(w, "%s: %s\n", what, p)
		}
		if n > len(places) {
			fmt.Fprintf(w, "%s: … and %d more (so many usually means HOTLINE_SECRET or HOTLINE_SEALING_SECRETS is not the deployment's)\n", what, n-len(places))
		}
	}
	list("does not open", r.unreadableN, r.unreadable)
	list("rewritten meanwhile with an old key", r.stillOldN, r.stillOld)
	if r.oldLayout > 0 {
		fmt.Fprintf(w, "old layout: %d member %s in the layout before bucket hashes, not re-sealed: run `hotline migrate` (docs/deploy.md), then reseal again\n",
			r.oldLayout, plural(r.oldLayout, "key is", "keys are"))
	}
	if r.queuedOld > 0 {
		fmt.Fprintf(w, "queued: %d %s waiting for a retry after Twilio failed %s sealed with an older key and not re-sealed: %s within minutes; run reseal again then\n",
			r.queuedOld, plural(r.queuedOld, "message", "messages"), plural(r.queuedOld, "is", "are"), plural(r.queuedOld, "it goes out", "they go out"))
	}
	fmt.Fprintln(w, "the spool file (on each web machine's disk, not in Redis) is not re-sealed: it is replayed within minutes of Redis coming back")

	if r.safe() {
		old := 0
		for _, sec := range sealing[:max(len(sealing)-1, 0)] {
			if sec != privacy.Retired {
				old++
			}
		}
		if old == 0 {
			fmt.Fprintln(w, "safe: every sealed value is sealed with the newest key; there is no old sealing secret to remove (the key from HOTLINE_SECRET always stays)")
			return
		}
		// A secret's version is its place in the list: an entry deleted outright would
		// renumber the newest secret, and nothing would open.
		fmt.Fprintf(w, "safe: every sealed value is sealed with the newest key; the %d old sealing %s may now be removed by writing %s in place of each (every HOTLINE_SEALING_SECRETS entry but the last; never delete an entry)\n",
			old, plural(old, "secret", "secrets"), privacy.Retired)
		return
	}
	var why []string
	t := r.total()
	if r.dryRun && t.resealed > 0 {
		why = append(why, fmt.Sprintf("%d %s still sealed with an older key", t.resealed, plural(t.resealed, "value is", "values are")))
	}
	if t.unreadable > 0 {
		why = append(why, fmt.Sprintf("%d %s not open", t.unreadable, plural(t.unreadable, "value does", "values do")))
	}
	if r.oldLayout > 0 {
		why = append(why, fmt.Sprintf("%d member %s in the old layout (run `hotline migrate`)", r.oldLayout, plural(r.oldLayout, "key is", "keys are")))
	}
	if r.queuedOld > 0 {
		why = append(why, fmt.Sprintf("%d queued %s still sealed with an older key (run reseal again once sent)", r.queuedOld, plural(r.queuedOld, "message is", "messages are")))
	}
	if r.stillOldN > 0 {
		why = append(why, fmt.Sprintf("%d %s rewritten meanwhile with an older key (is every process running with the new HOTLINE_SEALING_SECRETS?)",
			r.stillOldN, plural(r.stillOldN, "value was", "values were")))
	}
	fmt.Fprintf(w, "NOT safe to remove any sealing secret yet: %s\n", strings.Join(why, "; "))
}

// err is the pass's exit status: an error when something stays unreadable or sealed with an
// old key, so that a script running reseal does not go on to remove a secret.
func (r *resealReport) err() error {
	t := r.total()
	switch {
	case t.unreadable > 0:
		return fmt.Errorf("reseal: %d sealed %s not open with the configured secrets; keep every secret", t.unreadable, plural(t.unreadable, "value does", "values do"))
	case r.stillOldN > 0:
		return fmt.Errorf("reseal: %d %s rewritten with an old key meanwhile; redeploy every process with the new secret and run reseal again", r.stillOldN, plural(r.stillOldN, "value was", "values were"))
	case r.oldLayout > 0:
		return fmt.Errorf("reseal: %d member %s in the layout before bucket hashes; run `hotline migrate`, then reseal again", r.oldLayout, plural(r.oldLayout, "key is", "keys are"))
	case r.queuedOld > 0:
		return fmt.Errorf("reseal: %d queued %s sealed with an older key; run reseal again once the send queue has drained", r.queuedOld, plural(r.queuedOld, "message is", "messages are"))
	}
	return nil
}
