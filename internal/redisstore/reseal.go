package redisstore

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
)

// Re-sealing: after a new sealing secret is added, `hotline reseal` walks every sealed value
// the store holds and rewrites those sealed with an older key (docs/privacy.md, rotation).
// The hotline keeps running meanwhile, so every rewrite is a compare-and-set on the value
// itself, and no rewrite touches a TTL.

// SealedKind names what a sealed value is, with the context it is sealed under.
type SealedKind string

// The kinds of sealed values kept in Redis. The spool file (sealed too) is on local disk,
// not here.
const (
	KindMember       SealedKind = "member state"    // P:mb:{b} field <id>; context privacy.MemberState(<id>)
	KindConversation SealedKind = "conversation"    // P:m:{b}:<id>; context privacy.MemberState(<id>)
	KindReply        SealedKind = "reply"           // P:m:{b}:<id>:r:<gen> field <MessageSid>; context privacy.Reply(<id>, <MessageSid>)
	KindOrganizer    SealedKind = "organizer phone" // P:org:<id> field phone; context privacy.OrganizerPhone(<id>)
	KindVolunteer    SealedKind = "volunteer phone" // P:vol:<id> field phone; context privacy.VolunteerPhone(<id>)
	KindCaseAddress  SealedKind = "case address"    // P:case:{c<n>} field addr; context privacy.CaseAddress(<member id>)
	KindTranscript   SealedKind = "case transcript" // P:case:{c<n>}:t item i; context privacy.CaseTranscript(<n>)
	// KindQueued is a page or relay waiting in the direct send queue for a retry
	// (P:q:{q}:direct entry <stream id>, field v; context privacy.QueuedMessage(<d>)). A
	// stream entry cannot be rewritten in place, and it lives only minutes: it is checked,
	// not re-sealed.
	KindQueued SealedKind = "queued message"
)

// KindOldLayout is a member's hash or reply log in the layout before bucket hashes
// (P:m:{<id>}, P:m:{<id>}:r). SealedValues names such a key, with no value: it is not
// re-sealed in place but moved by MigrateLayout, which has to run first. It is not one of
// SealedKinds.
const KindOldLayout SealedKind = "old layout"

// SealedKinds lists every kind, in the order reports show them.
var SealedKinds = []SealedKind{KindMember, KindConversation, KindReply, KindOrganizer, KindVolunteer, KindCaseAddress, KindTranscript, KindQueued}

// Sealed is one sealed value where Redis keeps it, with the context it was sealed under.
type Sealed struct {
	Kind SealedKind
	Key  string
	// Field is the hash field holding the value; empty for a string key or a list item.
	Field string
	// Index is the value's position in its list (case transcripts only). Transcripts are
	// only ever appended to, so a position keeps naming the same line.
	Index   int64
	Value   []byte
	Context []byte
}

// Where names the value's place for a report: key names and member ids only, never a value.
func (v Sealed) Where() string {
	switch {
	case v.Kind == KindTranscript:
		return v.Key + " item " + strconv.FormatInt(v.Index, 10)
	case v.Kind == KindQueued:
		return v.Key + " entry " + v.Field
	case v.Field != "":
		return v.Key + " field " + v.Field
	}
	return v.Key
}

// scanCount is the COUNT hint of SCAN and HSCAN, and the page size of a transcript read.
const scanCount = 1000

// SealedValues walks every sealed value under the prefix. A value written while the walk
// runs may be seen in its old form, its new form, or not at all; one that exists throughout
// is seen at least once (SCAN's guarantee; a key may also be seen twice). Keys of the old
// layout come as one Sealed of KindOldLayout each. Iteration stops at the first error, which
// is yielded last.
func (s *Store) SealedValues(ctx context.Context) iter.Seq2[Sealed, error] {
	return func(yield func(Sealed, error) bool) {
		stopped := errors.New("stopped")
		each := func(v Sealed) error {
			if !yield(v, nil) {
				return stopped
			}
			return nil
		}
		err := scanKeys(ctx, s.rdb, globEscape(s.prefix)+":*", func(keys []string) error {
			return s.sealedIn(ctx, keys, each)
		})
		if err != nil && !errors.Is(err, stopped) {
			yield(Sealed{}, err)
		}
	}
}

