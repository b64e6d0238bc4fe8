package main

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/communityhotline/hotline/internal/content"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/fold"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/locale"
	"github.com/communityhotline/hotline/internal/render"
	"github.com/communityhotline/hotline/internal/staff"
)

// The channel check renders every message as WhatsApp and the voice line say it, with the
// same sample data as the SMS measure, and holds each channel to its own rules: what a
// caller cannot hear (a web address, a symbol, "Envíe 2"), what WhatsApp cannot carry (more
// than one message's worth) or would make false (SMS wording). It also holds the variants
// ("<id>_<channel>", locales/channels.<lang>.toml) to the message they stand for.

// channelInput is what the channel check reads, passed in so that a test can give it a
// small catalogue of its own.
type channelInput struct {
	cat *locale.Catalog
	set render.Set
	// base is the data the renderers give every message.
	base map[string]string
	// samples gives the data a message is rendered with (content.Content.Samples).
	samples func(id, lang string) ([]content.Sample, error)
	// onCalls reports whether a call can say message id; the rest are WhatsApp's only.
	onCalls func(id string) bool
	// forMember reports whether a member reads message id: a broken rule there fails the
	// check, for staff it is a warning.
	forMember func(id string) bool
	// voiceOnly are the messages only the voice line says (content.VoiceMessageIDs).
	voiceOnly []string
	// baseVars are the variables the renderers give every message (content.BaseVars).
	baseVars []string
	// configured is text the configuration puts into messages (the program's name, the
	// contact), left out of the per-message rules: it is the same in every message, and
	// checked once instead (settingWarnings).
	configured []string
}

// channelReport is what the channel check found.
type channelReport struct {
	problems []string // each fails the check
	warnings []string // printed, not failing
	renders  map[hotline.Channel]int
	seen     map[string]bool // problems and warnings already reported, so each is said once
}

func (rep *channelReport) problem(format string, args ...any) {
	rep.add(&rep.problems, format, args...)
}
func (rep *channelReport) warning(format string, args ...any) {
	rep.add(&rep.warnings, format, args...)
}

func (rep *channelReport) add(to *[]string, format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if !rep.seen[s] {
		rep.seen[s] = true
		*to = append(*to, s)
	}
}

// checkChannels checks the variants against their messages, then renders every message for
// WhatsApp (all but the voice line's own) and for the voice line (what a call can say), each
// with every sample of its data.
func checkChannels(in channelInput) channelReport {
	rep := channelReport{renders: map[hotline.Channel]int{}, seen: map[string]bool{}}
	var ids []string
	for _, lang := range in.cat.Languages() {
		ids = append(ids, in.cat.IDs(lang)...)
	}
	ids = append(ids, in.voiceOnly...)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	checkVariants(in, ids, &rep)
	for _, id := range ids {
		if _, ch := render.BaseID(id); ch != "" {
			continue // rendered where its message is
		}
		voiceOnly := slices.Contains(in.voiceOnly, id)
		if !voiceOnly {
			renderOn(in, hotline.WhatsApp, id, &rep)
		}
		if voiceOnly || in.onCalls(id) {
			renderOn(in, hotline.Voice, id, &rep)
		}
	}
	return rep
}

// checkVariants: a variant rewords a message that exists (else its ID is a typo, and no
// renderer would ever say it), with no data the message does not get; a variant and a
// message of the voice line's own exist in every language, like every message.
func checkVariants(in channelInput, ids []string, rep *channelReport) {
	for _, id := range ids {
		base, ch := render.BaseID(id)
		if ch == "" && !slices.Contains(in.voiceOnly, id) {
			continue
		}
		for _, lang := range in.cat.Languages() {
			if !in.cat.Has(lang, id) {
				rep.problem("%s: missing in %s (locales/channels.%s.toml): every language has every message", id, lang, lang)
				continue
			}
			if ch == "" {
				continue
			}
			if !in.cat.Has(lang, base) {
				rep.problem("%s (%s): a %s variant of %q, which is no message: a typo? (locales/channels.%s.toml)", id, lang, ch, base, lang)
				continue
			}
			vars, err := in.cat.Vars(lang, id)
			if err != nil {
				rep.problem("%s (%s): %v", id, lang, err)
				continue
			}
			given, err := in.cat.Vars(lang, base)
			if err != nil {
				continue // the message's own problem, reported where it is rendered
			}
			for _, v := range vars {
				if !slices.Contains(given, v) && !slices.Contains(in.baseVars, v) {
					rep.problem("%s (%s): uses {{.%s}}, which %s is not given: a variant says what its message says, with the same data", id, lang, v, base)
				}
			}
		}
	}
}

