package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/groupcode"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/webhook/outbound"
	"github.com/leadgate/scrm-gateway/wecom"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// consoleWordAllowed are the English-looking words the Chinese console may
// show: names of things that are not translated (protocols, formats, WeCom
// and CRM terms written in Latin letters in Chinese too), and the API's own
// values shown beside their Chinese (roles, statuses, modes, kinds), which
// a user types or reads in the API.
var consoleWordAllowed = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
		SCRM CRM API URL CSV PNG JPEG PDF QR UTM MQL SQL BANT HTTP HTTPS JSON ID CorpID Webhook Webhooks TLS DPI
		UTF GCJ WGS IANA Asia Shanghai YYYY HH MM DD Bearer Gone
		userid unionid
		admin staff viewer crm
		pending processing processed ignored failed delivered
		raw mql sql accepted rejected nurturing won lost
		random precise landing weighted
		budget authority need timeline yes no unknown
		name mobile owner
		zhangsan lisi wangwu zhaoliu sunqi
	`) {
		m[strings.ToLower(w)] = true
	}
	return m
}()

// consoleWord is a run of Latin letters with the identifier characters that
// may join them; a word holding a digit, "_", ".", "/", "@", ":" or "-" is an
// identifier (a userid, a code slug, an event type, a path), not English.
var consoleWord = regexp.MustCompile(`[A-Za-z][A-Za-z0-9_./@:\-]*`)

var templateVar = regexp.MustCompile(`\{\w+\}`)

// englishWords lists the words of text that read as English: three or more
// Latin letters, not an identifier, not allowed above.
func englishWords(text string) []string {
	var out []string
	text = templateVar.ReplaceAllString(text, "") // {name} in a remark template is syntax
	for _, w := range consoleWord.FindAllString(text, -1) {
		w = strings.TrimRight(w, ".:-/")
		if len(w) < 3 || strings.ContainsAny(w, "0123456789_./@:-") || consoleWordAllowed[strings.ToLower(w)] {
			continue
		}
		out = append(out, w)
	}
	return out
}

func TestEnglishWordsHeuristic(t *testing.T) {
	got := englishWords("已停用：failing without a success · HTTP 503 · 渠道 c:ab12 · lead.created · zhangsan · 管理员 admin · {name}-{code} · welcome sent")
	if strings.Join(got, ",") != "failing,without,success,welcome,sent" {
		t.Fatalf("englishWords = %v", got)
	}
}

// TestConsoleIsChineseOnEveryScreen walks every screen of the console as an
// admin, in zh-CN, over a corp that has something on each (codes with a
// sync alert, a group pool, stores, customers and leads, a tag rule, a
// failed job, a webhook endpoint with a failed delivery, tokens), and fails
// when the visible text, the placeholders or the option labels hold an
// English word (see englishWords).
func TestConsoleIsChineseOnEveryScreen(t *testing.T) {
	path := requireChromium(t)
	e := startE2E(t, "sqlite")
	ctx := context.Background()

	// Something on every screen.
	if st := e.api("POST", "/api/v1/tags", map[string]any{"group": "来源", "names": []string{"展会", "高意向"}}, nil); st != 201 {
		t.Fatalf("tags: %d", st)
	}
	code := e.createCode(map[string]any{"name": "秋季展会", "tags": []string{"展会"}, "welcome": map[string]any{"text": "您好{name}"},
		"roster": roster(member("zhangsan"), member("lisi"))})
	res := e.scan(code, "李雷")
	chat, err := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: "展会一群", Owner: "zhangsan"})
	if err != nil {
		t.Fatal(err)
	}
	e.idle()
	var group groupcode.GroupCode
	if st := e.api("POST", "/api/v1/group-codes", map[string]any{"name": "展会群", "chat_ids": []string{chat.ChatID}}, &group); st != 201 {
		t.Fatalf("group code: %d", st)
	}
	shop := e.createStore("人民广场店", 31.2304, 121.4737)
	storeCode := e.createStoreCode(map[string]any{"name": "门店活码", "store_ids": []uint64{shop.ID}})
	var rule lead.TagRuleSpec
	if st := e.api("POST", "/api/v1/tag-rules", map[string]any{"name": "展会加分", "trigger": "contact_added",
		"conditions": map[string]any{"code_ids": []uint64{code.ID}}, "actions": map[string]any{"add_tags": []string{"高意向"}, "score_delta": 15}}, &rule); st != 201 {
		t.Fatalf("rule: %d", st)
	}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(down.Close)
	e.gw.webhooks.SetNetworkPolicy(webhook.NetworkPolicy{AllowHTTP: true, AllowPrivateNetworks: true})
	if st := e.api("POST", "/api/v1/webhook-endpoints", map[string]any{"url": down.URL + "/hooks", "event_types": []string{"contact.added"}}, nil); st != 201 {
		t.Fatalf("endpoint: %d", st)
	}
	if st := e.api("POST", "/api/v1/tokens", map[string]any{"name": "张三的令牌", "role": "staff", "userid": "zhangsan"}, nil); st != 201 {
		t.Fatalf("token: %d", st)
	}
	// WeCom refuses a remark for good (a failed job) and every roster sync
	// (an alert on the code).
	if _, err := e.ctl.AddFault(ctx, wecomsim.Fault{API: "remark", ErrCode: wecom.CodeNoRelationship, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.AddFault(ctx, wecomsim.Fault{API: "update_contact_way", ErrCode: wecom.CodeInvalidParameter}); err != nil {
		t.Fatal(err)
	}
	// A customer who deletes the staff member: a loss on the relation and a
	// lost lead, each with its reason.
	gone := e.scan(code, "离开的客户")
	e.idle()
	if err := e.ctl.DeleteStaff(ctx, wecomsim.RelationRequest{UserID: gone.UserID, ExternalUserID: gone.ExternalUserID}); err != nil {
		t.Fatal(err)
	}
	other := e.createCode(map[string]any{"name": "备注码", "remark_template": "{name}", "roster": roster(member("wangwu"))})
	e.scan(other, "韩梅梅")
	if st := e.api("PATCH", fmt.Sprintf("/api/v1/channel-codes/%d", code.ID), map[string]any{"roster": roster(member("zhangsan"))}, nil); st != 200 {
		t.Fatalf("patch: %d", st)
	}
	e.idle()
	e.waitFor("the refused delivery", func() bool {
		var d struct {
			Deliveries []outbound.WebhookDelivery `json:"deliveries"`
		}
		e.api("GET", "/api/v1/webhook-deliveries", nil, &d)
		return len(d.Deliveries) > 0 && d.Deliveries[0].Error != ""
	})
	e.waitFor("the sync alert", func() bool {
		var c channelcode.ChannelCode
		e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d", code.ID), nil, &c)
		return c.Alert != ""
	})
	firstLead := e.leadOf(res.ExternalUserID)
	var contacts struct {
		Contacts []contact.ContactView `json:"contacts"`
	}
	e.api("GET", "/api/v1/contacts?q="+res.ExternalUserID, nil, &contacts)
	if len(contacts.Contacts) != 1 {
		t.Fatalf("contacts: %+v", contacts)
	}
	lostLead := e.leadOf(gone.ExternalUserID)
	if lostLead.Stage != lead.StageLost {
		t.Fatalf("the customer who left: lead %s, want lost", lostLead.Stage)
	}
	var lostContacts struct {
		Contacts []contact.ContactView `json:"contacts"`
	}
	e.api("GET", "/api/v1/contacts?q="+gone.ExternalUserID, nil, &lostContacts)
	if len(lostContacts.Contacts) != 1 {
		t.Fatalf("lost contacts: %+v", lostContacts)
	}

	bctx := startBrowser(t, path, 1280, 900)
	tctx, cancel := chromedp.NewContext(bctx)
	t.Cleanup(cancel)
	tctx, cancelT := context.WithTimeout(tctx, 5*time.Minute)
	t.Cleanup(cancelT)
	until := func(what, cond string) {
		t.Helper()
		ok, err := chromedp.Run(tctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(30*time.Second)))
		if err != nil || !ok {
			body, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("%s: waiting for %s: %v (page: %q)", what, cond, err, body)
		}
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(e.base+"/console"), chromedp.WaitVisible(chromedp.ID("f-token"))); err != nil {
		t.Fatal(err)
	}
	// The sign-in page is a screen too.
	seen := map[string][]string{}
	// The visible text, less what is set as code (<code>: userids, states,
	// job kinds, event types: identifiers, shown as they are).
	visible := `(() => { const b = document.body.cloneNode(true); b.querySelectorAll('code, kbd, pre.payload').forEach(c => c.remove());
		const hold = document.createElement('div'); hold.style.cssText = 'position:absolute;left:-99999px'; hold.append(...b.childNodes);
		document.body.append(hold); const text = hold.innerText; hold.remove(); return [text,
		...[...document.querySelectorAll('[placeholder]')].map(e => e.placeholder),
		...[...document.querySelectorAll('option')].map(o => o.label || o.textContent),
		...[...document.querySelectorAll('img[alt]')].map(i => i.alt)].join('\n'); })()`
	check := func(screen string) {
		t.Helper()
		text, err := chromedp.Run(tctx, chromedp.Evaluate[string](visible))
		if err != nil {
			t.Fatalf("%s: %v", screen, err)
		}
		if words := englishWords(text); len(words) > 0 {
			seen[screen] = words
		}
	}
	check("sign-in")
	if err := chromedp.Do(tctx, chromedp.SendKeys(chromedp.ID("f-token"), e.token), chromedp.Click(chromedp.CSS(`#sign-in button[type="submit"]`))); err != nil {
		t.Fatal(err)
	}
	until("signed in", `!!document.querySelector('#channels') && !document.getElementById('who').hidden`)

	screens := []string{
		"#/channels", "#/channels/new", fmt.Sprintf("#/channels/%d", code.ID),
		"#/groups", "#/groups/new", fmt.Sprintf("#/groups/%d", group.ID),
		"#/stores", "#/stores/new", fmt.Sprintf("#/stores/%d", shop.ID), "#/store-codes/new", fmt.Sprintf("#/store-codes/%d", storeCode.ID),
		"#/contacts", fmt.Sprintf("#/contacts/%d", contacts.Contacts[0].ID),
		fmt.Sprintf("#/contacts/%d", lostContacts.Contacts[0].ID),
		"#/leads", fmt.Sprintf("#/leads/%d", firstLead.ID), fmt.Sprintf("#/leads/%d", lostLead.ID), "#/funnel",
		"#/rules", "#/rules/new", fmt.Sprintf("#/rules/%d", rule.ID), "#/scoring",
		fmt.Sprintf("#/print/channel-codes/%d", code.ID), fmt.Sprintf("#/print/group-codes/%d", group.ID),
		fmt.Sprintf("#/print/store-codes/%d", storeCode.ID),
		"#/webhooks", "#/tokens", "#/events", "#/jobs", "#/jobs?status=failed",
	}
	// What some screens must show, in Chinese: the sync alert, the failed
	// job's WeCom error, the delivery the endpoint refused.
	expect := map[string]string{
		"#/channels":           "企业微信同步失败：企业微信接口 externalcontact/update_contact_way 出错（错误码 40058）：参数不合法",
		"#/jobs?status=failed": "不存在外部联系人关系",
		"#/webhooks":           "对方返回 HTTP 503",
		fmt.Sprintf("#/contacts/%d", lostContacts.Contacts[0].ID): "客户删除了成员",
		fmt.Sprintf("#/leads/%d", lostLead.ID):                    "客户删除了所有成员",
	}
	for _, s := range screens {
		if _, err := chromedp.Run(tctx, chromedp.Evaluate[any](fmt.Sprintf(`location.hash = %q; 0`, s))); err != nil {
			t.Fatal(err)
		}
		// Drawn: the screen replaced the loading line, and nothing inside it
		// (a chart, a QR, a list) is still loading.
		until(s, `(() => { const m = document.getElementById('main');
			return m.children.length > 0 && !m.querySelector('.loading') && !/加载中/.test(m.innerText) &&
				![...m.querySelectorAll('img')].some(i => !i.complete); })()`)
		if want := expect[s]; want != "" {
			until(s+" shows "+want, fmt.Sprintf(`document.getElementById('main').innerText.includes(%q)`, want))
		}
		check(s)
		if s == fmt.Sprintf("#/contacts/%d", lostContacts.Contacts[0].ID) {
			saveScreenshot(t, tctx, screenshotDir(t), "console-zh-lost-contact")
		}
	}
	// A delivery's detail: its attempts and their errors.
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[any](`location.hash = '#/webhooks'; 0`)); err != nil {
		t.Fatal(err)
	}
	until("a delivery", `!!document.querySelector('#webhooks [data-role="detail"]')`)
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[any](`document.querySelector('#webhooks [data-role="detail"]').click(); 0`)); err != nil {
		t.Fatal(err)
	}
	until("the delivery's detail", `!document.getElementById('delivery-detail').hidden &&
		document.getElementById('delivery-detail').innerText.includes('对方返回 HTTP 503')`)
	check("#/webhooks (a delivery's detail)")
	saveScreenshot(t, tctx, screenshotDir(t), "console-zh-delivery-detail")
	// The forms' own errors: each form saved with what the API refuses (the
	// validations' reasons read in Chinese too).
	for _, f := range []struct{ hash, form, save, fill string }{
		{"#/channels/new", "channel-form", "save-channel", ``},
		{"#/groups/new", "group-form", "save-group", `document.getElementById('f-name').value = '群'; document.getElementById('f-chat_ids').value = 'x';
			document.getElementById('f-auto_create-room_base_id').value = '-1'`},
		{"#/stores/new", "store-form", "save-store", `document.getElementById('f-name').value = '店'; document.getElementById('f-latitude').value = '31';
			document.getElementById('f-longitude').value = '121'; document.querySelector('#store-form .member [data-role="userid"]').value = 'ghost1'`},
		{"#/rules/new", "rule-form", "save-rule", `document.getElementById('f-name').value = '规则'; document.getElementById('f-actions-score_delta').value = '5000'`},
	} {
		if _, err := chromedp.Run(tctx, chromedp.Evaluate[any](fmt.Sprintf(`location.hash = %q; 0`, f.hash))); err != nil {
			t.Fatal(err)
		}
		until(f.hash+" form", fmt.Sprintf(`!!document.getElementById(%q)`, f.save))
		if _, err := chromedp.Run(tctx, chromedp.Evaluate[any](f.fill+fmt.Sprintf(`; document.getElementById(%q).click(); 0`, f.save))); err != nil {
			t.Fatal(err)
		}
		until(f.hash+" errors", fmt.Sprintf(`!!document.querySelector('#%s .error-box') && !document.querySelector('#%s .error-box').hidden`, f.form, f.form))
		check(f.hash + " (refused)")
	}

	if len(seen) > 0 {
		keys := make([]string, 0, len(seen))
		for k := range seen {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			words := slices.Compact(slices.Sorted(slices.Values(seen[k])))
			fmt.Fprintf(&b, "\n  %s: %s", k, strings.Join(words, " "))
		}
		t.Fatalf("English words on the Chinese console:%s", b.String())
	}
}
