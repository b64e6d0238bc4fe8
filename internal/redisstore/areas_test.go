package redisstore

import (
	"context"
	"reflect"
	"testing"

	"github.com/communityhotline/hotline/internal/hotline"
)

func TestZipsReplaceWhole(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	if err := s.ReplaceZips(ctx, map[string]string{"87501": "santa-fe-county|", "88001": "dona-ana-county|las-cruces"}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceZips(ctx, map[string]string{"88001": "dona-ana-county|las-cruces"}); err != nil {
		t.Fatal(err)
	}
	m, err := s.Zips(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m, map[string]string{"88001": "dona-ana-county|las-cruces"}) {
		t.Errorf("after the second import: %v (the first import's rows must be gone)", m)
	}
	if c, city := SplitZip(m["88001"]); c != "dona-ana-county" || city != "las-cruces" {
		t.Errorf("SplitZip = %q %q", c, city)
	}
}

func TestSyncSubscriptions(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	check := func(area, lang string, want ...string) {
		t.Helper()
		got, err := s.Subscribers(ctx, area, lang)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 && len(want) == 0 {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s/%s = %v, want %v", area, lang, got, want)
		}
	}
	none := hotline.Subscription{}
	es := hotline.Subscription{Areas: []string{"bernalillo-county", "albuquerque"}, Lang: "es"}
	if err := s.SyncSubscriptions(ctx, "m1", none, es); err != nil {
		t.Fatal(err)
	}
	s.SyncSubscriptions(ctx, "m1", none, es) // again: idempotent
	s.SyncSubscriptions(ctx, "m2", none, hotline.Subscription{Areas: []string{"albuquerque"}, Lang: "es"})
	check("albuquerque", "es", "m1", "m2")
	check("bernalillo-county", "es", "m1")
	check(AllAreas, "es", "m1", "m2")

	// m1 switches to English and drops Bernalillo County.
	en := hotline.Subscription{Areas: []string{"albuquerque"}, Lang: "en"}
	s.SyncSubscriptions(ctx, "m1", es, en)
	check("albuquerque", "es", "m2")
	check("albuquerque", "en", "m1")
	check("bernalillo-county", "es")
	check(AllAreas, "es", "m2")
	check(AllAreas, "en", "m1")

	// m1 opts out: gone everywhere.
	s.SyncSubscriptions(ctx, "m1", en, none)
	check("albuquerque", "en")
	check(AllAreas, "en")
}

// TestWhatsAppSubscribersCounted: a WhatsApp member is listed like any other and counted
// apart; leaving an area takes them out of both, even when the leaving names no channel
// (a repair's).
func TestWhatsAppSubscribersCounted(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	count := func(areas []string) (all, wa int64) {
		t.Helper()
		all, err := s.CountRecipients(ctx, areas, "es")
		if err != nil {
			t.Fatal(err)
		}
		if wa, err = s.CountWhatsAppRecipients(ctx, areas, "es"); err != nil {
			t.Fatal(err)
		}
		return all, wa
	}
	wa := hotline.Subscription{Areas: []string{"albuquerque", "bernalillo-county"}, Lang: "es", Channel: hotline.WhatsApp}
	s.SyncSubscriptions(ctx, "w1", hotline.Subscription{}, wa)
	s.SyncSubscriptions(ctx, "s1", hotline.Subscription{}, hotline.Subscription{Areas: []string{"albuquerque"}, Lang: "es", Channel: hotline.SMS})
	if all, n := count([]string{"albuquerque", "bernalillo-county"}); all != 2 || n != 1 {
		t.Errorf("both areas: %d recipients, %d on WhatsApp; want 2 and 1", all, n)
	}
	if all, n := count(nil); all != 2 || n != 1 {
		t.Errorf("every area: %d recipients, %d on WhatsApp; want 2 and 1", all, n)
	}
	if all, n := count([]string{"bernalillo-county"}); all != 1 || n != 1 {
		t.Errorf("one area: %d recipients, %d on WhatsApp; want 1 and 1", all, n)
	}
	s.SyncSubscriptions(ctx, "w1", hotline.Subscription{Areas: wa.Areas, Lang: "es"}, hotline.Subscription{Lang: "es"})
	if all, n := count(nil); all != 1 || n != 0 {
		t.Errorf("after w1 left: %d recipients, %d on WhatsApp; want 1 and 0", all, n)
	}
}
