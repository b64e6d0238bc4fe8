package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/twilio"
)

// The voice line (docs/voice.md): a call is a conversation with the same engine as a text,
// one <Gather> at a time. Each thing heard is one inbound message, whose id is the call's SID
// and the step's number (n, carried in the signed action URL), so that "*" (say it again) is
// the previous step's message, which the engine's reply log answers without stepping.

// VoiceLine is what the voice routes need besides the engine.
type VoiceLine struct {
	Callers Callers
	// Unverified remembers calls whose caller ID the carrier found false; nil: none is.
	Unverified Unverified
	Cases      VoiceCases
	// Say renders the voice line's own message id in lang, as spoken.
	Say func(lang, id string, data map[string]string) (string, error)
	// Languages are the languages offered in the first question, in order: key 1 is the
	// first. Voices speak each.
	Languages []string
	Voices    map[string]twilio.Voice
	// Words are what the edge tells the engine for a key that is not a menu choice.
	Words VoiceWords
	// PlaceHints are the names callers may say when asked for a place (the places table's
	// names and aliases): the recogniser's hints when a question has no options.
	PlaceHints []string
	// MaxSteps is the most things one call may say to the engine (Gathers heard); past it the
	// caller hears voice_limit and the call ends.
	MaxSteps int
}

// VoiceWords are the flows' words (flows/keywords.toml) the edge sends the engine for keys
// that are not menu choices.
type VoiceWords struct {
	// Home goes to the main menu: what a call starts with.
	Home string
	// Language, by language code: the word that chooses it ("español").
	Language map[string]string
	// Urgent, by language code: the emergency word that key 0 stands for.
	Urgent map[string]string
}

// Unverified remembers, for the length of a call, that the carrier found the caller's
// number not theirs (StirVerstat, which only a call's first request carries), so that
// nothing is ever texted to that number on this call's word (redisstore.Store).
type Unverified interface {
	MarkCallUnverified(ctx context.Context, callSid string) error
	CallUnverified(ctx context.Context, callSid string) (bool, error)
}

// Callers tells the voice line what it needs of a caller's state.
type Callers interface {
	// Caller returns the member from is (the voice channel's member id), their language (""
	// before they chose one) and their open case (0: none).
	Caller(ctx context.Context, from string) (Caller, error)
}

// Caller is a caller as the voice line needs them.
type Caller struct {
	ID   string
	Lang string
	Case int64
}

// VoiceCases are the cases' side of a call (escalation.Service).
type VoiceCases interface {
	// Ring returns the phones to ring for case n (none: nobody to ring).
	Ring(ctx context.Context, n int64) ([]string, error)
	// Taken reports whether a volunteer holds case n: a <Dial> that "completed" may have
	// been a voicemail picking up, which the whisper then hung up on.
	Taken(ctx context.Context, n int64) (bool, error)
	// AcceptCall claims case n for the volunteer whose phone answered; false when they
	// cannot have it.
	AcceptCall(ctx context.Context, n int64, phone string) (bool, error)
	// AllowTexts lets case n text the caller at number, after their yes; it fails with
	// escalation.ErrNoTexts when the case cannot.
	AllowTexts(ctx context.Context, n int64, memberID, number string) error
}

// Timings of a call, in seconds.
const (
	// gatherTimeout is how long a question waits for a first key or word.
	gatherTimeout = 6
	// whisperTimeout is how long a volunteer who answered has to press 1.
	whisperTimeout = 8
	// ringFor is how long the volunteers' phones ring; talkLimit how long a call with a
	// volunteer may last.
	ringFor   = 20
	talkLimit = 3600
	// maxSilences is how many questions in a row may go unanswered before the call ends.
	maxSilences = 3
)

// welcome is the flows' greeting (who answers, free and confidential), which a call says
// first.
const welcome = "welcome"

// The keys that are not menu choices.
const (
	keyRepeat = "*"
	keyDanger = "0"
	keyYes    = "1"
)

// voicePath is where the voice routes live; action URLs are relative to the call's own URL,
// which Twilio resolves against it, so they are written in full from the root.
const voicePath = "/twilio/voice"

