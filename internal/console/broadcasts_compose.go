package console

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/broadcast"
	"github.com/communityhotline/hotline/internal/hotline"
)

// langCount is how many people read one language.
type langCount struct {
	Lang string
	N    int64
}

// areaOption is one area of the picker: an area that has subscribers, with its counts.
type areaOption struct {
	ID, Label string
	Counts    []langCount
	Checked   bool
}

// composeText is one language's textarea with the counter's settings.
type composeText struct {
	Lang, Text string
	// Recipients is the sum of the chosen areas' counts in Lang: an estimate for the live
	// cost (a member in two areas counts twice); the preview counts exactly.
	Recipients int64
}

// composeData is the compose page.
type composeData struct {
	Everyone       bool
	EveryoneCounts []langCount
	Areas          []areaOption
	Texts          []composeText
	CostPerSegment string
	GSM            bool
	// Error is the message id of the form's mistake; ErrorLang names the language it
	// concerns, in the page's language.
	Error, ErrorLang string
}

func (s *server) handleComposeBroadcast(w http.ResponseWriter, r *http.Request, rq *request) error {
	d, err := s.composeData(r.Context(), rq, false, nil, map[string]string{})
	if err != nil {
		return err
	}
	s.render(w, r, rq, http.StatusOK, "broadcasts_new", d)
	return nil
}

// composeData builds the form with what was chosen and typed.
func (s *server) composeData(ctx context.Context, rq *request, everyone bool, chosen []string, texts map[string]string) (composeData, error) {
	d := composeData{Everyone: everyone, GSM: s.cfg.Broadcasts.GSM()}
	if c := s.cfg.Broadcasts.CostPerSegment(); c > 0 {
		d.CostPerSegment = strconv.FormatFloat(c, 'f', -1, 64)
	}
	all, err := s.cfg.Broadcasts.Preview(ctx, hotline.Broadcast{Status: hotline.Draft})
	if err != nil {
		return d, err
	}
	for _, lang := range s.cfg.Languages {
		d.EveryoneCounts = append(d.EveryoneCounts, langCount{Lang: lang, N: all.Recipients[lang]})
	}
	subs, err := s.cfg.Subscribers(ctx)
	if err != nil {
		return d, err
	}
	byArea := map[string]map[string]int64{}
	for lang, areas := range subs {
		for area, n := range areas {
			if byArea[area] == nil {
				byArea[area] = map[string]int64{}
			}
			byArea[area][lang] = n
		}
	}
	sum := map[string]int64{}
	for area, counts := range byArea {
		o := areaOption{ID: area, Label: s.cfg.Broadcasts.AreaLabel(area, rq.Lang), Checked: slices.Contains(chosen, area)}
		for _, lang := range s.cfg.Languages {
			o.Counts = append(o.Counts, langCount{Lang: lang, N: counts[lang]})
			if o.Checked {
				sum[lang] += counts[lang]
			}
		}
		d.Areas = append(d.Areas, o)
	}
	slices.SortFunc(d.Areas, func(a, b areaOption) int { return cmp.Compare(a.Label, b.Label) })
	for _, lang := range s.cfg.Languages {
		n := sum[lang]
		if everyone {
			n = all.Recipients[lang]
		}
		d.Texts = append(d.Texts, composeText{Lang: lang, Text: texts[lang], Recipients: n})
	}
	return d, nil
}

// handleCreateBroadcast stores the draft and shows its preview; a form with a mistake comes
// back with what was typed and a note in the page's language.
func (s *server) handleCreateBroadcast(w http.ResponseWriter, r *http.Request, rq *request) error {
	everyone := r.PostFormValue("everyone") == "1"
	var areas []string
	for _, a := range r.PostForm["area"] {
		if a = strings.TrimSpace(a); a != "" && !slices.Contains(areas, a) {
			areas = append(areas, a)
		}
	}
	texts := map[string]string{}
	for _, lang := range s.cfg.Languages {
		// The form posts CRLF line breaks; the counter is told (data-newlines="lf") that
		// they are counted as LF, as here.
		texts[lang] = strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("text_"+lang), "\r\n", "\n"))
	}
	errID, errArg, err := s.checkCompose(r.Context(), everyone, areas, texts)
	if err != nil {
		return err
	}
	if errID == "" {
		b, _, err := s.cfg.Broadcasts.Create(r.Context(), rq.Actor(), broadcast.Draft{Text: texts, Areas: areas})
		var inv *broadcast.InvalidError
		switch {
		case errors.As(err, &inv):
			errID = "bc_err_invalid"
		case err != nil:
			return err
		default:
			http.Redirect(w, r, "/console/broadcasts/"+url.PathEscape(b.ID)+"?note=bc_created", http.StatusSeeOther)
			return nil
		}
	}
	d, err := s.composeData(r.Context(), rq, everyone, areas, texts)
	if err != nil {
		return err
	}
	d.Error = errID
	if errArg != "" {
		d.ErrorLang, _ = s.msgs.T(rq.Lang, "lang_word_"+errArg, nil)
	}
	s.render(w, r, rq, http.StatusUnprocessableEntity, "broadcasts_new", d)
	return nil
}

// checkCompose finds the mistakes an organizer can fix in the form, as a message id and the
// language it concerns; the service checks everything again (Create).
func (s *server) checkCompose(ctx context.Context, everyone bool, areas []string, texts map[string]string) (string, string, error) {
	switch {
	case !everyone && len(areas) == 0:
		return "bc_err_no_area", "", nil
	case everyone && len(areas) > 0:
		// An alert meant for one county must never reach the whole state by a stray click.
		return "bc_err_both", "", nil
	}
	empty := true
	for _, lang := range s.cfg.Languages {
		if n := utf8.RuneCountInString(texts[lang]); n > broadcast.MaxText {
			return "bc_err_too_long", lang, nil
		}
		if texts[lang] != "" {
			empty = false
		}
	}
	if empty {
		return "bc_err_no_text", "", nil
	}
	p, err := s.cfg.Broadcasts.Preview(ctx, hotline.Broadcast{Status: hotline.Draft, Areas: areas})
	if err != nil {
		return "", "", err
	}
	for _, lang := range s.cfg.Languages {
		if texts[lang] == "" && p.Recipients[lang] > 0 {
			return "bc_err_missing_text", lang, nil
		}
	}
	return "", "", nil
}
