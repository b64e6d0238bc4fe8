// Package actions holds the Go actions flows call with `do`. Each is pure: it changes the
// member's state and step data, and returns as effects anything that must happen outside.
package actions

import (
	"github.com/communityhotline/hotline/internal/flow"
)

// Unsubscribed is the effect of an opt-out: the member must leave every alert list.
type Unsubscribed struct {
	// Areas are the place IDs the member was subscribed to.
	Areas []string
	Lang  string
}

// Core returns the actions every hotline needs: choosing a language, opting out and in.
func Core() map[string]flow.Action {
	return map[string]flow.Action{
		"set_language": {
			Args: []string{"lang"},
			Run: func(c *flow.Context) string {
				c.State.Lang = c.With["lang"]
				return ""
			},
		},
		"opt_out": {
			Run: func(c *flow.Context) string {
				if len(c.State.Areas) > 0 {
					c.Effects = append(c.Effects, Unsubscribed{Areas: c.State.Areas, Lang: c.State.Lang})
				}
				c.State.OptedOut = true
				c.State.Areas = nil
				c.State.Data = nil
				return ""
			},
		},
		"opt_in": {
			Run: func(c *flow.Context) string {
				c.State.OptedOut = false
				return ""
			},
		},
	}
}
