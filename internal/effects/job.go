// Package effects keeps the promises a member's message makes beyond its reply — open a
// case, page the volunteers, relay to a volunteer, tell the organizers, erase the member —
// through crashes (docs/durable-effects.md). The engine writes a job in the same atomic commit
// as the member's state; a Runner carries it out at once, with Redis work only, queueing what
// must be sent; a process that finds a job nobody finished takes it over.
package effects

import (
	"encoding/json"
	"fmt"

	"github.com/communityhotline/hotline/internal/actions"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
)

// Job is what one member message promised beyond its reply.
type Job struct {
	// Member and Msg name the job: the member's id and the provider's message id.
	Member, Msg string
	// From is the member's address, for what must reach them later (a volunteer's reply).
	From string
	// Channel is the channel the member wrote on ("" in jobs written before it was kept:
	// read as SMS, or WhatsApp by From's prefix).
	Channel hotline.Channel
	// Lang is the language the member was answered in.
	Lang string
	// At is when the message came, in Unix seconds.
	At      int64
	Effects []flow.Effect
	// Replies are the step's own replies: a job taken over after a crash sends the member
	// only what carrying out the effects adds to them.
	Replies []flow.Reply
}

// Escalates reports whether effs open a case with a volunteer — a person asked for, or an
// emergency — or make the open one urgent, and whether urgently: a caller is then put
// through to the volunteers on call. A report opens a case too, but asks for no one now.
func Escalates(effs []flow.Effect) (escalated, urgent bool) {
	for _, e := range effs {
		switch e := e.(type) {
		case actions.OpenCase:
			if e.Kind != "report" {
				escalated, urgent = true, urgent || e.Urgent
			}
		case actions.UrgentCase:
			escalated, urgent = true, true
		}
	}
	return escalated, urgent
}

// Token names the job in the marks that make re-running it harmless (a case opened once, a
// line of transcript written once).
func (j Job) Token() string { return j.Member + "/" + j.Msg }

// The effects a job can hold, by the tag that names each in a stored job. A step that
// returns any other effect is a programming error that Encode reports.
const (
	tagOpen   = "open"
	tagUrgent = "urgent"
	tagRelay  = "relay"
	tagErase  = "erase"
	tagLeft   = "left"
)

type taggedEffect struct {
	T string          `json:"t"`
	V json.RawMessage `json:"v,omitempty"`
}

type storedJob struct {
	From    string          `json:"f"`
	Channel hotline.Channel `json:"c,omitempty"`
	Lang    string          `json:"l"`
	At      int64           `json:"a"`
	Effects []taggedEffect  `json:"e"`
	Replies []flow.Reply    `json:"r,omitempty"`
}

// Encode is the job as stored (before sealing); Member and Msg are the record's name.
func Encode(j Job) ([]byte, error) {
	s := storedJob{From: j.From, Channel: j.Channel, Lang: j.Lang, At: j.At, Replies: j.Replies}
	for _, e := range j.Effects {
		var tag string
		switch e.(type) {
		case actions.OpenCase:
			tag = tagOpen
		case actions.UrgentCase:
			tag = tagUrgent
		case flow.Relay:
			tag = tagRelay
		case actions.EraseMember:
			tag = tagErase
		case actions.LeftCase:
			tag = tagLeft
		default:
			return nil, fmt.Errorf("effect %T cannot be kept in a job", e)
		}
		v, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encoding effect %T: %w", e, err)
		}
		s.Effects = append(s.Effects, taggedEffect{T: tag, V: v})
	}
	return json.Marshal(s)
}

// Decode reads a stored job back.
func Decode(member, msg string, b []byte) (Job, error) {
	var s storedJob
	if err := json.Unmarshal(b, &s); err != nil {
		return Job{}, fmt.Errorf("decoding job: %w", err)
	}
	j := Job{Member: member, Msg: msg, From: s.From, Channel: s.Channel, Lang: s.Lang, At: s.At, Replies: s.Replies}
	if j.Channel == "" {
		j.Channel = hotline.ChannelOf(j.From)
	}
	for _, t := range s.Effects {
		e, err := decodeEffect(t)
		if err != nil {
			return Job{}, err
		}
		j.Effects = append(j.Effects, e)
	}
	return j, nil
}

func decodeEffect(t taggedEffect) (flow.Effect, error) {
	var err error
	switch t.T {
	case tagOpen:
		var e actions.OpenCase
		err = json.Unmarshal(t.V, &e)
		return e, err
	case tagUrgent:
		var e actions.UrgentCase
		err = json.Unmarshal(t.V, &e)
		return e, err
	case tagRelay:
		var e flow.Relay
		err = json.Unmarshal(t.V, &e)
		return e, err
	case tagErase:
		return actions.EraseMember{}, nil
	case tagLeft:
		var e actions.LeftCase
		err = json.Unmarshal(t.V, &e)
		return e, err
	}
	return nil, fmt.Errorf("decoding job: unknown effect %q", t.T)
}

// Allowed keeps the effects that may still be carried out for a member as they are now: none
// but the erasure for a member erased since (no state), and none that reaches out (open, page,
// relay) for a member who has opted out since — leaving their case still closes it.
func Allowed(effects []flow.Effect, exists, optedOut bool) []flow.Effect {
	var out []flow.Effect
	for _, e := range effects {
		switch e.(type) {
		case actions.EraseMember:
			out = append(out, e)
		case actions.LeftCase:
			if exists {
				out = append(out, e)
			}
		default:
			if exists && !optedOut {
				out = append(out, e)
			}
		}
	}
	return out
}