// call is one request of a call, read and checked.
type call struct {
	twilio.Call
	// from is who the engine is told the caller is: their number, or for a hidden number,
	// a member for this call only.
	from string
}

// voiceRoute is a voice webhook's handler: the request read and checked by voiceCall, then
// serve, with the time a call may wait for an answer.
func (d Deps) voiceRoute(serve func(ctx context.Context, w http.ResponseWriter, r *http.Request, c call)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := d.voiceCall(w, r)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), answerTimeout)
		defer cancel()
		serve(ctx, w, r, c)
	})
}

// voiceCall reads a voice webhook's request as twilioForm does (403, 413, 400), and answers
// a malformed one itself; ok is false when the request must go no further.
func (d Deps) voiceCall(w http.ResponseWriter, r *http.Request) (call, bool) {
	if !d.twilioForm(w, r) {
		return call{}, false
	}
	c, err := twilio.ParseCall(r.PostForm)
	if err != nil {
		d.Log.Warn("voice webhook rejected", "path", r.URL.Path, "err", err)
		http.Error(w, "bad webhook: "+err.Error(), http.StatusBadRequest)
		return call{}, false
	}
	cl := call{Call: c, from: c.From}
	if c.Hidden {
		// A withheld number proves nothing and cannot be written to: the caller is someone
		// for the length of this call.
		cl.from = "anonymous:" + c.SID
	}
	return cl, true
}

// queryInt reads a small non-negative number from the (signed) query; -1 when absent or bad.
func queryInt(r *http.Request, name string) int {
	v, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || v < 0 || v > 1_000_000 {
		return -1
	}
	return v
}

