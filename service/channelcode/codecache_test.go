package channelcode

import (
	"context"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

// A code made on another replica is known the moment an add names it (the
// cache reads the database on a miss), and an edit made there reaches this
// replica's cache through the version poll, without a full reload timer.
func TestCodeCacheKnowsOtherReplicasCodes(t *testing.T) {
	for _, driver := range modeltest.Drivers {
		t.Run(driver, func(t *testing.T) {
			st := modeltest.Open(t, driver, nil)
			ctx := context.Background()
			cache := NewCodeCache(st, nil)
			cache.Reload(ctx)

			code := &model.ChannelCode{CorpID: "ww1", Name: "展会", State: "c:abc", Slug: "abc", Mode: ModeRandom,
				Welcome: `{"text":"欢迎"}`, Roster: `{"members":[{"userid":"zhangsan"}]}`}
			if err := st.CreateChannelCode(ctx, code); err != nil {
				t.Fatal(err)
			}
			v := cache.ByState(ctx, "ww1", "c:abc")
			if v == nil || v.ID != code.ID || v.Name != "展会" {
				t.Fatalf("a code made elsewhere is unknown: %+v", v)
			}
			if msg, ok := v.Welcome(time.Now(), ""); !ok || msg.Text == nil || msg.Text.Content != "欢迎" {
				t.Fatalf("welcome of the looked-up code: %+v %v", msg, ok)
			}
			if cache.ByState(ctx, "ww1", "c:nope") != nil || cache.ByState(ctx, "ww2", "c:abc") != nil {
				t.Fatal("an unknown state or another corp's found a code")
			}

			rctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); cache.Run(rctx, 10*time.Millisecond) }()
			defer func() { cancel(); <-done }()
			code.Name = "展会二"
			if err := st.SaveChannelCode(ctx, code); err != nil {
				t.Fatal(err)
			}
			for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
				if v := cache.ByState(ctx, "ww1", "c:abc"); v != nil && v.Name == "展会二" {
					break
				}
				if time.Since(start) > 10*time.Second {
					t.Fatal("the edit never reached the cache")
				}
			}
			if err := st.DeleteChannelCode(ctx, code.ID); err != nil {
				t.Fatal(err)
			}
			for start := time.Now(); cache.ByState(ctx, "ww1", "c:abc") != nil; time.Sleep(5 * time.Millisecond) {
				if time.Since(start) > 10*time.Second {
					t.Fatal("the deleted code stayed in the cache")
				}
			}
		})
	}
}
