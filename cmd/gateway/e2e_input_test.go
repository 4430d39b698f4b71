package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/groupcode"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/staff"
	"github.com/leadgate/scrm-gateway/wecom"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// apiRaw sends body as it is (with Accept-Language lang, if given) and
// returns the status and the error body.
func (e *e2e) apiRaw(method, path, body string, lang ...string) (int, errorDetail) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if len(lang) > 0 {
		req.Header.Set("Accept-Language", lang[0])
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	checkResponse(e.t, method, path, resp.StatusCode, resp.Header, b)
	var out struct {
		Error errorDetail `json:"error"`
	}
	json.Unmarshal(b, &out)
	return resp.StatusCode, out.Error
}

type errorDetail struct {
	Code        string `json:"code"`
	Message     string `json:"message"`
	MessageCode string `json:"message_code"`
	Field       string `json:"field"`
}

// Every admin route reads its body strictly: an unknown field, a value of
// the wrong type, control characters, a malformed or oversized body are
// refused naming the field, in plain words, and nothing is made.
func TestAdminInputIsStrict(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		code := e.createCode(map[string]any{"name": "展会", "roster": roster(member("zhangsan"))})
		item := fmt.Sprintf("/api/v1/channel-codes/%d", code.ID)
		cases := []struct {
			name, method, path, body string
			status                   int
			field, message           string
		}{
			{"unknown field", "POST", "/api/v1/channel-codes", `{"name":"x","rosterr":{}}`, 400, "rosterr", "is not a field"},
			{"unknown field on a patch", "PATCH", item, `{"nmae":"x"}`, 400, "nmae", "is not a field"},
			{"unknown field in a tag rule", "POST", "/api/v1/tag-rules", `{"name":"r","trigger":"contact_added","conditions":{"code_id":[1]},"actions":{"score_delta":1}}`, 400, "code_id", "is not a field"},
			{"number for a string", "POST", "/api/v1/channel-codes", `{"name":5}`, 400, "name", "must be a string"},
			{"string for a list", "POST", "/api/v1/tag-rules", `{"name":"r","trigger":"contact_added","conditions":{"code_ids":"1"},"actions":{"score_delta":1}}`, 400, "conditions.code_ids", "must be a list"},
			{"negative id", "POST", "/api/v1/tag-rules", `{"name":"r","trigger":"contact_added","conditions":{"code_ids":[-1]},"actions":{"score_delta":1}}`, 400, "conditions.code_ids", "0 or more"},
			{"fraction for a whole number", "PATCH", "/api/v1/scoring", `{"mql_threshold":2.5}`, 400, "mql_threshold", "whole number"},
			{"string for a bool", "PATCH", "/api/v1/scoring", `{"sql_on_bant":"yes"}`, 400, "sql_on_bant", "true or false"},
			{"NUL in a name", "POST", "/api/v1/channel-codes", `{"name":"a\u0000b"}`, 400, "name", "control characters"},
			{"line break in a name", "POST", "/api/v1/tags", `{"group":"g","names":["a\nb"]}`, 400, "names[0]", "control characters"},
			{"bell in a text", "POST", "/api/v1/channel-codes", `{"name":"ok","welcome":{"text":"hi\u0007"}}`, 400, "welcome.text", "control characters"},
			{"not JSON", "POST", "/api/v1/channel-codes", `{"name":`, 400, "", "not valid JSON"},
			{"two objects", "POST", "/api/v1/channel-codes", `{"name":"a"}{}`, 400, "", "one JSON object"},
			{"empty", "POST", "/api/v1/channel-codes", ``, 400, "", "JSON object"},
			{"a list", "POST", "/api/v1/channel-codes", `[]`, 400, "", "JSON object"},
			{"too large", "POST", "/api/v1/channel-codes", `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "", "at most 1 MiB"},
			{"too large webhook endpoint", "POST", "/api/v1/webhook-endpoints", `{"url":"` + strings.Repeat("x", 64<<10) + `"}`, 413, "", "at most 64 KiB"},
			{"unknown channel code in a rule", "POST", "/api/v1/tag-rules", `{"name":"r","trigger":"contact_added","conditions":{"code_ids":[9999]},"actions":{"score_delta":1}}`, 400, "conditions.code_ids[0]", "no channel code 9999"},
			{"unknown store in a rule", "POST", "/api/v1/tag-rules", `{"name":"r","trigger":"contact_added","conditions":{"store_ids":[9999]},"actions":{"score_delta":1}}`, 400, "conditions.store_ids[0]", "no store 9999"},
		}
		for _, c := range cases {
			st, got := e.apiRaw(c.method, c.path, c.body)
			wantCode := "invalid"
			if c.status == 413 {
				wantCode = "too_large"
			}
			if st != c.status || got.Field != c.field || got.Code != wantCode || !strings.Contains(got.Message, c.message) {
				t.Errorf("%s: %d %+v, want %d field %q message ~%q", c.name, st, got, c.status, c.field, c.message)
			}
			if strings.Contains(got.Message, "json:") || strings.Contains(got.Message, "Go struct") {
				t.Errorf("%s: a Go message reached the API: %q", c.name, got.Message)
			}
		}
		// The console asks for Chinese, and gets it.
		if st, got := e.apiRaw("POST", "/api/v1/channel-codes", `{"name":5}`, "zh-CN,zh;q=0.9"); st != 400 || got.Field != "name" || got.Message != "须为文本" {
			t.Errorf("in Chinese: %d %+v", st, got)
		}
		if st, got := e.apiRaw("POST", "/api/v1/tag-rules", `{"name":"r","trigger":"contact_added","conditions":{"code_ids":[9999]},"actions":{"score_delta":1}}`, "zh-CN"); st != 400 || got.Message != "没有渠道活码 9999" {
			t.Errorf("in Chinese: %d %+v", st, got)
		}
		var list struct {
			Codes []channelcode.ChannelCode `json:"channel_codes"`
		}
		e.api("GET", "/api/v1/channel-codes", nil, &list)
		if len(list.Codes) != 1 {
			t.Fatalf("refused bodies made codes: %d codes", len(list.Codes))
		}
		var rules struct {
			Rules []lead.TagRuleSpec `json:"tag_rules"`
		}
		e.api("GET", "/api/v1/tag-rules", nil, &rules)
		if len(rules.Rules) != 0 {
			t.Fatalf("refused bodies made rules: %+v", rules.Rules)
		}
		// A rule naming a live code is taken.
		if st := e.api("POST", "/api/v1/tag-rules", map[string]any{"name": "r", "trigger": "contact_added",
			"conditions": map[string]any{"code_ids": []uint64{code.ID}}, "actions": map[string]any{"score_delta": 1}}, nil); st != 201 {
			t.Fatalf("rule on a live code: %d", st)
		}
	})
}

// PUT /api/v1/scoring replaces the whole config and so needs every field;
// PATCH changes only what it names. Points for what a lead did or answered
// are never negative, and the SQL threshold is above the MQL one. A lead
// that jumps raw → SQL counts as having passed MQL in the funnel.
func TestScoringPutPatchAndFunnelSkips(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		st, got := e.apiRaw("PUT", "/api/v1/scoring", `{"mql_threshold":20}`)
		if st != 400 || got.Field != "bant" || !strings.Contains(got.Message, "required") {
			t.Fatalf("partial PUT: %d %+v", st, got)
		}
		var cfg struct {
			Version int                `json:"version"`
			Config  lead.ScoringConfig `json:"config"`
		}
		e.api("GET", "/api/v1/scoring", nil, &cfg)
		if cfg.Version != 0 || cfg.Config.MQL != 30 {
			t.Fatalf("a refused PUT changed the config: %+v", cfg)
		}
		for _, c := range []struct{ body, field string }{
			{`{"bant":{"need":-5}}`, "bant.need"},
			{`{"added_via_code":-1}`, "added_via_code"},
			{`{"recency_max":-10}`, "recency_max"},
			{`{"mql_threshold":70}`, "sql_threshold"},
			{`{"sql_threshold":30}`, "sql_threshold"},
		} {
			if st, got := e.apiRaw("PATCH", "/api/v1/scoring", c.body); st != 400 || got.Field != c.field {
				t.Errorf("PATCH %s: %d %+v, want field %s", c.body, st, got, c.field)
			}
		}
		// Only the thresholds change; BANT points keep their values.
		if st := e.api("PATCH", "/api/v1/scoring", map[string]any{"mql_threshold": 100, "sql_threshold": 200}, &cfg); st != 202 {
			t.Fatalf("patch: %d", st)
		}
		e.api("GET", "/api/v1/scoring", nil, &cfg)
		if cfg.Version != 1 || cfg.Config.MQL != 100 || cfg.Config.SQL != 200 || cfg.Config.BANT["need"] != 20 || cfg.Config.AddedViaCode != 10 {
			t.Fatalf("after patch: %+v", cfg)
		}
		// A whole config is taken.
		full := lead.DefaultScoring()
		full.MQL, full.SQL = 100, 200
		if st := e.api("PUT", "/api/v1/scoring", full, nil); st != 202 {
			t.Fatalf("full PUT: %d", st)
		}
		e.idle()

		code := e.createCode(map[string]any{"name": "展会", "roster": roster(member("zhangsan"))})
		// The reason has its own code, the same in either language.
		for _, lang := range []string{"en", "zh-CN"} {
			st, er := e.apiRaw("POST", "/api/v1/stores", `{"name":"静安店","latitude":31.2,"longitude":121.4,"staff":{"members":[{"userid":"ghost"}]}}`, lang)
			want := map[string]string{"en": `"ghost" is not a staff member of this corp in WeCom (see GET /api/v1/staff)`, "zh-CN": "“ghost”不是本企业的企业微信成员（见员工目录）"}[lang]
			if st != 400 || er.MessageCode != "invalid.not_staff" || er.Message != want {
				t.Errorf("%s: %d %+v", lang, st, er)
			}
		}
		res := e.scan(code, "韩梅梅")
		e.idle()
		l := e.leadOf(res.ExternalUserID)
		if l.Stage != lead.StageRaw {
			t.Fatalf("stage %s, want raw", l.Stage)
		}
		// Three BANT yes: SQL on BANT, straight from raw.
		yes := map[string]string{"value": "yes"}
		if st := e.api("PATCH", fmt.Sprintf("/api/v1/leads/%d", l.ID), map[string]any{"bant": map[string]any{"need": yes, "budget": yes, "timeline": yes}}, nil); st != 200 {
			t.Fatalf("patch lead: %d", st)
		}
		if l = e.leadOf(res.ExternalUserID); !strings.HasPrefix(stagesOf(l), "raw/system,sql/") {
			t.Fatalf("transitions = %s", stagesOf(l))
		}
		var f lead.Funnel
		e.api("GET", "/api/v1/funnel?from="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), nil, &f)
		if f.Counts["raw"] != 1 || f.Counts["mql"] != 1 || f.Counts["sql"] != 1 || f.Conversions["mql_to_sql"] != 1 || f.Conversions["raw_to_mql"] != 1 {
			t.Fatalf("funnel = %+v", f)
		}
	})
}

// A code whose WeCom sync fails shows an alert saying so, even though the
// PATCH that asked for the sync was answered 200; the alert stays until a
// sync succeeds, and the minute tick keeps asking for one.
func TestFailedSyncAlertsTheCodeUntilASyncSucceeds(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		code := e.createCode(map[string]any{"name": "展会", "roster": roster(member("zhangsan"), member("lisi"))})
		item := fmt.Sprintf("/api/v1/channel-codes/%d", code.ID)
		if _, err := e.ctl.AddFault(ctx, wecomsim.Fault{API: "update_contact_way", ErrCode: wecom.CodeInvalidParameter}); err != nil {
			t.Fatal(err)
		}
		if st := e.api("PATCH", item, map[string]any{"roster": roster(member("zhangsan"))}, nil); st != 200 {
			t.Fatalf("patch: %d", st)
		}
		e.idle()
		alert := func() string {
			var got channelcode.ChannelCode // fresh: alert is left out when empty
			e.api("GET", item, nil, &got)
			return got.Alert
		}
		if a := alert(); !strings.HasPrefix(a, "WeCom sync failed: ") || !strings.Contains(a, "40058") {
			t.Fatalf("alert after a failed sync = %q", a)
		}
		// Still failing: the tick asks again, the alert stays.
		if err := e.gw.codes.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		e.idle()
		if a := alert(); !strings.HasPrefix(a, "WeCom sync failed: ") {
			t.Fatalf("alert while WeCom still fails = %q", a)
		}
		// WeCom recovers: the next tick's sync succeeds and clears it.
		if err := e.ctl.ClearFaults(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.gw.codes.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		e.idle()
		way, err := e.ctl.ContactWay(ctx, code.ConfigID)
		if err != nil {
			t.Fatal(err)
		}
		if a := alert(); a != "" || strings.Join(way.User, ",") != "zhangsan" {
			t.Fatalf("after recovery: alert %q, way users %v", a, way.User)
		}
	})
}

// The same for a group code: a join way rewrite WeCom refuses leaves an
// alert on the code until the tick's next sync succeeds.
func TestFailedGroupSyncAlertsTheCode(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		var pool []string
		for i := 1; i <= 2; i++ {
			g, err := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: fmt.Sprintf("群%d", i), Owner: "zhangsan"})
			if err != nil {
				t.Fatal(err)
			}
			pool = append(pool, g.ChatID)
		}
		e.idle()
		var code groupcode.GroupCode
		if st := e.api("POST", "/api/v1/group-codes", map[string]any{"name": "展会群", "chat_ids": pool, "threshold": 3}, &code); st != 201 {
			t.Fatalf("create: %d", st)
		}
		alert := func() string {
			var got groupcode.GroupCode
			e.api("GET", fmt.Sprintf("/api/v1/group-codes/%d", code.ID), nil, &got)
			return got.Alert
		}
		if _, err := e.ctl.AddFault(ctx, wecomsim.Fault{API: "update_join_way", ErrCode: wecom.CodeInvalidParameter}); err != nil {
			t.Fatal(err)
		}
		// The first group fills up (silently); the tick's reconcile finds it
		// and rewrites the join way to list the second only, which WeCom refuses.
		if _, err := e.ctl.FillGroup(ctx, pool[0], 3); err != nil {
			t.Fatal(err)
		}
		if err := e.gw.groups.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		e.idle()
		if a := alert(); !strings.HasPrefix(a, "WeCom sync failed: ") {
			t.Fatalf("alert after a failed sync = %q", a)
		}
		if err := e.ctl.ClearFaults(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.gw.groups.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		e.idle()
		jw, err := e.ctl.JoinWay(ctx, code.ConfigID)
		if err != nil {
			t.Fatal(err)
		}
		if a := alert(); a != "" || strings.Join(jw.ChatIDList, ",") != pool[1] {
			t.Fatalf("after recovery: alert %q, join way lists %v", a, jw.ChatIDList)
		}
	})
}

// The staff directory comes from WeCom's address book (through the
// simulator's user/list and department/list): names, departments, and the
// userids admin input may name. A userid that is not a staff member is 400
// naming its field; one added in WeCom is known after a refresh.
func TestStaffDirectoryAndUseridChecks(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		var dir staff.List
		if st := e.api("GET", "/api/v1/staff", nil, &dir); st != 200 || len(dir.Staff) != 5 || dir.RefreshedAt == nil {
			t.Fatalf("staff: %d %+v", st, dir)
		}
		var lisi staff.Member
		for _, s := range dir.Staff {
			if s.UserID == "lisi" {
				lisi = s
			}
		}
		if lisi.Name != "李四" || len(lisi.Departments) != 1 || lisi.Departments[0].Name != "销售部" || !lisi.Active {
			t.Fatalf("lisi = %+v", lisi)
		}

		code := e.createCode(map[string]any{"name": "展会", "roster": roster(member("zhangsan"))})
		cases := []struct {
			method, path string
			body         map[string]any
			field        string
		}{
			{"POST", "/api/v1/channel-codes", map[string]any{"name": "x", "roster": roster(member("zhangsan"), member("ghost"))}, "roster.members[1].userid"},
			{"PATCH", fmt.Sprintf("/api/v1/channel-codes/%d", code.ID), map[string]any{"roster": map[string]any{"members": []any{member("zhangsan")}, "backups": []string{"ghost"}}}, "roster.backups[0]"},
			{"POST", "/api/v1/stores", map[string]any{"name": "静安店", "latitude": 31.2, "longitude": 121.4, "staff": roster(member("ghost"))}, "staff.members[0].userid"},
		}
		for _, c := range cases {
			if st, field := e.apiError(c.method, c.path, c.body); st != 400 || field != c.field {
				t.Errorf("%s %s: %d %q, want 400 naming %s", c.method, c.path, st, field, c.field)
			}
		}
		res := e.scan(code, "韩梅梅")
		e.idle()
		l := e.leadOf(res.ExternalUserID)
		if st, field := e.apiError("PATCH", fmt.Sprintf("/api/v1/leads/%d", l.ID), map[string]any{"owner": "ghost"}); st != 400 || field != "owner" {
			t.Errorf("lead owner ghost: %d %q", st, field)
		}
		if st := e.api("PATCH", fmt.Sprintf("/api/v1/leads/%d", l.ID), map[string]any{"owner": "lisi"}, nil); st != 200 {
			t.Errorf("lead owner lisi: %d", st)
		}

		// A member WeCom gains is refused until the directory is read again.
		if err := e.ctl.AddStaff(ctx, wecomsim.Staff{UserID: "newbie", Name: "新人"}); err != nil {
			t.Fatal(err)
		}
		spec := map[string]any{"name": "新码", "roster": roster(member("newbie"))}
		if st, field := e.apiError("POST", "/api/v1/channel-codes", spec); st != 400 || field != "roster.members[0].userid" {
			t.Fatalf("newbie before a refresh: %d %q", st, field)
		}
		if st := e.api("POST", "/api/v1/staff/refresh", nil, &dir); st != 200 || len(dir.Staff) != 6 {
			t.Fatalf("refresh: %d %d staff", st, len(dir.Staff))
		}
		if st := e.api("POST", "/api/v1/channel-codes", spec, nil); st != 201 {
			t.Fatalf("newbie after the refresh: %d", st)
		}
	})
}

// The tag catalogue is edited in WeCom through the API: rename and delete
// change WeCom's and the catalogue; a tag a rule names is refused (the rule
// would stop matching), as are a bad name and an unknown tag.
func TestTagCatalogueRenameAndDelete(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		var made struct {
			Tags []livecode.TagView `json:"tags"`
		}
		if st := e.api("POST", "/api/v1/tags", map[string]any{"group": "线索", "names": []string{"高意向", "待跟进"}}, &made); st != 201 || len(made.Tags) != 2 {
			t.Fatalf("create: %d %+v", st, made)
		}
		hot, todo := made.Tags[0], made.Tags[1]
		var renamed livecode.TagView
		if st := e.api("PATCH", "/api/v1/tags/"+hot.ID, map[string]any{"name": "强意向"}, &renamed); st != 200 || renamed.Name != "强意向" || renamed.ID != hot.ID {
			t.Fatalf("rename: %d %+v", st, renamed)
		}
		names := func() string {
			groups, err := e.ctl.Tags(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, g := range groups {
				for _, tg := range g.Tag {
					if !tg.Deleted {
						out = append(out, tg.Name)
					}
				}
			}
			return strings.Join(out, ",")
		}
		if got := names(); !strings.Contains(got, "强意向") || strings.Contains(got, "高意向") {
			t.Fatalf("WeCom's tags after the rename: %s", got)
		}
		if st, field := e.apiError("PATCH", "/api/v1/tags/"+hot.ID, map[string]any{"name": ""}); st != 400 || field != "name" {
			t.Fatalf("empty name: %d %q", st, field)
		}
		if st := e.api("PATCH", "/api/v1/tags/etnope", map[string]any{"name": "x"}, nil); st != 404 {
			t.Fatalf("unknown tag: %d", st)
		}
		// A rule names 待跟进: it can be neither renamed nor deleted.
		if st := e.api("POST", "/api/v1/tag-rules", map[string]any{"name": "跟进", "trigger": "contact_added",
			"actions": map[string]any{"add_tags": []string{"待跟进"}}}, nil); st != 201 {
			t.Fatalf("rule: %d", st)
		}
		if st, field := e.apiError("DELETE", "/api/v1/tags/"+todo.ID, nil); st != 400 || field != "id" {
			t.Fatalf("delete a tag a rule names: %d %q", st, field)
		}
		if st := e.api("DELETE", "/api/v1/tags/"+hot.ID, nil, nil); st != 204 {
			t.Fatalf("delete: %d", st)
		}
		var list struct {
			Tags []livecode.TagView `json:"tags"`
		}
		e.api("GET", "/api/v1/tags", nil, &list)
		if len(list.Tags) != 1 || list.Tags[0].Name != "待跟进" || strings.Contains(names(), "强意向") {
			t.Fatalf("after the delete: %+v, WeCom %s", list.Tags, names())
		}
	})
}
