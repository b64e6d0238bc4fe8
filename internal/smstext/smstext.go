// Package smstext turns the step's replies (message IDs, data, numbered options) into the
// text of SMS messages in the member's language. A voice line will have its own renderer
// ("press 1 for…"); the flows stay the same.
package smstext

import (
	"maps"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/locale"
	"github.com/communityhotline/hotline/internal/segment"
)

// Renderer renders replies as SMS text. It is safe for concurrent use.
type Renderer struct {
	cat  *locale.Catalog
	base map[string]string
	gsm  bool
	// fixed holds the finished text of replies that depend only on the language: a menu,
	// a prompt. They are most replies, and go-i18n's template run was a tenth of a
	// webhook's work. The key is the language, the message ID and the option labels' IDs.
	fixed sync.Map
}

// New returns a renderer. base is template data every message may use (the program name,
// the organization's contact); gsm rewrites text into the GSM-7 alphabet (á → a, curly
// quotes → straight) so that each SMS costs fewer segments.
func New(cat *locale.Catalog, base map[string]string, gsm bool) *Renderer {
	return &Renderer{cat: cat, base: base, gsm: gsm}
}

// maxBody is the most characters one outgoing message may carry (Twilio's limit).
const maxBody = 1600

// Render returns the SMS texts for one step's replies. Replies are joined into one message,
// one per line, because every message costs at least a whole segment: "I did not understand"
// and the repeated menu cost less together than apart. A message would pass Twilio's
// 1,600-character limit starts a new one. A menu's options follow its text as "1 Label" lines.
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
		if cur.Len() > 0 && utf8.RuneCountInString(cur.String())+1+utf8.RuneCountInString(text) > maxBody {
			flush()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(text)
	}
	flush()
	return texts, nil
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

// render renders one reply: its message in lang, then its options as "1 Label" lines.
func (r *Renderer) render(lang string, rep flow.Reply) (string, error) {
	data := r.base
	if len(rep.Data) > 0 {
		data = maps.Clone(r.base)
		if data == nil {
			data = map[string]string{}
		}
		maps.Copy(data, rep.Data)
	}
	text, err := r.cat.Text(lang, rep.ID, data)
	if err != nil {
		return "", err
	}
	if len(rep.Options) > 0 {
		var b strings.Builder
		b.WriteString(text)
		for _, o := range rep.Options {
			label := o.Text
			if label == "" {
				if label, err = r.cat.Text(lang, o.Label, r.base); err != nil {
					return "", err
				}
			}
			b.WriteByte('\n')
			b.WriteString(strconv.Itoa(o.Number))
			b.WriteByte(' ')
			b.WriteString(label)
		}
		text = b.String()
	}
	if r.gsm {
		text = segment.ToGSM(text)
	}
	return text, nil
}