// renderOn renders message id for channel ch in every language, as the channel's renderer
// does (its variant where there is one), and applies the channel's rules to every text.
func renderOn(in channelInput, ch hotline.Channel, id string, rep *channelReport) {
	r := in.set.For(ch)
	for _, lang := range in.cat.Languages() {
		said := id
		if v := render.VariantID(id, ch); in.cat.Has(lang, v) {
			said = v
		}
		fix := fmt.Sprintf("write %s in locales/channels.%s.toml", render.VariantID(id, ch), lang)
		if said != id || slices.Contains(in.voiceOnly, id) {
			fix = fmt.Sprintf("reword %s in locales/channels.%s.toml", said, lang)
		}
		report := rep.problem
		if !in.forMember(id) {
			report = rep.warning
		}
		if ch == hotline.Voice {
			if src, ok := in.cat.Source(lang, said); ok && strings.ContainsAny(ownWords(src), "()") {
				report("%s (%s), voice: parentheses, which a listener cannot hear: %s", id, lang, fix)
			}
		}
		samples, err := in.samples(said, lang)
		if err != nil {
			rep.problem("%s (%s), %s: %v", id, lang, ch, err)
			continue
		}
		// A message only another channel says is checked for its branches here: the SMS
		// measure never renders it.
		var conds []locale.Condition
		if said != id || slices.Contains(in.voiceOnly, id) {
			conds, _ = in.cat.Conditions(lang, said)
		}
		truth := make([][2]bool, len(conds))
		longest, longestFrom := 0, ""
		for _, s := range samples {
			rep.renders[ch]++
			texts, err := r.Render(lang, []flow.Reply{{ID: id, Data: s.Data, Options: s.Options}})
			if err != nil {
				rep.problem("%s (%s), %s, with %s: %v", id, lang, ch, s.From, err)
				continue
			}
			for i, cond := range conds {
				if holds, ok := evalCondition(cond.Expr, in.base, s.Data); ok {
					truth[i][boolIndex(holds)] = true
				}
			}
			for _, t := range texts {
				if n := len(utf16.Encode([]rune(t))); n > longest {
					longest, longestFrom = n, s.From
				}
				if ch == hotline.WhatsApp && slices.Contains(staff.LinkMessageIDs, id) {
					continue // a code sent by SMS to link WhatsApp: SMS by name is the point
				}
				for _, why := range channelRules(ch, in.strip(t)) {
					report("%s (%s), %s: %s: %s", id, lang, ch, why, fix)
				}
			}
		}
		if ch == hotline.WhatsApp && longest > maxWhatsApp {
			report("%s (%s), whatsapp: %d characters with %s, over the %d Twilio takes in one message, on SMS as on WhatsApp: the message, or the data it carries, must be shorter",
				id, lang, longest, longestFrom, maxWhatsApp)
		}
		for i, cond := range conds {
			if !slices.ContainsFunc(cond.Vars, func(v string) bool { return !slices.Contains(in.baseVars, v) }) {
				continue // only the configuration decides
			}
			if seen := truth[i]; !seen[0] || !seen[1] {
				rep.problem("%s (%s): no sample data makes {{if %s}} %v, so that branch was never rendered (internal/content/samples.go)",
					said, lang, cond.Expr, !seen[1])
			}
		}
	}
}

// strip leaves the configuration's text out of t.
func (in channelInput) strip(t string) string {
	for _, c := range in.configured {
		if c != "" {
			t = strings.ReplaceAll(t, c, " ")
		}
	}
	return t
}

// channelRules returns why text breaks channel ch's rules, if it does.
func channelRules(ch hotline.Channel, text string) []string {
	switch ch {
	case hotline.Voice:
		return spokenProblems(text)
	case hotline.WhatsApp:
		return whatsappProblems(text)
	}
	return nil
}

// settingWarnings says which configured texts (setting → value) the voice line would read
// out badly: they go into messages as they are.
func settingWarnings(settings map[string]string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(settings)) {
		if v := settings[name]; v != "" {
			for _, why := range spokenProblems(v) {
				out = append(out, fmt.Sprintf("%s is said on calls as written, and it has %s", name, why))
			}
		}
	}
	return out
}

// --- The voice line's rules ---

// webAddress finds what a voice would spell out letter by letter: a scheme, www., or a
// domain name.
var webAddress = regexp.MustCompile(`(?i)\bhttps?:|\bwww\.|\b[a-z0-9-]+\.(org|gov|com|net|edu|us|info|io|ly)\b`)

// spokenPunctuation is the punctuation a voice reads as a pause or a tone, or skips: every
// other symbol (#, /, &, §, *, emoji…) is read out as a word, or as nothing the listener
// can follow.
const spokenPunctuation = `.,;:¿?¡!'"()-’“”–`

// spokenProblems returns why text cannot be said to a caller as it is: a web address, a
// symbol, or an instruction to type.
func spokenProblems(text string) []string {
	var why []string
	if webAddress.MatchString(text) {
		why = append(why, "a web address, which a voice spells out")
	}
	var symbols []rune
	for _, r := range text {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsSpace(r) && !strings.ContainsRune(spokenPunctuation, r) &&
			!slices.Contains(symbols, r) {
			symbols = append(symbols, r)
			why = append(why, fmt.Sprintf("the symbol %q", r))
		}
	}
	for _, w := range typingInstructions(text) {
		why = append(why, fmt.Sprintf("%q, an instruction to type", w))
	}
	return why
}

