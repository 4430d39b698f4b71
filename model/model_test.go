package model_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

var ctx = context.Background()

func each(t *testing.T, fn func(t *testing.T, st *model.Store, clock *modeltest.Clock)) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) {
			clock := modeltest.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
			fn(t, modeltest.Open(t, d, clock), clock)
		})
	}
}

func ev(key, order string) *model.Event {
	return &model.Event{CorpID: "ww1", DedupeKey: key, Type: "t", OrderKey: order, Payload: "<xml/>"}
}

func TestMigrateIsIdempotentAndVersioned(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		v, err := st.CurrentVersion(ctx)
		if err != nil || v != model.SchemaVersion() {
			t.Fatalf("version = %d, %v; want %d", v, err, model.SchemaVersion())
		}
		applied, err := st.Migrate(ctx)
		if err != nil || len(applied) != 0 {
			t.Fatalf("second migrate applied %v, %v", applied, err)
		}
	})
}

func TestInsertEventDedupes(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		for i := 0; i < 4; i++ {
			inserted, err := st.InsertEvent(ctx, ev("k1", ""))
			if err != nil {
				t.Fatal(err)
			}
			if inserted != (i == 0) {
				t.Fatalf("attempt %d: inserted = %v", i, inserted)
			}
		}
		// Same key in another corp is another event.
		other := ev("k1", "")
		other.CorpID = "ww2"
		if ok, err := st.InsertEvent(ctx, other); err != nil || !ok {
			t.Fatalf("other corp: %v %v", ok, err)
		}
		// Keys are case-sensitive (WeCom ids are).
		if ok, err := st.InsertEvent(ctx, ev("K1", "")); err != nil || !ok {
			t.Fatalf("case-different key: %v %v", ok, err)
		}
		n, _ := st.CountEvents(ctx, "")
		if n != 3 {
			t.Fatalf("count = %d, want 3", n)
		}
	})
}

func TestClaimKeepsOrderPerKey(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		for i, o := range []string{"a", "a", "b", "", ""} {
			if _, err := st.InsertEvent(ctx, ev(fmt.Sprint(i), o)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.ClaimEvents(ctx, "w1", time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		ids := []uint64{}
		for _, e := range got {
			ids = append(ids, e.ID)
			if e.Status != model.StatusProcessing || e.Attempts != 1 {
				t.Fatalf("claimed row %+v", e)
			}
		}
		// The second "a" waits for the first.
		if fmt.Sprint(ids) != "[1 3 4 5]" {
			t.Fatalf("claimed %v, want [1 3 4 5]", ids)
		}
		if more, _ := st.ClaimEvents(ctx, "w2", time.Minute, 10); len(more) != 0 {
			t.Fatalf("claimed %d more while first of key unfinished", len(more))
		}
		if err := st.FinishEvent(ctx, 1, "w1", model.StatusProcessed, ""); err != nil {
			t.Fatal(err)
		}
		more, _ := st.ClaimEvents(ctx, "w2", time.Minute, 10)
		if len(more) != 1 || more[0].ID != 2 {
			t.Fatalf("after finishing 1, claimed %+v", more)
		}
		// The wrong owner cannot finish.
		if err := st.FinishEvent(ctx, 2, "w1", model.StatusProcessed, ""); err == nil {
			t.Fatal("foreign owner finished an event")
		}
	})
}

func TestLeaseExpiryRecoveryAndRelease(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		st.InsertEvent(ctx, ev("x", ""))
		st.InsertEvent(ctx, ev("y", ""))
		if got, _ := st.ClaimEvents(ctx, "dead", time.Minute, 1); len(got) != 1 {
			t.Fatal("claim failed")
		}
		if got, _ := st.ClaimEvents(ctx, "alive", time.Minute, 1); len(got) != 1 {
			t.Fatal("claim failed")
		}
		if n, _ := st.RecoverExpiredEvents(ctx); n != 0 {
			t.Fatalf("recovered %d before expiry", n)
		}
		clock.Advance(2 * time.Minute)
		if n, _ := st.RecoverExpiredEvents(ctx); n != 2 {
			t.Fatalf("recovered %d, want 2", n)
		}
		got, _ := st.ClaimEvents(ctx, "w", time.Minute, 10)
		if len(got) != 2 {
			t.Fatalf("reclaimed %d", len(got))
		}
		if n, _ := st.ReleaseEvents(ctx, "w"); n != 2 {
			t.Fatalf("released %d", n)
		}
		e, _ := st.GetEvent(ctx, got[0].ID)
		if e.Status != model.StatusPending || e.Attempts != 1 {
			t.Fatalf("released row: %+v", e)
		}
	})
}

