package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/twiliofake"
)

// postAsync sends a signed inbound SMS without waiting for the answer (the process may never
// give one), and reports on done the status, or 0 when the request failed.
func (h *hotlineProc) postAsync(from, body string) <-chan int {
	form := url.Values{"MessageSid": {fmt.Sprintf("SM%032d", messageSids.Add(1))}, "From": {from}, "To": {"+15055550000"}, "Body": {body}}
	req, _ := http.NewRequest("POST", h.url+"/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twilio.SignatureHeader, twilio.Sign(twiliofake.AuthToken, h.url+"/twilio/sms", form))
	done := make(chan int, 1)
	go func() {
		resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	return done
}

// waitForWithin is waitFor with a deadline of its own.
func (h *hotlineProc) waitForWithin(to, want string, within time.Duration) (string, time.Duration) {
	h.t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		for _, b := range h.messagesTo(to) {
			if strings.Contains(b, want) {
				return b, time.Since(start)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("no message to %s containing %q within %s; got %q", to, want, within, h.messagesTo(to))
	return "", 0
}

// TestEffectsSurviveKillAfterCommit kills a real hotline process with SIGKILL right after it
// committed a member's "talk to a person" (state, reply and job), before it opened the case
// or paged anyone. A process started afterwards takes the job over within seconds — not at
// the escalation timeout — and carries it out once: the case opens, the volunteer on call is
// paged once, and the member, whose reply never left, gets it.
func TestEffectsSurviveKillAfterCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	h := hotlineEnv(t, nil)
	first := h.startProcess("serve", "HOTLINE_FAILPOINT=after-job-commit")
	killed := false
	t.Cleanup(func() {
		if !killed {
			first.Process.Kill()
			first.Wait()
		}
	})
	h.volunteer("Ana", volAna, "es")
	h.text(member, "hola")
	status := h.postAsync(member, "persona")
	select {
	case code := <-status:
		t.Fatalf("the failpoint did not hold the message: answered %d", code)
	case <-time.After(500 * time.Millisecond):
	}
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	killed = true
	if code := <-status; code != 0 {
		t.Fatalf("a killed process answered %d", code)
	}
	if n := h.countTo(volAna, "TOMAR"); n != 0 {
		t.Fatalf("paged before the crash: the failpoint is not after the commit and before the effects")
	}

	restarted := time.Now()
	second := h.startProcess("serve")
	t.Cleanup(func() { second.Process.Kill(); second.Wait() })
	_, waited := h.waitForWithin(volAna, "TOMAR", 30*time.Second)
	t.Logf("volunteer paged %s after the restart", waited.Round(100*time.Millisecond))
	// The member's reply never left the dead process: they get it now.
	h.waitForWithin(member, "voluntari", 5*time.Second)
	time.Sleep(3 * time.Second) // another sweep or two: nothing may be sent twice
	if n := h.countTo(volAna, "TOMAR"); n != 1 {
		t.Errorf("volunteer paged %d times, want once", n)
	}
	// The member is in the case: what they write now goes to it, not to the menus.
	n := strings.Fields(h.waitFor(volAna, "TOMAR"))[1]
	if reply := h.text(volAna, "TOMAR "+n); !strings.Contains(reply, n) {
		t.Fatalf("claiming the recovered case: %s", reply)
	}
	h.relayed(member, volAna, "estoy en casa")
	if time.Since(restarted) > 45*time.Second {
		t.Errorf("recovery took %s", time.Since(restarted))
	}
}

// TestReplyDoesNotWaitForHangingTwilio: while Twilio's API hangs, a member asking for a person
// is answered at once (the page waits, not the member); once the API answers again, the page
// goes out, once.
func TestReplyDoesNotWaitForHangingTwilio(t *testing.T) {
	h := startHotline(t, map[string]string{"HOTLINE_CLAIM_IDLE": "2s", "HOTLINE_SEND_BACKOFF": "200ms"})
	h.volunteer("Ana", volAna, "es")
	h.text(member, "hola")
	h.fake.Hang()
	start := time.Now()
	reply := h.text(member, "persona")
	took := time.Since(start)
	if !strings.Contains(reply, "voluntari") {
		t.Fatalf("reply %s", reply)
	}
	if took > time.Second {
		t.Errorf("the member waited %s for Twilio", took)
	}
	t.Logf("reply under a hanging API: %s", took.Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond)
	h.fake.Reset()
	h.waitForWithin(volAna, "TOMAR", 40*time.Second)
	time.Sleep(2 * time.Second)
	if n := h.countTo(volAna, "TOMAR"); n != 1 {
		t.Errorf("volunteer paged %d times, want once", n)
	}
}
