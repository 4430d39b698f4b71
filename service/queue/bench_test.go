package queue_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service/queue"
)

// BenchmarkDispatcherDrain measures the event queue: events already in the
// inbox, claimed in batches with leases, handed to a handler that does
// nothing, and marked processed. Each event has its own order key (its own
// customer), as a burst of new contacts does. events/s is the rate at
// which the dispatcher empties the inbox, the ceiling on welcomes per
// second before any WeCom call.
func BenchmarkDispatcherDrain(b *testing.B) {
	// Stopping the dispatcher cancels its idle claim, which the store logs
	// as a failed query through the default logger; on stderr that line
	// splits the benchmark's result line and breaks benchstat.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	b.Cleanup(func() { slog.SetDefault(prev) })
	for _, driver := range modeltest.Drivers {
		b.Run(driver, func(b *testing.B) {
			st := modeltest.Open(b, driver, nil)
			ctx := context.Background()
			const typ = "change_external_contact/add_external_contact"
			for i := range b.N {
				ext := fmt.Sprintf("wmDrain%08d", i)
				if _, err := st.InsertEvent(ctx, &model.Event{CorpID: "wwbench", DedupeKey: ext, Type: typ,
					OrderKey: "c:" + ext, ExternalUserID: ext, Payload: benchEventXML(ext)}); err != nil {
					b.Fatal(err)
				}
			}
			var handled atomic.Int64
			done := make(chan struct{})
			d := queue.NewDispatcher(st, map[string]queue.EventHandler{typ: func(context.Context, *queue.InboundEvent) error {
				if handled.Add(1) == int64(b.N) {
					close(done)
				}
				return nil
			}}, queue.NewWakes(), clock.Real{}, queue.DispatcherOptions{
				Workers: 8, BatchSize: 64, SweepInterval: time.Minute,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			rctx, stop := context.WithCancel(ctx)
			stopped := make(chan struct{})
			b.ResetTimer()
			go func() { defer close(stopped); _ = d.Run(rctx) }()
			select {
			case <-done:
			case <-time.After(5 * time.Minute):
				b.Fatalf("handled %d of %d", handled.Load(), b.N)
			}
			// Done means handled; processed means the outcome is written too.
			for {
				n, err := st.CountEvents(ctx, model.StatusProcessed)
				if err != nil {
					b.Fatal(err)
				}
				if n == int64(b.N) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			stop()
			<-stopped
		})
	}
}

func benchEventXML(ext string) string {
	return `<xml><ToUserName><![CDATA[wwbench]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>` +
		`<CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>` +
		`<Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType>` +
		`<UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[` + ext + `]]></ExternalUserID></xml>`
}
