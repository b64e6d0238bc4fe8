package app

import (
	"context"
	"errors"
	"strings"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/web"
)

// voiceVoices are the text-to-speech voices of each language (Amazon Polly's, through
// Twilio): Mia speaks Mexican Spanish, the Spanish most callers in New Mexico speak.
var voiceVoices = map[string]twilio.Voice{
	"es": {Name: "Polly.Mia", Language: "es-MX"},
	"en": {Name: "Polly.Joanna", Language: "en-US"},
}

// voiceWords are the words of flows/keywords.toml the voice line sends the engine for its own
// keys: the main menu's word (a call starts there), the words that choose each language (the
// first question's keys 1 and 2) and the emergency words (key 0). The transcript tests
// (internal/web/testdata/voice-*.txt) fail if the flows stop taking them.
var voiceWords = web.VoiceWords{
	Home:     "menu",
	Language: map[string]string{"es": "español", "en": "english"},
	Urgent:   map[string]string{"es": "emergencia", "en": "emergency"},
}

// voiceMaxSteps is the most things a call may say to the engine: far above any conversation
// (a question, an answer and a follow-up take three), low enough that a call left open by a
// machine pressing keys ends.
const voiceMaxSteps = 60

// voiceLine is the voice line's wiring: the engine's view of callers, the cases' side of a
// call, the voice renderer, and the place names the recogniser should expect.
func (a *App) voiceLine() *web.VoiceLine {
	return &web.VoiceLine{
		Callers:    voiceCallers{a},
		Cases:      a.cases,
		Unverified: a.store,
		Say: func(lang, id string, data map[string]string) (string, error) {
			texts, err := a.renderers.Voice.Render(lang, []flow.Reply{{ID: id, Data: data}})
			return strings.Join(texts, " "), err
		},
		Languages:  a.content.Flows.Settings().Languages,
		Voices:     voiceVoices,
		Words:      voiceWords,
		PlaceHints: a.placeHints(),
		MaxSteps:   voiceMaxSteps,
	}
}

// placeHints are the names a caller may say for a place: counties first (every caller has
// one), then cities and other places, then aliases; each once.
func (a *App) placeHints() []string {
	var out []string
	seen := map[string]bool{}
	add := func(name string) {
		if k := strings.ToLower(name); name != "" && !seen[k] {
			seen[k] = true
			out = append(out, name)
		}
	}
	for _, p := range a.content.Places.Counties() {
		add(p.Name)
	}
	all := a.content.Places.Places()
	for _, p := range all {
		add(p.Name)
	}
	for _, p := range all {
		for _, alias := range p.Aliases {
			add(alias)
		}
	}
	return out
}

// voiceCallers reads a caller's state from the engine.
type voiceCallers struct{ a *App }

func (v voiceCallers) Caller(ctx context.Context, from string) (web.Caller, error) {
	id := v.a.keys.MemberID(hotline.Voice, from)
	st, err := v.a.engine.State(ctx, id)
	if errors.Is(err, hotline.ErrNotFound) {
		return web.Caller{ID: id}, nil
	}
	if err != nil {
		return web.Caller{}, err
	}
	return web.Caller{ID: id, Lang: st.Lang, Case: st.Case}, nil
}
