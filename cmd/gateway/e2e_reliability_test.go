package main

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/config"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// A burst of scans meets a burst of 45009 on the welcome and tag APIs and a
// token revocation, all through the simulator's /sim/faults: every scan is
// still welcomed, every contact tagged, and no job or event fails for good,
// because a rate-limited call is retried within the welcome's window and is
// no attempt for a job (three attempts here, fewer than the refusals).
func TestScanBurstSurvives45009AndTokenRevocation(t *testing.T) {
	for _, driver := range modeltest.Drivers {
		t.Run(driver, func(t *testing.T) {
			e := startE2E(t, driver, func(c *config.Config) { c.Dispatcher.MaxAttempts = 3 })
			ctx := context.Background()
			code := e.createCode(map[string]any{"name": "限流", "tags": []string{"限流"}, "welcome": map[string]any{"text": "欢迎"},
				"roster": roster(member("zhangsan"), member("lisi"))})

			const scans = 60
			var mu sync.Mutex
			var ext []string
			var wg sync.WaitGroup
			burst := make(chan struct{})
			go func() {
				defer close(burst)
				time.Sleep(500 * time.Millisecond)
				if _, err := e.ctl.AddFault(ctx,
					wecomsim.Fault{API: "send_welcome_msg", ErrCode: 45009},
					wecomsim.Fault{API: "mark_tag", ErrCode: 45009},
				); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(500 * time.Millisecond)
				// WeCom revokes every token early.
				if _, err := e.ctl.AddFault(ctx, wecomsim.Fault{API: "*", ErrCode: 42001, Count: 1}); err != nil {
					t.Error(err)
				}
				time.Sleep(1500 * time.Millisecond)
				if err := e.ctl.ClearFaults(ctx); err != nil {
					t.Error(err)
				}
			}()
			tick := time.NewTicker(50 * time.Millisecond) // 20 scans a second for 3 s
			for i := range scans {
				<-tick.C
				wg.Add(1)
				go func() {
					defer wg.Done()
					res := e.scan(code, fmt.Sprint("客户", i))
					mu.Lock()
					ext = append(ext, res.ExternalUserID)
					mu.Unlock()
				}()
			}
			tick.Stop()
			wg.Wait()
			<-burst
			e.idle()

			refused, err := e.ctl.Log(ctx, wecomsim.LogQuery{API: "send_welcome_msg", ErrCode: ptrInt(45009)})
			if err != nil || len(refused) == 0 {
				t.Fatalf("the 45009 burst never hit a welcome (%v)", err)
			}
			welcomes, err := e.ctl.Welcomes(ctx, wecomsim.WelcomeQuery{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, w := range welcomes {
				got[w.ExternalUserID]++
			}
			for _, id := range ext {
				if got[id] != 1 {
					t.Errorf("customer %s got %d welcomes", id, got[id])
				}
			}
			if len(welcomes) != scans {
				t.Errorf("welcomes = %d, want %d", len(welcomes), scans)
			}
			for _, id := range ext {
				c, err := e.ctl.Contact(ctx, id)
				if err != nil || len(c.FollowUser) != 1 || len(c.FollowUser[0].Tags) != 1 {
					t.Fatalf("contact %s not tagged: %+v %v", id, c, err)
				}
			}
			if n, _ := e.gw.store.CountJobs(ctx, "", model.StatusFailed); n != 0 {
				jobs, _ := e.gw.store.ListJobs(ctx, model.JobFilter{Status: model.StatusFailed, Limit: 5})
				t.Fatalf("%d jobs failed for good: %+v", n, jobs)
			}
			if evs, _ := e.gw.store.ListEvents(ctx, model.EventFilter{Status: model.StatusFailed, Limit: 5}); len(evs) != 0 {
				t.Fatalf("events failed: %+v", evs)
			}
		})
	}
}

func ptrInt(v int) *int { return &v }
