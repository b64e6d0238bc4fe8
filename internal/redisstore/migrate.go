package redisstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Moving from the layout before bucket hashes (docs/deploy.md, "Upgrading"). Until then each
// member was a hash P:m:{<id>} of a version number (v) and a sealed state (s), with a TTL for
// a conversation and none for a subscriber or an opt-out; the replies were P:m:{<id>}:r and
// :rt, the counts P:m:{<id>}:q:…; and P:sub:{s}:*:<lang> listed every subscriber beside the
// area sets. The hotline no longer reads any of it, so a deployment that upgrades without
// MigrateLayout would forget every member, and with them every opt-out.

// layoutKey names the key layout the data is in. The startup check reads it, so that a
// migrated or new deployment starts with one GET.
func (s *Store) layoutKey() string { return s.prefix + ":layout" }

// layoutVersion is the layout of this code: bucket hashes, and the areas sets.
const layoutVersion = "2"

// ErrOldLayout is returned by CheckLayout when Redis holds members in the layout before
// bucket hashes, which this code does not read.
var ErrOldLayout = errors.New("Redis holds members in the layout before bucket hashes, which this version does not read: run `hotline migrate` (docs/deploy.md), then start again")

// isBucket reports whether tag is a member bucket as bucketOf writes it. An old member id
// (26 base32 characters) never is one.
func isBucket(tag string) bool {
	n, err := strconv.ParseUint(tag, 16, 32)
	return err == nil && n < memberBuckets && strconv.FormatUint(n, 16) == tag
}

// oldMemberKey parses a key of the old layout: P:m:{<id>} followed by suffix ("" for the
// member's hash, ":r", ":rt", ":q:…" for the rest). Keys of today's layout (the tag is a
// bucket) and anything else are refused.
func (s *Store) oldMemberKey(key string) (id, suffix string, ok bool) {
	rest, ok := strings.CutPrefix(key, s.prefix+":m:{")
	if !ok {
		return "", "", false
	}
	id, suffix, ok = strings.Cut(rest, "}")
	if !ok || id == "" || strings.ContainsAny(id, ":{") || isBucket(id) {
		return "", "", false
	}
	return id, suffix, true
}

// oldHashKey is member id's hash in the old layout; oldHashKey(id)+":r" and ":rt" were its
// reply log and the log's time index, in the same slot.
func (s *Store) oldHashKey(id string) string { return s.prefix + ":m:{" + id + "}" }

// globEscape quotes the characters SCAN's MATCH would read as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// errFound stops a scan at the first key it looks for.
var errFound = errors.New("found")

