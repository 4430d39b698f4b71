package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/wecom"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

func TestWeComFaultsDelaySideEffectsButLoseNone(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		code := e.createCode(map[string]any{"name": "故障", "tags": []string{"重试"}, "remark_template": "{name}",
			"welcome": map[string]any{"text": "欢迎"}, "roster": roster(member("zhangsan"), member("lisi"))})
		if _, err := e.ctl.AddFault(ctx,
			wecomsim.Fault{API: "mark_tag", ErrCode: -1, Count: 3},
			wecomsim.Fault{API: "remark", ErrCode: 45009, Count: 2},
			wecomsim.Fault{API: "externalcontact/get", ErrCode: -1, Count: 2},
		); err != nil {
			t.Fatal(err)
		}
		if err := e.ctl.InvalidateTokens(ctx, 42001); err != nil {
			t.Fatal(err)
		}
		var ext []string
		for i := 0; i < 5; i++ {
			ext = append(ext, e.scan(code, fmt.Sprint("客户", i)).ExternalUserID)
		}
		e.idle()
		for i, id := range ext {
			c, err := e.ctl.Contact(ctx, id)
			if err != nil || len(c.FollowUser) != 1 {
				t.Fatalf("contact %d: %+v %v", i, c, err)
			}
			if f := c.FollowUser[0]; len(f.Tags) != 1 || f.Remark != fmt.Sprint("客户", i) {
				t.Fatalf("contact %d side effects lost: %+v", i, f)
			}
		}
		if w, _ := e.ctl.Welcomes(ctx, wecomsim.WelcomeQuery{}); len(w) != 5 {
			t.Fatalf("welcomes = %d, want 5", len(w))
		}
		if n, _ := e.gw.store.CountJobs(ctx, "", model.StatusFailed); n != 0 {
			jobs, _ := e.gw.store.ListJobs(ctx, model.JobFilter{Status: model.StatusFailed})
			t.Fatalf("%d jobs failed: %+v", n, jobs)
		}
		// The faults really fired and were retried.
		retried, _ := e.gw.store.ListJobs(ctx, model.JobFilter{Kind: livecode.JobMarkTag})
		maxAttempts := 0
		for _, j := range retried {
			maxAttempts = max(maxAttempts, j.Attempts)
		}
		if maxAttempts < 2 {
			t.Fatalf("no mark_tag job was retried (max attempts %d)", maxAttempts)
		}
	})
}

func TestLossesHandoverUnknownStateAndNoWelcomeCode(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		code := e.createCode(map[string]any{"name": "流失", "welcome": map[string]any{"text": "hi"},
			"roster": roster(member("zhangsan"))})
		a := e.scan(code, "甲")
		b := e.scan(code, "乙")
		noCode, err := e.ctl.Scan(ctx, wecomsim.ScanRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{Name: "丙"}, NoWelcomeCode: true})
		if err != nil {
			t.Fatal(err)
		}
		// A contact way the gateway did not make: its state is not ours.
		client, err := wecom.NewClient(wecom.ClientConfig{CorpID: e2eCorp, Secret: "e2e-secret", Now: time.Now})
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := client.AddContactWay(ctx, wecom.NewContactWay{Type: wecom.ContactWaySingle, Scene: wecom.SceneQRCode,
			SkipVerify: true, State: "x:console", User: []string{"lisi"}})
		if err != nil {
			t.Fatal(err)
		}
		u, err := e.ctl.Scan(ctx, wecomsim.ScanRequest{ConfigID: foreign.ConfigID, Customer: wecomsim.Customer{Name: "丁"}})
		if err != nil {
			t.Fatal(err)
		}
		e.idle()

		if err := e.ctl.DeleteStaff(ctx, wecomsim.RelationRequest{UserID: a.UserID, ExternalUserID: a.ExternalUserID}); err != nil {
			t.Fatal(err)
		}
		if err := e.ctl.StaffDeletes(ctx, wecomsim.StaffDeletesRequest{UserID: b.UserID, ExternalUserID: b.ExternalUserID, Source: "DELETE_BY_TRANSFER"}); err != nil {
			t.Fatal(err)
		}
		e.idle()

		status := func(ext string) (model.Relation, model.Contact) {
			c, err := e.gw.store.ContactByExternalID(ctx, e2eCorp, ext)
			if err != nil {
				t.Fatalf("contact %s: %v", ext, err)
			}
			rels, _ := e.gw.store.RelationsOf(ctx, e2eCorp, ext)
			if len(rels) != 1 {
				t.Fatalf("relations of %s = %+v", ext, rels)
			}
			return rels[0], *c
		}
		if r, _ := status(a.ExternalUserID); r.Status != model.RelationLost || r.LostAt == nil || r.LossReason != "customer_deleted" {
			t.Fatalf("customer left: %+v", r)
		}
		if r, _ := status(b.ExternalUserID); r.Status != model.RelationTransferred {
			t.Fatalf("handover: %+v", r)
		}
		if _, c := status(u.ExternalUserID); c.Source != webhook.SourceUnknown || c.State != "x:console" || c.SourceCodeID != 0 {
			t.Fatalf("unknown state contact: %+v", c)
		}
		if _, c := status(noCode.ExternalUserID); c.Source != webhook.SourceChannel {
			t.Fatalf("no-welcome-code contact: %+v", c)
		}
		w, _ := e.ctl.Welcomes(ctx, wecomsim.WelcomeQuery{})
		if len(w) != 2 {
			t.Fatalf("welcomes = %d, want 2 (none for the unknown state or the missing code)", len(w))
		}
		var stats channelcode.CodeStats
		e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d/stats", code.ID), nil, &stats)
		if stats.Total.Adds != 3 || stats.Total.Losses != 1 || stats.Total.Net != 2 {
			t.Fatalf("stats = %+v (a handover is not a loss)", stats.Total)
		}
	})
}

