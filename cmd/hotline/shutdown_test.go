package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/twilio"
	"github.com/communityhotline/hotline/internal/twiliofake"
)

// startProcess runs `hotline <cmd>` as a separate process (this test binary, re-executed),
// so that a test can send it real signals. It returns once the process prints its first line.
func (h *hotlineProc) startProcess(cmd string, extra ...string) *exec.Cmd {
	h.t.Helper()
	c := exec.Command(os.Args[0], "-test.run=^$")
	c.Env = append(os.Environ(), "HOTLINE_TEST_RUN_MAIN="+cmd)
	for k, v := range h.env {
		c.Env = append(c.Env, k+"="+v)
	}
	c.Env = append(c.Env, extra...)
	out, _ := c.StdoutPipe()
	if err := c.Start(); err != nil {
		h.t.Fatal(err)
	}
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		h.t.Fatalf("%s did not start: %v", cmd, err)
	}
	go io.Copy(io.Discard, out)
	return c
}

// TestGracefulShutdownUnderLoad sends SIGTERM to a hotline process while webhooks keep
// arriving and a broadcast is being sent: no request that reached it is cut off, and no
// alert is lost or doubled once a worker finishes the queue.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const subscribers = 60
	h := hotlineEnv(t, map[string]string{"HOTLINE_WORKER_CONCURRENCY": "4", "HOTLINE_CLAIM_IDLE": "500ms"})
	srv := h.startProcess("serve")
	for i := range subscribers {
		h.subscribe(fmt.Sprintf("+1505557%04d", i), "es", "ABQ")
	}
	tok := h.organizer("Ana", "+15055550901")
	h.fake.Latency(40 * time.Millisecond)
	var b bcJSON
	h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": "hola", "en": "hi"}, "areas": []string{"albuquerque"}}, &b)
	h.api(tok, "POST", "/admin/broadcasts/"+b.ID+"/send", nil, &b)

	// Load: members keep texting until the server is gone. Each request on its own
	// connection: a request sent on an idle kept-alive connection at the very moment the
	// server closes it never reaches a handler, and is Twilio's to retry (the MessageSid
	// makes the retry safe); this test is about requests the server has accepted.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var ok, refused, cut atomic.Int64
	var retryMu sync.Mutex
	var retry []url.Values // requests reset before a handler saw them: Twilio would retry them
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				from := fmt.Sprintf("+1505558%02d%02d", g, i%100)
				form := url.Values{"MessageSid": {fmt.Sprintf("SM%032d", messageSids.Add(1))}, "From": {from}, "Body": {"menu"}}
				req, _ := http.NewRequest("POST", h.url+"/twilio/sms", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set(twilio.SignatureHeader, twilio.Sign(twiliofake.AuthToken, h.url+"/twilio/sms", form))
				resp, err := client.Do(req)
				switch {
				case err == nil:
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 200 {
						ok.Add(1)
					} else {
						cut.Add(1)
					}
				case errors.Is(err, syscall.ECONNREFUSED):
					refused.Add(1) // after the listener closed: never reached the server
					time.Sleep(5 * time.Millisecond)
				case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF):
					// A connection racing the listener's close (still in the kernel's accept
					// queue, or closed before its request was read): no answer came. Twilio
					// retries such a request; the test does too, below, with the same
					// MessageSid, which makes the retry exactly-once whether or not the
					// first attempt was processed.
					retryMu.Lock()
					retry = append(retry, form)
					retryMu.Unlock()
				default:
					cut.Add(1)
					t.Logf("request cut: %v", err)
				}
			}
		})
	}
	for h.fake.Count() < subscribers/4 {
		time.Sleep(5 * time.Millisecond)
	}
	srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Errorf("the server exited badly after SIGTERM: %v", err)
	}
	sentAtStop := h.fake.Count()
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	if cut.Load() != 0 || ok.Load() == 0 {
		t.Errorf("requests: %d answered, %d refused after close, %d cut", ok.Load(), refused.Load(), cut.Load())
	}

	// A new server (with its worker) on the same port finishes the queue.
	next := h.startProcess("serve")
	t.Cleanup(func() { next.Process.Signal(syscall.SIGTERM); next.Wait() })
	for _, form := range retry {
		req, _ := http.NewRequest("POST", h.url+"/twilio/sms", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set(twilio.SignatureHeader, twilio.Sign(twiliofake.AuthToken, h.url+"/twilio/sms", form))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "<Message>") {
			t.Errorf("a retried request got %d %s", resp.StatusCode, body)
		}
	}
	h.waitDone(tok, b.ID, 30*time.Second)
	got := map[string]int{}
	for _, m := range h.fake.Messages() {
		got[m.To]++
	}
	for i := range subscribers {
		if n := got[fmt.Sprintf("+1505557%04d", i)]; n != 1 {
			t.Errorf("subscriber %d got the alert %d times", i, n)
		}
	}
	t.Logf("stopped after %d sends; %d webhooks answered during the run, %d refused after close, %d reset or closed unanswered and answered on retry",
		sentAtStop, ok.Load(), refused.Load(), len(retry))
}

// TestRateLimitedWorkersSendOnce: two worker processes sharing a low rate: entries waiting
// their turn must not be taken over and sent twice (the take-over delay follows the rate).
func TestRateLimitedWorkersSendOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	const subscribers = 60
	h := hotlineEnv(t, map[string]string{"HOTLINE_WORKER": "off", "HOTLINE_SEND_RATE": "40", "HOTLINE_CLAIM_IDLE": "300ms"})
	srv := h.startProcess("serve")
	t.Cleanup(func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() })
	for i := range subscribers {
		h.subscribe(fmt.Sprintf("+1505559%04d", i), "es", "ABQ")
	}
	tok := h.organizer("Ana", "+15055550901")
	var b bcJSON
	h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": "Alerta para su área: revise sus derechos y comuníquese con su red local.", "en": "hi"}, "areas": []string{"albuquerque"}}, &b)
	h.api(tok, "POST", "/admin/broadcasts/"+b.ID+"/send", nil, &b)
	for range 2 {
		w := h.startProcess("worker")
		t.Cleanup(func() { w.Process.Kill(); w.Wait() })
	}
	h.waitDone(tok, b.ID, 30*time.Second)
	got := map[string]int{}
	for _, m := range h.fake.Messages() {
		got[m.To]++
	}
	for i := range subscribers {
		if n := got[fmt.Sprintf("+1505559%04d", i)]; n != 1 {
			t.Errorf("subscriber %d got the alert %d times", i, n)
		}
	}
}