func TestRetryEventWaitsUntilDue(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		st.InsertEvent(ctx, ev("x", "k"))
		st.InsertEvent(ctx, ev("y", "k"))
		got, _ := st.ClaimEvents(ctx, "w", time.Minute, 10)
		if err := st.RetryEvent(ctx, got[0].ID, "w", clock.Now().Add(30*time.Second), "busy"); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.ClaimEvents(ctx, "w", time.Minute, 10); len(got) != 0 {
			t.Fatalf("claimed %d before due (and the next of its key must wait)", len(got))
		}
		clock.Advance(31 * time.Second)
		got, _ = st.ClaimEvents(ctx, "w", time.Minute, 10)
		if len(got) != 1 || got[0].DedupeKey != "x" || got[0].Attempts != 2 || got[0].Error != "busy" {
			t.Fatalf("after due: %+v", got)
		}
	})
}

func TestConcurrentClaimersNeverShareAnEvent(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		const n = 200
		for i := 0; i < n; i++ {
			st.InsertEvent(ctx, ev(fmt.Sprint(i), ""))
		}
		var mu sync.Mutex
		seen := map[uint64]string{}
		var wg sync.WaitGroup
		for w := 0; w < 6; w++ {
			wg.Add(1)
			go func(owner string) {
				defer wg.Done()
				for {
					got, err := st.ClaimEvents(ctx, owner, time.Minute, 7)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, e := range got {
						if prev, dup := seen[e.ID]; dup {
							t.Errorf("event %d claimed by %s and %s", e.ID, prev, owner)
						}
						seen[e.ID] = owner
					}
					mu.Unlock()
					for _, e := range got {
						if err := st.FinishEvent(ctx, e.ID, owner, model.StatusProcessed, ""); err != nil {
							t.Error(err)
						}
					}
				}
			}(fmt.Sprint("w", w))
		}
		wg.Wait()
		if len(seen) != n {
			t.Fatalf("claimed %d of %d", len(seen), n)
		}
	})
}

func TestListEventsNewestFirstWithFilters(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		for i := 0; i < 5; i++ {
			e := ev(fmt.Sprint(i), "")
			e.Type = []string{"a", "b"}[i%2]
			st.InsertEvent(ctx, e)
		}
		got, _ := st.ListEvents(ctx, model.EventFilter{Type: "a", Limit: 2})
		if len(got) != 2 || got[0].ID != 5 || got[1].ID != 3 || got[0].Payload != "" {
			t.Fatalf("list = %+v", got)
		}
		got, _ = st.ListEvents(ctx, model.EventFilter{Type: "a", BeforeID: 3, Limit: 10})
		if len(got) != 1 || got[0].ID != 1 {
			t.Fatalf("page 2 = %+v", got)
		}
		if _, err := st.GetEvent(ctx, 99); err != model.ErrNotFound {
			t.Fatalf("missing event err = %v", err)
		}
	})
}

func TestWeComTokenAndLease(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		exp := clock.Now().Add(time.Hour)
		if err := st.SaveWeComToken(ctx, "k", "old", exp); err != nil {
			t.Fatal(err)
		}
		if err := st.SaveWeComToken(ctx, "k", "new", exp); err != nil {
			t.Fatal(err)
		}
		st.DropWeComToken(ctx, "k", "old") // stale value: no effect
		v, e, ok, err := st.LoadWeComToken(ctx, "k")
		if err != nil || !ok || v != "new" || !e.Equal(exp) {
			t.Fatalf("load = %q %v %v %v", v, e, ok, err)
		}
		st.DropWeComToken(ctx, "k", "new")
		if _, _, ok, _ := st.LoadWeComToken(ctx, "k"); ok {
			t.Fatal("token survived drop")
		}

		if ok, err := st.AcquireLease(ctx, "cron", "a", time.Minute); !ok || err != nil {
			t.Fatalf("a acquire: %v %v", ok, err)
		}
		if ok, _ := st.AcquireLease(ctx, "cron", "b", time.Minute); ok {
			t.Fatal("b took a held lease")
		}
		if ok, _ := st.AcquireLease(ctx, "cron", "a", time.Minute); !ok {
			t.Fatal("a could not renew with identical values")
		}
		clock.Advance(2 * time.Minute)
		if ok, _ := st.AcquireLease(ctx, "cron", "b", time.Minute); !ok {
			t.Fatal("b could not take an expired lease")
		}
	})
}

