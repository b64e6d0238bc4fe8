package twilio

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/twilio/twilio-go/twiml"
)

// Call is one request of Twilio's Voice webhooks (a call starting, a <Gather> heard, a <Dial>
// ended, a status report), taken out of its form. It holds the numbers of the call, which are
// never logged: only SID may be.
type Call struct {
	// SID is the call's CallSid: 1 to 64 ASCII letters and digits, as a message id.
	SID string
	// From is the caller's number, "" when the caller hid it (Hidden).
	From string
	// Hidden is set when the caller's number is withheld or a placeholder: such a caller is
	// a member for this call only, and is never written to.
	Hidden bool
	// To is the number called: the hotline's for a member's call, the volunteer's on a leg
	// the hotline dialled.
	To string
	// Status is CallStatus ("ringing", "in-progress", "completed"…).
	Status string
	// Digits are the keys pressed in a <Gather>; Speech is what it heard (SpeechResult).
	Digits, Speech string
	// DialStatus is how a <Dial> ended (DialCallStatus: "completed", "no-answer", "busy"…).
	DialStatus string
	// Verstat is the carrier's SHAKEN/STIR verdict on the caller's number (StirVerstat:
	// "TN-Validation-Passed-A", "TN-Validation-Failed-B"…), present on a call's first
	// request only, and only when the call carried an identity; "" otherwise.
	Verstat string
}

// Unverified reports whether the carrier checked the caller's number and found it not theirs
// to use: the number may be someone else's.
func (c Call) Unverified() bool { return strings.HasPrefix(c.Verstat, "TN-Validation-Failed") }

// Limits on a call's fields, for the same reason as an inbound message's.
const (
	maxDigits = 32
	// maxSpeechRunes is far above anything one <Gather> transcribes.
	maxSpeechRunes = 2048
)

// hiddenNumbers are what Twilio puts in From when a caller withholds their number: the word,
// or (on older calls, and on legs Twilio dialled) the word spelled on a phone's keypad
// (ANONYMOUS = 266696687, RESTRICTED = 7378742833, UNAVAILABLE = 86282452253, UNKNOWN =
// 8656696, BLOCKED = 2562533, PRIVATE = 774828). Any other From that is not a number in
// E.164 form is taken as hidden too: it cannot be texted, and it proves nothing.
var hiddenNumbers = map[string]bool{
	"+266696687": true, "+7378742833": true, "+86282452253": true, "+8656696": true,
	"+2562533": true, "+774828": true,
	"266696687": true, "7378742833": true, "86282452253": true, "8656696": true, "2562533": true, "774828": true,
}

// ParseCall takes a Voice webhook's fields out of its form, which must already have passed
// Verifier.Valid. CallSid is required; From is kept only when it is a number in E.164 form
// ("+" and 8 to 15 digits) and not a withheld number's placeholder, else Hidden is set. Digits
// must be keys (0-9, *, #); SpeechResult is kept as UTF-8 with bad bytes replaced.
// CallerName, CallerCity and the other fields describing the caller are never read.
//
// Errors wrap ErrMissingField or ErrInvalidField and name the field, never its value.
func ParseCall(form url.Values) (Call, error) {
	for _, name := range []string{"CallSid", "From", "To", "Digits", "SpeechResult", "CallStatus", "DialCallStatus", "StirVerstat"} {
		if len(form[name]) > 1 {
			return Call{}, fmt.Errorf("%w: %s appears more than once", ErrInvalidField, name)
		}
	}
	c := Call{SID: form.Get("CallSid")}
	if c.SID == "" {
		return Call{}, fmt.Errorf("%w: CallSid", ErrMissingField)
	}
	if err := checkID("CallSid", c.SID); err != nil {
		return Call{}, err
	}
	from := strings.TrimSpace(form.Get("From"))
	if err := checkShort("From", from, maxAddressLen); err != nil {
		return Call{}, err
	}
	if isE164(from) && !hiddenNumbers[from] {
		c.From = from
	} else {
		c.Hidden = true
	}
	c.To = strings.TrimSpace(form.Get("To"))
	if err := checkShort("To", c.To, maxAddressLen); err != nil {
		return Call{}, err
	}
	c.Digits = form.Get("Digits")
	if len(c.Digits) > maxDigits || strings.Trim(c.Digits, "0123456789*#") != "" {
		return Call{}, fmt.Errorf("%w: Digits has something other than keys", ErrInvalidField)
	}
	c.Speech = strings.TrimSpace(strings.ToValidUTF8(form.Get("SpeechResult"), string(utf8.RuneError)))
	if utf8.RuneCountInString(c.Speech) > maxSpeechRunes {
		return Call{}, fmt.Errorf("%w: SpeechResult longer than %d characters", ErrInvalidField, maxSpeechRunes)
	}
	for field, dst := range map[string]*string{"CallStatus": &c.Status, "DialCallStatus": &c.DialStatus, "StirVerstat": &c.Verstat} {
		v := form.Get(field)
		if err := checkShort(field, v, maxStatusLen); err != nil {
			return Call{}, err
		}
		*dst = v
	}
	return c, nil
}

// isE164 reports whether s is "+" and 8 to 15 digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	return strings.Trim(s[1:], "0123456789") == ""
}

// Voice is a text-to-speech voice and the language it speaks, as <Say> names them
// ("Polly.Mia", "es-MX").
type Voice struct {
	Name, Language string
}

// Gather's inputs: keys only, keys then speech, speech then keys. The first one named is the
// one Twilio listens for first.
const (
	InputKeys       = "dtmf"
	InputKeysSpeech = "dtmf speech"
	InputSpeechKeys = "speech dtmf"
)

