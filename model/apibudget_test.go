package model_test

import (
	"testing"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

// BudgetStates reads the states under a prefix and nothing else; LIKE's
// wildcards in the prefix are plain characters.
func TestBudgetStatesReadsOnePrefix(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		for name, state := range map[string]string{
			"wecom:hold:ww_1:send_welcome_msg": "a", "wecom:hold:ww_1:mark_tag": "b",
			"wecom:hold:wwx1:mark_tag": "c", "wecom:budget:ww_1:mark_tag": "d", "wecom:hold:ww_10:mark_tag": "e",
		} {
			if err := st.UpdateBudget(ctx, name, func([]byte) ([]byte, error) { return []byte(state), nil }); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.BudgetStates(ctx, "wecom:hold:ww_1:")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || string(got["wecom:hold:ww_1:send_welcome_msg"]) != "a" || string(got["wecom:hold:ww_1:mark_tag"]) != "b" {
			t.Fatalf("states = %q", got)
		}
	})
}
