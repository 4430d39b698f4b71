package lead

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/webhook"
)

// Two contacts of one corp can carry one unionid (for example after WeCom
// converts an app's external_userids); their leads are merged into the
// oldest, which takes the other's tags, visits and BANT answers.
func TestLeadsMergeByUnionID(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, leads := newLeadsEnv(t, d)
			now := time.Now().UTC().Truncate(time.Second)
			for i, ext := range []string{"wmOld", "wmNew"} {
				addContact(t, st, uint64(i+1), ext, model.ContactProfile{Name: "同一人", UnionID: "u-1"}, now)
			}
			run := func(ext, key string) {
				j := ActivityJob("ww", Activity{Trigger: TriggerContactAdded, Key: key, ExternalUserID: ext, UserID: "zhangsan", At: now})
				if err := leads.RunActivity(ctx, j); err != nil {
					t.Fatal(err)
				}
			}
			run("wmOld", "a")
			// The old lead has a BANT answer the new one lacks.
			old, err := st.ListLeads(ctx, model.LeadFilter{CorpID: "ww"})
			if err != nil || len(old) != 1 {
				t.Fatalf("leads = %+v %v", old, err)
			}
			if _, err := leads.Patch(ctx, "ww", old[0].ID, LeadPatch{BANT: map[string]webhook.BANTAnswer{"need": {Value: webhook.BANTYes}}}, "admin"); err != nil {
				t.Fatal(err)
			}
			run("wmNew", "b")
			left, _ := st.ListLeads(ctx, model.LeadFilter{CorpID: "ww"})
			if len(left) != 1 || left[0].ID != old[0].ID {
				t.Fatalf("after merge: %+v", left)
			}
			v, err := leads.Get(ctx, nil, "ww", left[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if v.Behaviour.Adds != 2 || v.BANT["need"].Value != webhook.BANTYes {
				t.Fatalf("merged lead = %+v", v)
			}
			// The absorbed lead answers as merged and records why.
			newID := old[0].ID + 1
			if _, tr, err := st.GetLead(ctx, "ww", newID); err != nil || tr[len(tr)-1].To != "merged" {
				t.Fatalf("absorbed lead transitions = %+v %v", tr, err)
			}
			// Each contact's lead is the kept one, the absorbed contact's too.
			for _, ext := range []string{"wmOld", "wmNew"} {
				c, err := st.ContactByExternalID(ctx, "ww", ext)
				if err != nil {
					t.Fatal(err)
				}
				got, err := st.ListLeads(ctx, model.LeadFilter{CorpID: "ww", ContactID: c.ID})
				if err != nil || len(got) != 1 || got[0].ID != old[0].ID {
					t.Fatalf("lead of contact %s = %+v %v", ext, got, err)
				}
			}
			if got, _ := st.ListLeads(ctx, model.LeadFilter{CorpID: "ww", ContactID: 999999}); len(got) != 0 {
				t.Fatalf("lead of an unknown contact = %+v", got)
			}
			// Activity on the absorbed contact is not lost silently: it is ignored with a reason.
			j := ActivityJob("ww", Activity{Trigger: TriggerContactAdded, Key: "c", ExternalUserID: "wmNew", At: now})
			if err := leads.RunActivity(ctx, j); err == nil || err.Error() != "lead was merged into another" {
				t.Fatalf("activity on a merged lead = %v", err)
			}
		})
	}
}

// noCodes is a code cache that holds no live code: the tests' leads come
// through none.
type noCodes struct{}

func (noCodes) CodeByID(uint64) (Code, bool) { return Code{}, false }

func ptr[T any](v T) *T { return &v }

// subscribeCRM gives corp "ww" a CRM endpoint, so lead events are emitted.
func subscribeCRM(t *testing.T, st *model.Store) {
	t.Helper()
	if err := st.CreateWebhookEndpoint(context.Background(), &model.WebhookEndpoint{CorpID: "ww", URL: "https://crm.example.com/hook",
		Enabled: true, Secret: webhook.NewSecret()}); err != nil {
		t.Fatal(err)
	}
}

