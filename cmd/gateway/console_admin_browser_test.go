package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/leadgate/scrm-gateway/service"
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

// An admin opens a delivery's detail on the webhooks screen (its attempt with
// the HTTP status, and the exact payload), then disables the endpoint and
// enables it again.
func TestConsoleWebhookDetailInHeadlessChromium(t *testing.T) {
	requireChromium(t)
	e := startE2E(t, "sqlite")
	crm := e.crmEndpoint("/wecom-leads", service.EventContactAdded)
	e.scan(e.createCode(map[string]any{"name": "春季展会", "roster": roster(member("zhangsan"))}), "王小明")
	e.idle()
	crm.await(t, service.EventContactAdded, 1)
	var list struct {
		Deliveries []struct {
			ID uint64 `json:"id"`
		} `json:"deliveries"`
	}
	if st := e.api("GET", "/api/v1/webhook-deliveries?status=delivered", nil, &list); st != 200 || len(list.Deliveries) != 1 {
		t.Fatalf("deliveries: %d %+v", st, list)
	}

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
	until("delivery listed", `!!document.querySelector('#webhooks [data-role="detail"]')`)
	click("detail", `document.querySelector('#webhooks [data-role="detail"]')`)
	until("detail shown", `(() => { const d = document.getElementById('delivery-detail');
		return !d.hidden && d.querySelector('tbody td[data-label="HTTP"]')?.textContent === '204' &&
			d.querySelector('pre.payload').textContent.includes('春季展会') && d.textContent.includes('contact.added'); })()`)

	ep := `document.querySelector('#webhooks [data-role="toggle"]')`
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
