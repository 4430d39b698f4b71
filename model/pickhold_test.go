package model_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

// Pruning deletes the holds that count for nobody (consumed by their add, or
// expired) and keeps the live ones, which still count toward the cap.
func TestPrunePickHoldsKeepsOnlyLiveHolds(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		const day = "2026-11-23"
		codeID, hold, counts := precise(t, st, clock, "prune", day)
		hold("zhangsan", time.Minute)  // runs out
		hold("lisi", 5*time.Minute)    // consumed by its add
		hold("wangwu", 5*time.Minute)  // still live at the prune
		hold("wangwu", 30*time.Second) // runs out
		if _, _, _, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "ww1", EventID: 1, UserID: "lisi", ExternalUserID: "wmL",
			CodeID: codeID, At: clock.Now(), CountDay: day, ConsumeHold: true, StatDay: day}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Minute)
		before := counts()

		n, err := st.PrunePickHolds(ctx, clock.Now(), 1) // one row a statement: the batches add up
		if err != nil || n != 3 {
			t.Fatalf("pruned %d, %v; want 3 (two expired, one consumed)", n, err)
		}
		if after := counts(); after["wangwu"] != 1 || after["lisi"] != 1 || after["zhangsan"] != 0 || len(after) != len(before) {
			t.Fatalf("counts before %v, after %v: a prune must change no count", before, after)
		}
		if n, err := st.PrunePickHolds(ctx, clock.Now(), 100); err != nil || n != 0 {
			t.Fatalf("second prune: %d, %v", n, err)
		}
		clock.Advance(5 * time.Minute)
		if n, err := st.PrunePickHolds(ctx, clock.Now(), 100); err != nil || n != 1 {
			t.Fatalf("prune after the last hold ran out: %d, %v", n, err)
		}
	})
}

// An add returns the staff member's count for the day after it, from the
// statement that raised it (one statement, the count read back from it).
func TestRecordAddReturnsTheDaysCount(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		code := &model.ChannelCode{CorpID: "ww1", Name: "n", State: "c:count", Slug: "count"}
		if err := st.CreateChannelCode(ctx, code); err != nil {
			t.Fatal(err)
		}
		for i, want := range []struct {
			user, day string
			count     int
		}{{"zhangsan", "2026-11-23", 1}, {"zhangsan", "2026-11-23", 2}, {"lisi", "2026-11-23", 1}, {"zhangsan", "2026-11-23", 3}, {"zhangsan", "2026-11-24", 1}} {
			applied, n, _, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "ww1", EventID: uint64(i + 1), UserID: want.user,
				ExternalUserID: fmt.Sprint("wm", i), CodeID: code.ID, At: clock.Now(), CountDay: want.day})
			if err != nil || !applied || n != want.count {
				t.Fatalf("add %d (%s on %s): count %d, applied %v, %v; want %d", i, want.user, want.day, n, applied, err, want.count)
			}
		}
	})
}

// A pick reads its members' counts from running tallies: a hold raises its
// member's, an add consuming it or its expiry lowers it, once. An add whose
// hold ran out (and was swept) before the add was handled consumes that
// hold, not another visitor's live one, and lowers nothing again.
func TestPickTalliesCountTheLiveHoldsOnce(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		const day = "2026-11-24"
		codeID, hold, countsOf := precise(t, st, clock, "tally", day)
		counts := func() string {
			t.Helper()
			n := countsOf()
			return fmt.Sprintf("zhangsan=%d lisi=%d", n["zhangsan"], n["lisi"])
		}
		add := func(event uint64, user string, at time.Time) {
			t.Helper()
			if _, _, _, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "ww1", EventID: event, UserID: user, ExternalUserID: fmt.Sprintf("wm%d", event),
				CodeID: codeID, At: at, CountDay: day, ConsumeHold: true, StatDay: day}); err != nil {
				t.Fatal(err)
			}
		}
		start := clock.Now()
		hold("zhangsan", time.Minute)   // its visitor adds late
		hold("zhangsan", 5*time.Minute) // another visitor, still live
		hold("lisi", 5*time.Minute)
		for i := 0; i < 3; i++ {
			hold("lisi", 30*time.Second) // visitors who never scan
		}
		if got := counts(); got != "zhangsan=2 lisi=4" {
			t.Fatalf("after the picks: %s", got)
		}
		clock.Advance(2 * time.Minute)
		if got := counts(); got != "zhangsan=1 lisi=1" {
			t.Fatalf("after four holds ran out: %s", got)
		}
		// The first visitor's add, made while their hold was live, handled
		// now: the add counts, the other visitor's hold still does.
		add(1, "zhangsan", start.Add(30*time.Second))
		if got := counts(); got != "zhangsan=2 lisi=1" {
			t.Fatalf("after the late add: %s", got)
		}
		add(2, "lisi", clock.Now()) // consumes lisi's live hold: the add takes its place
		if got := counts(); got != "zhangsan=2 lisi=1" {
			t.Fatalf("after lisi's add: %s", got)
		}
		if _, err := st.PrunePickHolds(ctx, clock.Now(), 100); err != nil {
			t.Fatal(err)
		}
		if got := counts(); got != "zhangsan=2 lisi=1" {
			t.Fatalf("after a prune: %s", got)
		}
		clock.Advance(5 * time.Minute)
		if n, err := st.PrunePickHolds(ctx, clock.Now(), 100); err != nil || n != 1 {
			t.Fatalf("prune after the last hold ran out: %d, %v", n, err)
		}
		if got := counts(); got != "zhangsan=1 lisi=1" {
			t.Fatalf("when only the adds count: %s", got)
		}
	})
}

