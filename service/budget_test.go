package service_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/wecom"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// Replicas on one database share each API's budget: together they make
// exactly the calls the budget allows, WeCom never answers 45009, and the
// calls they were refused never reach it.
func TestBudgetIsSharedByReplicas(t *testing.T) {
	for _, driver := range modeltest.Drivers {
		t.Run(driver, func(t *testing.T) {
			st := modeltest.Open(t, driver, nil)
			const limit = 30
			sim, err := wecomsim.New(wecomsim.Options{CorpID: "wwbudget", Secret: "sek", Seed: 1, RateLimitPerMinute: limit})
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Close()
			srv := httptest.NewServer(sim.Handler())
			defer srv.Close()
			if err := wecom.SetAPIBase(srv.URL, nil); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			now := time.Now()
			var made, refused atomic.Int64
			var wg sync.WaitGroup
			for r := 0; r < 3; r++ {
				c, err := wecom.NewClient(wecom.ClientConfig{CorpID: "wwbudget", Secret: "sek", Store: service.SharedTokens{Rows: st},
					BudgetStore: st, Now: func() time.Time { return now },
					Budget: wecom.BudgetConfig{PerAPI: map[string]wecom.Limit{wecom.APIGetCorpTags: {PerMinute: limit}}}})
				if err != nil {
					t.Fatal(err)
				}
				for w := 0; w < 4; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for miss := 0; miss < 3; {
							_, err := c.GetCorpTags(ctx, nil, nil)
							switch {
							case err == nil:
								made.Add(1)
								miss = 0
							case errors.Is(err, wecom.ErrBudgetExhausted):
								refused.Add(1)
								miss++
							default:
								t.Error(err)
								return
							}
						}
					}()
				}
			}
			wg.Wait()
			if made.Load() != limit {
				t.Errorf("replicas made %d calls together, want the budget's %d (%d refused)", made.Load(), limit, refused.Load())
			}
			if n := len(sim.Log(wecomsim.LogQuery{API: wecom.APIGetCorpTags})); n != limit {
				t.Errorf("WeCom saw %d calls, want %d", n, limit)
			}
			for _, e := range sim.Log(wecomsim.LogQuery{API: wecom.APIGetCorpTags}) {
				if e.ErrCode != 0 {
					t.Fatalf("WeCom answered %d", e.ErrCode)
				}
			}
		})
	}
}
