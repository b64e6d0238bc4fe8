package web_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTranscripts plays every testdata/*.txt conversation through the real webhook with
// signed requests against real Redis. A transcript reads:
//
//	from +15055550100     (who is texting; may change mid-file)
//	> hola                (an inbound SMS)
//	< Hola, le responde   (text the reply must contain; several < lines must appear in order)
//	< (none)              (the reply must be empty)
func TestTranscripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.txt")
	if len(files) == 0 {
		t.Fatal("no transcripts in testdata/")
	}
	for _, file := range files {
		if strings.HasPrefix(filepath.Base(file), "voice-") {
			continue // calls, played by TestVoiceTranscripts
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			runTranscript(t, startServer(t), file)
		})
	}
}

func runTranscript(t *testing.T, s *hotlineServer, file string) {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	from := testSender
	var reply, sent string
	pos := 0
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "from "):
			from = strings.TrimSpace(strings.TrimPrefix(line, "from "))
		case strings.HasPrefix(line, "> "), line == ">":
			sent = strings.TrimPrefix(strings.TrimPrefix(line, ">"), " ")
			reply, pos = strings.Join(s.text(from, sent), "\n"), 0
		case strings.HasPrefix(line, "< "):
			want := strings.TrimPrefix(line, "< ")
			if want == "(none)" {
				if reply != "" {
					t.Errorf("%s:%d: after %q want no reply, got:\n%s", file, n, sent, reply)
				}
				continue
			}
			i := strings.Index(reply[pos:], want)
			if i < 0 {
				t.Errorf("%s:%d: after %q the reply lacks %q (in order); reply:\n%s", file, n, sent, want, reply)
				continue
			}
			pos += i + len(want)
		default:
			t.Fatalf("%s:%d: unknown line %q", file, n, line)
		}
	}
}
