package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/groupcode"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/wecom"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

var landingChat = regexp.MustCompile(`data-chat-id="([^"]*)"`)

// groupLanding fetches /g/:slug and returns the chat id it shows.
func (e *e2e) groupLanding(slug string) (string, string) {
	e.t.Helper()
	resp, err := http.Get(e.base + "/g/" + slug)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		e.t.Fatalf("landing: %d %s", resp.StatusCode, b)
	}
	m := landingChat.FindSubmatch(b)
	if m == nil {
		e.t.Fatalf("landing has no data-chat-id: %s", b)
	}
	return string(m[1]), string(b)
}

func (e *e2e) customers(chatID string) int {
	e.t.Helper()
	g, err := e.ctl.Group(context.Background(), chatID)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, m := range g.MemberList {
		if m.Type == 2 {
			n++
		}
	}
	return n
}

func (e *e2e) groupCode(id uint64) groupcode.GroupCode {
	e.t.Helper()
	var v groupcode.GroupCode
	if st := e.api("GET", fmt.Sprintf("/api/v1/group-codes/%d", id), nil, &v); st != 200 {
		e.t.Fatalf("get group code: %d", st)
	}
	return v
}

// The scenario: a pool of 8 groups with threshold 3. 24 joins fill
// them in order while the join way's list always names the first five with
// room; the 25th join lands in a group WeCom creates, which joins the pool.
func TestGroupCodePoolRotatesAndAutoCreates(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		// WeCom's capacity agrees with the threshold: owner + 3 customers.
		if _, err := e.ctl.SetLimits(ctx, wecomsim.Limits{GroupCapacity: 4}); err != nil {
			t.Fatal(err)
		}
		var pool []string
		for i := 1; i <= 8; i++ {
			g, err := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: fmt.Sprintf("展会%d群", i), Owner: "zhangsan"})
			if err != nil {
				t.Fatal(err)
			}
			pool = append(pool, g.ChatID)
		}
		e.idle()
		var code groupcode.GroupCode
		if st := e.api("POST", "/api/v1/group-codes", map[string]any{
			"name": "秋季展会群", "title": "加入展会交流群", "text": "扫码进群，领取展会资料", "chat_ids": pool, "threshold": 3,
			"auto_create": map[string]any{"enabled": true, "room_base_name": "展会新群", "room_base_id": 1},
			"welcome":     "欢迎加入展会群",
		}, &code); st != 201 {
			t.Fatalf("create: %d %+v", st, code)
		}
		if !strings.HasPrefix(code.State, "g:") || len(code.State) > 30 || code.QRCode == "" || len(code.Pool) != 8 {
			t.Fatalf("code = %+v", code)
		}

		expected := func(counts []int) []string {
			var out []string
			for i, n := range counts {
				if n < 3 && len(out) < 5 {
					out = append(out, pool[i])
				}
			}
			if out == nil {
				out = []string{pool[7]} // dry: WeCom keeps the last group and creates the next
			}
			return out
		}
		counts := make([]int, 8)
		check := func(step int) {
			t.Helper()
			jw, err := e.ctl.JoinWay(ctx, code.ConfigID)
			if err != nil {
				t.Fatal(err)
			}
			if want := expected(counts); !slices.Equal(jw.ChatIDList, want) {
				t.Fatalf("after %d joins the join way lists %v, want %v", step, jw.ChatIDList, want)
			}
			shown, _ := e.groupLanding(code.Slug)
			if shown != "" && e.customers(shown) >= 3 {
				t.Fatalf("after %d joins the landing page shows %s, which is full", step, shown)
			}
			if want := expected(counts)[0]; step < 24 && shown != want {
				t.Fatalf("after %d joins the landing page shows %q, want %q", step, shown, want)
			}
		}
		check(0)
		for i := 0; i < 24; i++ {
			res, err := e.ctl.Join(ctx, wecomsim.JoinRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{Name: fmt.Sprint("客户", i)}})
			if err != nil {
				t.Fatalf("join %d: %v", i+1, err)
			}
			if want := pool[i/3]; res.ChatID != want {
				t.Fatalf("join %d landed in %s, want %s (groups fill in order)", i+1, res.ChatID, want)
			}
			counts[i/3]++
			e.idle()
			check(i + 1)
		}
		v := e.groupCode(code.ID)
		if !v.Dry || v.Alert != "" || v.Current != "" {
			t.Fatalf("after 24 joins: dry=%v alert=%q current=%q", v.Dry, v.Alert, v.Current)
		}
		if m := e.metrics(); !strings.Contains(m, fmt.Sprintf(`gateway_group_code_pool_dry{auto_create="true",code_id="%d"} 1`, code.ID)) {
			t.Fatalf("metrics lack the dry gauge:\n%s", grepLines(m, "group_code"))
		}

		last, err := e.ctl.Join(ctx, wecomsim.JoinRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{Name: "第二十五位"}})
		if err != nil {
			t.Fatal(err)
		}
		if !last.CreatedChat || slices.Contains(pool, last.ChatID) {
			t.Fatalf("25th join = %+v, want a new group", last)
		}
		e.idle()
		jw, _ := e.ctl.JoinWay(ctx, code.ConfigID)
		if !slices.Equal(jw.ChatIDList, []string{last.ChatID}) {
			t.Fatalf("join way after auto-create lists %v, want only %s", jw.ChatIDList, last.ChatID)
		}
		v = e.groupCode(code.ID)
		if v.Dry || len(v.Pool) != 9 || v.Pool[8].ChatID != last.ChatID || !v.Pool[8].AutoCreated || v.Pool[8].Customers != 1 ||
			v.Current != last.ChatID || v.Pool[8].Name != "展会新群1" {
			t.Fatalf("after auto-create: %+v", v)
		}
		if shown, _ := e.groupLanding(code.Slug); shown != last.ChatID {
			t.Fatalf("landing shows %s, want the new group", shown)
		}
		if m := e.metrics(); !strings.Contains(m, fmt.Sprintf(`gateway_group_code_pool_dry{auto_create="true",code_id="%d"} 0`, code.ID)) {
			t.Fatalf("dry gauge not cleared:\n%s", grepLines(m, "group_code"))
		}

		// A member leaving the first group gives it room again: it is listed first.
		first, _ := e.ctl.Group(ctx, pool[0])
		var leaver string
		for _, m := range first.MemberList {
			if m.Type == 2 {
				leaver = m.UserID
				break
			}
		}
		if _, err := e.ctl.LeaveGroup(ctx, wecomsim.LeaveGroupRequest{ChatID: pool[0], ExternalUserID: leaver}); err != nil {
			t.Fatal(err)
		}
		e.idle()
		jw, _ = e.ctl.JoinWay(ctx, code.ConfigID)
		if !slices.Equal(jw.ChatIDList, []string{pool[0], last.ChatID}) {
			t.Fatalf("after a leave the join way lists %v", jw.ChatIDList)
		}

		// Joins through the code are on the contacts' timelines.
		c, err := e.gw.store.ContactByExternalID(ctx, e2eCorp, last.ExternalUserID)
		if err != nil || c.Source != webhook.SourceGroup || c.Name != "第二十五位" || c.State != code.State {
			t.Fatalf("contact = %+v, %v", c, err)
		}
		var detail struct {
			Timeline []contact.TimelineView `json:"timeline"`
		}
		e.api("GET", fmt.Sprintf("/api/v1/contacts/%d", c.ID), nil, &detail)
		if len(detail.Timeline) != 1 || detail.Timeline[0].Kind != "joined_group" || detail.Timeline[0].CodeID != code.ID ||
			!strings.Contains(detail.Timeline[0].Detail, last.ChatID) || detail.Timeline[0].EventID == nil {
			t.Fatalf("timeline = %+v", detail.Timeline)
		}

		// Each join through the code was lead behaviour, and no side effect failed.
		if n, _ := e.gw.store.CountJobs(ctx, lead.JobLeadActivity, model.StatusProcessed); n != 25 {
			t.Fatalf("%d lead activities processed, want one per join (25)", n)
		}
		if n, _ := e.gw.store.CountJobs(ctx, "", model.StatusFailed); n != 0 {
			jobs, _ := e.gw.store.ListJobs(ctx, model.JobFilter{Status: model.StatusFailed})
			t.Fatalf("%d jobs failed: %+v", n, jobs)
		}

		var stats groupcode.GroupCodeStats
		if st := e.api("GET", fmt.Sprintf("/api/v1/group-codes/%d/stats", code.ID), nil, &stats); st != 200 {
			t.Fatalf("stats: %d", st)
		}
		if stats.Total.Joins != 25 || stats.Total.Leaves != 1 || stats.Chats[pool[3]].Joins != 3 ||
			stats.Chats[last.ChatID].Joins != 1 || stats.Chats[pool[0]].Leaves != 1 || len(stats.Days) != 1 {
			t.Fatalf("stats = %+v", stats)
		}

		// The poster: the landing URL by default, WeCom's join QR on request.
		for _, target := range []string{"", "?target=join_way"} {
			resp, err := e.get(fmt.Sprintf("/api/v1/group-codes/%d/qr.png%s", code.ID, target))
			if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
				t.Fatalf("qr%s: %v %+v", target, err, resp)
			}
			resp.Body.Close()
		}
	})
}

