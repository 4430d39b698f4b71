package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/webhook/outbound"
)

// An admin creates a token on the tokens screen, sees its secret once and
// the token listed, the secret works against the API, and revoking it (after
// the confirm) ends it.
func TestConsoleTokensInHeadlessChromium(t *testing.T) {
	requireChromium(t)
	e := startE2E(t, "sqlite")
	tctx, page, until := browserTab(t)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tctx, steps...); err != nil {
			t.Fatalf("%s: %v (page: %q)", what, err, page())
		}
	}

	do("open the console", chromedp.Navigate(e.base+"/console"))
	do("sign in", chromedp.WaitVisible(chromedp.ID("f-token")), chromedp.SendKeys(chromedp.ID("f-token"), e.token),
		chromedp.Click(chromedp.CSS(`#sign-in button[type="submit"]`)))
	until("signed in", `!!document.querySelector('#channels')`)
	do("tokens screen", chromedp.Click(chromedp.CSS(`nav a[href="#/tokens"]`)), chromedp.WaitVisible(chromedp.ID("new-token")))

	// A staff token without its userid: the API names the field and the form shows it.
	do("new token", chromedp.Click(chromedp.ID("new-token")), chromedp.WaitVisible(chromedp.ID("token-form")),
		chromedp.SendKeys(chromedp.ID("f-name"), "销售张三"),
		chromedp.SetValue(chromedp.ID("f-role"), "staff"),
		chromedp.Click(chromedp.ID("create-token")))
	until("userid error", `document.getElementById('f-userid').classList.contains('invalid') &&
		!document.querySelector('#token-form .error-box').hidden`)
	do("with userid", chromedp.SendKeys(chromedp.ID("f-userid"), "zhangsan"), chromedp.Click(chromedp.ID("create-token")))
	until("secret shown", `!document.getElementById('token-secret').hidden &&
		document.querySelector('#token-secret .secret-value').textContent.length > 20`)
	secret, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('#token-secret .secret-value').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	until("listed", `[...document.querySelectorAll('#tokens tbody tr')].some(r => r.textContent.includes('销售张三') &&
		r.textContent.includes('staff') && r.textContent.includes('zhangsan') && r.textContent.includes('有效'))`)

	// The secret is a working staff token.
	if code := e.api("GET", "/api/v1/leads", nil, nil, secret); code != 200 {
		t.Fatalf("new token: GET /leads = %d", code)
	}

	// Listed after a reload too, then revoked through the confirm.
	do("reload", chromedp.Reload())
	until("listed after reload", `[...document.querySelectorAll('#tokens tbody tr')].some(r => r.textContent.includes('销售张三'))`)
	row := `[...document.querySelectorAll('#tokens tbody tr')].find(r => r.textContent.includes('销售张三'))`
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[any](row+`.querySelector('[data-role="revoke"]').click(); 0`)); err != nil {
		t.Fatal(err)
	}
	until("confirm shown", `!`+row+`.querySelector('.confirm').hidden`)
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[any](row+`.querySelector('[data-role="confirm-revoke"]').click(); 0`)); err != nil {
		t.Fatal(err)
	}
	until("revoked", row+`.textContent.includes('已吊销') && !`+row+`.querySelector('[data-role="revoke"]')`)
	if code := e.api("GET", "/api/v1/leads", nil, nil, secret); code != 401 {
		t.Fatalf("revoked token: GET /leads = %d", code)
	}
	if body := page(); strings.Contains(body, secret) {
		t.Fatal("the secret is still on the page after a reload")
	}
}