func queryCase(r *http.Request) int64 {
	n, err := strconv.ParseInt(r.URL.Query().Get("case"), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// gatherURL is where question n's answer goes; silences > 0 marks the redirect that follows a
// question nobody answered.
func gatherURL(n int, language bool, silences int) string {
	q := url.Values{"n": {strconv.Itoa(n)}}
	if language {
		q.Set("q", "lang")
	}
	if silences > 0 {
		q.Set("s", strconv.Itoa(silences))
	}
	return voicePath + "/gather?" + q.Encode()
}

// stepID is the engine's message id of step n of call sid: letters and digits only.
func stepID(sid string, n int) string { return sid + "n" + strconv.Itoa(n) }

// voiceAnswer is a call's answer as it is built.
type voiceAnswer struct {
	d     Deps
	lang  string
	verbs []twilio.Verb
}

func (d Deps) answerIn(lang string) *voiceAnswer { return &voiceAnswer{d: d, lang: lang} }

// voice is the voice that speaks language lang, or the first language's.
func (v *VoiceLine) voice(lang string) twilio.Voice {
	if vo, ok := v.Voices[lang]; ok {
		return vo
	}
	if len(v.Languages) > 0 {
		return v.Voices[v.Languages[0]]
	}
	return twilio.Voice{}
}

// says renders message id in the answer's language (every language when it has none).
func (a *voiceAnswer) says(id string, data map[string]string) []twilio.Say {
	langs := a.d.Voice.Languages
	if a.lang != "" {
		langs = []string{a.lang}
	}
	var out []twilio.Say
	for _, lang := range langs {
		text, err := a.d.Voice.Say(lang, id, data)
		if err != nil || text == "" {
			a.d.Log.Error("rendering a voice message", "message_id", id, "lang", lang, "err", err)
			continue
		}
		out = append(out, twilio.Say{Text: text, Voice: a.d.Voice.voice(lang)})
	}
	return out
}

func (a *voiceAnswer) say(id string, data map[string]string) *voiceAnswer {
	for _, s := range a.says(id, data) {
		a.verbs = append(a.verbs, s)
	}
	return a
}

func (a *voiceAnswer) sayTexts(texts []string) *voiceAnswer {
	for _, t := range texts {
		a.verbs = append(a.verbs, twilio.Say{Text: t, Voice: a.d.Voice.voice(a.lang)})
	}
	return a
}

func (a *voiceAnswer) add(v ...twilio.Verb) *voiceAnswer {
	a.verbs = append(a.verbs, v...)
	return a
}

func (a *voiceAnswer) hangup() *voiceAnswer { return a.add(twilio.Hangup{}) }

// write sends the answer; TwiML that cannot be written (a message missing) becomes the error
// in every language and the end of the call, never silence.
func (a *voiceAnswer) write(w http.ResponseWriter, sid string) {
	var buf bytes.Buffer
	if err := twilio.WriteVoiceTwiML(&buf, a.verbs...); err != nil {
		a.d.Log.Error("writing voice TwiML", "call", sid, "err", err)
		buf.Reset()
		fallback := a.d.answerIn("").say("voice_error", nil).hangup()
		if err := twilio.WriteVoiceTwiML(&buf, fallback.verbs...); err != nil {
			buf.Reset()
			twilio.WriteVoiceTwiML(&buf, twilio.Hangup{})
		}
	}
	w.Header().Set("Content-Type", twilio.ContentType)
	w.Write(buf.Bytes())
}

// handleVoiceStart answers a call: the language question for a caller the hotline does not
// know yet; a caller with an open case what they want of it (sending them the menu's word
// would take them out of it); anyone else the main menu.
func handleVoiceStart(d Deps) http.Handler {
	calls := d.Metrics.Counter("hotline_voice_calls_total", "Calls answered by the voice line (signature valid).", "", "")
	return d.voiceRoute(func(ctx context.Context, w http.ResponseWriter, r *http.Request, c call) {
		calls.Inc()
		if c.Unverified() && !c.Hidden && d.Voice.Unverified != nil {
			if err := d.Voice.Unverified.MarkCallUnverified(ctx, c.SID); err != nil {
				d.Log.Error("remembering an unverified caller ID", "call", c.SID, "err", err)
			}
		}
		who, err := d.Voice.Callers.Caller(ctx, c.from)
		if err != nil {
			d.voiceFailed(w, c, "", err)
			return
		}
		switch {
		case who.Lang == "":
			d.languageQuestion(w, c, 0)
		case who.Case != 0:
			a := d.answerIn(who.Lang)
			d.caseQuestion(a, who.Case, 0)
			a.write(w, c.SID)
		default:
			// A call says who answers before anything: the menu alone would not.
			reply, err := d.Bot.Answer(ctx, d.inbound(c, 0, d.Voice.Words.Home))
			d.respond(ctx, w, c, reply, err, 1, 0, who.Lang, welcome)
		}
	})
}

// inbound is step n of call c, saying text, as the engine takes it.
func (d Deps) inbound(c call, n int, text string) hotline.Inbound {
	return hotline.Inbound{ID: stepID(c.SID, n), Channel: hotline.Voice, From: c.from, To: c.To, Text: text}
}

// languageQuestion asks the language, each language in its own voice, keys only: speech
// would be recognised in a language not chosen yet.
func (d Deps) languageQuestion(w http.ResponseWriter, c call, silences int) {
	a := d.answerIn("")
	if silences >= maxSilences {
		a.say("voice_goodbye", nil).hangup().write(w, c.SID)
		return
	}
	a.add(twilio.Gather{Action: gatherURL(0, true, 0), Input: twilio.InputKeys, NumDigits: 1, Timeout: gatherTimeout,
		Say: a.says("voice_language_prompt", nil)})
	a.add(twilio.Redirect{URL: gatherURL(0, true, silences+1)}).write(w, c.SID)
}

// handleVoiceGather takes what a caller pressed or said at step n and answers with the next
// question.
func handleVoiceGather(d Deps) http.Handler {
	return d.voiceRoute(func(ctx context.Context, w http.ResponseWriter, r *http.Request, c call) {
		n, silences := queryInt(r, "n"), max(queryInt(r, "s"), 0)
		if n < 0 {
			http.Error(w, "bad step", http.StatusBadRequest)
			return
		}
		heard := c.Digits
		if heard == "" {
			heard = c.Speech
		}
		if r.URL.Query().Get("q") == "lang" {
			d.languageChosen(ctx, w, c, heard, silences)
			return
		}
		switch {
		case n > d.Voice.MaxSteps:
			d.answerIn(d.callerLang(ctx, c)).say("voice_limit", nil).hangup().write(w, c.SID)
		case heard == "" && silences >= maxSilences:
			d.answerIn(d.callerLang(ctx, c)).say("voice_goodbye", nil).hangup().write(w, c.SID)
		case heard == "" && silences > 0 && n > 0:
			// Nobody answered question n: say so, and the question again.
			reply, err := d.Bot.Answer(ctx, d.inbound(c, n-1, keyRepeat))
			d.respond(ctx, w, c, reply, err, n, silences, "", "voice_no_input")
		case heard == keyRepeat && n > 0:
			reply, err := d.Bot.Answer(ctx, d.inbound(c, n-1, keyRepeat))
			d.respond(ctx, w, c, reply, err, n, 0, "")
		case heard == "":
			// An empty answer not from a silence (Twilio sends none): ask again.
			reply, err := d.Bot.Answer(ctx, d.inbound(c, n-1, keyRepeat))
			d.respond(ctx, w, c, reply, err, n, 0, "")
		default:
			switch {
			case heard == keyDanger:
				heard = d.Voice.urgentWord(d.callerLang(ctx, c))
			case heard == keyMenu && r.URL.Query().Get("m") == "1":
				heard = d.Voice.Words.Home
			}
			reply, err := d.Bot.Answer(ctx, d.inbound(c, n, heard))
			d.respond(ctx, w, c, reply, err, n+1, 0, "")
		}
	})
}

// urgentWord is the emergency word in lang, or in the first language.
func (v *VoiceLine) urgentWord(lang string) string {
	if w := v.Words.Urgent[lang]; w != "" {
		return w
	}
	if len(v.Languages) > 0 {
		return v.Words.Urgent[v.Languages[0]]
	}
	return ""
}

// callerLang is the caller's language, "" when it cannot be read (then every language is
// spoken).
func (d Deps) callerLang(ctx context.Context, c call) string {
	who, err := d.Voice.Callers.Caller(ctx, c.from)
	if err != nil {
		return ""
	}
	return who.Lang
}

// languageChosen answers the language question: key 1 for the first language, 2 for the
// second…, told to the engine as the word that chooses it, so the language is kept in the
// caller's state as a texter's is. Anything else asks again.
func (d Deps) languageChosen(ctx context.Context, w http.ResponseWriter, c call, heard string, silences int) {
	k, err := strconv.Atoi(heard)
	if err != nil || k < 1 || k > len(d.Voice.Languages) {
		if heard != "" {
			silences = 0
		}
		d.languageQuestion(w, c, silences)
		return
	}
	lang := d.Voice.Languages[k-1]
	reply, err := d.Bot.Answer(ctx, d.inbound(c, 0, d.Voice.Words.Language[lang]))
	first := []string{welcome}
	if c.Hidden {
		first = append(first, "voice_unavailable_anonymous")
	}
	d.respond(ctx, w, c, reply, err, 1, 0, lang, first...)
}

// respond says the engine's reply to the step before next and asks question next: the
// reply's options as keys (and their labels as speech), or, with none, the caller's own words
// (a place, or a ZIP code by keys). before are the voice line's messages said first. A reply
// that opened a case with a volunteer rings them instead. silences counts the questions left
// unanswered in a row before this one.
func (d Deps) respond(ctx context.Context, w http.ResponseWriter, c call, reply hotline.Reply, err error, next, silences int, lang string, before ...string) {
	if reply.Lang != "" {
		lang = reply.Lang
	}
	if err != nil {
		d.voiceFailed(w, c, lang, err)
		return
	}
	a := d.answerIn(lang)
	for _, id := range before {
		a.say(id, nil)
	}
	if len(reply.Texts) == 0 {
		// A limit of the engine (too many messages): said, never a silent call.
		a.say("voice_limit", nil).hangup().write(w, c.SID)
		return
	}
	if reply.Escalated {
		if who, err := d.Voice.Callers.Caller(ctx, c.from); err == nil && who.Case != 0 {
			a.sayTexts(reply.Texts)
			d.ringOrOffer(ctx, a, c, who.Case, next)
			a.write(w, c.SID)
			return
		} else if err != nil {
			d.Log.Error("reading a caller's case after it opened", "call", c.SID, "err", err)
		}
	}
	if next > d.Voice.MaxSteps {
		a.sayTexts(reply.Texts).say("voice_limit", nil).hangup().write(w, c.SID)
		return
	}
	g := twilio.Gather{Action: gatherURL(next, false, 0), Timeout: gatherTimeout, Language: d.Voice.voice(lang).Language}
	// 9 is the way back to the menu wherever it is no option of the question.
	menuKey := len(reply.Options) < 9
	if menuKey {
		g.Action += "&m=1"
	}
	if len(reply.Options) > 0 {
		g.Input, g.NumDigits = twilio.InputKeysSpeech, 1
		for _, o := range reply.Options {
			g.Hints = append(g.Hints, o.Label)
		}
	} else {
		// A place name, or a ZIP code by keys ended with #.
		g.Input, g.Hints = twilio.InputSpeechKeys, d.Voice.PlaceHints
	}
	for _, t := range reply.Texts {
		g.Say = append(g.Say, twilio.Say{Text: t, Voice: d.Voice.voice(lang)})
	}
	g.Say = append(g.Say, a.says("voice_repeat_hint", nil)...)
	if len(reply.Options) == 0 {
		// After an answer, or at a question for the caller's own words: the way on.
		g.Say = append(g.Say, a.says("voice_menu_hint", nil)...)
	}
	g.Say = append(g.Say, a.says("voice_danger_hint", nil)...)
	a.add(g, twilio.Redirect{URL: gatherURL(next, false, silences+1)}).write(w, c.SID)
}

// voiceFailed ends a call the engine could not answer (Redis down, most likely), saying so.
// A call is never kept to be answered later, as a text is: by then the caller has hung up,
// and a step replayed then could ring or text someone.
func (d Deps) voiceFailed(w http.ResponseWriter, c call, lang string, err error) {
	d.Metrics.Counter("hotline_voice_failures_total", "Call steps the engine could not answer (mostly Redis errors); the caller heard voice_error.", "", "").Inc()
	d.Log.Error("call step not handled; caller told", "call", c.SID, "err", err)
	if errors.Is(err, hotline.ErrDoNotAnswer) {
		lang = "" // their state is unreadable: say it in every language
	}
	d.answerIn(lang).say("voice_error", nil).hangup().write(w, c.SID)
}

// handleVoiceFallback is the Twilio number's fallback URL, called when the voice webhook
// failed: the error, in every language, and the end of the call. It reads nothing stored.
func handleVoiceFallback(d Deps) http.Handler {
	return d.voiceRoute(func(ctx context.Context, w http.ResponseWriter, r *http.Request, c call) {
		d.Log.Warn("voice fallback answered", "call", c.SID)
		d.answerIn("").say("voice_error", nil).hangup().write(w, c.SID)
	})
}

// callStatuses are the call statuses Twilio reports; any other is counted as "other", so a
// request cannot add labels at will.
var callStatuses = map[string]bool{"queued": true, "initiated": true, "ringing": true, "in-progress": true,
	"completed": true, "busy": true, "failed": true, "no-answer": true, "canceled": true}

// handleVoiceStatus counts calls by how they ended (the status callback); nothing else is
// read or kept.
func handleVoiceStatus(d Deps) http.Handler {
	return d.voiceRoute(func(ctx context.Context, w http.ResponseWriter, r *http.Request, c call) {
		status := c.Status
		if !callStatuses[status] {
			status = "other"
		}
		d.Metrics.Counter("hotline_voice_call_status_total", "Call status callbacks, by status.", "status", status).Inc()
		w.WriteHeader(http.StatusNoContent)
	})
}