// Without auto-create a dry pool keeps serving its last group and tells
// the admin; a dismissed group leaves the list; bad input is a 400 naming
// the field.
func TestGroupCodeDryAlertDismissAndValidation(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		a, _ := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: "一群", Owner: "lisi"})
		b, _ := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: "二群", Owner: "lisi"})
		e.idle()

		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"chat_ids": []string{a.ChatID}}, "name"},
			{map[string]any{"name": "x"}, "chat_ids"},
			{map[string]any{"name": "x", "chat_ids": []string{"wrnope"}}, "chat_ids[0]"},
			{map[string]any{"name": "x", "chat_ids": []string{a.ChatID, a.ChatID}}, "chat_ids[1]"},
			{map[string]any{"name": "x", "chat_ids": []string{a.ChatID}, "threshold": 0}, "threshold"},
			{map[string]any{"name": "x", "chat_ids": []string{a.ChatID}, "threshold": 201}, "threshold"},
			{map[string]any{"name": "x", "chat_ids": []string{a.ChatID}, "auto_create": map[string]any{"enabled": true,
				"room_base_name": strings.Repeat("群", 41)}}, "auto_create.room_base_name"},
		} {
			var er struct {
				Error struct{ Field string } `json:"error"`
			}
			if st := e.api("POST", "/api/v1/group-codes", tc.body, &er); st != 400 || er.Error.Field != tc.field {
				t.Fatalf("%v: %d field %q, want 400 %q", tc.body, st, er.Error.Field, tc.field)
			}
		}

		var code groupcode.GroupCode
		if st := e.api("POST", "/api/v1/group-codes", map[string]any{"name": "小群", "chat_ids": []string{a.ChatID, b.ChatID},
			"threshold": 1, "auto_create": map[string]any{"enabled": false}}, &code); st != 201 {
			t.Fatalf("create: %d", st)
		}
		var er struct {
			Error struct{ Field, Message string } `json:"error"`
		}
		if st := e.api("POST", "/api/v1/group-codes", map[string]any{"name": "抢群", "chat_ids": []string{b.ChatID}}, &er); st != 400 ||
			er.Error.Field != "chat_ids[0]" {
			t.Fatalf("a pooled chat in a second code: %d %+v", st, er)
		}
		for i := 0; i < 2; i++ {
			if _, err := e.ctl.Join(ctx, wecomsim.JoinRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{Name: fmt.Sprint("甲", i)}}); err != nil {
				t.Fatal(err)
			}
			e.idle()
		}
		v := e.groupCode(code.ID)
		if !v.Dry || !strings.Contains(v.Alert, b.ChatID) || !slices.Equal(v.ChatList, []string{b.ChatID}) {
			t.Fatalf("dry code = %+v", v)
		}
		shown, page := e.groupLanding(code.Slug)
		if shown != b.ChatID || !strings.Contains(page, `data-full="true"`) {
			t.Fatalf("landing of a dry code shows %q", shown)
		}

		// Raising the threshold gives both groups room again.
		if st := e.api("PATCH", fmt.Sprintf("/api/v1/group-codes/%d", code.ID), map[string]any{"threshold": 5}, &v); st != 200 {
			t.Fatalf("patch: %d", st)
		}
		e.idle()
		jw, _ := e.ctl.JoinWay(ctx, code.ConfigID)
		if v = e.groupCode(code.ID); v.Dry || v.Alert != "" || !slices.Equal(jw.ChatIDList, []string{a.ChatID, b.ChatID}) {
			t.Fatalf("after raising the threshold: %+v, way %v", v, jw.ChatIDList)
		}

		// A dismissed group leaves the join way.
		if err := e.ctl.DismissGroup(ctx, a.ChatID); err != nil {
			t.Fatal(err)
		}
		e.idle()
		jw, _ = e.ctl.JoinWay(ctx, code.ConfigID)
		if v = e.groupCode(code.ID); !slices.Equal(jw.ChatIDList, []string{b.ChatID}) || !v.Pool[0].Dismissed {
			t.Fatalf("after dismiss: way %v, pool %+v", jw.ChatIDList, v.Pool)
		}

		if st := e.api("DELETE", fmt.Sprintf("/api/v1/group-codes/%d", code.ID), nil, nil); st != 204 {
			t.Fatalf("delete: %d", st)
		}
		if _, err := e.ctl.JoinWay(ctx, code.ConfigID); err == nil {
			t.Fatal("join way survived the delete")
		}
		if resp, _ := http.Get(e.base + "/g/" + code.Slug); resp.StatusCode != 404 {
			t.Fatalf("landing of a deleted code: %d", resp.StatusCode)
		}
	})
}