func TestChannelCodeValidationRolesAndDelete(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		bad := []struct {
			spec  map[string]any
			field string
		}{
			{map[string]any{"roster": roster(member("zhangsan"))}, "name"},
			{map[string]any{"name": "x"}, "roster"},
			{map[string]any{"name": "x", "roster": map[string]any{"members": []any{}}}, "roster.members"},
			{map[string]any{"name": "x", "roster": roster(member("zhangsan", "shifts", []map[string]any{{"weekdays": []int{9}, "start": "09:00", "end": "10:00"}}))}, "roster.members[0].shifts[0].weekdays[0]"},
			{map[string]any{"name": "x", "roster": map[string]any{"time_zone": "Mars/Base", "members": []any{member("zhangsan")}}}, "roster.time_zone"},
			{map[string]any{"name": "x", "remark_template": "这是一个超过二十个字符的备注模板啊啊啊啊啊", "roster": roster(member("zhangsan"))}, "remark_template"},
			{map[string]any{"name": "x", "remark_template": "{phone}", "roster": roster(member("zhangsan"))}, "remark_template"},
			{map[string]any{"name": "x", "tags": []string{strings.Repeat("长", 31)}, "roster": roster(member("zhangsan"))}, "tags[0]"},
			{map[string]any{"name": "x", "mode": "lottery", "roster": roster(member("zhangsan"))}, "mode"},
			{map[string]any{"name": "x", "welcome": map[string]any{"text": "hi", "attachments": []map[string]any{{"type": "image", "media_asset_id": 999}}}, "roster": roster(member("zhangsan"))}, "welcome.attachments[0].media_asset_id"},
			{map[string]any{"name": "x", "welcome": map[string]any{"text": "hi", "attachments": []map[string]any{{"type": "link", "title": "t", "url": "javascript:alert(1)"}}}, "roster": roster(member("zhangsan"))}, "welcome.attachments[0].url"},
			{map[string]any{"name": "x", "welcome": map[string]any{"text": strings.Repeat("a", 4001)}, "roster": roster(member("zhangsan"))}, "welcome.text"},
		}
		for _, b := range bad {
			var out map[string]map[string]string
			st := e.api("POST", "/api/v1/channel-codes", b.spec, &out)
			if st != 400 || out["error"]["field"] != b.field {
				t.Errorf("spec %v: %d %v, want 400 on %s", b.spec, st, out, b.field)
			}
		}
		if ways, _ := e.ctl.ContactWays(ctx); len(ways) != 0 {
			t.Fatalf("invalid specs made %d contact ways", len(ways))
		}
		// A userid that is not a staff member of the corp is refused naming
		// it (the staff directory), before WeCom is asked; nothing stored.
		var out map[string]map[string]string
		if st := e.api("POST", "/api/v1/channel-codes", map[string]any{"name": "x", "roster": roster(member("nobody"))}, &out); st != 400 ||
			out["error"]["field"] != "roster.members[0].userid" {
			t.Fatalf("unknown staff: %d %v", st, out)
		}

		tokens := auth.New(e.gw.store, e.clock)
		staff, _, _ := tokens.CreateToken(ctx, "event staff", auth.RoleStaff)
		viewer, _, _ := tokens.CreateToken(ctx, "dashboard", auth.RoleViewer)
		spec := map[string]any{"name": "员工建的码", "roster": roster(member("zhangsan"))}
		var code channelcode.ChannelCode
		if st := e.api("POST", "/api/v1/channel-codes", spec, &code, staff); st != 201 {
			t.Fatalf("staff create: %d", st)
		}
		if st := e.api("POST", "/api/v1/channel-codes", spec, nil, viewer); st != 403 {
			t.Fatalf("viewer create: %d", st)
		}
		path := fmt.Sprintf("/api/v1/channel-codes/%d", code.ID)
		if st := e.api("GET", path, nil, nil, viewer); st != 200 {
			t.Fatalf("viewer read: %d", st)
		}
		if st := e.api("PATCH", path, map[string]any{"name": "改名"}, nil, staff); st != 403 {
			t.Fatalf("staff patch: %d", st)
		}
		if st := e.api("DELETE", path, nil, nil, staff); st != 403 {
			t.Fatalf("staff delete: %d", st)
		}
		if st := e.api("GET", "/api/v1/channel-codes/99999", nil, nil); st != 404 {
			t.Fatalf("missing: %d", st)
		}
		// The poster.
		req, _ := http.NewRequest("GET", e.base+path+"/qr.png", nil)
		req.Header.Set("Authorization", "Bearer "+viewer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || err != nil || img.Bounds().Dx() < 100 {
			t.Fatalf("qr.png: %d %v", resp.StatusCode, err)
		}
		// PATCH by the admin renames the way in WeCom.
		var patched channelcode.ChannelCode
		if st := e.api("PATCH", path, map[string]any{"name": "改名", "skip_verify": false}, &patched); st != 200 || patched.Name != "改名" {
			t.Fatalf("admin patch: %d %+v", st, patched)
		}
		if way, _ := e.ctl.ContactWay(ctx, code.ConfigID); way.Remark != "改名" || way.SkipVerify {
			t.Fatalf("way after patch = %+v", way)
		}
		if st := e.api("DELETE", path, nil, nil); st != 204 {
			t.Fatalf("admin delete: %d", st)
		}
		if _, err := e.ctl.ContactWay(ctx, code.ConfigID); err == nil {
			t.Fatal("contact way survived the code's deletion")
		}
		if st := e.api("GET", path, nil, nil); st != 404 {
			t.Fatalf("deleted code still served: %d", st)
		}
	})
}

