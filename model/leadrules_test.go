package model_test

import (
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

// A scan's lead activity reads its scoring config and tag rules from
// memory: a repeated read sends no statement, a change made here is seen
// by the next read, and one made by another replica within the poll.
func TestLeadRulesAreHeldInMemory(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) {
			replicas := modeltest.Replicas(t, d, 2)
			st, other := replicas[0], replicas[1]
			read := func(s *model.Store) *model.LeadRules {
				t.Helper()
				lr, err := s.LeadRules(ctx, "ww1")
				if err != nil {
					t.Fatal(err)
				}
				return lr
			}
			if lr := read(st); lr.HasScoring || len(lr.Rules) != 0 {
				t.Fatalf("rules of an empty corp = %+v", lr)
			}
			rule := &model.TagRule{CorpID: "ww1", Name: "r1", Enabled: true, Trigger: "contact_added", Conditions: "{}", Actions: "{}"}
			if err := st.SaveTagRule(ctx, rule); err != nil {
				t.Fatal(err)
			}
			if _, err := st.SaveScoringConfig(ctx, "ww1", `{"a":1}`); err != nil {
				t.Fatal(err)
			}
			// Changed here: the next read knows.
			if lr := read(st); !lr.HasScoring || lr.ScoringVersion != 1 || len(lr.Rules) != 1 {
				t.Fatalf("after the changes: %+v", lr)
			}
			before := st.Statements().Statements["select"]
			read(st)
			read(st)
			if n := st.Statements().Statements["select"] - before; n > 1 {
				t.Fatalf("two reads sent %d selects, want at most the version's 1", n)
			}
			// Changed by another replica: seen within the poll.
			waitFor := func(what string, ok func(lr *model.LeadRules) bool) {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for !ok(read(st)) {
					if time.Now().After(deadline) {
						t.Fatalf("%s by another replica not seen within 10 s", what)
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
			if _, err := other.SaveScoringConfig(ctx, "ww1", `{"a":2}`); err != nil {
				t.Fatal(err)
			}
			waitFor("a scoring change", func(lr *model.LeadRules) bool { return lr.ScoringVersion == 2 && lr.Scoring == `{"a":2}` })
			if err := other.DeleteTagRule(ctx, "ww1", rule.ID); err != nil {
				t.Fatal(err)
			}
			waitFor("a rule's deletion", func(lr *model.LeadRules) bool { return len(lr.Rules) == 0 })
		})
	}
}
