package model_test

import (
	"context"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

func TestAuditRecordsListsAndPrunes(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		ctx := context.Background()
		t0 := clock.Now()
		var entries []model.AuditEntry
		for i := 0; i < 6; i++ {
			entries = append(entries, model.AuditEntry{At: t0.Add(time.Duration(i) * time.Hour), TokenID: uint64(1 + i%2), TokenName: "t",
				Role: "staff", Action: model.AuditRead, SubjectKind: model.AuditContact, SubjectID: uint64(10 + i%3), Route: "/api/v1/contacts/:id", Client: "127.0.0.1"})
		}
		if err := st.RecordAudit(ctx, entries); err != nil {
			t.Fatal(err)
		}
		count := func(f model.AuditFilter) int {
			got, err := st.ListAudit(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return len(got)
		}
		for _, tc := range []struct {
			f    model.AuditFilter
			want int
		}{
			{model.AuditFilter{}, 6},
			{model.AuditFilter{SubjectKind: model.AuditContact, SubjectID: 10}, 2},
			{model.AuditFilter{SubjectKind: model.AuditLead, SubjectID: 10}, 0},
			{model.AuditFilter{TokenID: 2}, 3},
			{model.AuditFilter{From: t0.Add(2 * time.Hour), To: t0.Add(4 * time.Hour)}, 2},
			{model.AuditFilter{Limit: 4}, 4},
		} {
			if got := count(tc.f); got != tc.want {
				t.Errorf("%+v: %d entries, want %d", tc.f, got, tc.want)
			}
		}
		page, _ := st.ListAudit(ctx, model.AuditFilter{Limit: 2})
		if rest := count(model.AuditFilter{BeforeID: page[1].ID}); rest != 4 || page[0].ID < page[1].ID {
			t.Errorf("next page: %d, page %d,%d", rest, page[0].ID, page[1].ID)
		}
		// Pruning in chunks removes exactly the old entries.
		n, err := st.PruneAudit(ctx, t0.Add(3*time.Hour), 2)
		if err != nil || n != 2 {
			t.Fatalf("prune chunk: %d %v", n, err)
		}
		n, err = st.PruneAudit(ctx, t0.Add(3*time.Hour), 100)
		if err != nil || n != 1 || count(model.AuditFilter{}) != 3 {
			t.Fatalf("prune rest: %d %v, left %d", n, err, count(model.AuditFilter{}))
		}
	})
}
