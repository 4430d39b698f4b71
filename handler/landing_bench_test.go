package handler_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/handler"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/groupcode"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/storecode"
	"github.com/leadgate/scrm-gateway/wecom"
)

// BenchmarkLandingPages measures the public landing endpoints a poster's
// scanners hit, over real HTTP against the whole router and a real
// database: the group code page, the store code page, and the nearest-store
// lookup over 200 stores (which also counts a scan: one write per request).
// 32 clients send requests at once; it reports requests per second and the
// 99th-percentile latency.
//
//	go test -run '^$' -bench LandingPages -benchtime 5000x ./handler/
func BenchmarkLandingPages(b *testing.B) {
	for _, driver := range modeltest.Drivers {
		b.Run(driver, func(b *testing.B) {
			st := modeltest.Open(b, driver, nil)
			f := landingFixture(b, st)
			srv, group, store := f.srv, f.group, f.store
			for _, p := range []struct{ name, path string }{
				{"group", "/g/" + group},
				{"store", "/s/" + store},
				{"nearest", "/s/" + store + "/nearest?lat=31.2304&lng=121.4737"},
			} {
				b.Run(p.name, func(b *testing.B) { loadLoop(b, srv.URL+p.path, 32) })
			}
		})
	}
}

// landingFixture stores a group code with a pool of 20 groups and a store
// code over 200 stores straight through the model: landing pages read only
// the database, so no WeCom is needed.
func landingFixture(b testing.TB, st *model.Store) landingSetup {
	b.Helper()
	ctx := context.Background()
	gc := &model.GroupCode{CorpID: corpID, Name: "展会群", Title: "加入展会群", Text: "扫码进群", State: "g:benchgroup", Slug: "benchgroup",
		ConfigID: "cfg", QRCode: "https://wework.qpic.cn/wwpic/bench", Threshold: 200, ChatList: `["wr0","wr1","wr2","wr3","wr4"]`}
	var pool []model.GroupCodeChat
	for i := 0; i < 20; i++ {
		pool = append(pool, model.GroupCodeChat{ChatID: fmt.Sprint("wr", i), Position: i, Name: fmt.Sprint("展会", i, "群"), Members: 50, Customers: 49})
	}
	if err := st.CreateGroupCode(ctx, gc, pool); err != nil {
		b.Fatal(err)
	}
	var stores []*model.RetailStore
	for i := 0; i < 200; i++ {
		// A grid around Shanghai, about 1 km apart.
		stores = append(stores, &model.RetailStore{CorpID: corpID, Name: fmt.Sprint("门店", i), City: fmt.Sprint("城市", i%10),
			Latitude: 31.1 + float64(i/20)*0.01, Longitude: 121.3 + float64(i%20)*0.01, Staff: `{"members":[{"userid":"zhangsan"}]}`})
	}
	if err := st.CreateRetailStores(ctx, stores); err != nil {
		b.Fatal(err)
	}
	sc := &model.StoreCode{CorpID: corpID, Name: "门店码", Title: "最近的门店", Slug: "benchstore", RadiusM: 5000, Offer: "staff"}
	if err := st.CreateStoreCode(ctx, sc); err != nil {
		b.Fatal(err)
	}
	for _, s := range stores {
		w := &model.StoreCodeWay{CorpID: corpID, CodeID: sc.ID, StoreID: s.ID, State: fmt.Sprintf("s:benchstore.%d", s.ID),
			ConfigID: fmt.Sprint("cw", s.ID), QRCode: fmt.Sprint("https://wework.qpic.cn/wwpic/", s.ID), WeComUsers: `["zhangsan"]`}
		if err := st.SaveStoreCodeWay(ctx, w); err != nil {
			b.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	jobs := queue.NewWake()
	noClient := func(string) (*wecom.Client, error) { return nil, fmt.Errorf("no WeCom in this benchmark") }
	groups := groupcode.NewGroupCodes(st, noClient, jobs, nil, clock.Real{}, log, "http://gw.example")
	storeCodes := storecode.NewStoreCodes(st, noClient, jobs, clock.Real{}, log, "http://gw.example")
	cb, err := service.NewCallbacks(queue.NewInbox(st, nil), nil, clock.Real{}, service.CallbackLimits{}, service.CallbackCorp{ID: corpID, Token: token, AESKey: aesKey})
	if err != nil {
		b.Fatal(err)
	}
	r := handler.New(handler.Deps{Callbacks: cb, Auth: auth.New(st, clock.Real{}), Logger: log,
		Groups: groups, Stores: storeCodes, Clock: clock.Real{}})
	srv := httptest.NewServer(r)
	b.Cleanup(srv.Close)
	return landingSetup{srv: srv, group: gc.Slug, store: sc.Slug, groups: groups, stores: storeCodes}
}

// landingSetup is the landing fixture: the server, the two slugs and the
// services behind them.
type landingSetup struct {
	srv          *httptest.Server
	group, store string
	groups       *groupcode.GroupCodes
	stores       *storecode.StoreCodes
}

// loadLoop sends b.N GETs from `clients` goroutines and reports req/s and
// the latency percentiles.
func loadLoop(b *testing.B, url string, clients int) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	b.Cleanup(tr.CloseIdleConnections)
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				resp, err := hc.Get(url)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(lat)))) - 1
		return float64(lat[max(i, 0)].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