// CheckLayout refuses to go on (with ErrOldLayout) while Redis holds members in the layout
// before bucket hashes. A Redis marked with this layout costs one GET; an unmarked one is
// scanned once for an old member, and marked when it has none (a new deployment).
func (s *Store) CheckLayout(ctx context.Context) error {
	v, err := s.rdb.Get(ctx, s.layoutKey()).Result()
	switch {
	case err == nil && v == layoutVersion:
		return nil
	case err == nil:
		return fmt.Errorf("Redis is marked with key layout %q (%s), which this version does not know: is an older version running against a newer deployment?", v, s.layoutKey())
	case !errors.Is(err, redis.Nil):
		return fmt.Errorf("reading the key layout: %w", err)
	}
	err = scanKeys(ctx, s.rdb, globEscape(s.prefix)+":m:{*}", func(keys []string) error {
		for _, k := range keys {
			if _, suffix, ok := s.oldMemberKey(k); ok && suffix == "" {
				return errFound
			}
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return ErrOldLayout
	}
	if err != nil {
		return fmt.Errorf("looking for members in the old layout: %w", err)
	}
	if err := s.rdb.Set(ctx, s.layoutKey(), layoutVersion, 0).Err(); err != nil {
		return fmt.Errorf("marking the key layout: %w", err)
	}
	return nil
}

// A Verdict is what a Settle function makes of a member that has a state in both layouts.
type Verdict int

const (
	// Undecided: both states open and neither says which to keep. The operator's preference
	// (MigrateOptions.PreferOld) settles it for the old state; without it both are kept.
	Undecided Verdict = iota
	// KeepOld and KeepCurrent settle it whatever the operator prefers: the caller keeps
	// the side that is safe to keep (an opt-out), automatically.
	KeepOld
	KeepCurrent
	// Unreadable: a state does not open, so nothing tells what it holds (maybe an
	// opt-out): both are kept whatever the operator prefers.
	Unreadable
)

// Settle decides a member's conflict from its two sealed states: old, from the old layout's
// hash, and current, from this layout. This package moves states without opening them; the
// caller, which holds the keys and knows what a state means, opens them.
type Settle func(id string, old, current []byte) Verdict

// MigrateOptions say how a MigrateLayout pass runs.
type MigrateOptions struct {
	// DryRun writes nothing and counts what a pass would do.
	DryRun bool
	// Settle decides the conflicts. Nil opens nothing: every conflict is kept, and
	// PreferOld settles none, as it could cancel an opt-out.
	Settle Settle
	// PreferOld settles for the old state the conflicts Settle leaves Undecided.
	PreferOld bool
}

// MigrationReport counts what MigrateLayout did, or in a dry run would do.
type MigrationReport struct {
	DryRun bool
	// Durable and Conversations are the old states written into a bucket hash and into a key
	// of their own (keeping the TTL they had left), conflicts settled for the old state
	// included.
	Durable, Conversations int
	// SettledAuto are the conflicts Settle decided (KeepOld or KeepCurrent), and
	// SettledPreferOld those settled for the old state because the operator prefers it.
	// A conflict is an old member with a state in the new layout too: some process wrote
	// the old layout after a migration (an old version still running), or the new one
	// before it. Which state is the newer cannot be told from Redis.
	SettledAuto, SettledPreferOld int
	// Conflicts are those left, with both states kept (and the old keys with them).
	// Unreadable of them have a state that does not open, and Changed had their new state
	// written meanwhile, between this pass's read and its compare-and-set: the next pass
	// decides them again.
	Conflicts, Unreadable, Changed int
	// OldKeysDeleted counts the old keys deleted: members' hashes, reply logs and their
	// indexes, counts.
	OldKeysDeleted int
	// AreaRegistrations are the (area, language) pairs added to the areas sets.
	AreaRegistrations int
	// AllAreaSetsDeleted are the old sets of every subscriber in a language.
	AllAreaSetsDeleted int
	// Marked reports that Redis is marked with this layout after the pass, so that serve
	// and worker start. A pass marks it only when no conflict is left: until then the old
	// layout still holds states the hotline would not see. (A pass with conflicts finds it
	// marked when an earlier pass marked it.)
	Marked bool
}

// moveScript writes an old member's sealed state where this layout keeps it: a durable
// state (TTL "0") as a field of the bucket hash, any other as the member's own key with the
// TTL it had left, replacing the state there, if any. It is a compare-and-set: it writes
// only while the member's state in this layout (the bucket's field first, as Load reads it)
// is still the one expected, none unless told, so that a state written since the caller
// read it is never lost. Both keys carry the bucket's hash tag.
//
// It answers 1 when it wrote, and when the state in this layout is the old one byte for
// byte: a pass stopped after writing it and before deleting the old keys left it, and that
// is no conflict but a move to finish. It answers 0 when the state changed.
//
// KEYS: bucket, member key. ARGV: member id, sealed state, TTL in milliseconds or "0", and
// the state expected in this layout (absent: none).
var moveScript = redis.NewScript(`
local present = redis.call('HGET', KEYS[1], ARGV[1])
if not present then present = redis.call('GET', KEYS[2]) end
if present == ARGV[2] then return 1 end
if present ~= (ARGV[4] or false) then return 0 end
if ARGV[3] == '0' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return 1
`)

// MigrateLayout moves every member of the old layout into this one, registers every area
// that has subscribers in the areas sets, deletes the old keys, and, when no conflict is
// left, marks Redis with this layout. Sealed states move as they are: flow.DecodeState
// reads the old JSON states too. Only a conflict's two states are opened, by opts.Settle.
//
// It may run beside a running hotline and any number of times: the old and new keys of a
// member are in different hash slots, so each member is moved in two steps that are each
// safe to repeat (write the new place by compare-and-set, then delete the old keys), and a
// pass stopped between them is finished by the next.
func (s *Store) MigrateLayout(ctx context.Context, opts MigrateOptions) (MigrationReport, error) {
	rep := MigrationReport{DryRun: opts.DryRun}
	err := scanKeys(ctx, s.rdb, globEscape(s.prefix)+":m:{*", func(keys []string) error {
		return s.migrateMembers(ctx, keys, opts, &rep)
	})
	if err != nil {
		return rep, fmt.Errorf("moving members: %w", err)
	}
	if err := s.migrateAreas(ctx, opts.DryRun, &rep); err != nil {
		return rep, fmt.Errorf("registering areas: %w", err)
	}
	if opts.DryRun {
		return rep, nil
	}
	marked, err := s.markLayout(ctx, rep.Conflicts == 0)
	if err != nil {
		return rep, err
	}
	rep.Marked = marked
	return rep, nil
}

// markLayout marks Redis with this layout when done (a pass left no conflict), and reports
// whether Redis is marked. A pass that leaves a conflict does not mark it: serve and worker
// would start and read the new state while the old layout may hold a newer one, or an
// opt-out. It leaves a mark an earlier pass set, as the hotline already runs on it.
func (s *Store) markLayout(ctx context.Context, done bool) (bool, error) {
	if done {
		if err := s.rdb.Set(ctx, s.layoutKey(), layoutVersion, 0).Err(); err != nil {
			return false, fmt.Errorf("marking the key layout: %w", err)
		}
		return true, nil
	}
	v, err := s.rdb.Get(ctx, s.layoutKey()).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("reading the key layout: %w", err)
	}
	return v == layoutVersion, nil
}

// outcome is what a pass does with one old member.
type outcome int

const (
	moveIt           outcome = iota // no state in this layout: write the old one there
	movedAlready                    // the same state in this layout: only delete the old keys
	keepOldAuto                     // a conflict Settle settled for the old state
	keepCurrentAuto                 // a conflict Settle settled for the new state
	keepOldPreferred                // a conflict settled for the old state by PreferOld
	keepBoth                        // a conflict left: both states kept
	keepBothUnread                  // a conflict left because a state does not open
)

// writes reports whether o writes the old state into this layout.
func (o outcome) writes() bool { return o == moveIt || o == keepOldAuto || o == keepOldPreferred }

// leaves reports whether o leaves a conflict, and with it the old keys.
func (o outcome) leaves() bool { return o == keepBoth || o == keepBothUnread }

// decide says what to do with old member id, whose old state is old and whose state in this
// layout is current (nil for none).
func decide(id string, old, current []byte, opts MigrateOptions) outcome {
	switch {
	case current == nil:
		return moveIt
	case bytes.Equal(current, old):
		return movedAlready
	}
	if opts.Settle == nil {
		return keepBoth // nothing opened: preferring the old could cancel an opt-out
	}
	switch v := opts.Settle(id, old, current); {
	case v == KeepOld:
		return keepOldAuto
	case v == KeepCurrent:
		return keepCurrentAuto
	case v == Undecided && opts.PreferOld:
		return keepOldPreferred
	case v == Undecided:
		return keepBoth
	}
	return keepBothUnread
}

// count adds a member's outcome to rep; durable tells which count a written state goes to.
func (rep *MigrationReport) count(o outcome, durable bool) {
	switch o {
	case keepOldAuto, keepCurrentAuto:
		rep.SettledAuto++
	case keepOldPreferred:
		rep.SettledPreferOld++
	case keepBothUnread:
		rep.Unreadable++
		fallthrough
	case keepBoth:
		rep.Conflicts++
		return
	}
	switch {
	case o == keepCurrentAuto:
	case durable:
		rep.Durable++
	default:
		rep.Conversations++
	}
}

// migrateMembers moves the old members among keys (one page of a SCAN) and deletes their old
// keys, and the old keys of members already gone (reply logs and counts outlive a
// conversation's hash).
func (s *Store) migrateMembers(ctx context.Context, keys []string, opts MigrateOptions, rep *MigrationReport) error {
	// Read each member's old state and TTL, and its state in this layout, in one round trip.
	type old struct {
		id                     string
		state                  *redis.StringCmd
		ttl                    *redis.DurationCmd
		inBucket, conversation *redis.StringCmd
	}
	var members []old
	var leftovers []string
	p := s.rdb.Pipeline()
	for _, k := range keys {
		id, suffix, ok := s.oldMemberKey(k)
		switch {
		case !ok:
		case suffix == "":
			members = append(members, old{id, p.HGet(ctx, k, "s"), p.PTTL(ctx, k),
				p.HGet(ctx, s.bucketKey(id), id), p.Get(ctx, s.memberKey(id))})
		case suffix == ":r" || suffix == ":rt" || strings.HasPrefix(suffix, ":q:"):
			leftovers = append(leftovers, k)
		}
	}
	if len(members) > 0 {
		if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("reading old members: %w", err)
		}
	}

	// Write the new places first: the old keys go only once their state is safe.
	type move struct {
		id      string
		durable bool
		outcome outcome
		moved   *redis.Cmd
	}
	var moves []move
	p = s.rdb.Pipeline()
	for _, m := range members {
		state, err := m.state.Bytes()
		ttl, ttlErr := m.ttl.Result()
		switch {
		case errors.Is(err, redis.Nil) || ttl == -2:
			continue // gone since the scan, or a hash with no state: nothing to move
		case err != nil:
			return fmt.Errorf("reading an old member: %w", err)
		case ttlErr != nil:
			return fmt.Errorf("reading an old member's TTL: %w", ttlErr)
		}
		for _, c := range []*redis.StringCmd{m.inBucket, m.conversation} {
			if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
				return fmt.Errorf("reading a member's new state: %w", err)
			}
		}
		// The bucket hash first, as Load reads it.
		current := firstValue(m.inBucket, m.conversation)
		mv := move{id: m.id, durable: ttl == -1, outcome: decide(m.id, state, current, opts)}
		if mv.outcome.writes() && !opts.DryRun {
			px := "0"
			if !mv.durable {
				px = strconv.FormatInt(max(ttl.Milliseconds(), 1), 10)
			}
			args := []any{m.id, state, px}
			if current != nil {
				args = append(args, current)
			}
			// Eval, not EvalSha: a pipeline cannot load a missing script and retry.
			mv.moved = moveScript.Eval(ctx, p, []string{s.bucketKey(m.id), s.memberKey(m.id)}, args...)
		}
		moves = append(moves, mv)
	}
	if len(moves) > 0 {
		if _, err := p.Exec(ctx); err != nil {
			return fmt.Errorf("moving old members: %w", err)
		}
	}
	conflicted := map[string]bool{}
	for _, mv := range moves {
		if mv.moved != nil {
			n, err := mv.moved.Int64()
			if err != nil {
				return fmt.Errorf("moving an old member: %w", err)
			}
			if n == 0 {
				// Written meanwhile: what was decided no longer holds. Keep both; the next
				// pass decides again on what is there then.
				rep.Changed++
				mv.outcome = keepBoth
			}
		}
		rep.count(mv.outcome, mv.durable)
		if mv.outcome.leaves() {
			conflicted[mv.id] = true
		}
	}

	// A reply log whose member's old state is still there, on another page of the scan, is
	// that member's page's to delete (with the state) or keep (in a conflict): deleting it
	// here would take part of a conflict that page keeps, and count it twice in a dry run.
	// (Pages split a member's keys wherever other keys fall between them.)
	onPage := map[string]bool{}
	for _, m := range members {
		onPage[m.id] = true
	}
	elsewhere := map[string]bool{}
	exists := map[string]*redis.IntCmd{}
	p = s.rdb.Pipeline()
	for _, k := range leftovers {
		if id, suffix, _ := s.oldMemberKey(k); !onPage[id] && exists[id] == nil && (suffix == ":r" || suffix == ":rt") {
			exists[id] = p.Exists(ctx, s.oldHashKey(id))
		}
	}
	if len(exists) > 0 {
		if _, err := p.Exec(ctx); err != nil {
			return fmt.Errorf("looking for old members: %w", err)
		}
		for id, e := range exists {
			elsewhere[id] = e.Val() > 0
		}
	}

	// Then the old keys. A member's keys share its old hash tag, so one DEL takes them all.
	var dels []*redis.IntCmd
	p = s.rdb.Pipeline()
	del := func(keys ...string) {
		if opts.DryRun {
			dels = append(dels, p.Exists(ctx, keys...))
		} else {
			dels = append(dels, p.Del(ctx, keys...))
		}
	}
	for _, m := range members {
		if conflicted[m.id] {
			continue // kept until the conflict is settled
		}
		k := s.oldHashKey(m.id)
		del(k, k+":r", k+":rt")
	}
	memberDels := len(dels)
	// A dry run counts a reply log with its member when the member is there, as a pass
	// would delete it with the member (and find nothing left to delete on its own).
	var owners []*redis.IntCmd
	for _, k := range leftovers {
		id, suffix, _ := s.oldMemberKey(k)
		if conflicted[id] || elsewhere[id] && (suffix == ":r" || suffix == ":rt") {
			continue // goes with its member's old state (once a conflict is settled)
		}
		del(k)
		if id, suffix, _ := s.oldMemberKey(k); opts.DryRun && (suffix == ":r" || suffix == ":rt") {
			owners = append(owners, p.Exists(ctx, s.oldHashKey(id)))
		} else {
			owners = append(owners, nil)
		}
	}
	if len(dels) == 0 {
		return nil
	}
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("deleting old keys: %w", err)
	}
	for i, d := range dels {
		if j := i - memberDels; j >= 0 && owners[j] != nil && owners[j].Val() > 0 {
			continue
		}
		rep.OldKeysDeleted += int(d.Val())
	}
	return nil
}

