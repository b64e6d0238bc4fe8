package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPrivateMetricsListener: with HOTLINE_METRICS_ADDR, serve and worker both answer
// GET /metrics on the private address, and the public port answers 404 to it.
func TestPrivateMetricsListener(t *testing.T) {
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	webAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	h := startHotline(t, map[string]string{"HOTLINE_METRICS_ADDR": webAddr, "HOTLINE_WORKER": "off"})
	h.text("+15055550311", "hola")
	if code, _ := get(h.url + "/metrics"); code != http.StatusNotFound {
		t.Errorf("public /metrics answered %d, want 404 when a private listener is set", code)
	}
	if code, body := get("http://" + webAddr + "/metrics"); code != 200 || !strings.Contains(body, "hotline_inbound_messages_total 1") {
		t.Errorf("private /metrics: %d\n%s", code, body)
	}

	workerAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	w := h.startProcess("worker", "HOTLINE_METRICS_ADDR="+workerAddr)
	t.Cleanup(func() { w.Process.Kill(); w.Wait() })
	if code, body := get("http://" + workerAddr + "/metrics"); code != 200 || !strings.Contains(body, "hotline_queue_depth") {
		t.Errorf("worker /metrics: %d\n%s", code, body)
	}
}
