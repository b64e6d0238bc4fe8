package console

import (
	"testing"

	"github.com/communityhotline/hotline/internal/segment"
)

// TestReplyInfoFollowsTheGSMSetting: a reply is counted as it is sent, in GSM-7 when the
// hotline sends GSM-7, so an accent costs UCS-2 only when the hotline keeps accents.
func TestReplyInfoFollowsTheGSMSetting(t *testing.T) {
	text := "Envíe un número: ¿De qué condado?"
	for _, c := range []struct {
		gsm  bool
		want segment.Encoding
	}{{false, segment.UCS2}, {true, segment.GSM7}} {
		got := replyInfo(text, c.gsm)
		if got.Encoding != c.want {
			t.Errorf("gsm=%v: %s, want %s", c.gsm, got.Encoding, c.want)
		}
		if c.gsm && got != segment.Count(segment.ToGSM(text)) {
			t.Errorf("gsm=%v: %+v, not the count of the GSM-7 text", c.gsm, got)
		}
	}
	if got := replyInfo("hola", true); got != segment.Count("hola") {
		t.Errorf("a GSM-7 reply counted %+v", got)
	}
}
