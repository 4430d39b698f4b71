package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

func (e *e2e) leadOf(ext string) webhook.Lead {
	e.t.Helper()
	c, err := e.gw.store.ContactByExternalID(context.Background(), e2eCorp, ext)
	if err != nil {
		e.t.Fatal(err)
	}
	var list struct {
		Leads []webhook.Lead `json:"leads"`
	}
	e.api("GET", "/api/v1/leads?limit=500", nil, &list)
	for _, l := range list.Leads {
		if l.ContactID == c.ID {
			var full webhook.Lead
			e.api("GET", fmt.Sprintf("/api/v1/leads/%d", l.ID), nil, &full)
			return full
		}
	}
	e.t.Fatalf("no lead for %s", ext)
	return webhook.Lead{}
}

func stagesOf(l webhook.Lead) string {
	var s []string
	for _, t := range l.Transitions {
		s = append(s, t.To+"/"+t.Actor)
	}
	return strings.Join(s, ",")
}

// TestLeadLifecycleThroughTheSimulator walks the whole path: scan → rule
// tags → BANT set by an admin → MQL → SQL → handed off → CRM rejects →
// nurturing, with the score explained line by line.
func TestLeadLifecycleThroughTheSimulator(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		code := e.createCode(map[string]any{"name": "春季展会", "tags": []string{"展会"}, "roster": roster(member("zhangsan"))})
		var created struct {
			Tags []livecode.TagView `json:"tags"`
		}
		if st := e.api("POST", "/api/v1/tags", map[string]any{"group": "线索", "names": []string{"高意向"}}, &created); st != 201 || len(created.Tags) != 1 {
			t.Fatalf("create tag: %d %+v", st, created)
		}
		// Rule: a contact added through this code gets 高意向 and 15 points.
		var rule lead.TagRuleSpec
		if st := e.api("POST", "/api/v1/tag-rules", map[string]any{"name": "展会加分", "priority": 1, "trigger": "contact_added",
			"conditions": map[string]any{"code_ids": []uint64{code.ID}},
			"actions":    map[string]any{"add_tags": []string{"高意向"}, "score_delta": 15}}, &rule); st != 201 {
			t.Fatalf("create rule: %d", st)
		}
		res := e.scan(code, "李雷")
		e.idle()

		l := e.leadOf(res.ExternalUserID)
		if l.Stage != lead.StageMQL || l.Name != "李雷" || l.Owner != "zhangsan" || l.Source.CodeID != code.ID || l.Source.Kind != "channel" {
			t.Fatalf("new lead = %+v", l)
		}
		// added via code 10 + tag 展会 5 + tag 高意向 5 + rule 15 + recency 10 = 45 ≥ MQL 30
		if l.Score != 45 || strings.Join(l.Tags, ",") != "展会,高意向" {
			t.Fatalf("score %d tags %v breakdown %+v", l.Score, l.Tags, l.Breakdown)
		}
		if len(l.Breakdown) != 5 {
			t.Fatalf("breakdown = %+v", l.Breakdown)
		}
		// 45 crosses MQL on creation.
		if stagesOf(l) != "raw/system,mql/score" {
			t.Fatalf("transitions = %s", stagesOf(l))
		}
		sc, _ := e.ctl.Contact(ctx, res.ExternalUserID)
		if n := len(sc.FollowUser[0].Tags); n != 2 {
			t.Fatalf("WeCom tags on the relation = %d, want 2 (code tag + rule tag)", n)
		}

		// The admin learns two BANT answers: 45 + 20 + 15 = 80 ≥ SQL 60.
		var patched webhook.Lead
		if st := e.api("PATCH", fmt.Sprintf("/api/v1/leads/%d", l.ID), map[string]any{
			"bant":   map[string]any{"need": map[string]string{"value": "yes", "note": "expanding"}, "budget": map[string]string{"value": "yes"}},
			"mobile": "+86 138-0013-8000"}, &patched); st != 200 {
			t.Fatalf("patch: %d", st)
		}
		if patched.Stage != lead.StageHandedOff || patched.Score != 80 || patched.Mobile != "13800138000" || !patched.MobileValid {
			t.Fatalf("after BANT: %+v", patched)
		}

		// The CRM rejects it: back to nurturing. A repeat of the answer changes nothing.
		crm, _, _ := auth.New(e.gw.store, e.clock).CreateToken(ctx, "crm", auth.RoleCRM)
		answer := map[string]any{"event_id": "crm-evt-1", "status": "rejected", "reason": "no budget this year"}
		var out lead.CRMResult
		if st := e.api("POST", fmt.Sprintf("/api/v1/crm/leads/%d/status", l.ID), answer, &out, crm); st != 200 || out.Stage != lead.StageNurturing {
			t.Fatalf("crm reject: %d %+v", st, out)
		}
		if st := e.api("POST", fmt.Sprintf("/api/v1/crm/leads/%d/status", l.ID), answer, &out, crm); st != 200 || !out.Duplicate {
			t.Fatalf("crm repeat: %d %+v", st, out)
		}
		// The same event id with another answer is a conflict naming event_id
		// (the document's 409), and changes nothing.
		var conflict struct {
			Error errorDetail `json:"error"`
		}
		for _, reused := range []map[string]any{
			{"event_id": "crm-evt-1", "status": "accepted"},
			{"event_id": "crm-evt-1", "status": "rejected", "reason": "budget next year"},
		} {
			if st := e.api("POST", fmt.Sprintf("/api/v1/crm/leads/%d/status", l.ID), reused, &conflict, crm); st != 409 ||
				conflict.Error.Code != "conflict" || conflict.Error.Field != "event_id" || !strings.Contains(conflict.Error.Message, "rejected") {
				t.Fatalf("reused event id %v: %d %+v", reused, st, conflict)
			}
		}
		if st := e.api("POST", fmt.Sprintf("/api/v1/crm/leads/%d/status", l.ID), answer, nil); st != 403 {
			t.Fatalf("admin token on the CRM endpoint: %d", st)
		}
		l = e.leadOf(res.ExternalUserID)
		want := "raw/system,mql/score,sql/score,handed_off/system,rejected/crm,nurturing/crm"
		if stagesOf(l) != want {
			t.Fatalf("transitions = %s, want %s", stagesOf(l), want)
		}
		if r := l.Transitions[4].Reason; !strings.Contains(r, "no budget this year") {
			t.Fatalf("rejection reason = %q", r)
		}

		// Mobile numbers that are not mainland mobiles are kept but flagged.
		e.api("PATCH", fmt.Sprintf("/api/v1/leads/%d", l.ID), map[string]any{"mobile": "+852 9123 4567"}, &patched)
		if patched.Mobile != "+852 9123 4567" || patched.MobileValid {
			t.Fatalf("foreign mobile: %q valid=%v", patched.Mobile, patched.MobileValid)
		}

		// The funnel counts each stage reached.
		var f lead.Funnel
		e.api("GET", "/api/v1/funnel?from="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), nil, &f)
		if f.Counts["raw"] != 1 || f.Counts["sql"] != 1 || f.Counts["rejected"] != 1 || f.Conversions["raw_to_mql"] != 1 {
			t.Fatalf("funnel = %+v", f)
		}

		// The customer leaves: lost.
		if err := e.ctl.DeleteStaff(ctx, wecomsim.RelationRequest{UserID: res.UserID, ExternalUserID: res.ExternalUserID}); err != nil {
			t.Fatal(err)
		}
		e.idle()
		if l = e.leadOf(res.ExternalUserID); l.Stage != lead.StageLost {
			t.Fatalf("after the customer left: %s", l.Stage)
		}
	})
}

