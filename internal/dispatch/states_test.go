package dispatch

import (
	"reflect"
	"testing"
	"time"

	"github.com/communityhotline/hotline/internal/bot"
	"github.com/communityhotline/hotline/internal/flow"
	"github.com/communityhotline/hotline/internal/hotline"
	"github.com/communityhotline/hotline/internal/privacy"
	"github.com/communityhotline/hotline/internal/redisstore"
	"github.com/communityhotline/hotline/internal/redistest"
)

// TestOpenStateAgreesWithEngine: the dispatcher opens a batch's states itself; it must read
// each as the conversation engine does, and find none where the engine finds none.
func TestOpenStateAgreesWithEngine(t *testing.T) {
	ctx := t.Context()
	rdb, prefix := redistest.Open(t)
	store, err := redisstore.New(rdb, prefix, redisstore.DefaultReplyTTL)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := privacy.NewKeys("states-test-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	engine := bot.New(bot.Config{Store: store, Keys: keys})
	subscriber := keys.MemberID(hotline.SMS, "+15055550701")
	optedOut := keys.MemberID(hotline.SMS, "+15055550702")
	nobody := keys.MemberID(hotline.SMS, "+15055550703")
	engine.Update(ctx, subscriber, func(st *flow.State) bool {
		st.Lang, st.Areas, st.Address = "en", []string{"albuquerque", "santa-fe"}, "+15055550701"
		return true
	})
	engine.Update(ctx, optedOut, func(st *flow.State) bool {
		st.Lang, st.Areas, st.Address = "es", []string{"albuquerque"}, "+15055550702"
		st.OptOut()
		return true
	})
	entries := []hotline.QueueEntry{{BC: "b", Member: subscriber}, {BC: "b", Member: optedOut}, {BC: "b", Member: nobody}}
	prepared, err := store.ClaimSends(ctx, "t/0", entries, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range entries {
		want, wantErr := engine.State(ctx, e.Member)
		got, gotErr := openState(keys, e.Member, prepared[i].State)
		if !reflect.DeepEqual(got, want) || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("member %d: opened %+v, %v; the engine reads %+v, %v", i, got, gotErr, want, wantErr)
		}
	}
	if _, err := openState(keys, subscriber, []byte("damaged")); err == nil {
		t.Errorf("a damaged state opened")
	}
}