func pngBytes(t *testing.T, shade uint8) []byte {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = shade
	}
	img.Set(0, 0, color.White)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (e *e2e) upload(data []byte) channelcode.MediaView {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "poster.png")
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", e.base+"/api/v1/media", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 {
		e.t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	var a channelcode.MediaView
	if err := jsonUnmarshal(b, &a); err != nil {
		e.t.Fatal(err)
	}
	return a
}

func TestWelcomeImageIsUploadedAheadAndRefreshedBeforeExpiry(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		asset := e.upload(pngBytes(t, 80))
		if asset.MediaID == "" || asset.ExpiresAt == nil {
			t.Fatalf("asset = %+v", asset)
		}
		code := e.createCode(map[string]any{"name": "图片欢迎语",
			"welcome": map[string]any{"text": "欢迎", "attachments": []map[string]any{{"type": "image", "media_asset_id": asset.ID}}},
			"roster":  roster(member("zhangsan"))})
		res := e.scan(code, "客户")
		e.idle()
		w, _ := e.ctl.Welcomes(ctx, wecomsim.WelcomeQuery{ExternalUserID: res.ExternalUserID})
		if len(w) != 1 || !strings.Contains(string(w[0].Attachments[0]), asset.MediaID) {
			t.Fatalf("welcome = %+v", w)
		}
		// The upload's media_id lasts 3 days; two and a half days on, the
		// tick re-uploads it and welcomes carry the new id (WeCom's clock
		// moves on with ours).
		e.clock.Set(time.Now().Add(60 * time.Hour))
		e.simClock.Set(time.Now().Add(60 * time.Hour))
		if err := e.gw.codes.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		e.idle()
		fresh, err := e.gw.store.GetMediaAsset(ctx, e2eCorp, asset.ID)
		if err != nil || fresh.MediaID == asset.MediaID || fresh.MediaID == "" {
			t.Fatalf("media not refreshed: %+v %v", fresh, err)
		}
		e.gw.cache.Reload(ctx)
		res = e.scan(code, "客户2")
		e.idle()
		w, _ = e.ctl.Welcomes(ctx, wecomsim.WelcomeQuery{ExternalUserID: res.ExternalUserID})
		if len(w) != 1 || !strings.Contains(string(w[0].Attachments[0]), fresh.MediaID) {
			t.Fatalf("welcome after refresh = %+v", w)
		}
		// Not an image: refused with the field.
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "x.png")
		fw.Write([]byte("not an image at all"))
		mw.Close()
		req, _ := http.NewRequest("POST", e.base+"/api/v1/media", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Fatalf("non-image upload: %d", resp.StatusCode)
		}
	})
}

