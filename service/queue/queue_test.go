package queue

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service/servicetest"
	"github.com/leadgate/scrm-gateway/wecom"
)

// Under a backlog of events the job runner waits: the machine goes to the
// welcomes. It starts once the backlog is worked off, woken by the
// dispatcher rather than its sweep timer.
func TestJobsGiveWayToAnEventBacklog(t *testing.T) {
	for _, driver := range modeltest.Drivers {
		t.Run(driver, func(t *testing.T) {
			st := modeltest.Open(t, driver, nil)
			ctx := context.Background()
			const events, jobs = 120, 5
			for i := range events {
				ext := fmt.Sprintf("wmYield%04d", i)
				if _, err := st.InsertEvent(ctx, &model.Event{CorpID: "ww1", DedupeKey: ext, Type: "t", OrderKey: "c:" + ext,
					Payload: string(wecom.MarshalEvent(&wecom.Event{ToUserName: "ww1", MsgType: "event", Event: "t", ExternalUserID: ext}))}); err != nil {
					t.Fatal(err)
				}
			}
			for i := range jobs {
				if err := st.EnqueueJobs(ctx, &model.Job{CorpID: "ww1", Kind: "k", Key: fmt.Sprint("k", i), Payload: "{}"}); err != nil {
					t.Fatal(err)
				}
			}
			opts := PoolOptions{Workers: 2, BatchSize: 4, SweepInterval: time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			var handled atomic.Int64
			var mu sync.Mutex
			var seen []int64
			done := make(chan struct{})
			wakes := NewWakes()
			d := NewDispatcher(st, map[string]EventHandler{"t": func(context.Context, *InboundEvent) error {
				time.Sleep(time.Millisecond)
				handled.Add(1)
				return nil
			}}, wakes, clock.Real{}, opts)
			r := NewJobRunner(st, map[string]JobHandler{"k": func(context.Context, *model.Job) error {
				mu.Lock()
				defer mu.Unlock()
				if seen = append(seen, handled.Load()); len(seen) == jobs {
					close(done)
				}
				return nil
			}}, wakes, d, clock.Real{}, opts)
			rctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); d.Run(rctx) }()
			defer func() { cancel(); wg.Wait() }()
			// The burst is being worked on when the runner looks for jobs.
			for start := time.Now(); handled.Load() == 0; time.Sleep(time.Millisecond) {
				if time.Since(start) > 10*time.Second {
					t.Fatal("the dispatcher handled no event")
				}
			}
			go func() { defer wg.Done(); r.Run(rctx) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				// The sweep timer is an hour: only the dispatcher's
				// drained signal can have started the jobs.
				t.Fatalf("jobs did not run after the backlog cleared (%d of %d events handled)", handled.Load(), events)
			}
			mu.Lock()
			defer mu.Unlock()
			// The backlog clears when a claim comes back short: at most a
			// claim's worth plus the in-flight ones were still to finish.
			for _, n := range seen {
				if n < events-2*int64(opts.Workers)-int64(opts.BatchSize) {
					t.Fatalf("a job ran with only %d of %d events handled: %v", n, events, seen)
				}
			}
		})
	}
}

func TestYieldingIsBounded(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	events := &Pool{clock: clk}
	jobs := &Pool{yieldTo: events, clock: clk}
	if jobs.yielding() {
		t.Fatal("yields with no backlog")
	}
	events.backlog.Store(true)
	if !jobs.yielding() {
		t.Fatal("does not yield to a backlog")
	}
	clk.Advance(maxYield - time.Millisecond)
	if !jobs.yielding() {
		t.Fatalf("stopped yielding before %v", maxYield)
	}
	clk.Advance(time.Millisecond)
	if jobs.yielding() {
		t.Fatalf("still yields after %v", maxYield)
	}
	events.backlog.Store(false)
	if jobs.yielding() || jobs.yieldingFrom.Load() != 0 {
		t.Fatal("yield not reset once the backlog cleared")
	}
}

// A call refused by a rate limit (our own budget, or WeCom's 45009) was
// never tried: the job comes back pending after the wait without spending
// an attempt, however often that happens, and other errors still count.
func TestRateLimitedJobsSpendNoAttempt(t *testing.T) {
	for _, driver := range modeltest.Drivers {
		t.Run(driver, func(t *testing.T) {
			st := modeltest.Open(t, driver, nil)
			ctx := context.Background()
			if err := st.EnqueueJobs(ctx, &model.Job{CorpID: "ww1", Kind: "k", Key: "k1", Payload: "{}"}); err != nil {
				t.Fatal(err)
			}
			const refusals = 6
			var calls atomic.Int64
			r := NewJobRunner(st, map[string]JobHandler{"k": func(context.Context, *model.Job) error {
				switch n := calls.Add(1); {
				case n%2 == 1 && n < 2*refusals:
					return &wecom.BudgetError{API: wecom.APIMarkTag, RetryAfter: time.Millisecond}
				case n < 2*refusals:
					return &wecom.APIError{API: wecom.APIMarkTag, Code: wecom.CodeFrequencyLimit, RetryAfter: time.Millisecond}
				case n == 2*refusals:
					return fmt.Errorf("system busy")
				}
				return nil
			}}, NewWakes(), nil, clock.Real{}, PoolOptions{Workers: 1, MaxAttempts: 2, SweepInterval: 10 * time.Millisecond, RetryBase: time.Millisecond,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); r.Run(rctx) }()
			defer func() { cancel(); <-done }()
			var j model.Job
			for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
				jobs, err := st.ListJobs(ctx, model.JobFilter{Kind: "k"})
				if err != nil || len(jobs) != 1 {
					t.Fatal(jobs, err)
				}
				if j = jobs[0]; j.Status != model.StatusPending && j.Status != model.StatusProcessing {
					break
				}
				if time.Since(start) > 20*time.Second {
					t.Fatalf("job still %s after %d calls", j.Status, calls.Load())
				}
			}
			if j.Status != model.StatusProcessed || j.Attempts != 2 || calls.Load() != 2*refusals+1 {
				t.Fatalf("job %s after %d attempts and %d calls (%s), want processed after 2 attempts and %d calls",
					j.Status, j.Attempts, calls.Load(), j.Error, 2*refusals+1)
			}
		})
	}
}

