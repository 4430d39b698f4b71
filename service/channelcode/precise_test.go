package channelcode

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service/queue"
)

// A crowd at one poster is picked in groups, each in one transaction, and
// the caps still hold exactly: of 120 visitors at once, zhangsan gets 10,
// lisi 20, and the other 90 are told nobody is on duty. Round robin goes on
// across the groups.
func TestCrowdPicksHoldTheCapsExactly(t *testing.T) {
	for _, driver := range modeltest.Drivers {
		t.Run(driver, func(t *testing.T) {
			clk := modeltest.NewClock(time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)) // 10:00 in Shanghai
			st := modeltest.Open(t, driver, clk)
			ctx := context.Background()
			code := &model.ChannelCode{CorpID: "ww1", Name: "人群", State: "c:crowd", Slug: "crowd", Mode: ModePrecise, Strategy: "round_robin",
				Roster:     `{"members":[{"userid":"zhangsan","daily_cap":10},{"userid":"lisi","daily_cap":20}]}`,
				MemberWays: `{"zhangsan":{"config_id":"cz","qr_code":"https://qr/z"},"lisi":{"config_id":"cl","qr_code":"https://qr/l"}}`}
			if err := st.CreateChannelCode(ctx, code); err != nil {
				t.Fatal(err)
			}
			store := &lockCounter{Store: st}
			cc := NewChannelCodes(store, nil, queue.NewWake(), nil, clk, nil, "")

			var mu sync.Mutex
			got := map[string]int{}
			var wg sync.WaitGroup
			for range 120 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					a, err := cc.Pick(ctx, "crowd")
					mu.Lock()
					defer mu.Unlock()
					switch {
					case errors.Is(err, ErrNobodyOnDuty):
						got["nobody"]++
					case err != nil:
						t.Error(err)
					default:
						got[a.UserID]++
						if a.QRCode != "https://qr/"+a.UserID[:1] {
							t.Errorf("%s shown %s", a.UserID, a.QRCode)
						}
					}
				}()
			}
			wg.Wait()
			if got["zhangsan"] != 10 || got["lisi"] != 20 || got["nobody"] != 90 {
				t.Fatalf("picks %v, want zhangsan 10, lisi 20, nobody 90", got)
			}
			if n := store.locks.Load(); n > 60 {
				t.Fatalf("120 visitors at once took %d transactions: they were not picked in groups", n)
			} else {
				t.Logf("120 visitors picked in %d transactions", n)
			}
			// Once the holds run out, the places are free again.
			clk.Advance(pickHold + time.Second)
			a, err := cc.Pick(ctx, "crowd")
			if err != nil || (a.UserID != "zhangsan" && a.UserID != "lisi") {
				t.Fatalf("after the holds ran out: %+v, %v", a, err)
			}
			// The code's id is remembered by its slug, but a deleted code is
			// refused all the same, and a random-mode code has no picks.
			if err := st.DeleteChannelCode(ctx, code.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := cc.Pick(ctx, "crowd"); !errors.Is(err, model.ErrNotFound) {
				t.Fatalf("pick on a deleted code: %v", err)
			}
			random := &model.ChannelCode{CorpID: "ww1", Name: "随机", State: "c:rnd", Slug: "rnd", Mode: ModeRandom, Roster: code.Roster}
			if err := st.CreateChannelCode(ctx, random); err != nil {
				t.Fatal(err)
			}
			if _, err := cc.Pick(ctx, "rnd"); !errors.Is(err, model.ErrNotFound) {
				t.Fatalf("pick on a random-mode code: %v", err)
			}
		})
	}
}

// lockCounter counts the code-lock transactions a Store runs.
type lockCounter struct {
	Store
	locks atomic.Int32
}

func (l *lockCounter) LockChannelCode(ctx context.Context, codeID uint64, fn func(c *model.ChannelCode, counts func(day string, at time.Time) (map[string]int, error), hold func(day, userID string, until time.Time) error) error) error {
	l.locks.Add(1)
	return l.Store.LockChannelCode(ctx, codeID, fn)
}

// Visitors pick and then add while others pick: each add moves a place
// from the member's holds to their adds outside the code's lock, and a
// pick must never see that move half made. With a cap of 25 and 60
// visitors who all scan what they are shown, exactly 25 are added.
func TestPicksAndAddsTogetherKeepTheCap(t *testing.T) {
	for _, driver := range modeltest.Drivers {
		t.Run(driver, func(t *testing.T) {
			clk := modeltest.NewClock(time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC))
			st := modeltest.Open(t, driver, clk)
			ctx := context.Background()
			code := &model.ChannelCode{CorpID: "ww1", Name: "边选边加", State: "c:both", Slug: "both", Mode: ModePrecise,
				Roster:     `{"members":[{"userid":"zhangsan","daily_cap":25}]}`,
				MemberWays: `{"zhangsan":{"config_id":"cz","qr_code":"https://qr/z"}}`}
			if err := st.CreateChannelCode(ctx, code); err != nil {
				t.Fatal(err)
			}
			cc := NewChannelCodes(st, nil, queue.NewWake(), nil, clk, nil, "")
			day := "2026-11-24"
			var added atomic.Int32
			var wg sync.WaitGroup
			for i := range 60 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					time.Sleep(time.Duration(i%20) * 5 * time.Millisecond) // in waves, so adds and picks overlap
					a, err := cc.Pick(ctx, "both")
					if errors.Is(err, ErrNobodyOnDuty) {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
					if _, _, _, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "ww1", EventID: uint64(i + 1), UserID: a.UserID,
						ExternalUserID: fmt.Sprintf("wm%d", i), CodeID: code.ID, At: clk.Now(), CountDay: day, ConsumeHold: true, StatDay: day}); err != nil {
						t.Error(err)
						return
					}
					added.Add(1)
				}()
			}
			wg.Wait()
			if n := added.Load(); n != 25 {
				t.Fatalf("%d customers added under a cap of 25", n)
			}
		})
	}
}
