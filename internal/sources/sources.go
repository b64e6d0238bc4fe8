// Package sources reads the list of where the hotline's rights and urgent answers come from
// (flows/data/sources.toml): each source with its name, address and the date it was checked,
// and for each message the sources its facts were taken from. A member asks for them with
// FUENTE/SOURCE; an organizer or a lawyer reviewing the wording reads them here.
//
// The package is pure: it parses bytes or reads one file from an fs.FS, and checks the result
// against a message catalog it is handed. It does no other I/O.
package sources

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/communityhotline/hotline/internal/render"
)

// File is where sources.toml lives, inside the flows folder.
const File = "data/sources.toml"

// Source is one public page (or, with no URL, a legal citation) facts were read from.
type Source struct {
	ID   string // the key in the file: "ilrc_kyr"
	Name string // who published it and what it is, short enough to list by SMS
	// URL is the page's full address; empty only for a legal citation the notes give no
	// address for, whose Name must then be the full citation.
	URL     string
	Checked string // YYYY-MM-DD
}

// Sources is a parsed, validated sources file. It is read-only after Parse.
type Sources struct {
	byID map[string]Source
	// messages maps a message ID to the IDs of its sources, in the file's order.
	messages map[string][]string
	// withoutFacts are rights_* and urgent_* messages that state no fact (a menu label, an
	// option's text), so they need no source.
	withoutFacts []string
}

// For returns the sources of message id, in the file's order; none for a message not listed.
func (s *Sources) For(id string) []Source {
	var out []Source
	for _, sid := range s.messages[id] {
		out = append(out, s.byID[sid])
	}
	return out
}

// Messages returns the IDs of every message that has sources, sorted.
func (s *Sources) Messages() []string {
	ids := make([]string, 0, len(s.messages))
	for id := range s.messages {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Source returns the source with the given ID.
func (s *Sources) Source(id string) (Source, bool) {
	src, ok := s.byID[id]
	return src, ok
}

type rawFile struct {
	Source       map[string]rawSource `toml:"source"`
	Messages     map[string][]string  `toml:"messages"`
	WithoutFacts []string             `toml:"without_facts"`
}

type rawSource struct {
	Name    string  `toml:"name"`
	URL     *string `toml:"url"`
	Checked string  `toml:"checked"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9]+(_[a-z0-9]+)*$`)

// Load reads and parses the sources file at path in fsys.
func Load(fsys fs.FS, path string) (*Sources, error) {
	data, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("sources: %w", err)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Parse parses and validates a sources file: every source has a name, a full http(s) address
// (or `url = ""` written out, for a legal citation) and a checked date; every message lists at
// least one source, each defined, none twice. Every problem is reported, not only the first.
func Parse(data []byte) (*Sources, error) {
	var raw rawFile
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw)
	if err != nil {
		return nil, fmt.Errorf("sources: %w", err)
	}
	var probs []string
	add := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	for _, k := range md.Undecoded() {
		add("unknown field %q (misspelled?)", k.String())
	}
	s := &Sources{byID: map[string]Source{}, messages: map[string][]string{}}
	for _, id := range sortedKeys(raw.Source) {
		r := raw.Source[id]
		entry := "source." + id
		if !idPattern.MatchString(id) {
			add("%s: the id must be lowercase letters and digits joined by '_'", entry)
		}
		if strings.TrimSpace(r.Name) == "" {
			add("%s: name is missing", entry)
		}
		switch {
		case r.URL == nil:
			add("%s: url is missing (write url = \"\" only for a legal citation with no address)", entry)
		case *r.URL != "":
			u, err := url.Parse(*r.URL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				add("%s: url %q is not a full http(s) address", entry, *r.URL)
			}
		}
		if _, err := time.Parse(time.DateOnly, r.Checked); err != nil {
			add("%s: checked %q is not a date YYYY-MM-DD", entry, r.Checked)
		}
		src := Source{ID: id, Name: r.Name, Checked: r.Checked}
		if r.URL != nil {
			src.URL = *r.URL
		}
		s.byID[id] = src
	}
	for _, msg := range sortedKeys(raw.Messages) {
		ids := raw.Messages[msg]
		if len(ids) == 0 {
			add("messages.%s: lists no source", msg)
		}
		linked := false
		for i, sid := range ids {
			r, ok := raw.Source[sid]
			if !ok {
				add("messages.%s: source %q is not defined (add a [source.%s])", msg, sid, sid)
			}
			if slices.Contains(ids[:i], sid) {
				add("messages.%s: source %q is listed twice", msg, sid)
			}
			linked = linked || (ok && r.URL != nil && *r.URL != "")
		}
		if len(ids) > 0 && !linked {
			add("messages.%s: no source with an address: a member asking FUENTE must get at least one link", msg)
		}
		s.messages[msg] = slices.Clone(ids)
	}
	for _, msg := range raw.WithoutFacts {
		if _, ok := raw.Messages[msg]; ok {
			add("without_facts: %q has sources, so it states facts; take it out of one list", msg)
		}
	}
	s.withoutFacts = slices.Clone(raw.WithoutFacts)
	if len(probs) > 0 {
		return nil, fmt.Errorf("sources: %d problem(s):\n  %s", len(probs), strings.Join(probs, "\n  "))
	}
	return s, nil
}

// Catalog is what Check needs to know about the messages.
type Catalog interface {
	Languages() []string
	IDs(lang string) []string
	Has(lang, id string) bool
}

// Check compares the sources with the message catalog: every message listed (with sources,
// or as stating no fact) exists in every language, and every rights_* and urgent_* message
// either has a source or is listed as stating no fact. A channel's variant of a message
// ("rights_home_voice") says the same facts as the message and is cited as the message, so
// it rests on the message's sources. It returns every problem it finds.
func (s *Sources) Check(cat Catalog) []error {
	var errs []error
	listed := append(s.Messages(), s.withoutFacts...)
	for _, id := range listed {
		for _, lang := range cat.Languages() {
			if !cat.Has(lang, id) {
				errs = append(errs, fmt.Errorf("sources: message %q is not in the %s messages", id, lang))
			}
		}
	}
	seen := map[string]bool{}
	for _, lang := range cat.Languages() {
		for _, id := range cat.IDs(lang) {
			if seen[id] || !(strings.HasPrefix(id, "rights_") || strings.HasPrefix(id, "urgent_")) {
				continue
			}
			if base, ch := render.BaseID(id); ch != "" && cat.Has(lang, base) {
				continue // the base message is checked, and its sources are the variant's
			}
			seen[id] = true
			if len(s.messages[id]) == 0 && !slices.Contains(s.withoutFacts, id) {
				errs = append(errs, fmt.Errorf("sources: message %q has no source (list its sources under [messages], or add it to without_facts if it states no fact)", id))
			}
		}
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
