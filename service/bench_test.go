package service_test

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
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/queue"
)

// benchRoster is a full contact way (100 members, WeCom's maximum) as a
// busy corp runs it: two weekday shifts, one crossing midnight, a weekend
// shift, caps on some, a few offline, backups, and a month of holiday and
// replacement overrides, both corp-wide and per member.
func benchRoster() livecode.Roster {
	r := livecode.Roster{TimeZone: "Asia/Shanghai", Backups: []string{"backup1", "backup2"}}
	weekdays := []int{1, 2, 3, 4, 5}
	for i := range 100 {
		m := livecode.RosterMember{UserID: fmt.Sprintf("staff%03d", i)}
		switch i % 3 {
		case 0:
			m.Shifts = []livecode.Shift{{Weekdays: weekdays, Start: "09:00", End: "18:00"}}
		case 1:
			m.Shifts = []livecode.Shift{{Weekdays: weekdays, Start: "14:00", End: "02:00"}}
		case 2:
			m.Shifts = []livecode.Shift{
				{Weekdays: weekdays, Start: "08:00", End: "12:00"},
				{Weekdays: []int{0, 6}, Start: "10:00", End: "22:00"},
			}
		}
		if i%4 == 0 {
			m.DailyCap = 30
		}
		m.Offline = i%17 == 0
		r.Members = append(r.Members, m)
	}
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for d := range 30 {
		date := day.AddDate(0, 0, d).Format("2006-01-02")
		switch {
		case d%7 == 3:
			r.Overrides = append(r.Overrides, livecode.DateOverride{Date: date, Off: true})
		case d%2 == 0:
			r.Overrides = append(r.Overrides, livecode.DateOverride{Date: date,
				UserIDs: []string{fmt.Sprintf("staff%03d", d), fmt.Sprintf("staff%03d", d+40)},
				Shifts:  []livecode.Shift{{Start: "10:00", End: "14:00"}}})
		default:
			r.Overrides = append(r.Overrides, livecode.DateOverride{Date: date,
				UserIDs: []string{fmt.Sprintf("staff%03d", d+1)}, Off: true})
		}
	}
	return r
}

// BenchmarkRosterEligible is the roster decision a random-mode code makes
// on every tick and cap change, and a precise-mode landing page on every
// visit.
func BenchmarkRosterEligible(b *testing.B) {
	r := benchRoster()
	if err := r.Validate(); err != nil {
		b.Fatal(err)
	}
	counts := map[string]int{}
	for i := 0; i < 100; i += 4 {
		counts[fmt.Sprintf("staff%03d", i)] = 10 + i%25
	}
	// Tuesday 15:30 in Shanghai: both weekday shifts on, one override day.
	now := time.Date(2026, 11, 10, 7, 30, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e := r.Eligible(now, counts)
		if len(e.Users) == 0 {
			b.Fatal("nobody eligible")
		}
	}
}

// BenchmarkRosterNextChange is what the scheduler computes to know when to
// look at a code again.
func BenchmarkRosterNextChange(b *testing.B) {
	r := benchRoster()
	now := time.Date(2026, 11, 10, 7, 30, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if !r.NextChange(now).After(now) {
			b.Fatal("next change is not after now")
		}
	}
}

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
