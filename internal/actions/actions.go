// Package actions holds the Go actions flows call with `do`. Each is pure: it changes the
// member's state and step data, and returns as effects anything that must happen outside.
package actions

import (
	"maps"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/sources"
)

// All returns every action: the core ones and those over the place directory.
// srcs are the sources of the rights and urgent answers (flows/data/sources.toml).
func All(dir *places.Directory, zips *places.ZipTable, srcs *sources.Sources) map[string]flow.Action {
	all := Core()
	maps.Copy(all, Places(dir, zips))
	maps.Copy(all, Cases(dir))
	maps.Copy(all, Sources(dir, srcs))
	return all
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
			// The engine sees the areas go and takes the member out of every alert list.
			Run: func(c *flow.Context) string {
				c.State.OptOut()
				if c.State.Case != 0 {
					c.Effects = append(c.Effects, LeftCase{Case: c.State.Case, OptedOut: true})
				}
				c.State.Case = 0 // an opted-out member is no longer in a conversation
				return ""
			},
		},
		// opt_in ends an opt-out; "alerts_ended" when the opt-out took the member's alert
		// areas (they are not restored: signing up again takes a new yes).
		"opt_in": {
			Results: []string{"welcome", "alerts_ended"},
			Run: func(c *flow.Context) string {
				c.State.OptedOut = false
				if c.State.AlertsEnded {
					c.State.AlertsEnded = false
					return "alerts_ended"
				}
				return "welcome"
			},
		},
	}
}