func newLeadsEnv(t *testing.T, driver string) (*model.Store, *Leads) {
	st := modeltest.Open(t, driver, nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return st, New(st, queue.NewWake(), noCodes{}, clock.Real{}, log)
}

// addContact records an add of ext by zhangsan, with its profile fetched.
func addContact(t *testing.T, st *model.Store, eventID uint64, ext string, p model.ContactProfile, at time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, _, _, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "ww", EventID: eventID, UserID: "zhangsan",
		ExternalUserID: ext, Source: webhook.SourceUnknown, At: at}); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateContactProfile(ctx, "ww", ext, p, "", "", "[]"); err != nil {
		t.Fatal(err)
	}
}

// emitted returns the data of the webhook events of one type in the outbox,
// oldest first.
func emitted(t *testing.T, st *model.Store, typ string) []map[string]any {
	t.Helper()
	ctx := context.Background()
	ds, err := st.ListWebhookDeliveries(ctx, model.WebhookDeliveryFilter{CorpID: "ww", EventType: typ, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]map[string]any, len(ds))
	for i, d := range ds {
		_, m, err := st.WebhookDelivery(ctx, "ww", d.ID)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(m.Body), &body); err != nil {
			t.Fatal(err)
		}
		out[len(ds)-1-i] = body.Data
	}
	return out
}

// A lead.stage_changed payload says which stage the lead left, and why and
// by whom it moved; lead.created carries neither.
func TestStageChangedPayloadCarriesThePreviousStage(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, leads := newLeadsEnv(t, d)
			subscribeCRM(t, st)
			now := time.Now().UTC().Truncate(time.Second)
			addContact(t, st, 1, "wmA", model.ContactProfile{Name: "李雷"}, now)
			j := ActivityJob("ww", Activity{Trigger: TriggerContactAdded, Key: "a", ExternalUserID: "wmA", UserID: "zhangsan", At: now})
			if err := leads.RunActivity(ctx, j); err != nil {
				t.Fatal(err)
			}
			list, err := st.ListLeads(ctx, model.LeadFilter{CorpID: "ww"})
			if err != nil || len(list) != 1 || list[0].Stage != StageRaw {
				t.Fatalf("leads = %+v %v", list, err)
			}
			if _, err := leads.SetStage(ctx, "ww", list[0].ID, StageLost, "moved abroad", "ops"); err != nil {
				t.Fatal(err)
			}
			created := emitted(t, st, webhook.EventLeadCreated)
			if len(created) != 1 || created[0]["previous_stage"] != nil || created[0]["transition"] != nil {
				t.Fatalf("lead.created = %v", created)
			}
			changed := emitted(t, st, webhook.EventLeadStageChanged)
			if len(changed) != 1 {
				t.Fatalf("lead.stage_changed emitted %d times", len(changed))
			}
			data := changed[0]
			tr, _ := data["transition"].(map[string]any)
			if data["stage"] != StageLost || data["previous_stage"] != StageRaw || tr == nil ||
				tr["from"] != StageRaw || tr["to"] != StageLost || tr["reason"] != "moved abroad" ||
				tr["actor"] != "admin" || tr["actor_id"] != "ops" || tr["id"] == nil || tr["at"] == nil {
				t.Fatalf("lead.stage_changed data = %v", data)
			}
			// The transition's id is the stored one (transitions are written
			// together after the change, their ids set then).
			full, err := leads.Get(ctx, &auth.Principal{Role: auth.RoleAdmin, Name: "t"}, "ww", list[0].ID)
			if err != nil || len(full.Transitions) == 0 || tr["id"] != float64(full.Transitions[len(full.Transitions)-1].ID) ||
				full.Transitions[len(full.Transitions)-1].To != StageLost {
				t.Fatalf("stored transitions %+v, %v; the event's id %v", full, err, tr["id"])
			}
			schema := loadSchema(t, leadSchema)
			for _, d := range append(schemaDrift(schema, schema, created[0], "lead.created"), schemaDrift(schema, schema, data, "lead.stage_changed")...) {
				t.Error(d)
			}
		})
	}
}

func TestNormalizeMobile(t *testing.T) {
	cases := []struct {
		in, out string
		ok      bool
	}{
		{"13800138000", "13800138000", true},
		{"+86 138-0013-8000", "13800138000", true},
		{"0086 19912345678", "19912345678", true},
		{"12800138000", "12800138000", false},
		{"1380013800", "1380013800", false},
		{"+852 9123 4567", "+852 9123 4567", false},
		{"", "", false},
	}
	for _, c := range cases {
		out, ok := normalizeMobile(c.in)
		if out != c.out || ok != c.ok {
			t.Errorf("normalizeMobile(%q) = %q %v", c.in, out, ok)
		}
	}
}

