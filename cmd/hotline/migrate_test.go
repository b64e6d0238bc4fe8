package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
)

// seedOldMember writes a member of phone as the layout before bucket hashes kept it: a hash
// of a version and the JSON state, sealed under the hotline's secret, with no TTL (durable).
func (h *hotlineProc) seedOldMember(phone string, st flow.State) string {
	h.t.Helper()
	keys, err := privacy.NewKeys(h.env["HOTLINE_SECRET"])
	if err != nil {
		h.t.Fatal(err)
	}
	id := keys.MemberID(hotline.SMS, phone)
	plain, err := json.Marshal(st)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx := context.Background()
	rdb := h.redisOf()
	p := h.env["HOTLINE_KEY_PREFIX"]
	if err := rdb.HSet(ctx, p+":m:{"+id+"}", "v", 2, "s", keys.Seal(plain, privacy.MemberState(id))).Err(); err != nil {
		h.t.Fatal(err)
	}
	for _, a := range st.Areas {
		rdb.SAdd(ctx, p+":sub:{s}:"+a+":"+st.Lang, id)
		rdb.SAdd(ctx, p+":sub:{s}:*:"+st.Lang, id)
	}
	return id
}

// runMigrate runs `hotline migrate args…` with env and returns its output.
func runMigrate(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"migrate"}, args...), envOf(env), nil, &out, &errOut)
	if m := phoneInLog.FindString(out.String() + errOut.String()); m != "" {
		t.Errorf("migrate printed a phone number %q", m)
	}
	return out.String(), err
}