// A welcome request that is on its way when the last safe moment to start
// one passes runs to WeCom's answer: cutting it short cannot take back a
// welcome WeCom accepted. One that outlives even the latest possible expiry
// is recorded as unknown, not failed, because WeCom may have delivered it.
// The gateway's clock stands still while the request is held by the
// simulator and is moved past the deadline (or the hard stop) by the test,
// so the outcome does not depend on how busy the machine is.
func TestWelcomeInFlightAtTheWindowsEndIsNotCutShort(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		code := e.createCode(map[string]any{"name": "窗口", "welcome": map[string]any{"text": "欢迎"},
			"roster": roster(member("zhangsan"))})
		// The callback reaches us 18 s after WeCom created the event (the
		// simulator's clock runs 18 s behind the gateway's).
		e.sim.Advance(-18 * time.Second)
		for _, c := range []struct {
			latencyMS int
			advance   time.Duration // while WeCom holds the request
			want      string
		}{
			// At+18..19 s when sent; moved to at+19.5..20.5: past the last
			// moment to start one, before the latest possible expiry.
			{2000, 1500 * time.Millisecond, "welcome sent"},
			// Moved past at+21 s: the request is cut off unanswered.
			{60000, 4 * time.Second, "welcome outcome unknown"},
		} {
			if _, err := e.ctl.SetFaults(ctx, wecomsim.Fault{API: "send_welcome_msg", LatencyMS: c.latencyMS, Count: 1}); err != nil {
				t.Fatal(err)
			}
			e.clock.Stop()
			e.clock.Set(time.Now())
			res := e.scan(code, "王小明")
			e.waitFor("the welcome request held by WeCom", func() bool {
				return e.sim.Slowed("externalcontact/send_welcome_msg") == 1
			})
			e.clock.Advance(c.advance)
			e.idle()
			e.clock.Start()
			if got := e.timeline(res.ExternalUserID); !strings.HasPrefix(got, c.want) {
				t.Fatalf("latency %d ms: timeline says %q, want %q", c.latencyMS, got, c.want)
			}
			// WeCom delivered it either way.
			if w, _ := e.ctl.Welcomes(ctx, wecomsim.WelcomeQuery{ExternalUserID: res.ExternalUserID}); len(w) != 1 {
				t.Fatalf("latency %d ms: %d welcomes delivered, want 1", c.latencyMS, len(w))
			}
		}
		if m := e.metrics(); !strings.Contains(m, `gateway_welcomes_total{outcome="unknown"} 1`) ||
			!strings.Contains(m, `gateway_welcomes_total{outcome="sent"} 1`) {
			t.Fatalf("welcome metrics:\n%s", grepLines(m, "gateway_welcomes_total"))
		}
	})
}

// An add handled after the 20 s window gets no welcome attempt, and says
// so; one handled with a second to spare gets its welcome. The gateway's
// clock stands still, so "after" and "to spare" are exact.
func TestWelcomeWindowIsReadOnTheGatewaysClock(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		code := e.createCode(map[string]any{"name": "窗口", "welcome": map[string]any{"text": "欢迎"},
			"roster": roster(member("zhangsan"))})
		for _, c := range []struct {
			late time.Duration // how far the gateway's clock is ahead of WeCom's
			want string
			sent int
		}{
			{18 * time.Second, "welcome sent", 1},
			// The last second is kept as a margin: the code was issued
			// up to a second after CreateTime.
			{19 * time.Second, "welcome not sent: the 20 s window had passed", 0},
			{time.Hour, "welcome not sent: the 20 s window had passed", 0},
		} {
			// Both clocks stand still; WeCom's on a whole second, so the
			// event's CreateTime is exact.
			now := time.Now().Truncate(time.Second)
			e.simClock.Stop()
			e.simClock.Set(now)
			e.clock.Stop()
			e.clock.Set(now.Add(c.late))
			res := e.scan(code, "王小明")
			e.idle()
			e.clock.Start()
			e.simClock.Start()
			if got := e.timeline(res.ExternalUserID); !strings.HasPrefix(got, c.want) {
				t.Fatalf("%s late: timeline says %q, want %q", c.late, got, c.want)
			}
			if w, _ := e.ctl.Welcomes(ctx, wecomsim.WelcomeQuery{ExternalUserID: res.ExternalUserID}); len(w) != c.sent {
				t.Fatalf("%s late: %d welcomes delivered, want %d", c.late, len(w), c.sent)
			}
		}
	})
}