func TestLeadVisibilityRulesValidationAndRescoring(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		code := e.createCode(map[string]any{"name": "可见性", "tags": []string{"展会"}, "roster": roster(member("zhangsan"))})
		res := e.scan(code, "韩梅梅")
		e.idle()
		l := e.leadOf(res.ExternalUserID)

		tokens := auth.New(e.gw.store, e.clock)
		own, _, _ := tokens.CreateTokenFor(ctx, "zhangsan", auth.RoleStaff, "zhangsan")
		other, _, _ := tokens.CreateTokenFor(ctx, "lisi", auth.RoleStaff, "lisi")
		unlinked, _, _ := tokens.CreateToken(ctx, "booth", auth.RoleStaff)
		var list struct {
			Leads []webhook.Lead `json:"leads"`
		}
		if e.api("GET", "/api/v1/leads", nil, &list, own); len(list.Leads) != 1 {
			t.Fatalf("owner sees %d leads", len(list.Leads))
		}
		list.Leads = nil
		if e.api("GET", "/api/v1/leads", nil, &list, other); len(list.Leads) != 0 {
			t.Fatalf("another seller sees %d leads", len(list.Leads))
		}
		if st := e.api("GET", fmt.Sprintf("/api/v1/leads/%d", l.ID), nil, nil, other); st != 404 {
			t.Fatalf("another seller reads the lead: %d", st)
		}
		if st := e.api("GET", "/api/v1/leads", nil, nil, unlinked); st != 403 {
			t.Fatalf("unlinked staff token: %d", st)
		}
		if st := e.api("POST", fmt.Sprintf("/api/v1/leads/%d/stage", l.ID), map[string]any{"stage": "sql", "reason": "x"}, nil, own); st != 403 {
			t.Fatalf("staff moved a stage: %d", st)
		}

		// Rules are validated on save.
		bad := []struct {
			rule  map[string]any
			field string
		}{
			{map[string]any{"name": "r", "trigger": "contact_added", "actions": map[string]any{"add_tags": []string{"不存在的标签"}}}, "actions.add_tags[0]"},
			{map[string]any{"name": "r", "trigger": "contact_added", "conditions": map[string]any{"min_score": 50, "max_score": 10}, "actions": map[string]any{"score_delta": 1}}, "conditions.min_score"},
			{map[string]any{"name": "r", "trigger": "contact_added", "conditions": map[string]any{"tags_all": []string{"展会"}, "tags_none": []string{"展会"}}, "actions": map[string]any{"score_delta": 1}}, "conditions.tags_all[0]"},
			{map[string]any{"name": "r", "trigger": "whenever", "actions": map[string]any{"score_delta": 1}}, "trigger"},
			{map[string]any{"name": "r", "trigger": "contact_added"}, "actions"},
			{map[string]any{"name": "r", "trigger": "contact_added", "actions": map[string]any{"set_bant": map[string]any{"mood": map[string]string{"value": "yes"}}}}, "actions.set_bant.mood"},
		}
		for _, b := range bad {
			var out map[string]map[string]string
			if st := e.api("POST", "/api/v1/tag-rules", b.rule, &out); st != 400 || out["error"]["field"] != b.field {
				t.Errorf("rule %v: %d %v, want 400 on %s", b.rule, st, out, b.field)
			}
		}
		// A PATCH replaces conditions and actions whole when it names them
		// (a set_bant entry can be dropped), and keeps what it leaves out.
		var rule lead.TagRuleSpec
		if st := e.api("POST", "/api/v1/tag-rules", map[string]any{"name": "两项", "trigger": "contact_added",
			"conditions": map[string]any{"weekdays": []int{1}},
			"actions":    map[string]any{"set_bant": map[string]any{"budget": map[string]string{"value": "yes"}, "need": map[string]string{"value": "yes"}}}},
			&rule); st != 201 {
			t.Fatalf("create rule: %d %+v", st, rule)
		}
		id := rule.ID
		rule = lead.TagRuleSpec{} // decoding into a filled map would merge
		if st := e.api("PATCH", fmt.Sprintf("/api/v1/tag-rules/%d", id), map[string]any{
			"actions": map[string]any{"set_bant": map[string]any{"need": map[string]string{"value": "no"}}}}, &rule); st != 200 ||
			len(rule.Actions.SetBANT) != 1 || rule.Actions.SetBANT["need"].Value != "no" || rule.Name != "两项" ||
			len(rule.Conditions.Weekdays) != 1 {
			t.Fatalf("patch rule: %d %+v", st, rule)
		}
		rule = lead.TagRuleSpec{}
		if st := e.api("PATCH", fmt.Sprintf("/api/v1/tag-rules/%d", id), map[string]any{"conditions": map[string]any{}}, &rule); st != 200 ||
			len(rule.Conditions.Weekdays) != 0 || rule.Actions.SetBANT["need"].Value != "no" {
			t.Fatalf("patch conditions: %d %+v", st, rule)
		}
		if st := e.api("DELETE", fmt.Sprintf("/api/v1/tag-rules/%d", id), nil, nil); st != 204 {
			t.Fatalf("delete rule: %d", st)
		}

		// Stage moves that make no sense are refused with the field.
		var out map[string]map[string]string
		if st := e.api("POST", fmt.Sprintf("/api/v1/leads/%d/stage", l.ID), map[string]any{"stage": "won", "reason": "x"}, &out); st != 400 || out["error"]["field"] != "stage" {
			t.Fatalf("raw → won: %d %v", st, out)
		}

		// A new scoring config re-scores leads in the background.
		cfg := lead.DefaultScoring()
		cfg.TagDefault = 50
		var put struct {
			Version int `json:"version"`
		}
		if st := e.api("PUT", "/api/v1/scoring", cfg, &put); st != 202 || put.Version != 1 {
			t.Fatalf("put scoring: %d %+v", st, put)
		}
		e.idle()
		if got := e.leadOf(res.ExternalUserID); got.Score != l.Score+45 {
			t.Fatalf("rescored %d → %d, want +45", l.Score, got.Score)
		}
		bad2 := lead.DefaultScoring()
		bad2.SQL = 10
		if st := e.api("PUT", "/api/v1/scoring", bad2, &out); st != 400 || out["error"]["field"] != "sql_threshold" {
			t.Fatalf("bad scoring: %d %v", st, out)
		}
	})
}