// An admin opens a delivery's detail on the webhooks screen: a delivered
// one's attempt with its HTTP status, latency and the exact payload, and a
// failing one's answer from the CRM and its next attempt; then disables the
// endpoint and enables it again.
func TestConsoleWebhookDetailInHeadlessChromium(t *testing.T) {
	requireChromium(t)
	e := startE2E(t, "sqlite")
	crm := e.crmEndpoint("/wecom-leads", webhook.EventContactAdded)
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("维护中，请稍后"))
	}))
	t.Cleanup(busy.Close)
	var down outbound.WebhookEndpoint
	if st := e.api("POST", "/api/v1/webhook-endpoints", map[string]any{"url": busy.URL + "/busy", "event_types": []string{"contact.added"}}, &down); st != 201 {
		t.Fatalf("second endpoint: %d", st)
	}
	e.scan(e.createCode(map[string]any{"name": "春季展会", "roster": roster(member("zhangsan"))}), "王小明")
	e.idle()
	crm.await(t, webhook.EventContactAdded, 1)
	var list struct {
		Deliveries []outbound.WebhookDelivery `json:"deliveries"`
	}
	// The receiver has the request before the gateway records its answer.
	e.waitFor("the delivery recorded as delivered", func() bool {
		e.api("GET", "/api/v1/webhook-deliveries?status=delivered", nil, &list)
		return len(list.Deliveries) == 1
	})
	delivered := list.Deliveries[0].ID
	e.waitFor("a failed attempt on the busy endpoint", func() bool {
		e.api("GET", fmt.Sprintf("/api/v1/webhook-deliveries?endpoint=%d&status=pending", down.ID), nil, &list)
		return len(list.Deliveries) == 1 && list.Deliveries[0].AttemptsMade > 0
	})
	pending := list.Deliveries[0].ID

	tctx, page, until := browserTab(t)
	click := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Evaluate[any](js+`.click(); 0`)); err != nil {
			t.Fatalf("%s: %v (page: %q)", what, err, page())
		}
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(e.base+"/console"), chromedp.WaitVisible(chromedp.ID("f-token")),
		chromedp.SendKeys(chromedp.ID("f-token"), e.token), chromedp.Click(chromedp.CSS(`#sign-in button[type="submit"]`))); err != nil {
		t.Fatal(err)
	}
	until("signed in", `!!document.querySelector('#channels')`)
	if err := chromedp.Do(tctx, chromedp.Navigate(e.base+"/console#/webhooks")); err != nil {
		t.Fatal(err)
	}
	detailOf := func(id uint64) string {
		return fmt.Sprintf(`[...document.querySelectorAll('#webhooks [data-role="detail"]')].find(b => b.closest('tr').querySelector('td').textContent === '%d')`, id)
	}
	until("deliveries listed", `!!`+detailOf(delivered)+` && !!`+detailOf(pending))
	click("detail", detailOf(delivered))
	until("detail shown", `(() => { const d = document.getElementById('delivery-detail');
		return !d.hidden && d.querySelector('tbody td[data-label="HTTP"]')?.textContent === '204' &&
			/^\d+ ms$/.test(d.querySelector('tbody td[data-label="耗时"]')?.textContent) &&
			d.querySelector('pre.payload').textContent.includes('春季展会') && d.textContent.includes('contact.added') &&
			!d.textContent.includes('下次尝试'); })()`)
	click("failing detail", detailOf(pending))
	until("failing detail shown", `(() => { const d = document.getElementById('delivery-detail');
		return !d.hidden && d.querySelector('h3').textContent.includes('`+fmt.Sprint(pending)+`') &&
			d.querySelector('tbody td[data-label="HTTP"]')?.textContent === '503' &&
			d.querySelector('tbody td[data-label="响应"]')?.textContent.includes('维护中，请稍后') &&
			/^\d+ ms$/.test(d.querySelector('tbody td[data-label="耗时"]')?.textContent) &&
			d.textContent.includes('下次尝试'); })()`)

	ep := `document.querySelector('#webhooks tr[data-id="1"] [data-role="toggle"]')`
	click("disable", ep)
	until("disabled", ep+`.textContent === '启用' && `+ep+`.closest('tr').textContent.includes('已停用')`)
	var got struct {
		Enabled bool `json:"enabled"`
	}
	if e.api("GET", "/api/v1/webhook-endpoints/1", nil, &got); got.Enabled {
		t.Fatal("the endpoint is still enabled after 停用")
	}
	click("enable", ep)
	until("enabled", ep+`.textContent === '停用' && `+ep+`.closest('tr').textContent.includes('启用')`)
	if e.api("GET", "/api/v1/webhook-endpoints/1", nil, &got); !got.Enabled {
		t.Fatal("the endpoint is still disabled after 启用")
	}
}

// browserTab opens a desktop tab on a fresh browser and returns it with
// page (the body's text) and until (waits for a JavaScript condition and
// shows the page when it does not come true).
func browserTab(t *testing.T) (context.Context, func() string, func(what, cond string)) {
	path := requireChromium(t)
	bctx := startBrowser(t, path, 1280, 900)
	tctx, cancel := chromedp.NewContext(bctx)
	t.Cleanup(cancel)
	tctx, cancelT := context.WithTimeout(tctx, 120*time.Second)
	t.Cleanup(cancelT)
	page := func() string {
		body, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		return body
	}
	until := func(what, cond string) {
		t.Helper()
		ok, err := chromedp.Run(tctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(30*time.Second)))
		if err != nil || !ok {
			t.Fatalf("%s: waiting for %s: %v (page: %q)", what, cond, err, page())
		}
	}
	return tctx, page, until
}