// Twilio's limits on a <Gather>'s hints.
const (
	maxHints   = 500
	maxHintLen = 100
)

// A Verb is one instruction of a call's answer.
type Verb interface{ element() twiml.Element }

// Say says text in voice v, a little slower than the voice's own pace (SSML prosody at 90 %):
// callers hear it once, on a phone line, often in a language not their first.
type Say struct {
	Text  string
	Voice Voice
}

func (s Say) element() twiml.Element {
	return &twiml.VoiceSay{Voice: s.Voice.Name, Language: s.Voice.Language,
		InnerElements: []twiml.Element{prosody{rate: "90%", words: s.Text}}}
}

// prosody is SSML's <prosody>. twilio-go's own VoiceProsody names the element "Prosody", which
// SSML (and so Twilio) does not know: element names are case-sensitive.
type prosody struct{ rate, words string }

func (p prosody) GetName() string { return "prosody" }
func (p prosody) GetText() string { return p.words }
func (p prosody) GetAttr() (map[string]string, map[string]string) {
	return nil, map[string]string{"Rate": p.rate}
}
func (p prosody) GetInnerElements() []twiml.Element { return nil }

// Gather says Say and listens for keys or speech, which Twilio posts to Action. Nothing heard
// within Timeout seconds: the call goes on with the next verb.
type Gather struct {
	Action string
	// Input is InputKeys, InputKeysSpeech or InputSpeechKeys.
	Input string
	// NumDigits ends the gather after so many keys (0: at FinishOnKey, "#" by default).
	NumDigits int
	// Timeout is how long to wait for a first key or word, in seconds.
	Timeout int
	// Language is the language speech is recognised in ("es-MX"); its default, en-US,
	// would write Spanish down as English.
	Language string
	// Hints are words and phrases the recogniser should expect: at most 500 are sent, each cut
	// to 100 characters, commas taken out (they separate hints).
	Hints []string
	Say   []Say
}

func (g Gather) element() twiml.Element {
	e := &twiml.VoiceGather{Input: g.Input, Action: g.Action, Method: "POST", Language: g.Language}
	if g.Timeout > 0 {
		e.Timeout = strconv.Itoa(g.Timeout)
	}
	if g.NumDigits > 0 {
		e.NumDigits = strconv.Itoa(g.NumDigits)
	}
	if g.Input != InputKeys {
		e.SpeechTimeout = "auto"
		e.Hints = hintList(g.Hints)
	}
	for _, s := range g.Say {
		e.InnerElements = append(e.InnerElements, s.element())
	}
	return e
}

// hintList is hints as Twilio takes them: comma-separated, within its limits.
func hintList(hints []string) string {
	out := make([]string, 0, min(len(hints), maxHints))
	for _, h := range hints {
		if len(out) == maxHints {
			break
		}
		h = strings.Join(strings.Fields(strings.ReplaceAll(h, ",", " ")), " ")
		if utf8.RuneCountInString(h) > maxHintLen {
			h = string([]rune(h)[:maxHintLen])
		}
		if h != "" {
			out = append(out, h)
		}
	}
	return strings.Join(out, ",")
}

// Dial rings Numbers all at once from CallerID; the first to answer (and accept, in their
// Number's URL) is connected, and Twilio posts how it ended to Action.
type Dial struct {
	CallerID, Action string
	// Timeout is how long the phones ring, in seconds; TimeLimit the longest the talk may
	// last.
	Timeout, TimeLimit int
	Numbers            []Number
}

// Number is one phone a Dial rings; URL is the TwiML played to whoever answers before they
// are connected (the whisper).
type Number struct {
	Phone, URL string
}

func (d Dial) element() twiml.Element {
	e := &twiml.VoiceDial{CallerId: d.CallerID, Action: d.Action, Method: "POST",
		Timeout: strconv.Itoa(d.Timeout), TimeLimit: strconv.Itoa(d.TimeLimit)}
	for _, n := range d.Numbers {
		e.InnerElements = append(e.InnerElements, &twiml.VoiceNumber{PhoneNumber: n.Phone, Url: n.URL, Method: "POST"})
	}
	return e
}

// Redirect goes on with the TwiML at URL.
type Redirect struct{ URL string }

func (r Redirect) element() twiml.Element { return &twiml.VoiceRedirect{Url: r.URL, Method: "POST"} }

// Hangup ends the call.
type Hangup struct{}

func (Hangup) element() twiml.Element { return &twiml.VoiceHangup{} }

// WriteVoiceTwiML writes verbs as a voice <Response>; none writes an empty <Response/>, which
// on a dialled leg's whisper connects the call. A Say with no text is refused (ErrEmptyReply):
// it is a missing message upstream, and silence on a call is worse than on a text.
func WriteVoiceTwiML(w io.Writer, verbs ...Verb) error {
	elements := make([]twiml.Element, 0, len(verbs))
	for i, v := range verbs {
		if err := checkSaid(v); err != nil {
			return fmt.Errorf("%w (verb %d of %d)", err, i+1, len(verbs))
		}
		elements = append(elements, v.element())
	}
	doc, err := twiml.Voice(elements)
	if err != nil {
		return fmt.Errorf("twilio: render TwiML: %w", err)
	}
	if _, err := io.WriteString(w, doc); err != nil {
		return fmt.Errorf("twilio: write TwiML: %w", err)
	}
	return nil
}

func checkSaid(v Verb) error {
	switch v := v.(type) {
	case Say:
		if strings.TrimSpace(v.Text) == "" {
			return ErrEmptyReply
		}
	case Gather:
		for _, s := range v.Say {
			if err := checkSaid(s); err != nil {
				return err
			}
		}
	}
	return nil
}
