package main

import (
	"strings"
	"testing"
)

// TestOrganizerAreaSuggestionsAreNames: an area the organizer's text does not settle is
// offered by name, numbered, never by id ("santa-fe-county"); the number picks it, and a
// yes takes a single suggestion (issue 11).
func TestOrganizerAreaSuggestionsAreNames(t *testing.T) {
	h := startHotline(t, nil)
	const ana = "+15055550931"
	h.organizer("Ana", ana) // Spanish, the default
	steps := []struct {
		in   string
		want []string
	}{
		{"ALERTA", []string{"¿Para qué área?"}},
		{"santa fe", []string{"Opciones: 1 Santa Fe, 2 Condado de Santa Fe."}},
		{"2", []string{"Área: Condado de Santa Fe. Envíe el texto en inglés."}},
		{"DESCARTAR", []string{"Alerta descartada."}},
		{"ALERTA", []string{"¿Para qué área?"}},
		{"condado de dona anna", []string{"Opciones: 1 Condado de Doña Ana."}},
		{"sí", []string{"Área: Condado de Doña Ana."}},
		{"DESCARTAR", []string{"Alerta descartada."}},
		{"ALERTA", []string{"¿Para qué área?"}},
		{"santa", []string{"Opciones: 1 Santa Fe, 2 Condado de Santa Fe."}},
		{"TODAS", []string{"Área: todos los suscriptores."}},
	}
	for _, s := range steps {
		reply := h.text(ana, s.in)
		for _, w := range s.want {
			if !strings.Contains(reply, w) {
				t.Fatalf("%q answered %s, want %q", s.in, reply, w)
			}
		}
		if strings.Contains(reply, "-county") || strings.Contains(reply, "santa-fe") {
			t.Errorf("%q answered with a place id: %s", s.in, reply)
		}
	}
}
