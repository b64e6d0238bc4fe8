package console

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Messages are the console's words, from console.<lang>.toml (go-i18n), apart from the
// member messages so that staff wording never changes a member's SMS cost.
type Messages struct {
	langs      []string
	ids        map[string][]string // language → sorted ids
	localizers map[string]*i18n.Localizer
	matcher    language.Matcher
}

// LoadMessages reads console.<lang>.toml for each of langs from fsys.
func LoadMessages(fsys fs.FS, langs []string) (*Messages, error) {
	if fsys == nil {
		return nil, fmt.Errorf("console: no message files")
	}
	bundle := i18n.NewBundle(language.Make(langs[0]))
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	m := &Messages{langs: langs, ids: map[string][]string{}, localizers: map[string]*i18n.Localizer{}}
	tags := make([]language.Tag, len(langs))
	for i, lang := range langs {
		name := "console." + lang + ".toml"
		mf, err := bundle.LoadMessageFileFS(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("console messages %s: %w", name, err)
		}
		for _, msg := range mf.Messages {
			m.ids[lang] = append(m.ids[lang], msg.ID)
		}
		slices.Sort(m.ids[lang])
		m.localizers[lang] = i18n.NewLocalizer(bundle, lang)
		tags[i] = language.Make(lang)
	}
	m.matcher = language.NewMatcher(tags)
	return m, nil
}

// T renders message id in lang with data.
func (m *Messages) T(lang, id string, data map[string]any) (string, error) {
	l, ok := m.localizers[lang]
	if !ok {
		return "", fmt.Errorf("console: no messages in %q", lang)
	}
	return l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
}

// Match picks the console language for an Accept-Language header.
func (m *Messages) Match(acceptLanguage string) string {
	tags, _, _ := language.ParseAcceptLanguage(acceptLanguage)
	_, i, conf := m.matcher.Match(tags...)
	if conf == language.No {
		return m.langs[0]
	}
	return m.langs[i]
}

// Supports reports whether lang is one of the console's languages.
func (m *Messages) Supports(lang string) bool { return slices.Contains(m.langs, lang) }

// sampleData fills every field a console message may use, so that a check can render each.
var sampleData = map[string]any{
	"Program": "Hotline", "Code": "123456", "N": 12, "Name": "Ana María", "Minutes": 10, "Days": 60,
	"Phone": "+1•••••••01", "Area": "bernalillo-county", "Lang": "es", "Count": 3, "Status": "sending",
	"Sent": 10, "Failed": 1, "Recipients": 20, "Queue": 5, "Hours": 3,
	// broadcasts
	"Cost": "1.23", "Segments": 2, "Encoding": "GSM-7",
	"Chars": 143,
	// policy page
	"Date": "2026-05-20", "Day": 6, "Month": "dic", "Year": 2026, "Clock": "14:05", "Place": "Deming", "Max": 4, "Field": "policy_en",
	"Msg": "policy_date is missing", "Old": "false", "New": "true",
}

// Check reports what is wrong with the console's message files: a language missing a message
// another has, or a message that fails to render or leaves a field unfilled. `hotline check`
// runs it.
func Check(fsys fs.FS, langs []string) []string {
	m, err := LoadMessages(fsys, langs)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	all := map[string]bool{}
	for _, lang := range langs {
		for _, id := range m.ids[lang] {
			all[id] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(all)) {
		for _, lang := range langs {
			if !slices.Contains(m.ids[lang], id) {
				problems = append(problems, fmt.Sprintf("console.%s.toml: %s is missing", lang, id))
				continue
			}
			out, err := m.T(lang, id, sampleData)
			switch {
			case err != nil:
				problems = append(problems, fmt.Sprintf("console.%s.toml: %s does not render: %v", lang, id, err))
			case strings.Contains(out, "<no value>") || strings.TrimSpace(out) == "":
				problems = append(problems, fmt.Sprintf("console.%s.toml: %s leaves a field empty: %q", lang, id, out))
			}
		}
	}
	return problems
}

// IDs returns the message ids of lang, sorted.
func (m *Messages) IDs(lang string) []string { return m.ids[lang] }