// timeline returns the one timeline entry of the contact ext.
func (e *e2e) timeline(ext string) string {
	e.t.Helper()
	var list struct {
		Contacts []contact.ContactView `json:"contacts"`
	}
	e.api("GET", "/api/v1/contacts?q="+ext, nil, &list)
	if len(list.Contacts) != 1 {
		e.t.Fatalf("contacts for %s = %+v", ext, list.Contacts)
	}
	var detail struct {
		Timeline []contact.TimelineView `json:"timeline"`
	}
	e.api("GET", fmt.Sprintf("/api/v1/contacts/%d", list.Contacts[0].ID), nil, &detail)
	if len(detail.Timeline) != 1 {
		e.t.Fatalf("timeline = %+v", detail.Timeline)
	}
	return detail.Timeline[0].Detail
}

// The jobs list pages newest first with a next_before cursor.
func TestJobsListPagesNewestFirst(t *testing.T) {
	e := startE2E(t, "sqlite")
	code := e.createCode(map[string]any{"name": "任务", "tags": []string{"任务"}, "roster": roster(member("zhangsan"))})
	for _, name := range []string{"王小明", "李小红", "张小华"} { // one follow-up job each
		e.scan(code, name)
	}
	e.idle()
	var ids []uint64
	before := ""
	for page := 0; page < 20; page++ {
		var out struct {
			Jobs       []service.JobView `json:"jobs"`
			NextBefore *uint64           `json:"next_before"`
		}
		if st := e.api("GET", "/api/v1/jobs?limit=2"+before, nil, &out); st != 200 {
			t.Fatalf("page %d: %d", page, st)
		}
		for _, j := range out.Jobs {
			ids = append(ids, j.ID)
		}
		if out.NextBefore == nil {
			if len(out.Jobs) == 2 {
				t.Fatalf("a full page without next_before")
			}
			break
		}
		before = fmt.Sprintf("&before=%d", *out.NextBefore)
	}
	all, err := e.gw.store.ListJobs(context.Background(), model.JobFilter{Limit: 500})
	if err != nil || len(all) < 3 || len(ids) != len(all) {
		t.Fatalf("paged %v, store has %d jobs (%v)", ids, len(all), err)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			t.Fatalf("not newest first: %v", ids)
		}
	}
	var bad map[string]map[string]string
	if st := e.api("GET", "/api/v1/jobs?limit=0", nil, &bad); st != 400 || bad["error"]["field"] != "limit" {
		t.Fatalf("limit=0: %d %v", st, bad)
	}
}

// WeCom's 41050 (the welcome code has expired) is too late, not a failure.
func TestWelcomeCodeExpiredAtWeComIsRecordedExpired(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		code := e.createCode(map[string]any{"name": "过期", "welcome": map[string]any{"text": "欢迎"},
			"roster": roster(member("zhangsan"))})
		if _, err := e.ctl.SetFaults(ctx, wecomsim.Fault{API: "send_welcome_msg", ErrCode: 41050, Count: 1}); err != nil {
			t.Fatal(err)
		}
		res := e.scan(code, "王小明")
		e.idle()
		if got := e.timeline(res.ExternalUserID); !strings.HasPrefix(got, "welcome not sent: WeCom says the welcome code has expired") {
			t.Fatalf("timeline says %q", got)
		}
		if m := e.metrics(); !strings.Contains(m, `gateway_welcomes_total{outcome="expired"} 1`) ||
			strings.Contains(m, `gateway_welcomes_total{outcome="failed"}`) {
			t.Fatalf("welcome metrics:\n%s", grepLines(m, "gateway_welcomes_total"))
		}
	})
}
