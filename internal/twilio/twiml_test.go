package twilio

import (
	"bytes"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"testing"
)

// response is what Twilio reads from a TwiML reply.
type response struct {
	XMLName  xml.Name `xml:"Response"`
	Messages []struct {
		Body  string     `xml:",chardata"`
		Attrs []xml.Attr `xml:",any,attr"`
	} `xml:"Message"`
}

func TestWriteTwiML(t *testing.T) {
	tests := []struct {
		name   string
		bodies []string
		// want is what the parsed messages must hold; nil means the same as bodies.
		want []string
		// raw, if set, is the exact document expected.
		raw string
	}{
		{name: "no replies", bodies: nil,
			raw: `<?xml version="1.0" encoding="UTF-8"?><Response/>`},
		{name: "empty slice", bodies: []string{},
			raw: `<?xml version="1.0" encoding="UTF-8"?><Response/>`},
		{name: "one message", bodies: []string{"Hola"},
			raw: `<?xml version="1.0" encoding="UTF-8"?><Response><Message>Hola</Message></Response>`},
		{name: "markup is escaped", bodies: []string{`Reply <STOP> & "quit" 'now' </Message><Redirect>x</Redirect>`},
			raw: `<?xml version="1.0" encoding="UTF-8"?><Response><Message>Reply &lt;STOP&gt; &amp; &quot;quit&quot; &apos;now&apos; &lt;/Message&gt;&lt;Redirect&gt;x&lt;/Redirect&gt;</Message></Response>`},
		{name: "two messages in order", bodies: []string{"Primero: ¿Qué necesita?", "Second & last"}},
		{name: "spanish and emoji intact", bodies: []string{"¡Ñandú! áéíóú ÁÉÍÓÚ ü ç “curly” — … 🙏🏽 👨‍👩‍👧"}},
		{name: "line breaks kept", bodies: []string{"1. Comida\n2. Vivienda\n3. Salud"}},
		{name: "characters XML cannot carry are replaced", bodies: []string{"a\x00b\x1bc"}, want: []string{"a\uFFFDb\uFFFDc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteTwiML(&buf, tt.bodies); err != nil {
				t.Fatal(err)
			}
			if tt.raw != "" && buf.String() != tt.raw {
				t.Errorf("document\n got %s\nwant %s", buf.String(), tt.raw)
			}
			var r response
			if err := xml.Unmarshal(buf.Bytes(), &r); err != nil {
				t.Fatalf("output is not XML: %v\n%s", err, buf.String())
			}
			want := tt.want
			if want == nil {
				want = tt.bodies
			}
			var got []string
			for _, m := range r.Messages {
				if len(m.Attrs) != 0 {
					t.Errorf("message has attributes %v", m.Attrs)
				}
				got = append(got, m.Body)
			}
			if !slices.Equal(got, want) {
				t.Errorf("messages %q, want %q", got, want)
			}
		})
	}
}

func TestWriteTwiMLEmptyBody(t *testing.T) {
	var buf bytes.Buffer
	err := WriteTwiML(&buf, []string{"Hola", ""})
	if !errors.Is(err, ErrEmptyReply) {
		t.Fatalf("error = %v, want ErrEmptyReply", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %q despite the error", buf.String())
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestWriteTwiMLWriteError(t *testing.T) {
	err := WriteTwiML(failingWriter{}, []string{"Hola"})
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("error = %v, want the writer's error", err)
	}
}
