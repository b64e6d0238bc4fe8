package places

import "testing"

func TestFindInSentences(t *testing.T) {
	d := mustLoad(t)
	for _, c := range []struct {
		query   string
		place   string   // the one place expected
		choices []string // or the choices, in order
	}{
		{query: "las cruces por favor", place: "las-cruces"},
		{query: "¿El condado de Santa Fe coopera con ICE?", place: "santa-fe-county"},
		{query: "santa fe coopera con ice", choices: []string{"santa-fe", "santa-fe-county"}},
		{query: "3 las cruces", place: "las-cruces"},
		{query: "is bernalillo county a sanctuary county", place: "bernalillo-county"},
		{query: "vivo en rio rancho y quiero saber si es seguro", place: "rio-rancho"},
		{query: "alertas para doña ana porfa", place: "dona-ana-county"},
		{query: "what about the city of albuquerque", place: "albuquerque"},
		{query: "ABQ", place: "albuquerque"},
		{query: "hola quiero saber de burque", place: "albuquerque"},
		{query: "condado de luna", place: "luna-county"},
		{query: "las cruses", place: "las-cruces"}, // the whole text keeps its typo tolerance
	} {
		r := d.Find(c.query)
		switch {
		case c.place != "":
			wantOne(t, c.query, r, c.place)
		default:
			if len(r.Choices) != len(c.choices) {
				t.Errorf("Find(%q) = %s, want choices %v", c.query, describe(r), c.choices)
				continue
			}
			for i, id := range c.choices {
				if r.Choices[i].ID != id {
					t.Errorf("Find(%q) = %s, want choices %v", c.query, describe(r), c.choices)
				}
			}
		}
	}
}

// TestFindNoPlace: sentences that name no place find none, though some of their words are
// names elsewhere ("luna", "lea", "mora", "union") or near one.
func TestFindNoPlace(t *testing.T) {
	d := mustLoad(t)
	for _, q := range []string{
		"se llevaron a mi esposo", "can ice come into a church?", "mira la luna", "lea sus derechos",
		"quiero saber mis derechos si la policia me para en el carro", "hay redadas?",
		"necesito hablar con alguien", "i want ice cream lol", "mi zip es 87102", "no mas mensajes por favor",
	} {
		if r := d.Find(q); r.Place != nil || r.Choices != nil {
			t.Errorf("Find(%q) = %s, want no place", q, describe(r))
		}
	}
}

func BenchmarkFindSentence(b *testing.B) {
	d := mustLoad(b)
	for b.Loop() {
		d.Find("hola buenas tardes quisiera saber si en el condado de doña ana la policia le avisa a la migra")
	}
}

func TestFindShortAnswers(t *testing.T) {
	d := mustLoad(t)
	for q, id := range map[string]string{
		"vivo en gallup": "gallup", "soy de roswell": "roswell", "alertas las cruces": "las-cruces",
		"does taos cooperate with ice?": "taos-county", "in hobbs": "hobbs",
	} {
		wantOne(t, q, d.Find(q), id)
	}
	for _, q := range []string{"sierra blanca", "cuando cruces la frontera", "we went to the union meeting", "socorro la migra"} {
		if r := d.Find(q); r.Place != nil || r.Choices != nil {
			t.Errorf("Find(%q) = %s, want no place", q, describe(r))
		}
	}
}
