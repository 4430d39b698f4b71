package model_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

// A re-score walks the leads in batches, each one transaction: a lead whose
// re-score changes only its scoring version is not saved on its own (one
// update sets the version of all of them), a lead that changes is saved,
// and merged leads are left out.
func TestUpdateLeadsAfterSavesOnlyWhatChanged(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		var ids []uint64
		for i := range 5 {
			_, _, cid, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "ww1", EventID: uint64(i + 1), UserID: "zhangsan",
				ExternalUserID: fmt.Sprint("wm", i), At: clock.Now()})
			if err != nil {
				t.Fatal(err)
			}
			err = st.UpdateLeadOfContact(ctx, "ww1", cid, func(c *model.Contact) *model.Lead {
				return &model.Lead{CorpID: "ww1", ContactID: c.ID, ExternalUserID: c.ExternalUserID, Stage: "raw", Tags: "[]",
					Breakdown: "[]", StageChangedAt: clock.Now(), LastActivityAt: clock.Now()}
			}, func(lt *model.LeadTx) error { ids = append(ids, lt.Lead.ID); return nil })
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := st.UpdateLead(ctx, "ww1", ids[0], func(lt *model.LeadTx) error { _, err := lt.Absorb(ids[4], "same person"); return err }); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		rescore := func(after uint64, n int) uint64 {
			t.Helper()
			last, err := st.UpdateLeadsAfter(ctx, "ww1", after, n, func(lt *model.LeadTx) error {
				lt.Lead.ScoringVersion = 2
				if lt.Lead.ID == ids[1] {
					lt.Lead.Score = 40
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return last
		}
		before := st.Statements()
		last := rescore(0, 3)
		after := st.Statements()
		if last != ids[2] {
			t.Fatalf("first batch reached %d, want %d", last, ids[2])
		}
		if tx, upd := after.Transactions-before.Transactions, after.Statements["update"]-before.Statements["update"]; tx != 1 || upd != 2 {
			t.Fatalf("a batch of 3 with one change: %d transactions, %d updates; want 1 and 2 (the change, the versions)", tx, upd)
		}
		if last = rescore(last, 3); last != ids[3] {
			t.Fatalf("second batch reached %d, want %d (the merged lead is left out)", last, ids[3])
		}
		if last = rescore(last, 3); last != 0 {
			t.Fatalf("a batch past the end reached %d", last)
		}
		list, err := st.ListLeads(ctx, model.LeadFilter{CorpID: "ww1", Limit: 10})
		if err != nil || len(list) != 4 {
			t.Fatalf("leads %+v, %v", list, err)
		}
		for _, l := range list {
			wantScore := 0
			if l.ID == ids[1] {
				wantScore = 40
			}
			if l.ScoringVersion != 2 || l.Score != wantScore || !l.UpdatedAt.Equal(clock.Now().UTC().Truncate(time.Millisecond)) {
				t.Fatalf("lead %d: version %d, score %d, updated %v; want 2, %d, %v", l.ID, l.ScoringVersion, l.Score, l.UpdatedAt, wantScore, clock.Now())
			}
		}
	})
}