func TestScoreBreakdownAndQualify(t *testing.T) {
	cfg := DefaultScoring()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	in := ScoreInput{
		BANT:           webhook.BANT{"need": {Value: webhook.BANTYes}, "budget": {Value: webhook.BANTNo}},
		Behaviour:      webhook.Behaviour{Adds: 1, GroupsJoined: 2},
		Tags:           []string{"b", "a"},
		RulePoints:     map[string]int{"vip": 15},
		LastActivityAt: now.Add(-14 * 24 * time.Hour), // one half-life ago
	}
	score, lines := cfg.Score(in, now)
	want := []webhook.ScoreLine{{Reason: "BANT need: yes", Points: 20}, {Reason: "added via a live code", Points: 10}, {Reason: "joined a customer group", Points: 10},
		{Reason: "tag a", Points: 5}, {Reason: "tag b", Points: 5}, {Reason: "rule vip", Points: 15}, {Reason: "recency: last activity 14 days ago", Points: 5}}
	if score != 70 || len(lines) != len(want) {
		t.Fatalf("score %d lines %+v", score, lines)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, lines[i], want[i])
		}
	}
	floor := 80
	cases := []struct {
		stage string
		score int
		bant  webhook.BANT
		floor *int
		want  string
	}{
		{StageRaw, 29, nil, nil, ""},
		{StageRaw, 30, nil, nil, StageMQL},
		{StageRaw, 60, nil, nil, StageSQL},
		{StageMQL, 45, nil, nil, ""},
		{StageMQL, 10, webhook.BANT{"budget": {Value: webhook.BANTYes}, "need": {Value: webhook.BANTYes}, "timeline": {Value: webhook.BANTYes}}, nil, StageSQL},
		{StageHandedOff, 500, nil, nil, ""},
		{StageNurturing, 80, nil, &floor, ""},
		{StageNurturing, 81, nil, &floor, StageSQL},
		{StageLost, 100, nil, nil, ""},
	}
	for _, c := range cases {
		if got, _ := cfg.Qualify(c.stage, c.score, c.bant, c.floor); got != c.want {
			t.Errorf("Qualify(%s, %d) = %q, want %q", c.stage, c.score, got, c.want)
		}
	}
}