// TestSamePersonTwoStaffIsOneLead: within a corp one WeChat user has one
// external_userid, so a customer who adds two staff members (through two
// codes) is one contact and one lead carrying both visits.
func TestSamePersonTwoStaffIsOneLead(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		first := e.createCode(map[string]any{"name": "展台A", "roster": roster(member("zhangsan"))})
		second := e.createCode(map[string]any{"name": "展台B", "roster": roster(member("lisi"))})
		a, err := e.ctl.Scan(ctx, wecomsim.ScanRequest{ConfigID: first.ConfigID, Customer: wecomsim.Customer{Name: "王五", UnionID: "union-1"}})
		if err != nil {
			t.Fatal(err)
		}
		e.idle()
		b, err := e.ctl.Scan(ctx, wecomsim.ScanRequest{ConfigID: second.ConfigID, Customer: wecomsim.Customer{Name: "王五", UnionID: "union-1"}})
		if err != nil {
			t.Fatal(err)
		}
		e.idle()
		if a.ExternalUserID != b.ExternalUserID || a.UserID == b.UserID {
			t.Fatalf("scans = %+v / %+v", a, b)
		}
		var list struct {
			Leads []webhook.Lead `json:"leads"`
		}
		e.api("GET", "/api/v1/leads", nil, &list)
		if len(list.Leads) != 1 {
			t.Fatalf("leads = %d, want 1", len(list.Leads))
		}
		l := list.Leads[0]
		if l.Behaviour.Adds != 2 || strings.Join(l.Behaviour.Codes, ",") != "展台A,展台B" || l.Owner != "zhangsan" || l.UnionID != "union-1" {
			t.Fatalf("lead = %+v", l)
		}
		// The contact's lead, by contact id.
		var byContact struct {
			Leads []webhook.Lead `json:"leads"`
		}
		if st := e.api("GET", fmt.Sprintf("/api/v1/leads?contact=%d", l.ContactID), nil, &byContact); st != 200 ||
			len(byContact.Leads) != 1 || byContact.Leads[0].ID != l.ID {
			t.Fatalf("lead of contact %d: %d %+v", l.ContactID, st, byContact)
		}
		var bad map[string]map[string]string
		if st := e.api("GET", "/api/v1/leads?contact=abc", nil, &bad); st != 400 || bad["error"]["field"] != "contact" {
			t.Fatalf("contact=abc: %d %v", st, bad)
		}
	})
}