func (e *e2e) get(path string) (*http.Response, error) {
	req, _ := http.NewRequest("GET", e.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	return http.DefaultClient.Do(req)
}

func (e *e2e) metrics() string {
	e.t.Helper()
	resp, err := http.Get(e.base + "/metrics")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Members added without any event (a lost callback) are found by the
// periodic reconcile, which re-reads the listed groups from WeCom.
func TestGroupCodeReconcileCatchesSilentChanges(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		a, _ := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: "甲群", Owner: "wangwu"})
		b, _ := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: "乙群", Owner: "wangwu"})
		e.idle()
		var code groupcode.GroupCode
		if st := e.api("POST", "/api/v1/group-codes", map[string]any{"name": "对账", "chat_ids": []string{a.ChatID, b.ChatID},
			"threshold": 2}, &code); st != 201 {
			t.Fatalf("create: %d", st)
		}
		if _, err := e.ctl.FillGroup(ctx, a.ChatID, 2); err != nil { // silently: no callback
			t.Fatal(err)
		}
		e.idle()
		if jw, _ := e.ctl.JoinWay(ctx, code.ConfigID); !slices.Equal(jw.ChatIDList, []string{a.ChatID, b.ChatID}) {
			t.Fatalf("the way changed without an event: %v", jw.ChatIDList)
		}
		if err := e.gw.groups.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		e.idle()
		if jw, _ := e.ctl.JoinWay(ctx, code.ConfigID); !slices.Equal(jw.ChatIDList, []string{b.ChatID}) {
			t.Fatalf("after the reconcile the way lists %v, want only %s", jw.ChatIDList, b.ChatID)
		}
		if v := e.groupCode(code.ID); v.Pool[0].Customers != 2 || !v.Pool[0].Full {
			t.Fatalf("pool after the reconcile = %+v", v.Pool)
		}
	})
}

