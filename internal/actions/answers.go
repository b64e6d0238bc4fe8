package actions

import (
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/places"
)

// The answers' data as the actions set it, for `hotline check`, which renders each answer
// with it: made by the actions' own code, so what check measures is what members get.

// PlaceVars are the template variables of a policy answer, as describe sets them.
var PlaceVars = []string{"Name", "DHS", "DOJ", "Policy", "Source", "Checked", "CountyName", "CountyDHS", "CountyVerified"}

// PlaceAnswer is the template data of a policy answer about pl in lang (PlaceVars), as
// lookup_place sets it.
func PlaceAnswer(dir *places.Directory, pl *places.Place, lang string) map[string]string {
	vars := map[string]string{}
	placeActions{dir: dir}.describe(vars, pl, lang)
	return vars
}

// StateLawAnswer is the template data of the state-law answer in lang, as state_law sets it.
func StateLawAnswer(dir *places.Directory, lang string) map[string]string {
	c := &flow.Context{State: &flow.State{Lang: lang}, Vars: map[string]string{}}
	placeActions{dir: dir}.stateLaw(c)
	return c.Vars
}