// TestUpgradeFromOldLayout: a deployment upgraded from the layout before bucket hashes keeps
// its members. serve and worker refuse to start until `hotline migrate` has run (they would
// see no member, and answer and alert those who opted out); reseal refuses to call it safe;
// after the migration an opted-out member is still not answered and a subscriber still gets
// alerts.
func TestUpgradeFromOldLayout(t *testing.T) {
	h := hotlineEnv(t, nil)
	const optedOut, subscriber = "+15055550701", "+15055550702"
	h.seedOldMember(optedOut, flow.State{Lang: "es", OptedOut: true})
	subID := h.seedOldMember(subscriber, flow.State{Lang: "es", Areas: []string{"albuquerque"}, Address: subscriber})

	for _, cmd := range []string{"serve", "worker"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var out bytes.Buffer
		err := run(ctx, []string{cmd}, envOf(h.env), nil, &out, &syncBuffer{})
		cancel()
		if err == nil || !strings.Contains(err.Error(), "hotline migrate") {
			t.Fatalf("%s on the old layout: %v, want a refusal naming hotline migrate", cmd, err)
		}
		if strings.Contains(out.String(), "hotline") {
			t.Errorf("%s served before refusing", cmd)
		}
	}
	out, err := runReseal(t, h.env)
	if err == nil || !strings.Contains(out, "hotline migrate") || !strings.HasPrefix(lastLine(out), "NOT safe") {
		t.Errorf("reseal on the old layout: %v\n%s", err, out)
	}

	out, err = runMigrate(t, h.env, "--dry-run")
	if err != nil || !strings.Contains(out, "durable members (subscribed or opted out) would move: 2") {
		t.Fatalf("migrate --dry-run: %v\n%s", err, out)
	}
	out, err = runMigrate(t, h.env)
	if err != nil || !strings.Contains(out, "durable members (subscribed or opted out) moved: 2") {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	if out, err = runMigrate(t, h.env); err != nil || !strings.Contains(out, "moved: 0") {
		t.Errorf("migrate again: %v\n%s", err, out)
	}

	p := startHotlineSharing(t, h)
	if reply := p.text(optedOut, "hola"); strings.Contains(reply, "<Message>") {
		t.Errorf("the opted-out member was answered after the upgrade: %s", reply)
	}
	ids, err := h.store().Subscribers(context.Background(), redisstore.AllAreas, "es")
	if err != nil || !slices.Equal(ids, []string{subID}) {
		t.Errorf("everyone in es after the upgrade: %v, %v; want the subscriber", ids, err)
	}
	tok := p.organizer("Ana", "+15055550901")
	var b bcJSON
	p.api(tok, "POST", "/admin/broadcasts", map[string]any{"text": map[string]string{"es": "hola", "en": "hi"}, "areas": []string{"albuquerque"}}, &b)
	p.api(tok, "POST", "/admin/broadcasts/"+b.ID+"/send", nil, &b)
	if done := p.waitDone(tok, b.ID, 10*time.Second); done.Sent != 1 {
		t.Errorf("the alert after the upgrade: %+v, want it sent to the subscriber", done)
	}
	out, err = runReseal(t, h.env)
	if err != nil || !strings.Contains(lastLine(out), "safe:") {
		t.Errorf("reseal after the migration: %v\n%s", err, out)
	}
}

// seedNewMember writes phone's state in today's layout, sealed under the hotline's secret,
// as a new-version process would: durable when it is.
func (h *hotlineProc) seedNewMember(phone string, st flow.State) {
	h.t.Helper()
	keys, err := privacy.NewKeys(h.env["HOTLINE_SECRET"])
	if err != nil {
		h.t.Fatal(err)
	}
	id := keys.MemberID(hotline.SMS, phone)
	c := hotline.Commit{State: keys.Seal(flow.EncodeState(st), privacy.MemberState(id)), Now: time.Now()}
	if !st.Durable() {
		c.TTL = time.Hour
	}
	if err := h.store().Save(context.Background(), id, c); err != nil {
		h.t.Fatal(err)
	}
}

// TestMigrateWithAConflictDoesNotMark: a pass that leaves a member with a state in both
// layouts does not mark Redis with the new layout, nor say it is done, so serve and worker
// still refuse to start; the pass that settles the conflict marks it.
func TestMigrateWithAConflictDoesNotMark(t *testing.T) {
	h := hotlineEnv(t, nil)
	const both = "+15055550703"
	h.seedOldMember(both, flow.State{Lang: "es", Areas: []string{"albuquerque"}, Address: both})
	h.seedNewMember(both, flow.State{Lang: "en", Areas: []string{"albuquerque"}, Address: both})

	out, err := runMigrate(t, h.env)
	if err == nil || !strings.Contains(err.Error(), "1 member has a state in both layouts") || !strings.Contains(err.Error(), "not marked") {
		t.Errorf("migrate with a conflict: %v, want an error saying Redis is not marked", err)
	}
	if strings.Contains(out, "done: Redis is marked") || !strings.Contains(out, "not done:") {
		t.Errorf("migrate with a conflict said:\n%s", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	err = run(ctx, []string{"serve"}, envOf(h.env), nil, &bytes.Buffer{}, &syncBuffer{})
	cancel()
	if err == nil || !strings.Contains(err.Error(), "hotline migrate") {
		t.Errorf("serve with a conflict left: %v, want a refusal naming hotline migrate", err)
	}

	out, err = runMigrate(t, h.env, "--prefer-old")
	if err != nil || !strings.Contains(out, "done: Redis is marked") {
		t.Errorf("migrate --prefer-old: %v\n%s", err, out)
	}
	if err := h.store().CheckLayout(context.Background()); err != nil {
		t.Errorf("CheckLayout after settling: %v", err)
	}
}

// TestSettleByOptOut: a conflict keeps the opted-out side, whichever it is; with an opt-out
// on neither side or both, it is left for --prefer-old; a state that does not open keeps
// both, as it may hold an opt-out.
func TestSettleByOptOut(t *testing.T) {
	keys, err := privacy.NewKeys("test-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	const id = "aaaaaaaaaaaaaaaaaaaaaaaaaa"
	seal := func(st flow.State) []byte { return keys.Seal(flow.EncodeState(st), privacy.MemberState(id)) }
	sealJSON := func(st flow.State) []byte { // as the old version wrote it
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		return keys.Seal(b, privacy.MemberState(id))
	}
	out := flow.State{Lang: "es", OptedOut: true}
	sub := flow.State{Lang: "es", Areas: []string{"albuquerque"}, Address: "+15055550100"}
	talk := flow.State{Lang: "en", Node: "help/start"}
	other, err := privacy.NewKeys("another-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name         string
		old, current []byte
		want         redisstore.Verdict
	}{
		{"opted out in the old layout only", sealJSON(out), seal(sub), redisstore.KeepOld},
		{"opted out in the new layout only", sealJSON(sub), seal(out), redisstore.KeepCurrent},
		{"opted out in the new layout, a conversation in the old", sealJSON(talk), seal(out), redisstore.KeepCurrent},
		{"opted out on both sides", sealJSON(out), seal(out), redisstore.Undecided},
		{"opted out on neither side", sealJSON(sub), seal(talk), redisstore.Undecided},
		{"the old does not open", []byte("damaged"), seal(sub), redisstore.Unreadable},
		{"the new is sealed with another secret", sealJSON(out), other.Seal(flow.EncodeState(sub), privacy.MemberState(id)), redisstore.Unreadable},
		{"the new is sealed for another member", sealJSON(sub), keys.Seal(flow.EncodeState(out), privacy.MemberState("bbbbbbbbbbbbbbbbbbbbbbbbbb")), redisstore.Unreadable},
	} {
		if got := settleByOptOut(keys)(id, tc.old, tc.current); got != tc.want {
			t.Errorf("%s: verdict %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestMigrateNeverCancelsAnOptOut: a member who opted out on one side of a conflict stays
// opted out. The reviewer's case: opted out on a machine of the new version, subscribed in
// the old layout, and `migrate --prefer-old` re-subscribed them. And the other way round,
// with no flag at all: an opt-out in the old layout settles the conflict by itself.
func TestMigrateNeverCancelsAnOptOut(t *testing.T) {
	h := hotlineEnv(t, nil)
	const newOut, oldOut = "+15055550704", "+15055550705"
	sub := func(phone string) flow.State {
		return flow.State{Lang: "es", Areas: []string{"albuquerque"}, Address: phone}
	}
	h.seedOldMember(newOut, sub(newOut))
	h.seedNewMember(newOut, flow.State{Lang: "es", OptedOut: true})
	h.seedOldMember(oldOut, flow.State{Lang: "es", OptedOut: true})
	h.seedNewMember(oldOut, sub(oldOut))

	out, err := runMigrate(t, h.env, "--dry-run", "--prefer-old")
	if err != nil || !strings.Contains(out, "would be settled by keeping the opted-out side: 2") {
		t.Errorf("migrate --dry-run --prefer-old: %v\n%s", err, out)
	}
	out, err = runMigrate(t, h.env, "--prefer-old")
	if err != nil || !strings.Contains(out, "settled by keeping the opted-out side: 2") ||
		!strings.Contains(out, "(--prefer-old): 0") || !strings.Contains(out, "done: Redis is marked") {
		t.Errorf("migrate --prefer-old: %v\n%s", err, out)
	}
	for _, phone := range []string{newOut, oldOut} {
		if st := h.memberState(phone); !st.OptedOut {
			t.Errorf("%s: state %+v after the migration, want still opted out", phone[len(phone)-2:], st)
		}
	}
	p := startHotlineSharing(t, h)
	for _, phone := range []string{newOut, oldOut} {
		if reply := p.text(phone, "hola"); strings.Contains(reply, "<Message>") {
			t.Errorf("%s was answered after the migration: %s", phone[len(phone)-2:], reply)
		}
	}
}

// TestMigrateConflictsNeedTheSecret: without HOTLINE_SECRET (local mode, as the first
// migration may run) a conflict cannot be opened, so it is kept and the error asks for the
// secret; --prefer-old, which could then cancel an opt-out, refuses to run.
func TestMigrateConflictsNeedTheSecret(t *testing.T) {
	h := hotlineEnv(t, nil)
	const both = "+15055550706"
	h.seedOldMember(both, flow.State{Lang: "es", OptedOut: true})
	h.seedNewMember(both, flow.State{Lang: "es", Areas: []string{"albuquerque"}, Address: both})
	bare := map[string]string{"REDIS_URL": h.env["REDIS_URL"], "REDIS_CLUSTER": h.env["REDIS_CLUSTER"], "HOTLINE_KEY_PREFIX": h.env["HOTLINE_KEY_PREFIX"]}

	if _, err := runMigrate(t, bare, "--prefer-old"); err == nil || !strings.Contains(err.Error(), "needs HOTLINE_SECRET") {
		t.Errorf("migrate --prefer-old without the secret: %v, want a refusal", err)
	}
	out, err := runMigrate(t, bare)
	if err == nil || !strings.Contains(err.Error(), "set HOTLINE_SECRET") || !strings.Contains(out, "both kept (conflicts): 1") {
		t.Errorf("migrate without the secret: %v\n%s", err, out)
	}
	if st := h.memberState(both); st.OptedOut {
		t.Fatalf("the conflict was settled without the secret")
	}
	// As docs/deploy.md runs it: local mode (no Twilio settings), with the secret.
	bare["HOTLINE_SECRET"] = h.env["HOTLINE_SECRET"]
	if out, err := runMigrate(t, bare); err != nil || !strings.Contains(out, "settled by keeping the opted-out side: 1") {
		t.Errorf("migrate with the secret: %v\n%s", err, out)
	}
	if st := h.memberState(both); !st.OptedOut {
		t.Errorf("state %+v, want the old layout's opt-out", st)
	}
}

// memberState opens phone's state in today's layout.
func (h *hotlineProc) memberState(phone string) flow.State {
	h.t.Helper()
	keys, err := privacy.NewKeys(h.env["HOTLINE_SECRET"])
	if err != nil {
		h.t.Fatal(err)
	}
	id := keys.MemberID(hotline.SMS, phone)
	m, err := h.store().Load(context.Background(), id, "")
	if err != nil {
		h.t.Fatal(err)
	}
	st, err := openMemberState(keys, id, m.State)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}