// A code's welcome becomes a WeCom group welcome template that follows every
// change of the text and goes with the code; a WeCom refusal keeps the code
// as it was. The code's UTM is validated and shown.
func TestGroupCodeWelcomeTemplateAndUTM(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		g, _ := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: "活动群", Owner: "zhangsan"})
		e.idle()
		utm := map[string]any{"utm_source": "poster", "utm_campaign": "autumn"}
		var code groupcode.GroupCode
		if st := e.api("POST", "/api/v1/group-codes", map[string]any{"name": "活动", "chat_ids": []string{g.ChatID},
			"welcome": "欢迎入群", "utm": utm}, &code); st != 201 {
			t.Fatalf("create: %d %+v", st, code)
		}
		tpl, err := e.ctl.GroupWelcomeTemplate(ctx, code.WelcomeTemplateID)
		if err != nil || tpl.Text == nil || tpl.Text.Content != "欢迎入群" || tpl.Notify != 1 {
			t.Fatalf("template %q: %+v %v", code.WelcomeTemplateID, tpl, err)
		}
		if code.UTM["utm_source"] != "poster" || code.UTM["utm_campaign"] != "autumn" || len(code.UTM) != 2 {
			t.Fatalf("utm = %v", code.UTM)
		}
		path := fmt.Sprintf("/api/v1/group-codes/%d", code.ID)
		patch := func(body map[string]any) (int, groupcode.GroupCode) {
			t.Helper()
			var v groupcode.GroupCode
			st := e.api("PATCH", path, body, &v)
			return st, v
		}

		// A new text edits the template in place.
		if st, v := patch(map[string]any{"welcome": "欢迎新朋友"}); st != 200 || v.WelcomeTemplateID != code.WelcomeTemplateID {
			t.Fatalf("patch welcome: %d %+v", st, v)
		}
		tpl, _ = e.ctl.GroupWelcomeTemplate(ctx, code.WelcomeTemplateID)
		if tpl.Text.Content != "欢迎新朋友" || tpl.Edits != 1 {
			t.Fatalf("after edit: %+v", tpl)
		}
		// WeCom refusing the edit: 502, and the code keeps its text.
		if _, err := e.ctl.AddFault(ctx, wecomsim.Fault{API: "group_welcome_template/edit", ErrCode: -1, Count: 10}); err != nil {
			t.Fatal(err)
		}
		if st, _ := patch(map[string]any{"welcome": "不会生效"}); st != 502 {
			t.Fatalf("patch under a WeCom fault: %d", st)
		}
		e.ctl.ClearFaults(ctx)
		if v := e.groupCode(code.ID); v.Welcome != "欢迎新朋友" || v.WelcomeTemplateID != code.WelcomeTemplateID {
			t.Fatalf("after a refused edit: %q %q", v.Welcome, v.WelcomeTemplateID)
		}
		// Cleared: the template goes; set again: a new one.
		if st, v := patch(map[string]any{"welcome": ""}); st != 200 || v.WelcomeTemplateID != "" {
			t.Fatalf("clear welcome: %d %+v", st, v)
		}
		if all, _ := e.ctl.GroupWelcomeTemplates(ctx); len(all) != 0 {
			t.Fatalf("templates after clearing: %+v", all)
		}
		st, v := patch(map[string]any{"welcome": "再次欢迎"})
		if st != 200 || v.WelcomeTemplateID == "" || v.WelcomeTemplateID == code.WelcomeTemplateID {
			t.Fatalf("set welcome again: %d %+v", st, v)
		}
		// A template deleted in WeCom behind our back is made anew on the next edit.
		other, err := wecom.NewClient(wecom.ClientConfig{CorpID: e2eCorp, Secret: "e2e-secret", Now: clock.Real{}.Now, Store: wecom.NewMemoryTokenStore()})
		if err != nil {
			t.Fatal(err)
		}
		if err := other.DeleteGroupWelcome(ctx, v.WelcomeTemplateID); err != nil {
			t.Fatal(err)
		}
		st, v2 := patch(map[string]any{"welcome": "第三版"})
		if tpl, err := e.ctl.GroupWelcomeTemplate(ctx, v2.WelcomeTemplateID); st != 200 || err != nil || tpl.Text.Content != "第三版" {
			t.Fatalf("edit of a lost template: %d %+v %v", st, tpl, err)
		}

		// UTM: validated with the field named, replaced by a PATCH, kept when absent.
		for _, tc := range []struct {
			utm   map[string]any
			field string
		}{
			{map[string]any{"utm_source": "x", "gclid": "y"}, "utm"},
			{map[string]any{"utm_medium": strings.Repeat("m", 129)}, "utm.utm_medium"},
		} {
			var er struct {
				Error struct{ Field string } `json:"error"`
			}
			if st := e.api("PATCH", path, map[string]any{"utm": tc.utm}, &er); st != 400 || er.Error.Field != tc.field {
				t.Fatalf("utm %v: %d field %q", tc.utm, st, er.Error.Field)
			}
			if st := e.api("POST", "/api/v1/group-codes", map[string]any{"name": "x", "chat_ids": []string{g.ChatID}, "utm": tc.utm}, &er); st != 400 || er.Error.Field != tc.field {
				t.Fatalf("create with utm %v: %d field %q", tc.utm, st, er.Error.Field)
			}
		}
		if st, v := patch(map[string]any{"name": "活动二"}); st != 200 || v.UTM["utm_source"] != "poster" {
			t.Fatalf("utm lost by a PATCH without it: %v", v.UTM)
		}
		if st, v := patch(map[string]any{"utm": map[string]any{"utm_source": "moments", "utm_medium": "qr"}}); st != 200 ||
			len(v.UTM) != 2 || v.UTM["utm_source"] != "moments" || v.UTM["utm_medium"] != "qr" {
			t.Fatalf("patch utm: %d %v", st, v.UTM)
		}

		// A customer first seen joining through the code: the lead's source
		// is the group code, with the code's UTM.
		res, err := e.ctl.Join(ctx, wecomsim.JoinRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{Name: "李雷"}})
		if err != nil {
			t.Fatal(err)
		}
		e.idle()
		var leads struct {
			Leads []webhook.Lead `json:"leads"`
		}
		if st := e.api("GET", "/api/v1/leads", nil, &leads); st != 200 || len(leads.Leads) != 1 {
			t.Fatalf("leads: %d %+v", st, leads)
		}
		src := leads.Leads[0].Source
		if leads.Leads[0].ExternalUserID != res.ExternalUserID || src.Kind != webhook.SourceGroup || src.ChatID != g.ChatID ||
			src.State != code.State || src.CodeID != code.ID || src.CodeName != "活动二" ||
			len(src.UTM) != 2 || src.UTM["utm_source"] != "moments" || src.UTM["utm_medium"] != "qr" {
			t.Fatalf("lead source = %+v", src)
		}

		// Deleting the code deletes its template.
		if st := e.api("DELETE", path, nil, nil); st != 204 {
			t.Fatalf("delete: %d", st)
		}
		if all, _ := e.ctl.GroupWelcomeTemplates(ctx); len(all) != 0 {
			t.Fatalf("templates after delete: %+v", all)
		}
	})
}
