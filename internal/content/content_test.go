package content

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/communityhotline/hotline/flows"
	"github.com/communityhotline/hotline/internal/places"
	"github.com/communityhotline/hotline/internal/segment"
	"github.com/communityhotline/hotline/locales"
)

// loadShipped loads the flows and messages the binary embeds.
func loadShipped(t *testing.T) Content {
	t.Helper()
	c, err := Load(flows.FS, locales.FS, &places.ZipTable{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rightsTopics are the answers of the rights menu (flows/rights.toml).
var rightsTopics = []string{"rights_home", "rights_public", "rights_car", "rights_work", "rights_detained", "rights_redcard"}

// maxRightsSegments is what a rights answer may cost in each language, sent as the hotline
// sends by default (Unicode): someone reading it may be in danger and short of credit.
const maxRightsSegments = 3

func TestRightsAnswersFitTheirBudget(t *testing.T) {
	checkSegments(t, loadShipped(t), rightsTopics, maxRightsSegments)
}

// checkSegments fails for each of ids, in each language, that costs more than max segments.
func checkSegments(t *testing.T, c Content, ids []string, max int) {
	t.Helper()
	for _, lang := range c.Catalog.Languages() {
		for _, id := range ids {
			text, err := c.Catalog.Text(lang, id, nil)
			if err != nil {
				t.Fatalf("%s in %s: %v", id, lang, err)
			}
			if info := segment.Count(text); info.Segments > max {
				t.Errorf("%s in %s: %d segments (%s, %d characters), want at most %d",
					id, lang, info.Segments, info.Encoding, info.Chars, max)
			}
		}
	}
}

// The points the 2026-12 review found missing (domain notes, "Updates 2026-12"): each topic
// where it applies says not to run, and the Spanish gives the English words to say.
func TestRightsAnswersSayWhatTheReviewAsked(t *testing.T) {
	text := shippedText(t, loadShipped(t))
	for _, id := range []string{"rights_home", "rights_public", "rights_car", "rights_work", "rights_detained"} {
		if !strings.Contains(text("es", id), "no corra") && !strings.Contains(text("es", id), "No corra") {
			t.Errorf("%s in es does not say not to run", id)
		}
		if !strings.Contains(strings.ToLower(text("en", id)), "run") {
			t.Errorf("%s in en does not say not to run", id)
		}
	}
	for id, phrases := range map[string][]string{
		"rights_public":   {"Am I free to go?", "I want to remain silent"},
		"rights_work":     {"Am I free to go?", "I want to remain silent"},
		"rights_detained": {"I want to remain silent", "I want a lawyer"},
	} {
		for _, lang := range []string{"es", "en"} {
			for _, p := range phrases {
				if !strings.Contains(text(lang, id), p) {
					t.Errorf("%s in %s lacks the English words %q", id, lang, p)
				}
			}
		}
	}
	// Staying silent comes with New Mexico's caveat: give your name.
	for _, id := range []string{"rights_public", "rights_car", "rights_work"} {
		if !strings.Contains(text("es", id), "su nombre") || !strings.Contains(text("en", id), "your name") {
			t.Errorf("%s does not say to give one's name", id)
		}
	}
}

// shippedText returns a lookup of a message's text, failing the test when it is missing.
func shippedText(t *testing.T, c Content) func(lang, id string) string {
	return func(lang, id string) string {
		s, err := c.Catalog.Text(lang, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// urgentReplies are the replies to danger words, one per situation, and the generic one.
var urgentReplies = []string{"urgent_safety", "urgent_home", "urgent_detained", "urgent_checkpoint", "urgent_work", "urgent_street"}

// maxUrgentSegments is what an urgent reply may cost, with the words that give the rights
// topic in full ("DERECHOS CASA"): the member may be in danger, on a phone with little credit.
const maxUrgentSegments = 3

func TestUrgentRepliesFitTheirBudget(t *testing.T) {
	c := loadShipped(t)
	checkSegments(t, c, urgentReplies, maxUrgentSegments)
	for _, lang := range c.Catalog.Languages() {
		for _, id := range []string{"urgent_situation_home", "urgent_situation_detained", "urgent_situation_checkpoint",
			"urgent_situation_work", "urgent_situation_street"} {
			label, err := c.Catalog.Text(lang, id, nil)
			if err != nil {
				t.Fatalf("%s in %s: %v", id, lang, err)
			}
			if n := len(strings.Fields(label)); n < 1 || n > 3 {
				t.Errorf("%s in %s is %q: want a label of 1 to 3 words", id, lang, label)
			}
		}
	}
}

func TestUrgentRepliesSayWhatMatters(t *testing.T) {
	text := shippedText(t, loadShipped(t))
	for _, id := range urgentReplies {
		// Each ends by saying a volunteer is being found, and promises nothing more: when
		// nobody is on call, case_nobody follows and must not be contradicted.
		if es, en := text("es", id), text("en", id); !strings.HasSuffix(es, "Estamos buscando un voluntario.") ||
			!strings.HasSuffix(en, "We are looking for a volunteer.") {
			t.Errorf("%s does not end by saying a volunteer is being found:\n%s\n%s", id, es, en)
		}
		if id == "urgent_detained" {
			continue // written for the family of someone already taken
		}
		if !strings.Contains(strings.ToLower(text("es", id)), "no corra") || !strings.Contains(strings.ToLower(text("en", id)), "run") {
			t.Errorf("%s does not say not to run", id)
		}
	}
	for id, phrases := range map[string][]string{
		"urgent_safety":     {"I want to remain silent", "I want a lawyer"},
		"urgent_home":       {"I do not consent", "I-200"},
		"urgent_detained":   {"A-number", "I want a lawyer", "5441 Watson Dr SW"},
		"urgent_checkpoint": {"I want to remain silent", "I do not consent to a search"},
		"urgent_work":       {"I want to remain silent", "Am I free to go?"},
		"urgent_street":     {"I want to remain silent", "Am I free to go?"},
	} {
		for _, lang := range []string{"es", "en"} {
			for _, p := range phrases {
				if !strings.Contains(text(lang, id), p) {
					t.Errorf("%s in %s lacks %q", id, lang, p)
				}
			}
		}
	}
}

// Counts read in the singular for one: "1 voluntario", never "1 voluntarios".
func TestCountsAgreeWithTheirNumber(t *testing.T) {
	c := loadShipped(t)
	render := func(lang, id string, data map[string]string) string {
		s, err := c.Catalog.Text(lang, id, data)
		if err != nil {
			t.Fatalf("%s in %s: %v", id, lang, err)
		}
		return s
	}
	for _, tt := range []struct {
		lang, id, key string
		one, many     string
	}{
		{"es", "org_case_urgent", "Paged", "avisamos a 1 voluntario de turno.", "avisamos a 2 voluntarios de turno."},
		{"en", "org_case_urgent", "Paged", "1 volunteer on call was paged.", "2 volunteers on call were paged."},
		{"es", "org_case_unclaimed", "Minutes", "lleva 1 minuto sin", "lleva 2 minutos sin"},
		{"en", "org_case_unclaimed", "Minutes", "for 1 minute.", "for 2 minutes."},
		{"es", "case_opened", "Minutes", "en 1 minuto,", "en 2 minutos,"},
		{"en", "case_opened", "Minutes", "replies within 1 minute,", "replies within 2 minutes,"},
	} {
		data := map[string]string{"N": "7", "Urgent": "1", "Nobody": "", tt.key: "1"}
		if got := render(tt.lang, tt.id, data); !strings.Contains(got, tt.one) {
			t.Errorf("%s in %s with %s=1: %q lacks %q", tt.id, tt.lang, tt.key, got, tt.one)
		}
		data[tt.key] = "2"
		if got := render(tt.lang, tt.id, data); !strings.Contains(got, tt.many) {
			t.Errorf("%s in %s with %s=2: %q lacks %q", tt.id, tt.lang, tt.key, got, tt.many)
		}
	}
	// The check of variables reads through text/template's functions ({{if eq .Paged "1"}}).
	vars, err := c.Catalog.Vars("es", "org_case_urgent")
	if err != nil || strings.Join(vars, ",") != "N,Nobody,Paged" {
		t.Errorf("Vars(org_case_urgent) = %v, %v; want [N Nobody Paged]", vars, err)
	}
}

// TestCiteTypoFails: a rights answer citing a message sources.toml does not list fails at
// load, rather than leaving members with "nothing to cite".
func TestCiteTypoFails(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../../flows")); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "rights.toml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), "message:rights_home", "message:rights_hom", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(os.DirFS(dir), os.DirFS("../../locales"), &places.ZipTable{})
	if err == nil || !strings.Contains(err.Error(), `cites "message:rights_hom"`) {
		t.Fatalf("err = %v", err)
	}
}