func job(key, order string) *model.Job {
	return &model.Job{CorpID: "ww1", Kind: "k", Key: key, OrderKey: order, Payload: "{}"}
}

func TestEnqueueJobsIsIdempotentPerKey(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		if err := st.EnqueueJobs(ctx, job("a", ""), job("b", "")); err != nil {
			t.Fatal(err)
		}
		if err := st.EnqueueJobs(ctx, job("a", ""), job("c", "")); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.CountJobs(ctx, "", ""); n != 3 {
			t.Fatalf("jobs = %d, want 3", n)
		}
	})
}

func TestRearmJobCoalescesAndReruns(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		for i := 0; i < 3; i++ {
			if err := st.RearmJob(ctx, job("sync:1", "way:1")); err != nil {
				t.Fatal(err)
			}
		}
		if n, _ := st.CountJobs(ctx, "", model.StatusPending); n != 1 {
			t.Fatalf("pending = %d, want 1 (coalesced)", n)
		}
		got, _ := st.ClaimJobs(ctx, "w", time.Minute, 10, false)
		if len(got) != 1 {
			t.Fatalf("claimed %d", len(got))
		}
		// A change arrives while it runs: it must run once more.
		if err := st.RearmJob(ctx, job("sync:1", "way:1")); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishJob(ctx, got[0].ID, "w", model.StatusProcessed, ""); err != nil {
			t.Fatal(err)
		}
		again, _ := st.ClaimJobs(ctx, "w", time.Minute, 10, false)
		if len(again) != 1 || again[0].ID != got[0].ID {
			t.Fatalf("rerun not claimed: %+v", again)
		}
		if err := st.FinishJob(ctx, again[0].ID, "w", model.StatusProcessed, ""); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.CountJobs(ctx, "", model.StatusProcessed); n != 1 {
			t.Fatalf("processed = %d", n)
		}
		// A finished job is re-armed by the next change.
		st.RearmJob(ctx, job("sync:1", "way:1"))
		if n, _ := st.CountJobs(ctx, "", model.StatusPending); n != 1 {
			t.Fatalf("re-armed pending = %d", n)
		}
	})
}

// Version 6 replaced the (status, available_at) claim indexes with
// (status, id): a claim reads pending rows in arrival order without sorting
// the whole backlog.
func TestQueueIndexesFollowClaimOrder(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		for _, c := range []struct{ table, want, gone string }{
			{"wecom_events", "idx_events_queue", "idx_events_claim"},
			{"jobs", "idx_jobs_queue", "idx_jobs_claim"},
		} {
			if !st.HasIndex(c.table, c.want) {
				t.Errorf("%s: index %s missing", c.table, c.want)
			}
			if st.HasIndex(c.table, c.gone) {
				t.Errorf("%s: index %s still present", c.table, c.gone)
			}
		}
	})
}

func TestV7ColumnsAndIndex(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		if !st.HasIndex("relations", "idx_relations_state") {
			t.Error("relations: idx_relations_state missing")
		}
		for _, c := range [][2]string{{"channel_codes", "utm"}, {"store_codes", "utm"}, {"group_codes", "utm"}, {"group_codes", "welcome_template_id"}} {
			if !st.HasColumn(c[0], c[1]) {
				t.Errorf("%s.%s missing", c[0], c[1])
			}
		}
	})
}

func TestV8LeadListIndex(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		if !st.HasIndex("leads", "idx_leads_live") {
			t.Error("leads: idx_leads_live missing")
		}
		for _, gone := range []string{"idx_leads_merged_into", "idx_leads_deleted_at"} {
			if st.HasIndex("leads", gone) {
				t.Errorf("leads: %s still present", gone)
			}
		}
	})
}

