// Package render turns the step's replies (message IDs, data, numbered options) into what a
// channel says, in the member's language: SMS text, WhatsApp text, or words for the voice
// line to speak. The flows are the same on every channel; only this last step differs.
//
// A message may have a channel variant: the renderer of channel c looks up "<id>_<c>" first
// ("menu_prompt_voice"), then "<id>", so a message is reworded only where the SMS wording does
// not fit the channel ("Envíe 2" cannot be said to a caller). `hotline check` renders every
// message for every channel and says where a variant is missing.
package render

import (
	"maps"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/locale"
	"github.com/communityhotline/hotline/internal/segment"
)

// Renderer renders replies for one channel. It is safe for concurrent use.
type Renderer struct {
	cat   *locale.Catalog
	base  map[string]string
	style style
	// fixed holds the finished text of replies that depend only on the language: a menu,
	// a prompt. They are most replies, and go-i18n's template run was a tenth of a
	// webhook's work. The key is the language, the message ID and the option labels' IDs.
	fixed sync.Map
}

// style is how a channel writes.
type style struct {
	// channel names the variants the renderer looks for; "" (SMS) looks for none.
	channel hotline.Channel
	// gsm rewrites text into the GSM-7 alphabet (á → a, curly quotes → straight) so that
	// each SMS costs fewer segments.
	gsm bool
	// maxBody is the most characters one message may carry; replies are joined into one
	// message up to it. 0 keeps each reply a text of its own (the voice line says them one
	// after the other, each in its own <Say>).
	maxBody int
	// spoken says a menu's options as sentences ("Para leyes, marque 2.") instead of
	// "2 Leyes" lines, and reads a message's lines as sentences.
	spoken bool
}

// maxBody is the most characters one outgoing message may carry: Twilio's limit for the
// Messages API's Body, WhatsApp included.
const maxBody = 1600

// New returns the SMS renderer. base is template data every message may use (the program
// name, the organization's contact); gsm transliterates into GSM-7.
func New(cat *locale.Catalog, base map[string]string, gsm bool) *Renderer {
	return &Renderer{cat: cat, base: base, style: style{gsm: gsm, maxBody: maxBody}}
}

// WhatsApp returns the WhatsApp renderer: the text as written (WhatsApp carries any
// character at no extra cost, so nothing is transliterated), with the "_whatsapp" variants.
func WhatsApp(cat *locale.Catalog, base map[string]string) *Renderer {
	return &Renderer{cat: cat, base: base, style: style{channel: hotline.WhatsApp, maxBody: maxBody}}
}

// Voice returns the voice line's renderer: one text per reply, to be spoken, with the
// "_voice" variants and each menu option said as a sentence (the message voice_option).
func Voice(cat *locale.Catalog, base map[string]string) *Renderer {
	return &Renderer{cat: cat, base: base, style: style{channel: hotline.Voice, spoken: true}}
}

// Channel is the channel the renderer writes for.
func (r *Renderer) Channel() hotline.Channel {
	if r.style.channel == "" {
		return hotline.SMS
	}
	return r.style.channel
}

// Render returns the texts for one step's replies. For SMS and WhatsApp, replies are joined
// into one message, one per line, because every message costs at least a whole segment: "I
// did not understand" and the repeated menu cost less together than apart; a message that
// would pass Twilio's 1,600-character limit starts a new one. A menu's options follow its text
// as "1 Label" lines. For the voice line each reply is a text of its own, options spoken.
func (r *Renderer) Render(lang string, replies []flow.Reply) ([]string, error) {
	var texts []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			texts = append(texts, cur.String())
			cur.Reset()
		}
	}
	for _, rep := range replies {
		text, err := r.reply(lang, rep)
		if err != nil {
			return nil, err
		}
		if r.style.maxBody == 0 {
			texts = append(texts, text)
			continue
		}
		if cur.Len() > 0 && utf8.RuneCountInString(cur.String())+1+utf8.RuneCountInString(text) > r.style.maxBody {
			flush()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(text)
		if utf8.RuneCountInString(cur.String()) > r.style.maxBody {
			// One reply longer than a message may be (an approval request quoting two
			// long alerts): Twilio would refuse it whole, so it goes as several.
			parts := split(cur.String(), r.style.maxBody)
			texts = append(texts, parts[:len(parts)-1]...)
			cur.Reset()
			cur.WriteString(parts[len(parts)-1])
		}
	}
	flush()
	return texts, nil
}

// split cuts text into pieces of at most max characters, each ending at a line break where
// one is near the end, else at a space, else wherever max falls.
func split(text string, max int) []string {
	var parts []string
	for utf8.RuneCountInString(text) > max {
		runes := []rune(text)
		cut := max
		if i := lastRune(runes[:max], '\n'); i > max/2 {
			cut = i
		} else if i := lastRune(runes[:max], ' '); i > max/2 {
			cut = i
		}
		parts = append(parts, strings.TrimRight(string(runes[:cut]), " \n"))
		text = strings.TrimLeft(string(runes[cut:]), " \n")
	}
	return append(parts, text)
}

// lastRune is the index of the last c in runes, -1 if none.
func lastRune(runes []rune, c rune) int {
	for i := len(runes) - 1; i >= 0; i-- {
		if runes[i] == c {
			return i
		}
	}
	return -1
}

// Options returns the numbered choices of replies' last menu, each label rendered as the
// channel says it: what the voice line listens for (keys, and speech hints). None when the
// last reply asks for the member's own words.
func (r *Renderer) Options(lang string, replies []flow.Reply) ([]hotline.Option, error) {
	if len(replies) == 0 || len(replies[len(replies)-1].Options) == 0 {
		return nil, nil
	}
	choices := replies[len(replies)-1].Options
	opts := make([]hotline.Option, 0, len(choices))
	for _, c := range choices {
		label, err := r.label(lang, c)
		if err != nil {
			return nil, err
		}
		opts = append(opts, hotline.Option{Number: c.Number, Label: label})
	}
	return opts, nil
}

