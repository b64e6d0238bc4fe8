// Package locale holds every member-facing sentence, loaded from go-i18n message files
// (locales/active.<lang>.toml), and renders them with template data. It never falls back
// from one language to another: a member who chose Spanish must not get English by accident,
// so a missing message is an error here and a defect caught by `hotline check`.
package locale

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Catalog is the set of messages in every language the hotline speaks.
type Catalog struct {
	langs      []string
	files      map[string]string            // language → file name, for error reports
	sources    map[string]map[string]string // language → message ID → template source
	localizers map[string]*i18n.Localizer
}

// Load reads every active.<lang>.toml in fsys, and with each the channels.<lang>.toml beside
// it, if any: the messages a channel other than SMS says instead (an ID with the channel's
// suffix, "menu_prompt_voice") or alone (the voice line's own prompts). The file name gives the
// language; one language's files make one set of messages, and an ID in both is an error.
func Load(fsys fs.FS) (*Catalog, error) {
	names, err := fs.Glob(fsys, "active.*.toml")
	if err != nil {
		return nil, fmt.Errorf("listing message files: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no active.<lang>.toml message files found")
	}
	bundle := i18n.NewBundle(language.Spanish)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	c := &Catalog{
		files:      map[string]string{},
		sources:    map[string]map[string]string{},
		localizers: map[string]*i18n.Localizer{},
	}
	for _, name := range names {
		mf, err := bundle.LoadMessageFileFS(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		lang := strings.TrimSuffix(strings.TrimPrefix(path.Base(name), "active."), ".toml")
		src := map[string]string{}
		for _, m := range mf.Messages {
			src[m.ID] = m.Other
		}
		extra := path.Join(path.Dir(name), "channels."+lang+".toml")
		if _, err := fs.Stat(fsys, extra); err == nil {
			cf, err := bundle.LoadMessageFileFS(fsys, extra)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", extra, err)
			}
			for _, m := range cf.Messages {
				if _, dup := src[m.ID]; dup {
					return nil, fmt.Errorf("%s: message %q is also in %s", extra, m.ID, name)
				}
				src[m.ID] = m.Other
			}
		}
		c.langs = append(c.langs, lang)
		c.files[lang] = name
		c.sources[lang] = src
		c.localizers[lang] = i18n.NewLocalizer(bundle, lang)
	}
	slices.Sort(c.langs)
	return c, nil
}

// Languages returns the languages that have a message file, sorted.
func (c *Catalog) Languages() []string { return c.langs }

// Supports reports whether lang has a message file.
func (c *Catalog) Supports(lang string) bool { _, ok := c.sources[lang]; return ok }

// File returns the message file of lang, for reports.
func (c *Catalog) File(lang string) string { return c.files[lang] }

// Has reports whether message id exists in lang.
func (c *Catalog) Has(lang, id string) bool {
	_, ok := c.sources[lang][id]
	return ok
}

// IDs returns the message IDs of lang, sorted.
func (c *Catalog) IDs(lang string) []string {
	ids := make([]string, 0, len(c.sources[lang]))
	for id := range c.sources[lang] {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Source returns the untranslated template of message id in lang.
func (c *Catalog) Source(lang, id string) (string, bool) {
	s, ok := c.sources[lang][id]
	return s, ok
}

// Vars returns the template variables ({{.Name}}) message id uses in lang, sorted and
// without repeats, so that a check can compare them across languages.
func (c *Catalog) Vars(lang, id string) ([]string, error) {
	tmpl, err := c.parse(lang, id)
	if err != nil {
		return nil, err
	}
	var vars []string
	for _, t := range tmpl.Templates() {
		if t.Tree != nil {
			walkFields(t.Tree.Root, func(name string) { vars = append(vars, name) })
		}
	}
	slices.Sort(vars)
	return slices.Compact(vars), nil
}

// parse parses message id in lang as go-i18n renders it, by text/template, so that its
// predefined functions ({{if eq .Paged "1"}}) are known.
func (c *Catalog) parse(lang, id string) (*template.Template, error) {
	src, ok := c.sources[lang][id]
	if !ok {
		return nil, fmt.Errorf("message %q missing in %s", id, lang)
	}
	tmpl, err := template.New(id).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("message %q in %s: %w", id, lang, err)
	}
	return tmpl, nil
}

// Condition is a test a message makes ({{if}}, {{else if}}, {{with}}, {{range}}): its
// expression (".Urgent", `eq .Paged "1"`) and the variables the expression reads.
type Condition struct {
	Expr string
	Vars []string
}

// Conditions returns the tests message id makes in lang, each once, in the order they come,
// so that a check can render each branch.
func (c *Catalog) Conditions(lang, id string) ([]Condition, error) {
	tmpl, err := c.parse(lang, id)
	if err != nil {
		return nil, err
	}
	var conds []Condition
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		var branch *parse.BranchNode
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
			return
		case *parse.IfNode:
			branch = &n.BranchNode
		case *parse.WithNode:
			branch = &n.BranchNode
		case *parse.RangeNode:
			branch = &n.BranchNode
		default:
			return
		}
		cond := Condition{Expr: branch.Pipe.String()}
		walkFields(branch.Pipe, func(name string) { cond.Vars = append(cond.Vars, name) })
		if !slices.ContainsFunc(conds, func(c Condition) bool { return c.Expr == cond.Expr }) {
			conds = append(conds, cond)
		}
		walk(branch.List)
		walk(branch.ElseList)
	}
	for _, t := range tmpl.Templates() {
		if t.Tree != nil {
			walk(t.Tree.Root)
		}
	}
	return conds, nil
}

func walkFields(n parse.Node, visit func(string)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkFields(c, visit)
		}
	case *parse.ActionNode:
		walkFields(n.Pipe, visit)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkFields(c, visit)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walkFields(a, visit)
		}
	case *parse.FieldNode:
		visit(strings.Join(n.Ident, "."))
	case *parse.IfNode:
		walkFields(n.Pipe, visit)
		walkFields(n.List, visit)
		walkFields(n.ElseList, visit)
	case *parse.RangeNode:
		walkFields(n.Pipe, visit)
		walkFields(n.List, visit)
		walkFields(n.ElseList, visit)
	case *parse.WithNode:
		walkFields(n.Pipe, visit)
		walkFields(n.List, visit)
		walkFields(n.ElseList, visit)
	}
}

// Text renders message id in lang with data. A message missing in lang is an error, never
// a silent switch to another language.
func (c *Catalog) Text(lang, id string, data map[string]string) (string, error) {
	l, ok := c.localizers[lang]
	if !ok {
		return "", fmt.Errorf("no messages in language %q", lang)
	}
	if !c.Has(lang, id) {
		return "", fmt.Errorf("message %q missing in %s", id, lang)
	}
	var td any
	if len(data) > 0 {
		td = data
	}
	s, err := l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: td})
	if err != nil {
		return "", fmt.Errorf("rendering %q in %s: %w", id, lang, err)
	}
	// text/template prints "<no value>" for a variable the caller did not supply; a member
	// must never see that.
	if strings.Contains(s, "<no value>") {
		return "", fmt.Errorf("rendering %q in %s: a template variable has no value", id, lang)
	}
	return s, nil
}