// Rows of one order key are claimed in the order they were written, even
// while they are written during a claim and several claimers compete (on
// MariaDB a single locking claim statement could see a later row of a key
// but not the earlier one written just before it).
func TestClaimsKeepOrderWhileRowsArrive(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		const keys, perKey, claimers = 16, 40, 3
		var wg sync.WaitGroup
		for k := 0; k < keys; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perKey; i++ {
					e := ev(fmt.Sprintf("k%d-%03d", k, i), fmt.Sprint("key", k))
					if _, err := st.InsertEvent(ctx, e); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		var mu sync.Mutex
		seen := map[string]string{} // order key → last dedupe key claimed
		inFlight := map[string]bool{}
		claimed := 0
		done := make(chan struct{})
		var cw sync.WaitGroup
		for c := 0; c < claimers; c++ {
			cw.Add(1)
			go func() {
				defer cw.Done()
				owner := fmt.Sprint("claimer", c)
				for {
					select {
					case <-done:
						return
					default:
					}
					evs, err := st.ClaimEvents(ctx, owner, time.Minute, 8)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, e := range evs {
						if last := seen[e.OrderKey]; last >= e.DedupeKey {
							t.Errorf("%s claimed after %s", e.DedupeKey, last)
						}
						if inFlight[e.OrderKey] {
							t.Errorf("%s claimed while an earlier row of its key is in flight", e.DedupeKey)
						}
						seen[e.OrderKey], inFlight[e.OrderKey] = e.DedupeKey, true
						claimed++
					}
					mu.Unlock()
					for _, e := range evs {
						// Off the books before the row is finished: a claim can
						// take the key's next row only after the commit.
						mu.Lock()
						inFlight[e.OrderKey] = false
						mu.Unlock()
						if err := st.FinishEvent(ctx, e.ID, owner, model.StatusProcessed, ""); err != nil {
							t.Error(err)
						}
					}
				}
			}()
		}
		wg.Wait()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			mu.Lock()
			n := claimed
			mu.Unlock()
			if n == keys*perKey || time.Now().After(deadline) || t.Failed() {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(done)
		cw.Wait()
		if claimed != keys*perKey {
			t.Fatalf("claimed %d of %d", claimed, keys*perKey)
		}
	})
}

func TestStatementsAreCounted(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		before := st.Statements()
		if _, err := st.InsertEvent(ctx, ev("counted", "")); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ClaimEvents(ctx, "w1", time.Minute, 10); err != nil {
			t.Fatal(err)
		}
		after := st.Statements()
		diff := map[string]int64{}
		for _, op := range model.StatementOps {
			diff[op] = after.Statements[op] - before.Statements[op]
		}
		// The insert commits on its own; the claim is one transaction that
		// reads candidates, locks and updates them, and reads them back.
		if tx := after.Transactions - before.Transactions; tx != 2 {
			t.Fatalf("transactions = %d, want 2", tx)
		}
		if diff["insert"] != 1 || diff["update"] != 1 || diff["select"] < 2 || diff["delete"] != 0 || diff["other"] != 0 {
			t.Fatalf("statements = %v", diff)
		}
	})
}

func TestFinishJobsRecordsABatchInOneTransaction(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		for _, k := range []string{"a", "b", "c"} {
			if err := st.EnqueueJobs(ctx, job(k, "")); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.ClaimJobs(ctx, "w", time.Minute, 3, false)
		if err != nil || len(got) != 3 {
			t.Fatalf("claimed %d, %v", len(got), err)
		}
		// c's lease went to another worker meanwhile; b was re-armed while it ran.
		if n, err := st.ReleaseJobs(ctx, "w"); err != nil || n != 3 {
			t.Fatalf("release: %d %v", n, err)
		}
		again, _ := st.ClaimJobs(ctx, "w", time.Minute, 2, false)
		if len(again) != 2 || again[0].Key != "a" || again[1].Key != "b" {
			t.Fatalf("claimed again %+v", again)
		}
		if _, err := st.ClaimJobs(ctx, "x", time.Minute, 1, false); err != nil {
			t.Fatal(err)
		}
		if err := st.RearmJob(ctx, job("b", "")); err != nil {
			t.Fatal(err)
		}
		before := st.Statements().Transactions
		lost, err := st.FinishJobs(ctx, "w", []model.Outcome{
			{ID: got[2].ID, Status: model.StatusProcessed}, {ID: got[1].ID, Status: model.StatusProcessed},
			{ID: got[0].ID, Status: model.StatusFailed, Reason: "gave up"}})
		if err != nil {
			t.Fatal(err)
		}
		if tx := st.Statements().Transactions - before; tx != 1 {
			t.Fatalf("%d transactions, want 1", tx)
		}
		if !errors.Is(lost[0], model.ErrLeaseLost) || lost[1] != nil || lost[2] != nil {
			t.Fatalf("lost = %v", lost)
		}
		for _, want := range []struct{ status, key string }{
			{model.StatusFailed, "a"}, {model.StatusPending, "b"}, {model.StatusProcessing, "c"}} {
			jobs, _ := st.ListJobs(ctx, model.JobFilter{Status: want.status})
			if len(jobs) != 1 || jobs[0].Key != want.key {
				t.Fatalf("%s: %+v", want.status, jobs)
			}
		}
	})
}
