package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server of the test's own, with an append-only file so that a stop
// and restart keeps its data, as a production Redis would.
type redisServer struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func startRedisServer(t *testing.T) *redisServer {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must have redis-server for the outage test")
		}
		t.Skip("no redis-server installed")
	}
	_ = bin
	r := &redisServer{t: t, port: freePort(t), dir: t.TempDir()}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisServer) start() {
	r.cmd = exec.Command("redis-server", "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1", "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port)})
	defer rdb.Close()
	for range 100 {
		if rdb.Ping(context.Background()).Err() == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatal("redis-server did not start")
}

func (r *redisServer) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

// TestRedisOutageSpoolsAndReplays: with Redis stopped, the webhook still answers 200 with the
// bilingual safety message and keeps the message; /readyz fails; when Redis is back the
// message is replayed in order, once — here an opt-out, which must take effect.
func TestRedisOutageSpoolsAndReplays(t *testing.T) {
	rs := startRedisServer(t)
	h := startHotline(t, map[string]string{"REDIS_URL": rs.url(), "REDIS_CLUSTER": "false", "HOTLINE_SPOOL_DIR": t.TempDir()})
	h.subscribe(member, "es", "ABQ")

	rs.stop()
	reply := h.text(member, "PARAR")
	// Kept for later: the member is told it will be answered, not to try again.
	if !strings.Contains(reply, "Recibimos su mensaje") || !strings.Contains(reply, "We got your message") || !strings.Contains(reply, "505-555-0199") {
		t.Fatalf("during the outage the webhook answered %s", reply)
	}
	h.text(member, "hola")
	resp, err := http.Get(h.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d", resp.StatusCode)
	}

	rs.start()
	// The opt-out confirmation goes out as a message once the spool is replayed; the
	// "hola" after it gets nothing, as the member has opted out.
	confirm := h.waitFor(member, "no recibirá más mensajes")
	time.Sleep(300 * time.Millisecond)
	var after []string
	seen := false
	for _, b := range h.messagesTo(member) {
		if b == confirm {
			seen = true
			continue
		}
		if seen {
			after = append(after, b)
		}
	}
	if len(after) != 0 {
		t.Errorf("after the replayed opt-out the member was sent %q", after)
	}
	if reply := h.text(member, "menu"); strings.Contains(reply, "<Message>") {
		t.Errorf("the opt-out did not take: menu answered %s", reply)
	}
}
