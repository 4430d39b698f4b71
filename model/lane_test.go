package model_test

import (
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

func ids[T any](rows []T, id func(T) uint64) []uint64 {
	out := make([]uint64, 0, len(rows))
	for _, r := range rows {
		out = append(out, id(r))
	}
	return out
}

// Adds whose welcome window is open are claimed ahead of every other
// event, oldest first; an add past its window waits its turn; and the lane
// never breaks the order of one contact's events.
func TestClaimEventsTakesOpenWelcomesFirst(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		insert := func(key, order string, lane int) uint64 {
			e := ev(key, order)
			e.Lane = lane
			if _, err := st.InsertEvent(ctx, e); err != nil {
				t.Fatal(err)
			}
			return e.ID
		}
		stale := insert("stale-add", "c:s", model.LaneDeadline)
		clock.Advance(model.WelcomeWindow + time.Second)
		bulk1 := insert("bulk1", "g:1", 0)
		bulk2 := insert("bulk2", "g:2", 0)
		edit := insert("edit", "c:x", 0)
		blocked := insert("add-after-edit", "c:x", model.LaneDeadline)
		add1 := insert("add1", "c:a", model.LaneDeadline)
		add2 := insert("add2", "c:b", model.LaneDeadline)
		evID := func(e model.Event) uint64 { return e.ID }

		got, err := st.ClaimEvents(ctx, "w", time.Minute, 2)
		if err != nil {
			t.Fatal(err)
		}
		if g := ids(got, evID); len(g) != 2 || g[0] != add1 || g[1] != add2 {
			t.Fatalf("first claim %v, want the open adds %d, %d", g, add1, add2)
		}
		got, _ = st.ClaimEvents(ctx, "w", time.Minute, 10)
		if g := ids(got, evID); len(g) != 4 || g[0] != stale || g[1] != bulk1 || g[2] != bulk2 || g[3] != edit {
			t.Fatalf("second claim %v, want %v in arrival order (the add behind the edit waits)", g, []uint64{stale, bulk1, bulk2, edit})
		}
		if err := st.FinishEvent(ctx, edit, "w", model.StatusProcessed, ""); err != nil {
			t.Fatal(err)
		}
		got, _ = st.ClaimEvents(ctx, "w", time.Minute, 10)
		if g := ids(got, evID); len(g) != 1 || g[0] != blocked {
			t.Fatalf("third claim %v, want %d", g, blocked)
		}
	})
}

// Cap syncs are claimed ahead of bulk jobs, and alone while the runner gives
// way to an event backlog.
func TestClaimJobsTakesTheDeadlineLaneFirst(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		for i := range 5 {
			if err := st.EnqueueJobs(ctx, job("bulk"+string(rune('a'+i)), "")); err != nil {
				t.Fatal(err)
			}
		}
		sync := job("sync_way:1", "way:1")
		sync.Lane = model.LaneDeadline
		if err := st.RearmJob(ctx, sync); err != nil {
			t.Fatal(err)
		}
		only, err := st.ClaimJobs(ctx, "w", time.Minute, 10, true)
		if err != nil || len(only) != 1 || only[0].Key != "sync_way:1" {
			t.Fatalf("deadline-only claim = %+v, %v", only, err)
		}
		if again, _ := st.ClaimJobs(ctx, "w", time.Minute, 10, true); len(again) != 0 {
			t.Fatalf("deadline-only claim took bulk jobs: %+v", again)
		}
		if err := st.FinishJob(ctx, only[0].ID, "w", model.StatusProcessed, ""); err != nil {
			t.Fatal(err)
		}
		// Re-armed behind five pending bulk jobs, it still goes first.
		if err := st.RearmJob(ctx, sync); err != nil {
			t.Fatal(err)
		}
		got, _ := st.ClaimJobs(ctx, "w", time.Minute, 2, false)
		if len(got) != 2 || got[0].Key != "sync_way:1" || got[1].Key != "bulka" {
			t.Fatalf("claim = %+v, want the sync then the oldest bulk job", got)
		}
	})
}
