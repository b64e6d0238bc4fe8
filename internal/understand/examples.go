// Package understand reads what a member means from free text: an intent ("urgent",
// "rights", "policy", …) with a slot (the situation of an emergency, the topic of a rights
// question, a language). The model is built at start from labeled examples kept as data
// (flows/data/intents/*.toml), in-process and deterministically: members' words never leave
// the deployment, and an organizer teaches it a phrasing by adding an example.
package understand

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Example is one labeled message. Label is the intent, or "intent/slot".
type Example struct {
	Label string
	Lang  string
	Text  string
}

// Intent returns the intent part of a label ("urgent" of "urgent/home").
func Intent(label string) string { i, _, _ := strings.Cut(label, "/"); return i }

// Slot returns the slot part of a label ("home" of "urgent/home"), or "".
func Slot(label string) string { _, s, _ := strings.Cut(label, "/"); return s }

// CuesFile holds the cue phrases (hypothetical, now, event) beside the intent files.
const CuesFile = "cues.toml"

// LoadExamples reads every <intent>.toml in dir of fsys. A file's top-level `es` and `en`
// lists are examples of the intent itself; a table's lists are examples of "intent/table".
// Languages are the keys of the lists, so a new language needs no code.
func LoadExamples(fsys fs.FS, dir string) ([]Example, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.toml"))
	if err != nil {
		return nil, fmt.Errorf("listing examples: %w", err)
	}
	var out []Example
	for _, name := range names {
		if path.Base(name) == CuesFile {
			continue
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		var top map[string]any
		if err := toml.Unmarshal(data, &top); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		intent := strings.TrimSuffix(path.Base(name), ".toml")
		ex, err := examplesOf(intent, top)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, ex...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no examples in %s", dir)
	}
	return out, nil
}

func examplesOf(intent string, top map[string]any) ([]Example, error) {
	var out []Example
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic order, so the model built is always the same
	for _, k := range keys {
		switch v := top[k].(type) {
		case []any:
			ex, err := texts(intent, k, v)
			if err != nil {
				return nil, err
			}
			out = append(out, ex...)
		case map[string]any:
			if strings.Contains(k, "/") {
				return nil, fmt.Errorf("[%s]: a slot name cannot contain /", k)
			}
			langs := make([]string, 0, len(v))
			for lang := range v {
				langs = append(langs, lang)
			}
			slices.Sort(langs)
			for _, lang := range langs {
				list, ok := v[lang].([]any)
				if !ok {
					return nil, fmt.Errorf("[%s] %s: want a list of examples", k, lang)
				}
				ex, err := texts(intent+"/"+k, lang, list)
				if err != nil {
					return nil, fmt.Errorf("[%s] %w", k, err)
				}
				out = append(out, ex...)
			}
		default:
			return nil, fmt.Errorf("%s: want a list of examples or a [slot] table", k)
		}
	}
	return out, nil
}

func texts(label, lang string, list []any) ([]Example, error) {
	out := make([]Example, 0, len(list))
	for i, v := range list {
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("%s example %d: want a non-empty string", lang, i+1)
		}
		out = append(out, Example{Label: label, Lang: lang, Text: s})
	}
	return out, nil
}

// Cues are phrases whose meaning is clearer as a rule than as an example: a hypothetical
// ("si me detienen", "what if") is a question, not an emergency; an event ("se llevaron",
// "picked up") is one; "now" words ("ahorita", "right now") make a question an emergency
// in progress; a person taken makes an emergency one about a person detained.
type Cues struct {
	Hypothetical []string `toml:"hypothetical"`
	Event        []string `toml:"event"`
	Now          []string `toml:"now"`
	// Taken marks a person already detained: an emergency with it is about finding them.
	Taken []string `toml:"taken"`
	// Distress marks a plea with no situation: an emergency unless the message clearly asks
	// for something else.
	Distress []string `toml:"distress"`
}

// LoadCues reads dir/cues.toml; a missing file means no cues.
func LoadCues(fsys fs.FS, dir string) (Cues, error) {
	var c Cues
	data, err := fs.ReadFile(fsys, path.Join(dir, CuesFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return c, nil
		}
		return c, err
	}
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		return c, fmt.Errorf("%s: %w", CuesFile, err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		return c, fmt.Errorf("%s: unknown key %q (known: hypothetical, event, now, taken, distress)", CuesFile, un[0].String())
	}
	return c, nil
}
