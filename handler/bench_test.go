package handler_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/handler"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/wecom"
)

// BenchmarkCallbackAccept measures the callback ingress as WeCom sees it:
// an encrypted, signed add_external_contact POSTed over HTTP to the real
// router, verified, decrypted, parsed and committed to the inbox before the
// 200. Every event is new (its own ExternalUserID), so each one is an
// insert, not a duplicate. No dispatcher runs: this is the ingress alone.
//
// WeCom delivers many callbacks at once, so 8 requests per CPU are kept in
// flight (GATEWAY_BENCH_PER_CPU=N keeps N per CPU). ns/op under RunParallel is wall time divided by requests, which
// callbacks/s restates; p50-ms and p99-ms are per-request acknowledgement
// latencies seen by the client.
func BenchmarkCallbackAccept(b *testing.B) {
	for _, driver := range modeltest.Drivers {
		b.Run(driver, func(b *testing.B) {
			st := modeltest.Open(b, driver, nil)
			cr, err := wecom.NewCrypter(token, aesKey, corpID)
			if err != nil {
				b.Fatal(err)
			}
			reg := prometheus.NewRegistry()
			cb, err := service.NewCallbacks(queue.NewInbox(st, nil), queue.NewMetrics(reg), clock.Real{}, service.CallbackLimits{},
				service.CallbackCorp{ID: corpID, Token: token, AESKey: aesKey})
			if err != nil {
				b.Fatal(err)
			}
			r := handler.New(handler.Deps{
				Callbacks: cb, Queue: service.NewQueueLog(st), Auth: auth.New(st, clock.Real{}), Gatherer: reg,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: clock.Real{},
			})
			srv := httptest.NewServer(r)
			defer srv.Close()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
			defer hc.CloseIdleConnections()

			// Seal outside the timer: the client's AES and SHA-1 are not the
			// gateway's cost.
			reqs := make([]benchCallback, b.N)
			run := time.Now().UnixNano()
			for i := range reqs {
				reqs[i] = sealBenchCallback(b, cr, srv.URL, fmt.Sprintf("wmBench%d-%d", run, i))
			}
			var next atomic.Int64
			var mu sync.Mutex
			var lat []float64

			perCPU := 8
			if n, err := strconv.Atoi(os.Getenv("GATEWAY_BENCH_PER_CPU")); err == nil && n > 0 {
				perCPU = n
			}
			b.SetParallelism(perCPU)
			before := st.Statements()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				mine := make([]float64, 0, 1024)
				for pb.Next() {
					c := reqs[next.Add(1)-1]
					start := time.Now()
					resp, err := hc.Post(c.url, "text/xml", bytes.NewReader(c.body))
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					mine = append(mine, float64(time.Since(start).Microseconds())/1000)
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "callbacks/s")
			// Counts, not timings: what group commit saves.
			after := st.Statements()
			b.ReportMetric(float64(after.Transactions-before.Transactions)/float64(b.N), "tx/callback")
			b.ReportMetric(float64(after.Statements["insert"]-before.Statements["insert"])/float64(b.N), "inserts/callback")
			slices.Sort(lat)
			b.ReportMetric(benchPercentile(lat, 50), "p50-ms")
			b.ReportMetric(benchPercentile(lat, 99), "p99-ms")
		})
	}
}

type benchCallback struct {
	url  string
	body []byte
}

func sealBenchCallback(b *testing.B, cr *wecom.Crypter, base, ext string) benchCallback {
	ts := fmt.Sprint(time.Now().Unix())
	ev := &wecom.Event{ToUserName: corpID, FromUserName: "sys", CreateTime: time.Now().Unix(), MsgType: "event",
		Event: wecom.EventExternalContact, ChangeType: wecom.ChangeAddContact, UserID: "zhangsan",
		ExternalUserID: ext, State: "c:bench", WelcomeCode: "WC-" + ext}
	body, sig, err := cr.SealEvent(ev, ts, "nonce"+ext)
	if err != nil {
		b.Fatal(err)
	}
	q := url.Values{"msg_signature": {sig}, "timestamp": {ts}, "nonce": {"nonce" + ext}}
	return benchCallback{url: base + "/wecom/callback/" + corpID + "?" + q.Encode(), body: body}
}

// benchPercentile is the nearest-rank percentile of sorted values.
func benchPercentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100 + 0.999999)
	return sorted[min(max(rank, 1), len(sorted))-1]
}
