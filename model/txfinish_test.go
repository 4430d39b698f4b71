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

// A follow-up written with its job's finish: profile, relation, jobs, lead
// and outcome in one transaction, or, under a lost lease, none of them.
func TestRecordFollowUpFinishesItsJobInItsTransaction(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		applied, _, contactID, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "ww1", EventID: 1, UserID: "zhangsan",
			ExternalUserID: "wmA", At: clock.Now(), Jobs: []*model.Job{
				{CorpID: "ww1", Kind: "follow_up", Key: "follow_up:1", OrderKey: "c:wmA", Payload: "{}"},
				{CorpID: "ww1", Kind: "follow_up", Key: "follow_up:2", Payload: "{}"}}})
		if err != nil || !applied {
			t.Fatal(applied, err)
		}
		jobs, err := st.ClaimJobs(ctx, "me", time.Minute, 2, false)
		if err != nil || len(jobs) != 2 {
			t.Fatalf("claimed %d, %v", len(jobs), err)
		}
		follow := func(j model.Job, owner, name string) (*model.TxFinish, error) {
			fctx, fin := model.WithFinish(ctx, model.TableJobs, j.ID, owner)
			return fin, st.RecordFollowUp(fctx, model.FollowUp{CorpID: "ww1", ContactID: contactID, ExternalUserID: "wmA",
				UserID: "zhangsan", Profile: model.ContactProfile{Name: name}, Remark: name, Tags: `["t"]`,
				Jobs: []*model.Job{{CorpID: "ww1", Kind: "remark", Key: "remark:" + name, Payload: "{}"}},
				LeadInit: func(c *model.Contact) *model.Lead {
					return &model.Lead{CorpID: c.CorpID, ContactID: c.ID, ExternalUserID: c.ExternalUserID, Name: c.Name,
						Stage: "raw", Breakdown: "[]", StageChangedAt: clock.Now(), LastActivityAt: clock.Now()}
				},
				Lead: func(lt *model.LeadTx) error { lt.Lead.Score = 7; return nil }})
		}
		fin, err := follow(jobs[1], "someone else", "丢")
		if !errors.Is(err, model.ErrLeaseLost) || fin.Done {
			t.Fatalf("follow-up under a lost lease: %v, finished %v", err, fin.Done)
		}
		if c, _ := st.ContactByExternalID(ctx, "ww1", "wmA"); c.Name != "" {
			t.Fatalf("a lost follow-up wrote the profile: %+v", c)
		}
		if n, _ := st.CountJobs(ctx, "remark", ""); n != 0 {
			t.Fatalf("a lost follow-up queued %d jobs", n)
		}

		before := st.Statements().Transactions
		fin, err = follow(jobs[0], "me", "甲")
		if err != nil || !fin.Done || st.Statements().Transactions-before != 1 {
			t.Fatalf("follow-up: %v, finished %v, %d transactions", err, fin.Done, st.Statements().Transactions-before)
		}
		if j, _ := st.GetJob(ctx, jobs[0].ID); j.Status != model.StatusProcessed {
			t.Fatalf("job ended %s", j.Status)
		}
		rels, _ := st.RelationsOf(ctx, "ww1", "wmA")
		leads, _ := st.ListLeads(ctx, model.LeadFilter{CorpID: "ww1"})
		if c, _ := st.ContactByExternalID(ctx, "ww1", "wmA"); c.Name != "甲" || len(rels) != 1 || rels[0].Remark != "甲" ||
			rels[0].Tags != `["t"]` || len(leads) != 1 || leads[0].Name != "甲" || leads[0].Score != 7 {
			t.Fatalf("follow-up wrote contact %+v, relations %+v, leads %+v", c, rels, leads)
		}
	})
}
