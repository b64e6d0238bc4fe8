package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/communityhotline/hotline/internal/escalation"
	"github.com/communityhotline/hotline/internal/twilio"
)

// A person, by voice: the case is opened by the flows (with its pages) before the edge rings
// anyone; the volunteers on call are rung all at once, each hearing a whisper that asks for a
// key, so that a voicemail picking up is never connected; the first to press 1 claims the case
// and is connected. Nobody: the case stays open, and a caller whose number is known is asked
// whether a volunteer may text them.

// ringOrOffer adds to a what follows a reply that opened (or is in) case n: ringing the
// volunteers, or, with nobody to ring, the question about texts. next is the call's next step.
func (d Deps) ringOrOffer(ctx context.Context, a *voiceAnswer, c call, n int64, next int) {
	phones, err := d.Voice.Cases.Ring(ctx, n)
	if err != nil {
		d.Log.Error("listing volunteers to ring", "call", c.SID, "case", n, "err", err)
	}
	if len(phones) == 0 {
		d.offerTexts(ctx, a, c, n)
		return
	}
	lang := a.lang
	if lang == "" && len(d.Voice.Languages) > 0 {
		lang = d.Voice.Languages[0]
	}
	dial := twilio.Dial{CallerID: c.To, Timeout: ringFor, TimeLimit: talkLimit,
		Action: voicePath + "/dial?" + url.Values{"n": {strconv.Itoa(next)}, "case": {caseText(n)}}.Encode()}
	whisper := voicePath + "/whisper?" + url.Values{"case": {caseText(n)}, "lang": {lang}}.Encode()
	for _, p := range phones {
		dial.Numbers = append(dial.Numbers, twilio.Number{Phone: p, URL: whisper})
	}
	d.Metrics.Counter("hotline_voice_dials_total", "Calls put through to the volunteers on call.", "", "").Inc()
	d.Log.Info("ringing volunteers", "call", c.SID, "case", n, "phones", len(phones))
	a.say("voice_hold", nil).add(dial)
}

func caseText(n int64) string { return strconv.FormatInt(n, 10) }

// unverified reports whether call c's caller ID was found false by the carrier; when that
// cannot be read, it is taken as false too, so that a number is not texted on a doubt.
func (d Deps) unverified(ctx context.Context, c call) bool {
	if c.Unverified() {
		return true
	}
	if d.Voice.Unverified == nil {
		return false
	}
	bad, err := d.Voice.Unverified.CallUnverified(ctx, c.SID)
	if err != nil {
		d.Log.Error("reading whether a caller ID was verified", "call", c.SID, "err", err)
		return true
	}
	return bad
}

// Keys of the question a caller with an open case hears, besides keyDanger.
const (
	keyVolunteer = "1"
	keyMenu      = "9"
)

// caseQuestion asks a caller who calls with case n open what they want of it: a volunteer
// (1), help at once (0: the emergency word makes the case urgent, which rings everyone on
// call), or the menu (9: the menu's word takes them out of the case, as MENU does by text).
// silences counts the times it was asked with no answer.
func (d Deps) caseQuestion(a *voiceAnswer, n int64, silences int) {
	if silences >= maxSilences {
		a.say("voice_goodbye", nil).hangup()
		return
	}
	q := url.Values{"case": {caseText(n)}}
	a.add(twilio.Gather{Action: voicePath + "/case?" + q.Encode(), Input: twilio.InputKeys, NumDigits: 1, Timeout: gatherTimeout,
		Say: a.says("voice_case_open", map[string]string{"N": caseText(n)})})
	q.Set("s", strconv.Itoa(silences+1))
	a.add(twilio.Redirect{URL: voicePath + "/case?" + q.Encode()})
}

// handleVoiceCase takes the caller's key at caseQuestion. A case closed meanwhile gives the
// menu.
func handleVoiceCase(d Deps) http.Handler {
	return d.voiceRoute(func(ctx context.Context, w http.ResponseWriter, r *http.Request, c call) {
		n, silences := queryCase(r), max(queryInt(r, "s"), 0)
		who, err := d.Voice.Callers.Caller(ctx, c.from)
		if err != nil {
			d.voiceFailed(w, c, "", err)
			return
		}
		a := d.answerIn(who.Lang)
		word := ""
		switch {
		case n == 0 || who.Case != n || c.Digits == keyMenu:
			word = d.Voice.Words.Home
		case c.Digits == keyDanger:
			word = d.Voice.Words.Urgent[who.Lang]
		case c.Digits == keyVolunteer:
			d.ringOrOffer(ctx, a, c, n, 1)
			a.write(w, c.SID)
			return
		default: // silence, or a key that is none of the three
			if c.Digits != "" {
				silences++
			}
			d.caseQuestion(a, n, silences)
			a.write(w, c.SID)
			return
		}
		reply, err := d.Bot.Answer(ctx, d.inbound(c, 0, word))
		d.respond(ctx, w, c, reply, err, 1, 0, who.Lang)
	})
}