// When a replica dies holding an event (its claim counted an attempt and
// nobody renews the lease), another takes it over once the lease runs out,
// and the handler sees the second attempt. A handler that runs several
// leases long keeps its event: the heartbeat renews the lease, so another
// replica sweeping for expired leases never takes it over.
func TestHeartbeatKeepsLeasesAndADeadReplicasEventsAreTakenOver(t *testing.T) {
	for _, driver := range modeltest.Drivers {
		t.Run(driver, func(t *testing.T) {
			st := modeltest.Open(t, driver, nil)
			ctx := context.Background()
			insert := func(ext string) {
				t.Helper()
				if _, err := st.InsertEvent(ctx, &model.Event{CorpID: "ww1", DedupeKey: ext, Type: "t", OrderKey: "c:" + ext,
					Payload: string(wecom.MarshalEvent(&wecom.Event{ToUserName: "ww1", MsgType: "event", Event: "t", ExternalUserID: ext}))}); err != nil {
					t.Fatal(err)
				}
			}
			const lease = 4 * time.Second
			opts := PoolOptions{Workers: 2, Lease: lease, SweepInterval: 20 * time.Millisecond,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			var mu sync.Mutex
			runs := map[string][]int{} // external user -> attempts seen
			release := make(chan struct{})
			handler := func(ctx context.Context, ev *InboundEvent) error {
				mu.Lock()
				runs[ev.ExternalUserID] = append(runs[ev.ExternalUserID], ev.Attempt)
				mu.Unlock()
				if ev.ExternalUserID == "wmSlow" {
					select {
					case <-release:
					case <-ctx.Done():
					}
				}
				return nil
			}
			seen := func(ext string) []int {
				mu.Lock()
				defer mu.Unlock()
				return append([]int(nil), runs[ext]...)
			}
			// A replica that claimed an event and died before it ran it.
			insert("wmOrphan")
			if got, err := st.ClaimEvents(ctx, "dead-replica", lease, 10); err != nil || len(got) != 1 {
				t.Fatal(got, err)
			}
			rctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			defer func() { close(release); cancel(); wg.Wait() }()
			for range 2 { // two replicas
				d := NewDispatcher(st, map[string]EventHandler{"t": handler}, NewWakes(), clock.Real{}, opts)
				wg.Add(1)
				go func() { defer wg.Done(); d.Run(rctx) }()
			}

			servicetest.Eventually(t, "the dead replica's event taken over", func() bool {
				n, _ := st.CountEvents(ctx, model.StatusProcessed)
				return n == 1
			})
			if got := seen("wmOrphan"); len(got) != 1 || got[0] != 2 {
				t.Fatalf("the orphan ran with attempts %v, want [2]", got)
			}

			insert("wmSlow")
			servicetest.Eventually(t, "the slow event started", func() bool { return len(seen("wmSlow")) == 1 })
			// Two leases later, with both replicas sweeping all the while,
			// nobody has taken it over.
			for start := time.Now(); time.Since(start) < 2*lease; time.Sleep(lease / 4) {
				if n := len(seen("wmSlow")); n != 1 {
					t.Fatalf("the slow event ran %d times: its lease was not kept", n)
				}
			}
			release <- struct{}{}
			servicetest.Eventually(t, "the slow event processed", func() bool {
				n, _ := st.CountEvents(ctx, model.StatusProcessed)
				return n == 2
			})
		})
	}
}

// A job or event about a deleted row is ignored with its reason; any other
// failure stays a failure.
func TestIgnoreIfGone(t *testing.T) {
	var ig *ignoreError
	if err := IgnoreIfGone(fmt.Errorf("store: %w", model.ErrNotFound), "code deleted"); !errors.As(err, &ig) || ig.reason != "code deleted" {
		t.Fatalf("a gone row: %v", err)
	}
	other := errors.New("connection refused")
	if err := IgnoreIfGone(other, "code deleted"); err != other {
		t.Fatalf("another failure: %v", err)
	}
}