func TestRuleMatching(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	monday10 := time.Date(2026, 11, 23, 10, 0, 0, 0, sh)
	i := func(n int) *int { return &n }
	yes := true
	cases := []struct {
		name string
		rule TagRuleSpec
		ev   RuleEvent
		lead ruleLead
		want bool
	}{
		{"trigger differs", TagRuleSpec{Trigger: TriggerJoinedGroup}, RuleEvent{Trigger: TriggerContactAdded, At: monday10}, ruleLead{}, false},
		{"any", TagRuleSpec{Trigger: TriggerContactAdded}, RuleEvent{Trigger: TriggerContactAdded, At: monday10}, ruleLead{}, true},
		{"code hit", TagRuleSpec{Trigger: TriggerContactAdded, Conditions: RuleConditions{CodeIDs: []uint64{3}}}, RuleEvent{Trigger: TriggerContactAdded, CodeID: 3, At: monday10}, ruleLead{}, true},
		{"code miss", TagRuleSpec{Trigger: TriggerContactAdded, Conditions: RuleConditions{CodeIDs: []uint64{3}}}, RuleEvent{Trigger: TriggerContactAdded, CodeID: 4, At: monday10}, ruleLead{}, false},
		{"weekday", TagRuleSpec{Trigger: TriggerContactAdded, Conditions: RuleConditions{Weekdays: []int{1}}}, RuleEvent{Trigger: TriggerContactAdded, At: monday10}, ruleLead{}, true},
		{"weekend only", TagRuleSpec{Trigger: TriggerContactAdded, Conditions: RuleConditions{Weekdays: []int{0, 6}}}, RuleEvent{Trigger: TriggerContactAdded, At: monday10}, ruleLead{}, false},
		{"window in zone", TagRuleSpec{Trigger: TriggerContactAdded, Conditions: RuleConditions{Start: "09:00", End: "12:00"}}, RuleEvent{Trigger: TriggerContactAdded, At: monday10.UTC()}, ruleLead{}, true},
		{"window other zone", TagRuleSpec{Trigger: TriggerContactAdded, Conditions: RuleConditions{Start: "09:00", End: "12:00", TimeZone: "Europe/Berlin"}}, RuleEvent{Trigger: TriggerContactAdded, At: monday10}, ruleLead{}, false},
		{"tags all", TagRuleSpec{Trigger: TriggerContactAdded, Conditions: RuleConditions{TagsAll: []string{"a", "b"}}}, RuleEvent{Trigger: TriggerContactAdded, At: monday10}, ruleLead{Tags: map[string]bool{"a": true}}, false},
		{"tags none", TagRuleSpec{Trigger: TriggerContactAdded, Conditions: RuleConditions{TagsNone: []string{"x"}}}, RuleEvent{Trigger: TriggerContactAdded, At: monday10}, ruleLead{Tags: map[string]bool{"x": true}}, false},
		{"corp name set", TagRuleSpec{Trigger: TriggerContactAdded, Conditions: RuleConditions{CorpName: &yes}}, RuleEvent{Trigger: TriggerContactAdded, At: monday10}, ruleLead{CorpName: "ACME"}, true},
		{"gender", TagRuleSpec{Trigger: TriggerContactAdded, Conditions: RuleConditions{Gender: i(2)}}, RuleEvent{Trigger: TriggerContactAdded, At: monday10}, ruleLead{Gender: 1}, false},
		{"score range", TagRuleSpec{Trigger: TriggerContactAdded, Conditions: RuleConditions{MinScore: i(10), MaxScore: i(20)}}, RuleEvent{Trigger: TriggerContactAdded, At: monday10}, ruleLead{Score: 20}, true},
		{"stage", TagRuleSpec{Trigger: TriggerStageChanged, Conditions: RuleConditions{ToStage: StageSQL}}, RuleEvent{Trigger: TriggerStageChanged, ToStage: StageMQL, At: monday10}, ruleLead{}, false},
		{"field", TagRuleSpec{Trigger: TriggerFieldChanged, Conditions: RuleConditions{Field: "mobile"}}, RuleEvent{Trigger: TriggerFieldChanged, Field: "mobile", At: monday10}, ruleLead{}, true},
	}
	for _, c := range cases {
		if got := c.rule.matches(c.ev, c.lead); got != c.want {
			t.Errorf("%s: matches = %v, want %v", c.name, got, c.want)
		}
	}
}