// offerTexts asks a caller whose number is known whether a volunteer may text them about case
// n (key 1), and otherwise says goodbye; a hidden number is never asked, nor one the carrier
// found not the caller's (it may be someone else's).
func (d Deps) offerTexts(ctx context.Context, a *voiceAnswer, c call, n int64) {
	if !c.Hidden && !d.unverified(ctx, c) {
		a.add(twilio.Gather{Action: voicePath + "/consent?" + url.Values{"case": {caseText(n)}}.Encode(),
			Input: twilio.InputKeys, NumDigits: 1, Timeout: gatherTimeout, Say: a.says("voice_text_consent", nil)})
	}
	a.say("voice_goodbye", nil).hangup()
}

// handleVoiceDial hears how the ringing ended: a talk ends the call; nobody answering leaves
// the case open (its pages went out) and offers texts.
func handleVoiceDial(d Deps) http.Handler {
	return d.voiceRoute(func(ctx context.Context, w http.ResponseWriter, r *http.Request, c call) {
		n := queryCase(r)
		a := d.answerIn(d.callerLang(ctx, c))
		d.Metrics.Counter("hotline_voice_dial_outcomes_total", "How ringing the volunteers ended, by Twilio's DialCallStatus.", "status", dialOutcome(c.DialStatus)).Inc()
		talked := c.DialStatus == "completed" || c.DialStatus == "answered"
		if talked && n != 0 {
			// A voicemail that picked up also "completes" the <Dial>: only a volunteer who
			// pressed the whisper's key holds the case.
			taken, err := d.Voice.Cases.Taken(ctx, n)
			if err != nil {
				d.Log.Error("reading whether a volunteer took the call", "call", c.SID, "case", n, "err", err)
			}
			talked = taken || err != nil
		}
		if talked || n == 0 {
			a.say("voice_goodbye", nil).hangup().write(w, c.SID)
			return
		}
		d.Log.Info("no volunteer took the call", "call", c.SID, "case", n)
		a.say("voice_no_answer", map[string]string{"N": caseText(n)})
		d.offerTexts(ctx, a, c, n)
		a.write(w, c.SID)
	})
}

func dialOutcome(s string) string {
	switch s {
	case "completed", "answered", "busy", "no-answer", "failed", "canceled":
		return s
	}
	return "other"
}

// handleVoiceConsent takes the caller's answer to "may a volunteer text you": 1 gives case n
// their number; anything else, nothing.
func handleVoiceConsent(d Deps) http.Handler {
	return d.voiceRoute(func(ctx context.Context, w http.ResponseWriter, r *http.Request, c call) {
		n := queryCase(r)
		who, err := d.Voice.Callers.Caller(ctx, c.from)
		if err != nil {
			d.voiceFailed(w, c, "", err)
			return
		}
		a := d.answerIn(who.Lang)
		if c.Digits != keyYes || c.Hidden || n == 0 || d.unverified(ctx, c) {
			a.say("voice_goodbye", nil).hangup().write(w, c.SID)
			return
		}
		switch err := d.Voice.Cases.AllowTexts(ctx, n, who.ID, c.From); {
		case err == nil:
			d.Log.Info("caller agreed to texts", "call", c.SID, "case", n)
			a.say("voice_text_ok", nil)
		case errors.Is(err, escalation.ErrNoTexts):
			d.Log.Info("caller's yes to texts not taken: case closed or number opted out", "call", c.SID, "case", n)
		default:
			d.voiceFailed(w, c, who.Lang, err)
			return
		}
		a.say("voice_goodbye", nil).hangup().write(w, c.SID)
	})
}

// handleVoiceWhisper is what a volunteer who answers hears before being connected: the case
// and the key that takes it. No key (a voicemail, say) hangs that phone up.
func handleVoiceWhisper(d Deps) http.Handler {
	return d.voiceRoute(func(ctx context.Context, w http.ResponseWriter, r *http.Request, c call) {
		n, lang := queryCase(r), r.URL.Query().Get("lang")
		if _, ok := d.Voice.Voices[lang]; !ok {
			lang = ""
		}
		a := d.answerIn(lang)
		if n == 0 {
			a.hangup().write(w, c.SID)
			return
		}
		a.add(twilio.Gather{Action: voicePath + "/whisper/accept?" + url.Values{"case": {caseText(n)}}.Encode(),
			Input: twilio.InputKeys, NumDigits: 1, Timeout: whisperTimeout,
			Say: a.says("voice_whisper", map[string]string{"N": caseText(n)})})
		a.hangup().write(w, c.SID)
	})
}

// handleVoiceAccept takes the volunteer's key: 1 claims the case for them (as CLAIM n by text)
// and connects them, by answering nothing; anything else, or a case someone else took, hangs
// their phone up.
func handleVoiceAccept(d Deps) http.Handler {
	return d.voiceRoute(func(ctx context.Context, w http.ResponseWriter, r *http.Request, c call) {
		n := queryCase(r)
		a := d.answerIn("")
		if c.Digits != keyYes || n == 0 {
			a.hangup().write(w, c.SID)
			return
		}
		took, err := d.Voice.Cases.AcceptCall(ctx, n, c.To)
		if err != nil {
			d.Log.Error("claiming a case for the volunteer who answered", "call", c.SID, "case", n, "err", err)
		}
		if err != nil || !took {
			a.hangup().write(w, c.SID)
			return
		}
		d.Log.Info("volunteer took the call", "call", c.SID, "case", n)
		a.write(w, c.SID) // an empty <Response/>: connect
	})
}
