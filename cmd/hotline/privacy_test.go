package main

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redistest"
)

// redisOf connects to the Redis a hotline process uses, a Redis Cluster when it does.
func (h *hotlineProc) redisOf() redis.UniversalClient {
	var rdb redis.UniversalClient
	if h.env["REDIS_CLUSTER"] == "true" {
		opt, err := redis.ParseClusterURL(h.env["REDIS_URL"])
		if err != nil {
			h.t.Fatal(err)
		}
		rdb = redis.NewClusterClient(opt)
	} else {
		opt, err := redis.ParseURL(h.env["REDIS_URL"])
		if err != nil {
			h.t.Fatal(err)
		}
		rdb = redis.NewClient(opt)
	}
	h.t.Cleanup(func() { rdb.Close() })
	return rdb
}

// keysOf lists the keys of rdb matching pattern, sorted, on every master of a cluster.
func (h *hotlineProc) keysOf(rdb redis.UniversalClient, pattern string) []string {
	h.t.Helper()
	keys := redistest.Keys(h.t, rdb, pattern)
	slices.Sort(keys)
	return keys
}

// dump returns every key under the hotline's prefix with its value flattened to text.
func (h *hotlineProc) dump() map[string]string {
	ctx := context.Background()
	rdb := h.redisOf()
	out := map[string]string{}
	for _, k := range h.keysOf(rdb, h.env["HOTLINE_KEY_PREFIX"]+":*") {
		var v any
		switch rdb.Type(ctx, k).Val() {
		case "hash":
			v = rdb.HGetAll(ctx, k).Val()
		case "set":
			v = rdb.SMembers(ctx, k).Val()
		case "zset":
			v = rdb.ZRange(ctx, k, 0, -1).Val()
		case "list":
			v = rdb.LRange(ctx, k, 0, -1).Val()
		case "stream":
			v = rdb.XRange(ctx, k, "-", "+").Val()
		default:
			v = rdb.Get(ctx, k).Val()
		}
		out[k] = strings.ReplaceAll(strings.ReplaceAll(strings.TrimSpace(toText(v)), "\n", " "), "\x00", "")
	}
	return out
}

func toText(v any) string { return strings.TrimSpace(strings.Join(strings.Fields(fmtAny(v)), " ")) }

func fmtAny(v any) string {
	var b strings.Builder
	switch v := v.(type) {
	case map[string]string:
		for k, x := range v {
			b.WriteString(k + "=" + x + " ")
		}
	case []string:
		b.WriteString(strings.Join(v, " "))
	case []redis.XMessage:
		for _, m := range v {
			for k, x := range m.Values {
				b.WriteString(k + "=" + x.(string) + " ")
			}
		}
	case string:
		b.WriteString(v)
	}
	return b.String()
}

// TestNothingReadableAtRest drives every feature that stores something — conversations,
// subscriptions, a report, a case with messages both ways, organizers, volunteers, a
// broadcast — then reads every key and value under the prefix: no phone number and no
// message body may appear in clear.
func TestNothingReadableAtRest(t *testing.T) {
	h := startHotline(t, nil)
	h.organizer("Olga", "+15055550901")
	h.volunteer("Ana", volAna, "es")
	h.subscribe(member, "es", "ABQ")
	for _, msg := range []string{"menu", "5", "MARKER-REPORT-1 camionetas", "Albuquerque", "MARKER-WHERE-2", "MARKER-WHEN-3"} {
		h.text(member, msg)
	}
	h.text(member, "persona")
	page := h.waitFor(volAna, "Albuquerque)\nResponda TOMAR") // the person case, not the report
	n := strings.Fields(page)[1]
	h.text(volAna, "tomar "+n)
	h.text(member, "MARKER-TO-VOLUNTEER-4")
	h.waitFor(volAna, "MARKER-TO-VOLUNTEER-4")
	h.text(volAna, "MARKER-TO-MEMBER-5")
	h.waitFor(member, "MARKER-TO-MEMBER-5")

	for k, v := range h.dump() {
		for _, needle := range []string{"5055550601", "5055550701", "5055550901", "MARKER-", "ALBUQUERQUE"} {
			if strings.Contains(k, needle) || strings.Contains(v, needle) {
				t.Errorf("%q found in clear in key %s", needle, k)
			}
		}
	}
}

// TestEraseMember: BORRAR then SÍ erases the member's state, replies, subscriptions, cases —
// a closed one too, with its transcript — and their place in the alerts they were sent, and
// says so.
func TestEraseMember(t *testing.T) {
	h := startHotline(t, nil)
	h.subscribe(member, "es", "ABQ")
	// An alert they got: each broadcast remembers who has been sent it, for 7 days.
	tok := h.organizer("Olga", "+15055550901")
	var b bcJSON
	if code := h.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": "Alerta de prueba", "en": "Test alert"}, "areas": []string{"Albuquerque"}}, &b); code != 201 {
		t.Fatalf("create: %d", code)
	}
	h.api(tok, "POST", "/admin/broadcasts/"+b.ID+"/send", nil, &b)
	h.waitDone(tok, b.ID, 10*time.Second)
	h.text(member, "persona") // a case (no volunteer on call)
	h.text(member, "PARAR")   // an opt-out leaves it, closed, kept for its retention…
	h.text(member, "COMENZAR")
	if reply := h.text(member, "BORRAR"); !strings.Contains(reply, "Responda SÍ para borrar") {
		t.Fatalf("BORRAR answered %s", reply)
	}
	if reply := h.text(member, "sí"); !strings.Contains(reply, "borramos sus datos") {
		t.Fatalf("SÍ answered %s", reply)
	}
	keys, err := privacy.NewKeys(h.env["HOTLINE_SECRET"])
	if err != nil {
		t.Fatal(err)
	}
	id := keys.MemberID(hotline.SMS, member)
	for k, v := range h.dump() {
		if strings.Contains(k, id) || strings.Contains(v, id) {
			t.Errorf("after erasing, %s still holds the member: %.80s", k, v)
		}
	}
	if reply := h.text(member, "hola"); !strings.Contains(reply, "Hola, le responde") {
		t.Errorf("after erasing, hola answered %s (want a fresh start)", reply)
	}
}
