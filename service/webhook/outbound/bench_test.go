package outbound

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service/webhook"
)

// benchWorkers is the sender's concurrency in the benchmarks
// (GATEWAY_BENCH_WEBHOOK_WORKERS, default the config default of 16).
func benchWorkers() int {
	if n, err := strconv.Atoi(os.Getenv("GATEWAY_BENCH_WEBHOOK_WORKERS")); err == nil && n > 0 {
		return n
	}
	return 16
}

// benchStore opens a fresh database with a quiet log and one endpoint at a
// local receiver that answers 204 at once.
func benchStore(b *testing.B, driver string) (*model.Store, *httptest.Server) {
	b.Helper()
	st, err := model.Open(driver, modeltest.DSN(b, driver), model.Options{Keys: modeltest.Keys, MaxOpenConns: 40, Logger: quiet, Clock: clock.Real{}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	b.Cleanup(crm.Close)
	if err := st.CreateWebhookEndpoint(context.Background(), &model.WebhookEndpoint{CorpID: "ww1", URL: crm.URL, Enabled: true,
		Secret: webhook.NewSecret()}); err != nil {
		b.Fatal(err)
	}
	return st, crm
}

// seed writes n lead events (three per lead, so per-subject order is in
// play) in transactions of 5,000.
func seed(b *testing.B, st *model.Store, n int) {
	b.Helper()
	for i := 0; i < n; i += 5000 {
		es := make([]model.OutboxEvent, 0, 5000)
		for j := i; j < min(n, i+5000); j++ {
			es = append(es, testEvent(webhook.EventLeadStageChanged, fmt.Sprint("lead:", j/3),
				map[string]any{"id": j / 3, "stage": "mql", "score": 42, "name": "王小明", "mobile": "13800000000"}))
		}
		if err := st.EmitWebhooksNow(context.Background(), es); err != nil {
			b.Fatal(err)
		}
	}
}

// drain runs a sender until n deliveries are delivered and returns how long it took.
func drain(b *testing.B, st *model.Store, n int) time.Duration {
	b.Helper()
	w := NewWebhooks(st, clock.Real{}, WebhookOptions{Policy: open, Workers: benchWorkers(), PollInterval: 50 * time.Millisecond, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() { _ = w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for {
		time.Sleep(20 * time.Millisecond)
		got, err := st.CountWebhookDeliveries(context.Background(), model.DeliveryDelivered)
		if err != nil {
			b.Fatal(err)
		}
		if got >= int64(n) {
			return time.Since(start)
		}
		if time.Since(start) > 30*time.Minute {
			b.Fatalf("only %d of %d delivered after 30 minutes", got, n)
		}
	}
}

// BenchmarkWebhookDeliveries measures signed deliveries per second to a
// local receiver, b.N deliveries per run.
func BenchmarkWebhookDeliveries(b *testing.B) {
	for _, d := range modeltest.Drivers {
		b.Run(d, func(b *testing.B) {
			st, _ := benchStore(b, d)
			seed(b, st, b.N)
			b.ResetTimer()
			before := st.Statements().Transactions
			took := drain(b, st, b.N)
			b.ReportMetric(float64(b.N)/took.Seconds(), "deliveries/s")
			// A count, not a timing: claims and recorded attempts per delivery.
			b.ReportMetric(float64(st.Statements().Transactions-before)/float64(b.N), "tx/delivery")
		})
	}
}

// BenchmarkWebhookBacklogDrain measures how long a sender takes to clear a
// backlog (GATEWAY_BENCH_WEBHOOK_BACKLOG, default 100,000 deliveries), as
// after a CRM outage. Run it once per dialect: -benchtime=1x.
func BenchmarkWebhookBacklogDrain(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("GATEWAY_BENCH_WEBHOOK_BACKLOG")); err == nil && v > 0 {
		n = v
	}
	for _, d := range modeltest.Drivers {
		b.Run(d, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				st, _ := benchStore(b, d)
				seedStart := time.Now()
				seed(b, st, n)
				b.Logf("%s: seeded %d deliveries in %s", d, n, time.Since(seedStart).Round(time.Millisecond))
				b.StartTimer()
				took := drain(b, st, n)
				b.ReportMetric(took.Seconds(), "drain-s")
				b.ReportMetric(float64(n)/took.Seconds(), "deliveries/s")
			}
		})
	}
}