// scanKeys calls fn with each page of the keys matching match. SCAN walks the keys of the
// one server it is sent to: on Redis Cluster every master is walked, one after the other.
func scanKeys(ctx context.Context, rdb redis.UniversalClient, match string, fn func([]string) error) error {
	nodes := []redis.Cmdable{rdb}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		// ForEachMaster calls its function on every master at once; collecting the masters
		// first keeps the walk, and fn, sequential.
		var mu sync.Mutex
		nodes = nil
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			nodes = append(nodes, c)
			return nil
		})
		if err != nil {
			return fmt.Errorf("listing the cluster's masters: %w", err)
		}
	}
	for _, n := range nodes {
		var cursor uint64
		for {
			keys, next, err := n.Scan(ctx, cursor, match, scanCount).Result()
			if err != nil {
				return fmt.Errorf("scanning keys: %w", err)
			}
			if len(keys) > 0 {
				if err := fn(keys); err != nil {
					return err
				}
			}
			if next == 0 {
				break
			}
			cursor = next
		}
	}
	return nil
}

// sealedKey is what a key's name says about the sealed values it holds.
type sealedKey struct {
	kind SealedKind
	key  string
	id   string // member, organizer or volunteer id; case number
}

// classify tells which sealed values key holds, if any. A name is accepted only if building
// it back from the id gives the same name, so no other key (a reply log's time index, a
// counter, a volunteer's case set, another deployment's prefix) is taken for one.
func (s *Store) classify(key string) (sealedKey, bool) {
	rest, ok := strings.CutPrefix(key, s.prefix+":")
	if !ok {
		return sealedKey{}, false
	}
	k := sealedKey{key: key}
	if key == s.streamKey(hotline.Priorities[0]) {
		k.kind = KindQueued
		return k, true
	}
	switch {
	case strings.HasPrefix(rest, "mb:{"):
		b := strings.TrimSuffix(strings.TrimPrefix(rest, "mb:{"), "}")
		if isBucket(b) && key == s.prefix+":mb:{"+b+"}" {
			k.kind = KindMember
			return k, true
		}
	case strings.HasPrefix(rest, "m:{"):
		if id, suffix, ok := s.oldMemberKey(key); ok {
			// The old layout's keys holding sealed values: a member's hash, a reply log.
			k.kind, k.id = KindOldLayout, id
			return k, suffix == "" || suffix == ":r"
		}
		_, tail, ok := strings.Cut(rest, "}:")
		if !ok {
			return k, false
		}
		if i := strings.LastIndex(tail, ":r:"); i > 0 {
			id := tail[:i]
			if gen, err := strconv.ParseInt(tail[i+len(":r:"):], 10, 64); err == nil && s.repliesKey(id, gen) == key {
				k.kind, k.id = KindReply, id
				return k, true
			}
		}
		if s.memberKey(tail) == key && !strings.Contains(tail, ":") {
			k.kind, k.id = KindConversation, tail
			return k, true
		}
	case strings.HasPrefix(rest, "org:"):
		if id := rest[len("org:"):]; id != "" && !strings.Contains(id, ":") {
			k.kind, k.id = KindOrganizer, id
			return k, true
		}
	case strings.HasPrefix(rest, "vol:"):
		if id := rest[len("vol:"):]; id != "" && !strings.Contains(id, ":") {
			k.kind, k.id = KindVolunteer, id
			return k, true
		}
	case strings.HasPrefix(rest, "case:{c"):
		num, _, _ := strings.Cut(rest[len("case:{c"):], "}")
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return k, false
		}
		k.id = strconv.FormatInt(n, 10)
		switch key {
		case s.caseKey(n):
			k.kind = KindCaseAddress
			return k, true
		case s.transcriptKey(n):
			k.kind = KindTranscript
			return k, true
		}
	}
	return k, false
}

