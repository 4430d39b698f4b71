package service_test

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/wecom"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// Two replicas sharing one database fetch one access token between them, and
// a token WeCom invalidated early is replaced once for both.
func TestSharedTokensAcrossReplicas(t *testing.T) {
	for _, driver := range modeltest.Drivers {
		t.Run(driver, func(t *testing.T) {
			st := modeltest.Open(t, driver, nil)
			sim, err := wecomsim.New(wecomsim.Options{CorpID: "wwshared", Secret: "sek", Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Close()
			srv := httptest.NewServer(sim.Handler())
			defer srv.Close()
			if err := wecom.SetAPIBase(srv.URL, nil); err != nil {
				t.Fatal(err)
			}
			newReplica := func() *wecom.Client {
				c, err := wecom.NewClient(wecom.ClientConfig{CorpID: "wwshared", Secret: "sek", Now: time.Now, Store: service.SharedTokens{Rows: st}})
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			a, b := newReplica(), newReplica()
			ctx := context.Background()
			var wg sync.WaitGroup
			tokens := make([]string, 20)
			for i := range tokens {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					c := a
					if i%2 == 1 {
						c = b
					}
					tok, err := c.Token(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					tokens[i] = tok.Value
				}(i)
			}
			wg.Wait()
			gets := len(sim.Log(wecomsim.LogQuery{API: "gettoken"}))
			// Each replica may race the other once on a cold cache; never more.
			if gets < 1 || gets > 2 {
				t.Fatalf("gettoken called %d times for 2 replicas", gets)
			}
			// After both have loaded, a third replica reuses the stored token.
			c := newReplica()
			tok, err := c.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(sim.Log(wecomsim.LogQuery{API: "gettoken"})); n != gets {
				t.Fatalf("a fresh replica fetched its own token (%d gettoken calls)", n)
			}
			if tok.Value != tokens[len(tokens)-1] && tok.Value != tokens[0] {
				t.Fatalf("fresh replica token %q differs from the shared ones", tok.Value)
			}
			if _, ok, _ := (service.SharedTokens{Rows: st}).LoadToken(ctx, "missing"); ok {
				t.Fatal("missing key loaded")
			}
		})
	}
}