// subsPrefix is what every subscription set's name starts with.
func (s *Store) subsPrefix() string { return s.prefix + ":sub:{s}:" }

// migrateAreas registers the area of every subscription set in its language's areas set,
// and then deletes the old sets of every subscriber in a language, which nothing reads now.
func (s *Store) migrateAreas(ctx context.Context, dryRun bool, rep *MigrationReport) error {
	areas := map[string][]string{} // language → areas with a set
	var everyone []string
	err := scanKeys(ctx, s.rdb, globEscape(s.subsPrefix())+"*", func(keys []string) error {
		for _, k := range keys {
			area, lang, ok := strings.Cut(strings.TrimPrefix(k, s.subsPrefix()), ":")
			switch {
			case !ok || !isName(lang, false):
				// A broadcast's recipients (bc:<id>:<lang>) have a colon in lang.
			case area == AllAreas:
				everyone = append(everyone, k)
			case area != "tmp" && isName(area, true):
				areas[lang] = append(areas[lang], area)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for lang, as := range areas {
		if dryRun {
			in, err := s.rdb.SMIsMember(ctx, s.areasKey(lang), toAny(as)...).Result()
			if err != nil {
				return err
			}
			for _, yes := range in {
				if !yes {
					rep.AreaRegistrations++
				}
			}
			continue
		}
		n, err := s.rdb.SAdd(ctx, s.areasKey(lang), toAny(as)...).Result()
		if err != nil {
			return err
		}
		rep.AreaRegistrations += int(n)
	}
	if !dryRun && len(everyone) > 0 {
		// Every subscription set carries the {s} tag, so one DEL takes them all.
		if err := s.rdb.Del(ctx, everyone...).Err(); err != nil {
			return fmt.Errorf("deleting the old sets of every subscriber: %w", err)
		}
	}
	rep.AllAreaSetsDeleted = len(everyone)
	return nil
}

// isName reports whether v is a non-empty run of lowercase letters, and of digits and '-'
// when digits is set: the form of area ids and language codes.
func isName(v string, digits bool) bool {
	if v == "" {
		return false
	}
	for _, r := range v {
		ok := r >= 'a' && r <= 'z' || digits && (r >= '0' && r <= '9' || r == '-')
		if !ok {
			return false
		}
	}
	return true
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
