package model_test

import (
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

// The landing pages' version fingerprints read, and move when what a page
// shows changes: a store's edit moves the store pages' version (another
// replica's /s/ cache clears on it), a group code's the group pages'.
func TestLandingVersionsMoveWithTheirPages(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		versions := func() (string, string) {
			t.Helper()
			s, err := st.StoreLandingVersion(ctx)
			if err != nil {
				t.Fatalf("store pages' version: %v", err)
			}
			g, err := st.GroupLandingVersion(ctx)
			if err != nil {
				t.Fatalf("group pages' version: %v", err)
			}
			return s, g
		}
		s0, g0 := versions()
		shop := &model.RetailStore{CorpID: "ww1", Name: "静安店", City: "上海", Latitude: 31.2, Longitude: 121.4, Staff: `{"members":[]}`}
		if err := st.CreateRetailStores(ctx, []*model.RetailStore{shop}); err != nil {
			t.Fatal(err)
		}
		s1, g1 := versions()
		if s1 == s0 || g1 != g0 {
			t.Fatalf("a new store: store pages %q → %q, group pages %q → %q", s0, s1, g0, g1)
		}
		clock.Advance(time.Second)
		shop.Name = "静安寺店"
		if err := st.SaveRetailStore(ctx, shop); err != nil {
			t.Fatal(err)
		}
		if s2, _ := versions(); s2 == s1 {
			t.Fatalf("a renamed store left the store pages' version at %q", s2)
		}
		if err := st.CreateGroupCode(ctx, &model.GroupCode{CorpID: "ww1", Name: "群", Slug: "gv", State: "g:gv", Threshold: 3}, nil); err != nil {
			t.Fatal(err)
		}
		if _, g2 := versions(); g2 == g1 {
			t.Fatalf("a new group code left the group pages' version at %q", g2)
		}
	})
}