// An admin edits an endpoint (every field), sends test events, rotates a
// secret (shown once, the old one still verifying), bulk-replays an
// endpoint's failed deliveries, and deletes an endpoint after the confirm.
func TestConsoleWebhookEndpointActionsInHeadlessChromium(t *testing.T) {
	requireChromium(t)
	e := startE2E(t, "sqlite")
	crm := e.crmEndpoint("/crm", webhook.EventContactAdded) // endpoint 1, verifying every signature
	var answer atomic.Int32
	answer.Store(500)
	var second atomic.Int32
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2" {
			second.Add(1)
		}
		w.WriteHeader(int(answer.Load()))
	}))
	t.Cleanup(down.Close)
	var ep2 outbound.WebhookEndpoint
	if st := e.api("POST", "/api/v1/webhook-endpoints", map[string]any{"url": down.URL + "/v1", "event_types": []string{"contact.added"}}, &ep2); st != 201 {
		t.Fatalf("second endpoint: %d", st)
	}
	e.scan(e.createCode(map[string]any{"name": "春季展会", "roster": roster(member("zhangsan"))}), "王小明")
	e.idle()
	crm.await(t, webhook.EventContactAdded, 1)
	// The second endpoint's delivery fails: its CRM answers 500 and the
	// endpoint is disabled while the delivery waits for its retry.
	var ds struct {
		Deliveries []outbound.WebhookDelivery `json:"deliveries"`
	}
	deliveriesOf := fmt.Sprintf("/api/v1/webhook-deliveries?endpoint=%d", ep2.ID)
	e.waitFor("an attempt on the second endpoint", func() bool {
		e.api("GET", deliveriesOf, nil, &ds)
		return len(ds.Deliveries) == 1 && ds.Deliveries[0].AttemptsMade > 0
	})
	if st := e.api("PATCH", fmt.Sprintf("/api/v1/webhook-endpoints/%d", ep2.ID), map[string]any{"enabled": false}, nil); st != 200 {
		t.Fatalf("disable: %d", st)
	}
	if e.api("GET", deliveriesOf, nil, &ds); ds.Deliveries[0].Status != "failed" {
		t.Fatalf("delivery = %+v", ds.Deliveries[0])
	}
	answer.Store(204)

	tctx, page, until := browserTab(t)
	run := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Evaluate[any](js+`; 0`)); err != nil {
			t.Fatalf("%s: %v (page: %q)", what, err, page())
		}
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(e.base+"/console"), chromedp.WaitVisible(chromedp.ID("f-token")),
		chromedp.SendKeys(chromedp.ID("f-token"), e.token), chromedp.Click(chromedp.CSS(`#sign-in button[type="submit"]`))); err != nil {
		t.Fatal(err)
	}
	until("signed in", `!!document.querySelector('#channels')`)
	if err := chromedp.Do(tctx, chromedp.Navigate(e.base+"/console#/webhooks")); err != nil {
		t.Fatal(err)
	}
	row := func(id uint64) string {
		return fmt.Sprintf(`document.querySelector('#webhooks table')?.querySelector('tr[data-id="%d"]')`, id)
	}
	until("endpoints listed", `!!`+row(1)+` && !!`+row(ep2.ID))

	// Edit every field of the second endpoint, enabling it again.
	run("edit", row(ep2.ID)+`.querySelector('[data-role="edit"]').click()`)
	until("edit form", `!!document.getElementById('endpoint-edit')`)
	run("fill", `(() => { const f = document.getElementById('endpoint-edit');
		f.querySelector('[data-field="url"]').value = '`+down.URL+`/v2';
		f.querySelector('[data-field="description"]').value = '新 CRM';
		f.querySelector('[data-role="type"][value="lead.created"]').checked = true;
		f.querySelector('[data-field="enabled"]').checked = true;
		f.querySelector('button[type="submit"]').click(); })()`)
	until("saved", `!document.getElementById('endpoint-edit') && `+row(ep2.ID)+`.textContent.includes('新 CRM') &&
		`+row(ep2.ID)+`.textContent.includes('/v2') && `+row(ep2.ID)+`.querySelector('[data-role="toggle"]').textContent === '停用'`)
	var got outbound.WebhookEndpoint
	e.api("GET", fmt.Sprintf("/api/v1/webhook-endpoints/%d", ep2.ID), nil, &got)
	if got.URL != down.URL+"/v2" || got.Description != "新 CRM" || !got.Enabled ||
		strings.Join(got.EventTypes, ",") != "lead.created,contact.added" && strings.Join(got.EventTypes, ",") != "contact.added,lead.created" {
		t.Fatalf("after the edit: %+v", got)
	}

	// A test event reaches the verifying CRM; the answer is shown.
	run("test", row(1)+`.querySelector('[data-role="test"]').click()`)
	until("test result", `(() => { const r = document.getElementById('endpoint-test-result');
		return !r.hidden && r.textContent.includes('成功') && r.textContent.includes('HTTP 204'); })()`)
	crm.await(t, webhook.EventWebhookTest, 1)

	// Rotate the secret: the new one is shown once; the CRM still holding
	// the old one verifies the next test event, and so does the new one.
	run("rotate", row(1)+`.querySelector('[data-role="rotate"]').click()`)
	run("confirm rotate", row(1)+`.querySelector('[data-role="confirm-rotate"]').click()`)
	until("new secret shown", `!document.getElementById('webhook-secret').hidden &&
		document.querySelector('#webhook-secret .secret-value').textContent.startsWith('whsec_') &&
		document.getElementById('webhook-secret').textContent.includes('旧密钥继续签名至')`)
	fresh, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.querySelector('#webhook-secret .secret-value').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	crm.mu.Lock()
	old := crm.secret
	crm.mu.Unlock()
	if fresh == old {
		t.Fatal("the rotation showed the old secret")
	}
	if e.api("GET", "/api/v1/webhook-endpoints/1", nil, &got); got.PreviousSecretExpiresAt == nil || got.Secret != "" {
		t.Fatalf("after the rotation: %+v", got)
	}
	// A test button is disabled while its request is out.
	testReady := `!` + row(1) + `.querySelector('[data-role="test"]').disabled`
	until("test button ready", testReady)
	run("test with the old secret", row(1)+`.querySelector('[data-role="test"]').click()`)
	crm.await(t, webhook.EventWebhookTest, 2)
	crm.mu.Lock()
	crm.secret = fresh
	crm.mu.Unlock()
	until("test button ready", testReady)
	run("test with the new secret", row(1)+`.querySelector('[data-role="test"]').click()`)
	crm.await(t, webhook.EventWebhookTest, 3)
	if crm.mu.Lock(); len(crm.bad) != 0 {
		t.Fatalf("refused signatures: %v", crm.bad)
	}
	crm.mu.Unlock()

	// Bulk replay of the second endpoint's failed deliveries.
	// The endpoint is chosen by its URL from the list of endpoints.
	until("endpoint choices", fmt.Sprintf(`[...document.querySelector('#delivery-filters [data-field="endpoint"]').options].some(o => o.value === '%d' && o.textContent === '#%d %s/v2（新 CRM）')`, ep2.ID, ep2.ID, down.URL))
	run("filter", `document.querySelector('#delivery-filters [data-field="endpoint"]').value = '`+fmt.Sprint(ep2.ID)+`'`)
	run("bulk replay", `document.querySelector('#bulk-replay [data-role="bulk-replay"]').click()`)
	run("confirm bulk replay", `document.querySelector('#bulk-replay [data-role="confirm-bulk-replay"]').click()`)
	until("replayed", `document.getElementById('bulk-replay-result').textContent.includes('已排队重发 1 条')`)
	e.waitFor("the replay delivered", func() bool {
		e.api("GET", deliveriesOf, nil, &ds)
		return len(ds.Deliveries) == 1 && ds.Deliveries[0].Status == "delivered"
	})
	if second.Load() != 1 {
		t.Fatalf("the edited URL got %d requests", second.Load())
	}

	// Delete the first endpoint, after the confirm.
	run("delete", row(1)+`.querySelector('[data-role="delete"]').click()`)
	until("confirm shown", `!`+row(1)+`.querySelector('[data-role="confirm-delete"]').closest('.confirm').hidden`)
	if st := e.api("GET", "/api/v1/webhook-endpoints/1", nil, nil); st != 200 {
		t.Fatalf("deleted before the confirm: %d", st)
	}
	run("confirm delete", row(1)+`.querySelector('[data-role="confirm-delete"]').click()`)
	until("row gone", `!`+row(1)+` && !!`+row(ep2.ID))
	if st := e.api("GET", "/api/v1/webhook-endpoints/1", nil, nil); st != 404 {
		t.Fatalf("after the delete: %d", st)
	}
}