// Words that tell a member to type, folded (no accents, lowercase). In Spanish the usted
// command is also the subjunctive ("que le responda"), which a pronoun or "que" before it
// marks; in English the command starts its clause ("Reply STOP", "or send another name"),
// while "we will text you" or "we cannot write to you" say what we do.
var (
	typingES = []string{"envie", "envien", "envienos", "escriba", "escriban", "escribanos", "responda", "respondan",
		"respondanos", "mande", "manden", "mandenos", "textee"}
	notCommandES = []string{"que", "le", "les", "lo", "la", "los", "las", "nos", "me", "te", "se"}
	typingEN     = []string{"send", "reply", "text", "write", "type", "respond"}
	// clauseStartEN are the words after which an English verb is a command.
	clauseStartEN = []string{"or", "and", "then", "please", "just"}
	// textMessage names what a caller is asked to send: a text message, from their phone,
	// which is the one thing a call may tell them to type (the alerts, STOP).
	textMessage = regexp.MustCompile(`\bmensajes? de texto\b|\btext messages?\b`)
	sentenceEnd = regexp.MustCompile(`[.?!\n]+`)
	clauseEnd   = regexp.MustCompile(`[:;,]+`)
)

// typingInstructions returns the words of text that tell the listener to type something, in
// Spanish or English, except in a sentence that asks for a text message.
func typingInstructions(text string) []string {
	var found []string
	for _, sentence := range sentenceEnd.Split(text, -1) {
		if textMessage.MatchString(fold.Text(sentence)) {
			continue
		}
		for _, clause := range clauseEnd.Split(sentence, -1) {
			words := fold.Words(clause)
			for i, w := range words {
				prev := ""
				if i > 0 {
					prev = words[i-1]
				}
				switch {
				case slices.Contains(typingES, w) && !slices.Contains(notCommandES, prev),
					slices.Contains(typingEN, w) && (i == 0 || slices.Contains(clauseStartEN, prev)):
					found = append(found, w)
				}
			}
		}
	}
	return found
}

// ownWords is a message template's own text, without its {{actions}}: the words its author
// wrote, not the data.
func ownWords(src string) string {
	var b strings.Builder
	for {
		i := strings.Index(src, "{{")
		if i < 0 {
			b.WriteString(src)
			return b.String()
		}
		b.WriteString(src[:i])
		j := strings.Index(src[i:], "}}")
		if j < 0 {
			return b.String()
		}
		src = src[i+j+2:]
	}
}

// --- WhatsApp's rules ---

// maxWhatsApp is the most characters one WhatsApp message may carry through Twilio. Meta's
// own API takes 4,096, but Twilio's Messages API takes a Body of at most 1,600 characters on
// every channel: "The Twilio Programmable Messaging platform has a limit of 1600 characters in
// a single incoming or outgoing message request. This limit applies to all Programmable
// Messaging channels, including SMS, MMS, WhatsApp" (Twilio support, "Maximum Message Length
// with Twilio Programmable Messaging", article 360033806753; error 21617, "The concatenated
// message body exceeds the 1600 character limit", says characters outside GSM-7 such as emoji
// may count as more than one). Counted here in UTF-16 units, so an emoji counts as two.
const maxWhatsApp = 1600

// smsWording finds what is true of SMS only: the carriers' "message and data rates", text
// messages, SMS by name. On WhatsApp it misleads a member (WhatsApp charges no message rates).
var smsWording = regexp.MustCompile(`\bsms\b|\bmensajes? de texto\b|\btext messages?\b|\btarifas de mensajes\b|\bmsg ?& ?data\b|\bmessage (and|&) data rates\b`)

// whatsappProblems returns why text's wording is wrong on WhatsApp (its length is checked
// over all the samples of a message, in renderOn).
func whatsappProblems(text string) []string {
	if m := smsWording.FindString(fold.Text(text)); m != "" {
		return []string{fmt.Sprintf("%q, which is true of SMS only", m)}
	}
	return nil
}

// --- Who hears a message ---

// notOnCalls are member messages no call says: a call brings no picture or voice note, and
// calls are never spooled (error_kept answers a message kept while Redis was down).
var notOnCalls = []string{"media_unsupported", "error_kept"}

// audiences returns whether a member reads a message (a flow says it, or the Go code says it
// to members: cases, errors, limits) and whether a call can say it (those, but notOnCalls,
// and the voice line's own messages). Messages for staff and alert drafts never go to a
// caller; a flow's message is a member's even where the Go code also shows it to staff
// (urgent_safety).
func audiences(c content.Content) (forMember, onCalls func(id string) bool) {
	byFlow := map[string]bool{c.Flows.Settings().NotUnderstood: true}
	for _, nid := range c.Flows.NodeIDs() {
		n, _ := c.Flows.Node(nid)
		for _, m := range n.Say {
			byFlow[m] = true
		}
		for _, o := range n.Menu {
			byFlow[o.Label] = true
		}
	}
	forMember = func(id string) bool { return byFlow[id] || content.AudienceOf(id) == content.ForMember }
	onCalls = func(id string) bool {
		return slices.Contains(content.VoiceMessageIDs, id) || (forMember(id) && !slices.Contains(notOnCalls, id))
	}
	return forMember, onCalls
}
