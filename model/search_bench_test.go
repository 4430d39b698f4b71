package model_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

// BenchmarkSearch measures ?q= over sealed rows: GATEWAY_BENCH_SEARCH_ROWS
// contacts (default 10,000), each with a lead, on both stores. "miss" reads
// and opens every row (the bound's worst case); "page" stops at the first 50
// matches; "mobile" is the blind index; "list" is a page without q.
//
//	go test -run '^$' -bench Search -benchtime 20x ./model/
func BenchmarkSearch(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("GATEWAY_BENCH_SEARCH_ROWS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	for _, d := range modeltest.Drivers {
		b.Run(d, func(b *testing.B) {
			st := modeltest.Open(b, d, nil)
			if err := st.SeedSearchBench(ctx, n); err != nil {
				b.Fatal(err)
			}
			for _, bc := range []struct {
				name string
				run  func() (int, error)
				want int
			}{
				{"contacts-miss", func() (int, error) {
					cs, err := st.ListContacts(ctx, model.ContactFilter{CorpID: "c1", Q: "nobody"})
					return len(cs), err
				}, 0},
				{"contacts-miss-staff", func() (int, error) {
					cs, err := st.ListContacts(ctx, model.ContactFilter{CorpID: "c1", UserID: "u1", Follower: "u1", Q: "nobody"})
					return len(cs), err
				}, 0},
				{"contacts-page", func() (int, error) {
					cs, err := st.ListContacts(ctx, model.ContactFilter{CorpID: "c1", Q: "客户"})
					return len(cs), err
				}, 50},
				{"contacts-list-staff", func() (int, error) {
					cs, err := st.ListContacts(ctx, model.ContactFilter{CorpID: "c1", UserID: "u1", Follower: "u1"})
					return len(cs), err
				}, 50},
				{"contacts-list", func() (int, error) {
					cs, err := st.ListContacts(ctx, model.ContactFilter{CorpID: "c1"})
					return len(cs), err
				}, 50},
				{"leads-miss", func() (int, error) {
					ls, err := st.ListLeads(ctx, model.LeadFilter{CorpID: "c1", Q: "nobody"})
					return len(ls), err
				}, 0},
				{"leads-mobile", func() (int, error) {
					ls, err := st.ListLeads(ctx, model.LeadFilter{CorpID: "c1", Q: "13900000042"})
					return len(ls), err
				}, 1},
				{"leads-list", func() (int, error) {
					ls, err := st.ListLeads(ctx, model.LeadFilter{CorpID: "c1"})
					return len(ls), err
				}, 50},
			} {
				b.Run(bc.name, func(b *testing.B) {
					for b.Loop() {
						got, err := bc.run()
						if err != nil || got != bc.want {
							b.Fatalf("%d results, %v; want %d", got, err, bc.want)
						}
					}
				})
			}
		})
	}
}