// reply renders one reply, from the cache when it has no data of its own.
func (r *Renderer) reply(lang string, rep flow.Reply) (string, error) {
	key, fixed := fixedKey(lang, rep)
	if fixed {
		if text, ok := r.fixed.Load(key); ok {
			return text.(string), nil
		}
	}
	text, err := r.render(lang, rep)
	if err == nil && fixed {
		r.fixed.Store(key, text)
	}
	return text, err
}

// fixedKey names a reply whose text depends only on the language (no data, and options
// labelled by message IDs), or reports that it has none. Only the flows' message IDs go into
// keys, so the cache is bounded by the catalogue's size.
func fixedKey(lang string, rep flow.Reply) (string, bool) {
	if len(rep.Data) > 0 {
		return "", false
	}
	var b strings.Builder
	b.WriteString(lang)
	b.WriteByte(0)
	b.WriteString(rep.ID)
	for _, o := range rep.Options {
		if o.Text != "" {
			return "", false
		}
		b.WriteByte(0)
		b.WriteString(strconv.Itoa(o.Number))
		b.WriteByte(' ')
		b.WriteString(o.Label)
	}
	return b.String(), true
}

// render renders one reply: its message in lang, then its options.
func (r *Renderer) render(lang string, rep flow.Reply) (string, error) {
	data := r.base
	if len(rep.Data) > 0 {
		data = maps.Clone(r.base)
		if data == nil {
			data = map[string]string{}
		}
		maps.Copy(data, rep.Data)
	}
	text, err := r.cat.Text(lang, r.variant(lang, rep.ID), data)
	if err != nil {
		return "", err
	}
	if r.style.spoken {
		text = sentences(text)
	}
	if len(rep.Options) > 0 {
		var b strings.Builder
		b.WriteString(text)
		for _, o := range rep.Options {
			label, err := r.label(lang, o)
			if err != nil {
				return "", err
			}
			if r.style.spoken {
				said, err := r.cat.Text(lang, "voice_option", map[string]string{"Label": label, "Number": strconv.Itoa(o.Number)})
				if err != nil {
					return "", err
				}
				b.WriteByte(' ')
				b.WriteString(said)
				continue
			}
			b.WriteByte('\n')
			b.WriteString(strconv.Itoa(o.Number))
			b.WriteByte(' ')
			b.WriteString(label)
		}
		text = b.String()
	}
	if r.style.gsm {
		text = segment.ToGSM(text)
	}
	return text, nil
}

// label is an option's label as the channel says it.
func (r *Renderer) label(lang string, o flow.Choice) (string, error) {
	if o.Text != "" {
		return o.Text, nil
	}
	return r.cat.Text(lang, r.variant(lang, o.Label), r.base)
}

// variant is the ID of message id as the renderer's channel says it: its channel variant
// where lang has one, else id itself.
func (r *Renderer) variant(lang, id string) string {
	if r.style.channel == "" {
		return id
	}
	if v := VariantID(id, r.style.channel); r.cat.Has(lang, v) {
		return v
	}
	return id
}

// VariantID is the ID of message id's variant for channel ch ("menu_prompt_voice").
func VariantID(id string, ch hotline.Channel) string { return id + "_" + string(ch) }

// BaseID splits a variant's ID into the message it rewords and its channel; an ID that is
// no variant comes back as it is, with channel "".
func BaseID(id string) (string, hotline.Channel) {
	for _, ch := range []hotline.Channel{hotline.WhatsApp, hotline.Voice} {
		if base, ok := strings.CutSuffix(id, "_"+string(ch)); ok && base != "" {
			return base, ch
		}
	}
	return id, ""
}

// sentences makes a text written in lines (a list, a short address block) read as sentences
// when spoken: a line that does not end a sentence gets a full stop, so the voice pauses
// there instead of running two lines together.
func sentences(text string) string {
	if !strings.Contains(text, "\n") {
		return text
	}
	lines := strings.Split(text, "\n")
	kept := lines[:0]
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if last, _ := utf8.DecodeLastRuneInString(l); !strings.ContainsRune(".!?:;…", last) {
			l += "."
		}
		kept = append(kept, l)
	}
	return strings.Join(kept, " ")
}

// Set holds a renderer per channel.
type Set struct {
	SMS, WhatsApp, Voice *Renderer
}

// NewSet returns the renderers of every channel. gsm transliterates SMS into GSM-7.
func NewSet(cat *locale.Catalog, base map[string]string, gsm bool) Set {
	return Set{SMS: New(cat, base, gsm), WhatsApp: WhatsApp(cat, base), Voice: Voice(cat, base)}
}

// For returns channel ch's renderer; SMS's for a channel it does not know.
func (s Set) For(ch hotline.Channel) *Renderer {
	switch {
	case ch == hotline.WhatsApp && s.WhatsApp != nil:
		return s.WhatsApp
	case ch == hotline.Voice && s.Voice != nil:
		return s.Voice
	}
	return s.SMS
}

// Render renders replies for channel ch.
func (s Set) Render(ch hotline.Channel, lang string, replies []flow.Reply) ([]string, error) {
	return s.For(ch).Render(lang, replies)
}

// Options returns the choices of replies' last menu as channel ch says them.
func (s Set) Options(ch hotline.Channel, lang string, replies []flow.Reply) ([]hotline.Option, error) {
	return s.For(ch).Options(lang, replies)
}
