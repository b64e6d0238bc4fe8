// Package smstext turns the step's replies (message IDs, data, numbered options) into the
// text of SMS messages in the member's language. A voice line will have its own renderer
// ("press 1 for…"); the flows stay the same.
package smstext

import (
	"maps"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/locale"
	"github.com/communityhotline/hotline/internal/segment"
)

// Renderer renders replies as SMS text.
type Renderer struct {
	cat  *locale.Catalog
	base map[string]string
	gsm  bool
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
			return nil, err
		}
		if len(rep.Options) > 0 {
			var b strings.Builder
			b.WriteString(text)
			for _, o := range rep.Options {
				label := o.Text
				if label == "" {
					if label, err = r.cat.Text(lang, o.Label, r.base); err != nil {
						return nil, err
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
