package fold

import (
	"reflect"
	"testing"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "ayuda", "ayuda"},
		{"upper with accent", "AYÚDA", "ayuda"},
		{"nfc accent", "menú", "menu"},
		{"nfd accent", "menu\u0301", "menu"},
		{"spaces and period", " Menu. ", "menu"},
		{"inverted punctuation", "¡¿Ayuda?!", "ayuda"},
		{"enye", "Español", "espanol"},
		{"inner spaces collapse", "  condado   de  Doña\tAna ", "condado de dona ana"},
		{"inner punctuation kept", "stop, please", "stop, please"},
		{"emoji trimmed", "👋 hola 👋", "hola"},
		{"zero width", "\u200bstop\u200d", "stop"},
		{"digits", " 1 ", "1"},
		{"empty", "", ""},
		{"only punctuation", "?!...", ""},
		{"fullwidth-ish case fold", "STRASSE", "strasse"},
		{"invalid utf8 kept", "HOLA\xff", "hola"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWords(t *testing.T) {
	got := Words("¡La MIGRA está aquí, en el retén!")
	want := []string{"la", "migra", "esta", "aqui", "en", "el", "reten"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Words = %q, want %q", got, want)
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"AYÚDA", " Menu. ", "menu\u0301", "\xff\xfe", "¡¿?!", "condado de Doña Ana"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := Text(s)
		if twice := Text(once); twice != once {
			t.Errorf("Text is not idempotent: %q → %q → %q", s, once, twice)
		}
	})
}

func BenchmarkText(b *testing.B) {
	for b.Loop() {
		Text(" AYÚDA ")
	}
}

// TestTextConcurrent: folding is safe from many goroutines at once (the chains are pooled).
func TestTextConcurrent(t *testing.T) {
	done := make(chan bool)
	for i := 0; i < 8; i++ {
		go func() {
			for j := 0; j < 200; j++ {
				if got := Text("AYÚDA Menú"); got != "ayuda menu" {
					t.Errorf("Text = %q", got)
				}
			}
			done <- true
		}()
	}
	for i := 0; i < 8; i++ {
		<-done
	}
}