// Version 16 starts each tally from the holds that still count when it
// runs: consumed ones are released, live ones counted.
func TestMigrationTalliesTheLiveHolds(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		const day = "2026-11-25"
		codeID, hold, counts := precise(t, st, clock, "v16", day)
		for _, u := range []string{"zhangsan", "zhangsan", "zhangsan", "lisi"} {
			hold(u, 5*time.Minute)
		}
		if _, _, _, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "ww1", EventID: 1, UserID: "lisi", ExternalUserID: "wmM",
			CodeID: codeID, At: clock.Now(), CountDay: day, ConsumeHold: true, StatDay: day}); err != nil {
			t.Fatal(err)
		}
		// Back to version 15: no tallies, no released column (the consumed
		// hold is told by consumed_at alone).
		db := st.RawDB()
		drop := []string{"DROP INDEX idx_pick_holds_sweep", "DROP INDEX idx_pick_holds_released"}
		if strings.HasSuffix(t.Name(), "mysql") {
			drop = []string{"DROP INDEX idx_pick_holds_sweep ON pick_holds", "DROP INDEX idx_pick_holds_released ON pick_holds"}
		}
		for _, q := range append(drop, "ALTER TABLE pick_holds DROP COLUMN released", "DROP TABLE pick_tallies",
			"DELETE FROM schema_migrations WHERE version = 16") {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if applied, err := st.Migrate(ctx); err != nil || len(applied) != 1 || applied[0] != 16 {
			t.Fatalf("migrate %v %v", applied, err)
		}
		if got := counts(); got["zhangsan"] != 3 || got["lisi"] != 1 {
			t.Fatalf("counts after version 16: %v, want zhangsan 3 (held), lisi 1 (the add)", got)
		}
		clock.Advance(6 * time.Minute)
		if got := counts(); got["zhangsan"] != 0 || got["lisi"] != 1 {
			t.Fatalf("counts once the holds ran out: %v", got)
		}
	})
}

// precise makes a precise-mode code and returns its id, a way to hold a
// pick for user, and the members' counts on day as a pick reads them.
func precise(t *testing.T, st *model.Store, clock *modeltest.Clock, slug, day string) (uint64, func(user string, life time.Duration), func() map[string]int) {
	t.Helper()
	code := &model.ChannelCode{CorpID: "ww1", Name: slug, State: "c:" + slug, Slug: slug, Mode: "precise"}
	if err := st.CreateChannelCode(ctx, code); err != nil {
		t.Fatal(err)
	}
	hold := func(user string, life time.Duration) {
		t.Helper()
		err := st.LockChannelCode(ctx, code.ID, func(_ *model.ChannelCode, _ func(string, time.Time) (map[string]int, error), hold func(string, string, time.Time) error) error {
			return hold(day, user, clock.Now().Add(life))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	counts := func() map[string]int {
		t.Helper()
		var out map[string]int
		err := st.LockChannelCode(ctx, code.ID, func(_ *model.ChannelCode, counts func(string, time.Time) (map[string]int, error), _ func(string, string, time.Time) error) error {
			var err error
			out, err = counts(day, clock.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	return code.ID, hold, counts
}

// Customers of one member who add at the same moment each consume a hold
// of their own (on MySQL their transactions overlap): none is left counting
// beside the adds, so the member's count is the adds alone.
func TestSimultaneousAddsEachConsumeAHold(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		const day, n = "2026-11-26", 24
		codeID, hold, counts := precise(t, st, clock, "crowd", day)
		for range n {
			hold("zhangsan", 5*time.Minute)
		}
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, _, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "ww1", EventID: uint64(100 + i), UserID: "zhangsan",
					ExternalUserID: fmt.Sprintf("wmS%d", i), CodeID: codeID, At: clock.Now(), CountDay: day, ConsumeHold: true, StatDay: day})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := counts()["zhangsan"]; got != n {
			t.Fatalf("count after %d holds and their %d adds: %d, want %d (a hold left counting beside its add)", n, n, got, n)
		}
	})
}
