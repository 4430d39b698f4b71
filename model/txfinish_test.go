package model_test

import (
	"errors"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

// An add recorded with the event's finish writes the event's outcome in
// its own transaction; with the lease gone it writes nothing at all.
func TestRecordAddFinishesItsEventInItsTransaction(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		for _, k := range []string{"a", "b"} {
			if _, err := st.InsertEvent(ctx, ev(k, "")); err != nil {
				t.Fatal(err)
			}
		}
		evs, err := st.ClaimEvents(ctx, "me", time.Minute, 2)
		if err != nil || len(evs) != 2 {
			t.Fatalf("claimed %d, %v", len(evs), err)
		}
		add := func(e model.Event, owner string) (*model.TxFinish, error) {
			fctx, fin := model.WithFinish(ctx, model.TableEvents, e.ID, owner)
			_, _, _, err := st.RecordAdd(fctx, model.AddRecord{CorpID: "ww1", EventID: e.ID, UserID: "zhangsan",
				ExternalUserID: "wm" + e.DedupeKey, At: clock.Now()})
			return fin, err
		}
		before := st.Statements()
		fin, err := add(evs[0], "me")
		if err != nil || !fin.Done {
			t.Fatalf("add: %v, finished %v", err, fin.Done)
		}
		if n := st.Statements().Transactions - before.Transactions; n != 1 {
			t.Fatalf("add and its outcome took %d transactions, want 1", n)
		}
		if got, _ := st.ListEvents(ctx, model.EventFilter{Status: model.StatusProcessed, Limit: 10}); len(got) != 1 || got[0].ID != evs[0].ID {
			t.Fatalf("processed events = %+v", got)
		}

		// Another owner's lease: nothing of the add is kept.
		fin, err = add(evs[1], "someone else")
		if !errors.Is(err, model.ErrLeaseLost) || fin.Done {
			t.Fatalf("add under a lost lease: %v, finished %v", err, fin.Done)
		}
		if _, err := st.ContactByExternalID(ctx, "ww1", "wmb"); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("contact of a lost add: %v", err)
		}
	})
}
