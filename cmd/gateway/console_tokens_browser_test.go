package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// An admin creates a token on the tokens screen, sees its secret once and
// the token listed, the secret works against the API, and revoking it (after
// the confirm) ends it.
func TestConsoleTokensInHeadlessChromium(t *testing.T) {
	path := requireChromium(t)
	e := startE2E(t, "sqlite")
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
