package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/segment"
)

const (
	// simCookie holds the browser's sandbox member: a random id, replaced by "start over".
	// Mixed with the session id, it makes the conversation's id, so a new session (another
	// person on the same browser) starts with a new member and never sees an old trial.
	simCookie = "hotline_console_sim"
	// simChannelCookie holds the channel the trial is on (SMS, WhatsApp, a call).
	simChannelCookie = "hotline_console_sim_ch"
	// simMaxText is the most one message may carry here, as through Twilio.
	simMaxText = 1600
)

// simChannels are the channels a trial can be on, in the order the page offers them.
var simChannels = []hotline.Channel{hotline.SMS, hotline.WhatsApp, hotline.Voice}

// simulatorData is the simulator page: the conversation, each reply with what it costs.
type simulatorData struct {
	Lines []simLine
	// GSM says replies are sent in GSM-7 (HOTLINE_SMS_ENCODING=GSM).
	GSM bool
	// Channel is the trial's channel; Channels are the ones to choose from.
	Channel  hotline.Channel
	Channels []hotline.Channel
}

// simLine is a line of the conversation; Info is set on the hotline's replies only.
type simLine struct {
	SimLine
	segment.Info
}

func (s *server) handleSimulator(w http.ResponseWriter, r *http.Request, rq *request) error {
	log, err := s.cfg.Simulator.Lines(r.Context(), s.simConvo(w, r))
	if err != nil {
		return err
	}
	lines := make([]simLine, len(log))
	for i, l := range log {
		lines[i] = simLine{SimLine: l}
		switch {
		case l.Member:
		case l.Channel == "" || l.Channel == hotline.SMS:
			lines[i].Info = replyInfo(l.Text, s.cfg.GSM)
		default: // WhatsApp is not paid by the segment, and a call's words are not sent
			lines[i].Info.Chars = utf8.RuneCountInString(l.Text)
		}
	}
	s.render(w, r, rq, http.StatusOK, "simulator", simulatorData{Lines: lines, GSM: s.cfg.GSM,
		Channel: simChannelOf(r), Channels: simChannels})
	return nil
}

// simChannelOf is the channel of this browser's trial: SMS until another is chosen.
func simChannelOf(r *http.Request) hotline.Channel {
	if c, err := r.Cookie(simChannelCookie); err == nil && slices.Contains(simChannels, hotline.Channel(c.Value)) {
		return hotline.Channel(c.Value)
	}
	return hotline.SMS
}

// handleSimulatorChannel puts the trial on another channel, with a new test member: a member
// on WhatsApp or calling is another member than by SMS (docs/channels.md), and a conversation
// that changed channel half-way would show nothing a member can meet.
func (s *server) handleSimulatorChannel(w http.ResponseWriter, r *http.Request, rq *request) error {
	ch := hotline.Channel(r.PostFormValue("channel"))
	if slices.Contains(simChannels, ch) {
		http.SetCookie(w, &http.Cookie{Name: simChannelCookie, Value: string(ch), Path: "/console/simulator", HttpOnly: true,
			SameSite: http.SameSiteLaxMode, Secure: s.cfg.Secure, MaxAge: 24 * 60 * 60})
		s.setSimCookie(w, randomID())
	}
	backToSimulator(w, r)
	return nil
}

// replyInfo is what a reply costs, counted as dispatch counts what it sends: on the text as
// sent, in GSM-7 when the hotline sends in GSM-7. The renderer has already taken the accents
// out then, and ToGSM of a GSM-7 text is the text itself.
func replyInfo(text string, gsm bool) segment.Info {
	if gsm {
		text = segment.ToGSM(text)
	}
	return segment.Count(text)
}

// handleSimulatorSend sends what was typed as the sandbox member and goes back to the page.
func (s *server) handleSimulatorSend(w http.ResponseWriter, r *http.Request, rq *request) error {
	text := strings.TrimSpace(r.PostFormValue("text"))
	if text != "" {
		if err := s.simSay(r.Context(), s.simConvo(w, r), simChannelOf(r), cutRunes(text, simMaxText)); err != nil {
			return err
		}
	}
	backToSimulator(w, r)
	return nil
}

// handleSimulatorLanguage switches the sandbox member's language the way a member does: by
// writing the language's own name ("Español", "English"), which the flows' global keywords
// read as a switch. The word shows in the conversation, as it would on a member's phone.
func (s *server) handleSimulatorLanguage(w http.ResponseWriter, r *http.Request, rq *request) error {
	lang := r.PostFormValue("lang")
	if s.msgs.Supports(lang) {
		word, err := s.msgs.T(lang, "lang_"+lang, nil)
		if err != nil {
			return err
		}
		if err := s.simSay(r.Context(), s.simConvo(w, r), simChannelOf(r), word); err != nil {
			return err
		}
	}
	backToSimulator(w, r)
	return nil
}

// handleSimulatorRestart starts over with a new sandbox member, who has never written. The
// old conversation is forgotten a day after its last line.
func (s *server) handleSimulatorRestart(w http.ResponseWriter, r *http.Request, rq *request) error {
	s.setSimCookie(w, randomID())
	backToSimulator(w, r)
	return nil
}

func backToSimulator(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/console/simulator#sim-end", http.StatusSeeOther)
}

// simSay sends text as the sandbox member of conversation convo on channel ch, each message
// with an id of its own (a repeated id would be taken for a retried webhook and answered from
// memory), and logs it with the replies. The sandbox keeps its members under a key prefix of
// its own, so "sandbox-…" on any channel is never a real member.
func (s *server) simSay(ctx context.Context, convo string, ch hotline.Channel, text string) error {
	reply, err := s.cfg.Simulator.Answer(ctx, hotline.Inbound{ID: "SBX" + randomID(), Channel: ch,
		From: "sandbox-" + convo, Text: text})
	if err != nil {
		return fmt.Errorf("the simulator's answer: %w", err)
	}
	lines := []SimLine{{Member: true, Text: text}}
	for i, t := range reply.Texts {
		line := SimLine{Text: t}
		if ch != hotline.SMS {
			line.Channel = ch
		}
		if i == len(reply.Texts)-1 {
			line.Keys = reply.Options
		}
		lines = append(lines, line)
	}
	return s.cfg.Simulator.Append(ctx, convo, lines...)
}

// simConvo is the conversation of this session and browser, setting a sandbox member's id on
// a browser that has none. The id is derived from the session's cookie, never from the
// person's phone, and the session's cookie cannot be read back from it.
func (s *server) simConvo(w http.ResponseWriter, r *http.Request) string {
	member := ""
	if c, err := r.Cookie(simCookie); err == nil && validID(c.Value) {
		member = c.Value
	} else {
		member = randomID()
		s.setSimCookie(w, member)
	}
	session := ""
	if c, err := r.Cookie(sessionCookie); err == nil {
		session = c.Value
	}
	sum := sha256.Sum256([]byte("hotline simulator\x00" + session + "\x00" + member))
	return hex.EncodeToString(sum[:16])
}

func (s *server) setSimCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{Name: simCookie, Value: id, Path: "/console/simulator", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.Secure, MaxAge: 24 * 60 * 60})
}

// randomID is 16 random bytes in hex.
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

func validID(v string) bool {
	if len(v) != 32 {
		return false
	}
	_, err := hex.DecodeString(v)
	return err == nil
}

// cutRunes keeps the first n characters of s.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