// sealedIn reads the sealed values held by keys (one page of a SCAN) and passes each to
// each. Values in a key of their own are read in one pipeline; hashes and lists that may be
// large are walked page by page.
func (s *Store) sealedIn(ctx context.Context, keys []string, each func(Sealed) error) error {
	type single struct {
		k   sealedKey
		cmd redis.Cmder
	}
	var singles []single
	var walks []sealedKey
	p := s.rdb.Pipeline()
	for _, key := range keys {
		k, ok := s.classify(key)
		if !ok {
			continue
		}
		switch k.kind {
		case KindOldLayout:
			if err := each(Sealed{Kind: k.kind, Key: key}); err != nil {
				return err
			}
		case KindConversation:
			singles = append(singles, single{k, p.Get(ctx, key)})
		case KindOrganizer, KindVolunteer:
			singles = append(singles, single{k, p.HGet(ctx, key, "phone")})
		case KindCaseAddress:
			singles = append(singles, single{k, p.HMGet(ctx, key, "member", "addr")})
		default:
			walks = append(walks, k)
		}
	}
	if len(singles) > 0 {
		if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("reading sealed values: %w", err)
		}
	}
	for _, sg := range singles {
		k := sg.k
		v := Sealed{Kind: k.kind, Key: k.key}
		switch cmd := sg.cmd.(type) {
		case *redis.StringCmd: // a conversation, or an organizer's or volunteer's phone
			b, err := cmd.Bytes()
			if errors.Is(err, redis.Nil) {
				continue // gone since the scan
			}
			if err != nil {
				return fmt.Errorf("reading %s: %w", k.key, err)
			}
			v.Value = b
			switch k.kind {
			case KindConversation:
				v.Context = privacy.MemberState(k.id)
			case KindOrganizer:
				v.Field, v.Context = "phone", privacy.OrganizerPhone(k.id)
			case KindVolunteer:
				v.Field, v.Context = "phone", privacy.VolunteerPhone(k.id)
			}
		case *redis.SliceCmd: // a case: the member id is the address's context
			vals, err := cmd.Result()
			if err != nil {
				return fmt.Errorf("reading %s: %w", k.key, err)
			}
			addr, ok := vals[1].(string)
			if !ok {
				continue // a closed case keeps no address
			}
			member, _ := vals[0].(string)
			v.Field, v.Value, v.Context = "addr", []byte(addr), privacy.CaseAddress(member)
		}
		if err := each(v); err != nil {
			return err
		}
	}
	for _, k := range walks {
		var err error
		switch k.kind {
		case KindTranscript:
			err = s.walkTranscript(ctx, k, each)
		case KindQueued:
			err = s.walkQueue(ctx, k, each)
		default:
			err = s.walkHash(ctx, k, each)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// walkHash passes each field of a bucket hash or a reply log to each.
func (s *Store) walkHash(ctx context.Context, k sealedKey, each func(Sealed) error) error {
	var cursor uint64
	for {
		kv, next, err := s.rdb.HScan(ctx, k.key, cursor, "", scanCount).Result()
		if err != nil {
			return fmt.Errorf("scanning %s: %w", k.key, err)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			field := kv[i]
			v := Sealed{Kind: k.kind, Key: k.key, Field: field, Value: []byte(kv[i+1])}
			if k.kind == KindMember {
				v.Context = privacy.MemberState(field)
			} else {
				v.Context = privacy.Reply(k.id, field)
			}
			if err := each(v); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// walkTranscript passes each line of a case transcript to each.
func (s *Store) walkTranscript(ctx context.Context, k sealedKey, each func(Sealed) error) error {
	n, _ := strconv.ParseInt(k.id, 10, 64) // classify built k.id from the number
	for start := int64(0); ; start += scanCount {
		lines, err := s.rdb.LRange(ctx, k.key, start, start+scanCount-1).Result()
		if err != nil {
			return fmt.Errorf("reading %s: %w", k.key, err)
		}
		for i, l := range lines {
			v := Sealed{Kind: k.kind, Key: k.key, Index: start + int64(i), Value: []byte(l), Context: privacy.CaseTranscript(n)}
			if err := each(v); err != nil {
				return err
			}
		}
		if len(lines) < scanCount {
			return nil
		}
	}
}

// walkQueue passes each message waiting in the direct send queue to each. Field is the
// stream entry's id.
func (s *Store) walkQueue(ctx context.Context, k sealedKey, each func(Sealed) error) error {
	for start := "-"; ; {
		entries, err := s.rdb.XRangeN(ctx, k.key, start, "+", scanCount).Result()
		if err != nil {
			return fmt.Errorf("reading %s: %w", k.key, err)
		}
		for _, e := range entries {
			id, _ := e.Values["d"].(string)
			v, _ := e.Values["v"].(string)
			if err := each(Sealed{Kind: k.kind, Key: k.key, Field: e.ID, Value: []byte(v), Context: privacy.QueuedMessage(id)}); err != nil {
				return err
			}
		}
		if len(entries) < scanCount {
			return nil
		}
		start = "(" + entries[len(entries)-1].ID
	}
}

// The compare-and-set scripts: each writes ARGV's new value only if the place still holds
// the old one, and answers 1, or else the value now there (nil when it is gone). A place
// that is gone is not written: a deleted member, case or expired key stays deleted. HSET,
// LSET and SET KEEPTTL leave the key's TTL as it was.
var (
	replaceFieldScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur ~= ARGV[2] then return cur end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`)
	replaceStringScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur ~= ARGV[1] then return cur end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`)
	replaceItemScript = redis.NewScript(`
local cur = redis.call('LINDEX', KEYS[1], ARGV[1])
if cur ~= ARGV[2] then return cur end
redis.call('LSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`)
)

// Replacement is a sealed value found by SealedValues and what to write in its place.
type Replacement struct {
	Old Sealed
	New []byte
}

// Replaced is the outcome of one Replacement.
type Replaced struct {
	// Done is true when the new value was written.
	Done bool
	// Current is what the place held instead of the old value when Done is false: the
	// value a writer put there meanwhile, or nil when the value is gone.
	Current []byte
}

// ReplaceSealed writes each replacement's new value where its old value was, but only where
// Redis still holds that old value: a value changed since it was read was written by the
// hotline meanwhile, and is left alone. The batch goes in one pipeline; each replacement is
// atomic on its own.
func (s *Store) ReplaceSealed(ctx context.Context, batch []Replacement) ([]Replaced, error) {
	for _, r := range batch {
		if r.Old.Kind == KindQueued || r.Old.Kind == KindOldLayout {
			return nil, fmt.Errorf("re-sealing %s: a %s is not re-sealed in place", r.Old.Where(), r.Old.Kind)
		}
	}
	cmds := make([]*redis.Cmd, len(batch))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range batch {
			// Eval, not EvalSha: a pipeline cannot load a script missing from the server
			// and retry, and these scripts are a few dozen bytes.
			switch {
			case r.Old.Kind == KindConversation:
				cmds[i] = replaceStringScript.Eval(ctx, p, []string{r.Old.Key}, r.Old.Value, r.New)
			case r.Old.Kind == KindTranscript:
				cmds[i] = replaceItemScript.Eval(ctx, p, []string{r.Old.Key}, r.Old.Index, r.Old.Value, r.New)
			default:
				cmds[i] = replaceFieldScript.Eval(ctx, p, []string{r.Old.Key}, r.Old.Field, r.Old.Value, r.New)
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("re-sealing: %w", err)
	}
	out := make([]Replaced, len(batch))
	for i, c := range cmds {
		res, err := c.Result()
		switch {
		case errors.Is(err, redis.Nil):
			// Gone: nothing to re-seal any more.
		case err != nil:
			return nil, fmt.Errorf("re-sealing %s: %w", batch[i].Old.Where(), err)
		default:
			switch r := res.(type) {
			case int64:
				out[i].Done = r == 1
			case string:
				out[i].Current = []byte(r)
			default:
				return nil, fmt.Errorf("re-sealing %s: unexpected answer %T", batch[i].Old.Where(), res)
			}
		}
	}
	return out, nil
}