// The CRM hears the whole story of a lead: lead.created once the lead holds
// the customer's profile and score, one lead.updated per change naming the
// changed fields with their previous values, lead.merged when the same
// person's leads merge, and its answers on an absorbed lead apply to the
// kept one; a reused event id with another answer is a conflict.
func TestLeadEventsTellTheCRMEveryChange(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, leads := newLeadsEnv(t, d)
			subscribeCRM(t, st)
			now := time.Now().UTC().Truncate(time.Second)
			run := func(ext, key string) {
				t.Helper()
				j := ActivityJob("ww", Activity{Trigger: TriggerContactAdded, Key: key, ExternalUserID: ext, UserID: "zhangsan", At: now})
				if err := leads.RunActivity(ctx, j); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.ReplaceStaff(ctx, "ww", []model.StaffMember{{UserID: "zhangsan", Name: "张三"}}); err != nil {
				t.Fatal(err)
			}
			addContact(t, st, 1, "wmA", model.ContactProfile{Name: "韩梅梅", UnionID: "u-1"}, now)
			run("wmA", "a")
			created := emitted(t, st, webhook.EventLeadCreated)
			if len(created) != 1 {
				t.Fatalf("lead.created emitted %d times", len(created))
			}
			c := created[0]
			if c["name"] != "韩梅梅" || c["unionid"] != "u-1" || c["owner"] != "zhangsan" || c["owner_name"] != "张三" || c["score"] != float64(20) ||
				len(c["score_breakdown"].([]any)) == 0 || c["behaviour"].(map[string]any)["adds"] != float64(1) {
				t.Fatalf("lead.created data = %v", c)
			}
			if n := len(emitted(t, st, webhook.EventLeadUpdated)); n != 0 {
				t.Fatalf("a new lead also sent %d lead.updated", n)
			}
			id := uint64(c["id"].(float64))
			if v, err := leads.Get(ctx, nil, "ww", id); err != nil || v.OwnerName != "张三" {
				t.Fatalf("lead read back = %+v, %v", v, err)
			}

			// One PATCH of two fields: one lead.updated naming both.
			if _, err := leads.Patch(ctx, "ww", id, LeadPatch{CorpName: ptr("ACME"), Mobile: ptr("13800138000")}, "ops"); err != nil {
				t.Fatal(err)
			}
			// A PATCH that changes nothing: no event.
			if _, err := leads.Patch(ctx, "ww", id, LeadPatch{CorpName: ptr("ACME")}, "ops"); err != nil {
				t.Fatal(err)
			}
			updated := emitted(t, st, webhook.EventLeadUpdated)
			if len(updated) != 1 {
				t.Fatalf("lead.updated emitted %d times: %v", len(updated), updated)
			}
			changes := map[string]any{}
			for _, ch := range updated[0]["changes"].([]any) {
				ch := ch.(map[string]any)
				changes[ch["field"].(string)] = ch["previous"]
			}
			if updated[0]["corp_name"] != "ACME" || changes["corp_name"] != "" || changes["mobile"] != "" ||
				changes["mobile_valid"] != false || len(changes) != 3 {
				t.Fatalf("lead.updated = %v", updated[0])
			}

			// The same person through a second contact: merged into the first.
			addContact(t, st, 2, "wmB", model.ContactProfile{Name: "韩梅梅", UnionID: "u-1"}, now)
			run("wmB", "b")
			merged := emitted(t, st, webhook.EventLeadMerged)
			if len(merged) != 1 || merged[0]["id"] != float64(id) {
				t.Fatalf("lead.merged = %v", merged)
			}
			m := merged[0]["merged"].(map[string]any)
			absorbed := uint64(m["id"].(float64))
			if absorbed == id || m["external_userid"] != "wmB" || merged[0]["behaviour"].(map[string]any)["adds"] != float64(2) {
				t.Fatalf("lead.merged data = %v", merged[0])
			}
			schema := loadSchema(t, leadSchema)
			for _, data := range []map[string]any{c, updated[0], merged[0]} {
				for _, d := range schemaDrift(schema, schema, data, "lead") {
					t.Error(d)
				}
			}

			// The CRM answers on the absorbed lead's id: the kept lead takes it.
			if _, err := leads.SetStage(ctx, "ww", id, StageSQL, "qualified by phone", "ops"); err != nil {
				t.Fatal(err)
			}
			res, err := leads.ApplyCRMAnswer(ctx, "ww", absorbed, CRMAnswer{EventID: "crm-1", Status: CRMAccepted}, "crm")
			if err != nil || res.LeadID != id || res.MergedInto != id || res.Stage != StageAccepted || res.Duplicate {
				t.Fatalf("answer on the absorbed lead = %+v, %v", res, err)
			}
			// The same answer again is a duplicate; another answer under the
			// same event id is a conflict naming event_id.
			if res, err := leads.ApplyCRMAnswer(ctx, "ww", id, CRMAnswer{EventID: "crm-1", Status: CRMAccepted}, "crm"); err != nil || !res.Duplicate {
				t.Fatalf("repeat = %+v, %v", res, err)
			}
			_, err = leads.ApplyCRMAnswer(ctx, "ww", id, CRMAnswer{EventID: "crm-1", Status: CRMWon}, "crm")
			var ce *apierr.ConflictError
			if !errors.As(err, &ce) || ce.Field != "event_id" {
				t.Fatalf("reused event id = %v", err)
			}
			// The same status with another reason is another answer too.
			_, err = leads.ApplyCRMAnswer(ctx, "ww", id, CRMAnswer{EventID: "crm-1", Status: CRMAccepted, Reason: "signed today"}, "crm")
			if !errors.As(err, &ce) || ce.Field != "event_id" {
				t.Fatalf("reused event id with another reason = %v", err)
			}
		})
	}
}
