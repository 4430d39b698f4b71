package lead

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/wire"
)

// leadSchema is the published contract of the lead every lead.* webhook
// carries (and GET /api/v1/leads/:id answers).
const leadSchema = "lead.v1.json"

func loadSchema(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "webhooks", name))
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

// schemaDrift lists every key of v (a decoded JSON value) that the schema s
// does not name, and every key it requires that v lacks, recursively
// through objects, arrays and local $refs.
func schemaDrift(root, s map[string]any, v any, path string) []string {
	if ref, ok := s["$ref"].(string); ok && strings.HasPrefix(ref, "#/$defs/") {
		s = root["$defs"].(map[string]any)[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
	}
	if _, typed := s["type"]; !typed {
		return nil // any value
	}
	var out []string
	switch v := v.(type) {
	case map[string]any:
		if s["type"] != "object" {
			return []string{fmt.Sprintf("%s is an object, the schema says %v", path, s["type"])}
		}
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := v[r.(string)]; !ok {
				out = append(out, fmt.Sprintf("%s.%s is required by the schema but not sent", path, r))
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, pv := range v {
			ps, ok := props[k].(map[string]any)
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s is sent but not in the schema", path, k))
				continue
			}
			out = append(out, schemaDrift(root, ps, pv, path+"."+k)...)
		}
	case []any:
		if s["type"] != "array" {
			return []string{fmt.Sprintf("%s is an array, the schema says %v", path, s["type"])}
		}
		for i, it := range v {
			out = append(out, schemaDrift(root, s["items"].(map[string]any), it, fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return out
}

// noZeroFields fails for any zero field of a struct, so a field added to
// the lead must be filled in below, and thereby checked against the schema.
func noZeroFields(t *testing.T, what string, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := 0; i < rv.NumField(); i++ {
		if rv.Field(i).IsZero() {
			t.Errorf("%s.%s is not filled in: give it a value so the schema check covers it", what, rv.Type().Field(i).Name)
		}
	}
}

// fullLead is a lead with every field set, as the API shows one, with what
// every lead.* event adds set too.
func fullLead(t *testing.T) *webhook.LeadEventData {
	at := wire.At(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	floor := 40
	tr := webhook.LeadTransition{ID: 7, LeadID: 42, From: StageRaw, To: StageMQL, Reason: "score 45 ≥ 30",
		Actor: "admin", ActorID: "ops", At: at}
	l := &webhook.Lead{ID: 42, CorpID: "ww", ContactID: 3, ExternalUserID: "wmA", UnionID: "u-1", Name: "李雷", CorpName: "ACME",
		Mobile: "13800138000", MobileValid: true, Gender: 1,
		Source: webhook.LeadSource{Kind: webhook.SourceChannel, CodeID: 5, CodeName: "秋季展会", StoreID: 9, ChatID: "wrChat", State: "c:abc",
			Staff: "zhangsan", UTM: map[string]string{"utm_source": "wechat", "utm_medium": "qr", "utm_campaign": "autumn",
				"utm_term": "crm", "utm_content": "booth"}},
		Owner: "zhangsan", OwnerName: "张三", Tags: []string{"展会"},
		BANT:      webhook.BANT{"budget": {Value: webhook.BANTYes, Note: "approved"}, "authority": {Value: webhook.BANTNo}, "need": {Value: webhook.BANTUnknown}, "timeline": {Value: webhook.BANTYes}},
		Behaviour: webhook.Behaviour{Adds: 2, Codes: []string{"秋季展会"}, GroupsJoined: 1, NurtureFloor: &floor},
		Score:     45, Breakdown: []webhook.ScoreLine{{Reason: "added via a live code", Points: 10}}, Stage: StageMQL,
		StageChangedAt: at, LastActivityAt: at, CreatedAt: at, UpdatedAt: at, MergedInto: 40,
		Transitions: []webhook.LeadTransition{tr}}
	d := &webhook.LeadEventData{Lead: l, PreviousStage: StageRaw, Transition: &tr,
		Changes: []webhook.LeadChange{{Field: "name", Previous: "李"}},
		Merged:  &webhook.MergedLead{ID: 43, ContactID: 4, ExternalUserID: "wmB", Reason: "same unionid"}}
	noZeroFields(t, "Lead", *l)
	noZeroFields(t, "LeadEventData", *d)
	noZeroFields(t, "LeadSource", l.Source)
	noZeroFields(t, "Behaviour", l.Behaviour)
	noZeroFields(t, "LeadTransition", tr)
	noZeroFields(t, "MergedLead", *d.Merged)
	return d
}

// TestLeadSchemaMatchesTheLead keeps docs/webhooks/lead.v1.json in step
// with Lead: every key the gateway sends is documented, and every key the
// schema requires is sent, at every level.
func TestLeadSchemaMatchesTheLead(t *testing.T) {
	b, err := json.Marshal(fullLead(t))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	schema := loadSchema(t, leadSchema)
	for _, d := range schemaDrift(schema, schema, v, "lead") {
		t.Error(d)
	}
	// A lead as a webhook carries it (no transitions) and with only the
	// fields a new lead has still meets every required key.
	bare, _ := json.Marshal(&webhook.Lead{Source: webhook.LeadSource{Kind: webhook.SourceUnknown}, Tags: []string{}, Breakdown: []webhook.ScoreLine{},
		BANT: webhook.BANT{"budget": {Value: webhook.BANTUnknown}, "authority": {Value: webhook.BANTUnknown}, "need": {Value: webhook.BANTUnknown}, "timeline": {Value: webhook.BANTUnknown}}})
	var bv map[string]any
	_ = json.Unmarshal(bare, &bv)
	for _, d := range schemaDrift(schema, schema, bv, "lead") {
		t.Error(d)
	}
	// The drift check itself notices an undocumented key and a missing required one.
	v["surprise"] = 1
	delete(v["source"].(map[string]any), "kind")
	if d := schemaDrift(schema, schema, v, "lead"); len(d) != 2 {
		t.Fatalf("drift not noticed: %v", d)
	}
}

// The lead.stage_changed schema requires what its payload adds to the lead.
func TestStageChangedSchemaRequiresThePreviousStage(t *testing.T) {
	data := loadSchema(t, "lead.stage_changed.v1.json")["properties"].(map[string]any)["data"].(map[string]any)
	if data["$ref"] != leadSchema || fmt.Sprint(data["required"]) != "[previous_stage transition]" {
		t.Fatalf("lead.stage_changed data = %v", data)
	}
}
