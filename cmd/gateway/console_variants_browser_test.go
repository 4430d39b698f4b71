package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/leadgate/scrm-gateway/service/channelcode"
)

// TestConsoleWelcomeVariantsInHeadlessChromium edits a channel code's
// time-of-day and weekday welcome variants in the console: a variant added
// through the form with a bad time is refused on its box, then saved, kept by
// the API, shown again, and removed.
func TestConsoleWelcomeVariantsInHeadlessChromium(t *testing.T) {
	path := requireChromium(t)
	e := startE2E(t, "sqlite")
	var code channelcode.ChannelCode
	if st := e.api("POST", "/api/v1/channel-codes", map[string]any{"name": "夜间咨询", "welcome": map[string]any{"text": "您好{name}"},
		"roster": roster(member("zhangsan"))}, &code); st != 201 {
		t.Fatalf("create: %d", st)
	}

	bctx := startBrowser(t, path, 1280, 900)
	tctx, cancel := chromedp.NewContext(bctx)
	t.Cleanup(cancel)
	tctx, cancelT := context.WithTimeout(tctx, 120*time.Second)
	t.Cleanup(cancelT)
	until := func(what, cond string) {
		t.Helper()
		ok, err := chromedp.Run(tctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(30*time.Second)))
		if err != nil || !ok {
			body, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("%s: waiting for %s: %v (page: %q)", what, cond, err, body)
		}
	}
	run := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Evaluate[any](js)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	get := func() channelcode.ChannelCode {
		t.Helper()
		var c channelcode.ChannelCode
		if st := e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d", code.ID), nil, &c); st != 200 {
			t.Fatalf("get: %d", st)
		}
		return c
	}

	if err := chromedp.Do(tctx, chromedp.Navigate(e.base+"/console"), chromedp.WaitVisible(chromedp.ID("f-token")),
		chromedp.SendKeys(chromedp.ID("f-token"), e.token), chromedp.Click(chromedp.CSS(`#sign-in button[type="submit"]`))); err != nil {
		t.Fatal(err)
	}
	until("signed in", `!!document.querySelector('#channels')`)
	run("open the code", fmt.Sprintf(`location.hash = '#/channels/%d'; 0`, code.ID))
	until("form", `!!document.querySelector('#channel-form #add-variant')`)

	// A weekend night variant; 25:00 is refused on the row's start box.
	if err := chromedp.Do(tctx, chromedp.Click(chromedp.ID("add-variant"))); err != nil {
		t.Fatal(err)
	}
	run("fill the variant", `(() => { const r = document.querySelector('#variants [data-role="variant"]');
		r.querySelector('[data-role="name"]').value = 'night';
		r.querySelectorAll('[data-role="day"]')[0].checked = true;
		r.querySelectorAll('[data-role="day"]')[6].checked = true;
		r.querySelector('[data-role="start"]').value = '25:00';
		r.querySelector('[data-role="end"]').value = '08:00';
		r.querySelector('[data-role="text"]').value = '夜深了，{name}，明早顾问回复您';
		document.getElementById('save-channel').click(); return 0; })()`)
	until("start error on its box", `document.querySelector('#variants [data-role="start"]').classList.contains('invalid') &&
		!document.querySelector('#channel-form .error-box').hidden`)
	if v := get().Welcome.Variants; len(v) != 0 {
		t.Fatalf("a refused save stored variants: %+v", v)
	}
	run("fix the start", `(() => { document.querySelector('#variants [data-role="start"]').value = '22:00';
		document.getElementById('save-channel').click(); return 0; })()`)
	until("saved", `!!document.querySelector('#channels')`)
	saved := get()
	if v := saved.Welcome.Variants; len(v) != 1 || v[0].Name != "night" || fmt.Sprint(v[0].Weekdays) != "[0 6]" ||
		v[0].Start != "22:00" || v[0].End != "08:00" || v[0].Text != "夜深了，{name}，明早顾问回复您" || saved.Welcome.Text != "您好{name}" {
		t.Fatalf("welcome saved by the form: %+v", saved.Welcome)
	}

	// Shown again on the code's page; removing it and saving clears it.
	run("back to the code", fmt.Sprintf(`location.hash = '#/channels/%d'; 0`, code.ID))
	until("variant shown", `document.querySelectorAll('#variants [data-role="variant"]').length === 1 &&
		document.querySelector('#variants [data-role="start"]').value === '22:00' &&
		document.querySelectorAll('#variants [data-role="day"]:checked').length === 2`)
	run("remove and save", `(() => { document.querySelector('#variants [data-role="variant"] button.link').click();
		document.getElementById('save-channel').click(); return 0; })()`)
	until("saved again", `!!document.querySelector('#channels')`)
	if v := get().Welcome.Variants; len(v) != 0 {
		t.Fatalf("variants after removing: %+v", v)
	}
}
