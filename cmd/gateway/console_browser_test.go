package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/explain"
	"github.com/leadgate/scrm-gateway/service/groupcode"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/storecode"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/wecom"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// TestConsoleInHeadlessChromium drives the web console in a real browser:
// an admin signs in, creates a channel code through the form (an invalid
// first try highlights the field the API names), downloads its poster, and
// sees the lead and the contact of a simulated scan, whose hostile name stays
// text, with the contact's relation and timeline; a job WeCom refuses for good
// shows on the jobs screen with its reason; a viewer gets no create button; a
// revoked session returns to sign-in. Screenshots at
// a phone's and a desktop's size go to $GATEWAY_TEST_SCREENSHOTS (or the
// test's temporary directory).
func TestConsoleInHeadlessChromium(t *testing.T) {
	path := requireChromium(t)
	shots := screenshotDir(t)
	downloads := t.TempDir()
	e := startE2E(t, "sqlite")
	ctx := context.Background()
	viewer, _, err := auth.New(e.gw.store, e.clock).CreateToken(ctx, "console viewer", auth.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}

	bctx := startBrowser(t, path, 1280, 900)

	// tab opens a fresh tab (its own sessionStorage) at a viewport.
	tab := func(w, h int64, mobile bool) context.Context {
		tctx, cancel := chromedp.NewContext(bctx)
		t.Cleanup(cancel)
		tctx, cancelT := context.WithTimeout(tctx, 120*time.Second)
		t.Cleanup(cancelT)
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
		if mobile {
			opts = []chromedp.EmulateViewportOption{chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)}
		}
		if err := chromedp.Do(tctx, chromedp.EmulateViewport(w, h, opts...)); err != nil {
			t.Fatal(err)
		}
		return tctx
	}
	// until waits for a JavaScript condition, and shows the page when it
	// does not come true.
	until := func(tctx context.Context, what, cond string) {
		t.Helper()
		ok, err := chromedp.Run(tctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(30*time.Second)))
		if err != nil || !ok {
			body, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("%s: waiting for %s: %v (page: %q)", what, cond, err, body)
		}
	}
	eval := func(tctx context.Context, what, js string) string {
		t.Helper()
		v, err := chromedp.Run(tctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
	run := func(tctx context.Context, what, js string) {
		t.Helper()
		if _, err := chromedp.Run(tctx, chromedp.Evaluate[any](js)); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	do := func(tctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tctx, steps...); err != nil {
			body, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("%s: %v (page: %q)", what, err, body)
		}
	}
	shoot := func(tctx context.Context, name string) {
		t.Helper()
		run(tctx, "scroll to the top", `window.scrollTo(0, 0); 0`) // the sticky top bar at the top of the picture
		saveScreenshot(t, tctx, shots, name)
	}
	signIn := func(tctx context.Context, token string) {
		t.Helper()
		do(tctx, "open the console", chromedp.Navigate(e.base+"/console"))
		do(tctx, "sign in", chromedp.WaitVisible(chromedp.ID("f-token")), chromedp.SendKeys(chromedp.ID("f-token"), token),
			chromedp.Click(chromedp.CSS(`#sign-in button[type="submit"]`)))
		until(tctx, "signed in", `!!document.querySelector('#channels') && !document.getElementById('who').hidden`)
	}

	// An admin at a desktop: sign in, and the shell shows the role.
	admin := tab(1280, 900, false)
	signIn(admin, e.token)
	if role := eval(admin, "role", `document.getElementById('who-role').textContent`); !strings.Contains(role, "admin") {
		t.Fatalf("role shown = %q", role)
	}
	shoot(admin, "console-desktop-empty")

	// Create a channel code through the form. Without a name the API says
	// which field is wrong, and the form shows it there.
	do(admin, "new code", chromedp.Click(chromedp.ID("new-channel")), chromedp.WaitVisible(chromedp.ID("channel-form")))
	// The userid box suggests the WeCom staff directory's members by name.
	until(admin, "staff suggestions", `document.getElementById('staff-options')?.dataset.count === '5' &&
		document.querySelector('.member [data-role="userid"]').getAttribute('list') === 'staff-options' &&
		[...document.querySelectorAll('#staff-options option')].some(o => o.value === 'lisi' && o.label === '李四 · 销售部')`)
	do(admin, "roster member", chromedp.SendKeys(chromedp.CSS(`.member [data-role="userid"]`), "zhangsan"))
	do(admin, "save without a name", chromedp.Click(chromedp.ID("save-channel")))
	until(admin, "name error", `document.getElementById('f-name').classList.contains('invalid') &&
		!document.querySelector('#channel-form .error-box').hidden &&
		document.querySelector('#channel-form .error-box').textContent.includes('name')`)
	do(admin, "fill the form",
		chromedp.SendKeys(chromedp.ID("f-name"), "秋季展会"),
		chromedp.SendKeys(chromedp.ID("f-folder"), "展会"),
		chromedp.SendKeys(chromedp.ID("f-tags"), "展会，2026秋"),
		chromedp.SendKeys(chromedp.ID("f-remark_template"), "{name}-{code}"),
		chromedp.SendKeys(chromedp.ID("f-welcome-text"), "您好{name}，欢迎来到秋季展会"),
		chromedp.Click(chromedp.ID("add-member")),
		chromedp.SendKeys(chromedp.CSS(`.member:nth-of-type(2) [data-role="userid"]`), "lisi"),
		chromedp.SendKeys(chromedp.CSS(`.member:nth-of-type(2) [data-role="cap"]`), "30"),
	)
	shoot(admin, "console-desktop-channel-form")
	do(admin, "save", chromedp.Click(chromedp.ID("save-channel")))
	until(admin, "code listed", `!!document.querySelector('#channels') &&
		[...document.querySelectorAll('#channels td a.name')].some(a => a.textContent === '秋季展会')`)

	var list struct {
		Codes []channelcode.ChannelCode `json:"channel_codes"`
	}
	if st := e.api("GET", "/api/v1/channel-codes", nil, &list); st != 200 || len(list.Codes) != 1 {
		t.Fatalf("codes: %d %+v", st, list.Codes)
	}
	code := list.Codes[0]
	if code.Folder != "展会" || len(code.Tags) != 2 || len(code.Roster.Members) != 2 || code.Roster.Members[1].DailyCap != 30 ||
		code.Welcome.Text != "您好{name}，欢迎来到秋季展会" {
		t.Fatalf("code made by the form = %+v", code)
	}

	// The poster downloads as a PNG file.
	do(admin, "allow downloads", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, chromedp.FromContext(ctx).Browser, browser.SetDownloadBehavior,
			browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
		return err
	}))
	do(admin, "download poster", chromedp.Click(chromedp.CSS(`#channels td.row-actions button[data-role="download-poster"]`)))
	poster := waitForFile(t, downloads, ".png")
	if b, err := os.ReadFile(poster); err != nil || len(b) < 100 || string(b[1:4]) != "PNG" {
		t.Fatalf("poster %s: %d bytes, %v", poster, len(b), err)
	} else if cfg, err := png.DecodeConfig(bytes.NewReader(b)); err != nil || cfg.Width != 1748 || cfg.Height != 2480 {
		t.Fatalf("poster %s: %+v %v, want the A5 poster (1748×2480)", poster, cfg, err)
	}

	// The code's page previews its QR; its print view prints the poster
	// alone on one A5 page.
	run(admin, "open the code", fmt.Sprintf(`location.hash = '#/channels/%d'; 0`, code.ID))
	until(admin, "QR preview", `!!document.querySelector('#channel-edit #qr-preview') && document.querySelector('#qr-preview').naturalWidth > 0`)
	shoot(admin, "console-desktop-channel-page")
	// Date overrides on a calendar: a holiday for everyone, an event day with
	// its own shifts for zhangsan; a bad window is refused on its box.
	do(admin, "add two overrides", chromedp.Click(chromedp.ID("add-override")), chromedp.Click(chromedp.ID("add-override")))
	run(admin, "fill them", `(() => { const rows = document.querySelectorAll('#overrides [data-role="override"]');
		rows[0].querySelector('[data-role="date"]').value = '2026-12-25';
		rows[1].querySelector('[data-role="date"]').value = '2026-12-31';
		rows[1].querySelector('[data-role="userids"]').value = 'zhangsan';
		rows[1].querySelector('[data-role="kind"]').value = 'shifts';
		rows[1].querySelector('[data-role="windows"]').value = '10:00-99:00';
		document.getElementById('save-channel').click(); return 0; })()`)
	until(admin, "window error on its box", `document.querySelector('#overrides [data-role="override"]:nth-child(2) [data-role="windows"]').classList.contains('invalid') ||
		document.querySelector('#overrides [data-role="override"]:nth-child(2)').classList.contains('invalid')`)
	run(admin, "fix the window", `(() => { document.querySelectorAll('#overrides [data-role="windows"]')[1].value = '10:00-16:00';
		document.getElementById('save-channel').click(); return 0; })()`)
	until(admin, "saved", `!!document.querySelector('#channels')`)
	var withOverrides channelcode.ChannelCode
	e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d", code.ID), nil, &withOverrides)
	if ov := withOverrides.Roster.Overrides; len(ov) != 2 || ov[0].Date != "2026-12-25" || !ov[0].Off || len(ov[0].UserIDs) != 0 ||
		ov[1].Date != "2026-12-31" || ov[1].Off || strings.Join(ov[1].UserIDs, ",") != "zhangsan" || len(ov[1].Shifts) != 1 || ov[1].Shifts[0].Start != "10:00" || ov[1].Shifts[0].End != "16:00" {
		t.Fatalf("overrides saved by the form: %+v", ov)
	}
	run(admin, "back to the code", fmt.Sprintf(`location.hash = '#/channels/%d'; 0`, code.ID))
	until(admin, "overrides shown", `document.querySelectorAll('#overrides [data-role="override"]').length === 2 &&
		document.querySelectorAll('#overrides [data-role="date"]')[1].value === '2026-12-31' &&
		document.querySelectorAll('#overrides [data-role="staff-names"]')[1].textContent === '张三 · 销售部（zhangsan）'`)
	run(admin, "scroll to the overrides", `document.getElementById('overrides').scrollIntoView(); 0`)
	saveScreenshot(t, admin, shots, "console-desktop-channel-overrides")

	// Welcome attachments: an image uploaded ahead with its preview, and a link.
	pic := image.NewRGBA(image.Rect(0, 0, 64, 64))
	draw.Draw(pic, pic.Bounds(), image.NewUniform(color.RGBA{0x07, 0x8a, 0x4f, 0xff}), image.Point{}, draw.Src)
	var picBuf bytes.Buffer
	png.Encode(&picBuf, pic)
	picPath := filepath.Join(t.TempDir(), "welcome.png")
	os.WriteFile(picPath, picBuf.Bytes(), 0o644)
	do(admin, "upload an image", chromedp.SetUploadFiles(chromedp.ID("f-attachment-file"), []string{picPath}))
	until(admin, "image previewed", `!!document.querySelector('#attachments [data-type="image"] img') &&
		document.querySelector('#attachments [data-type="image"] img').naturalWidth === 64`)
	do(admin, "add a link", chromedp.Click(chromedp.ID("add-link")))
	run(admin, "fill the link and save", `(() => { const r = document.querySelector('#attachments [data-type="link"]');
		r.querySelector('[data-role="title"]').value = '展会资料'; r.querySelector('[data-role="url"]').value = 'https://example.com/expo';
		document.getElementById('save-channel').click(); return 0; })()`)
	until(admin, "saved with attachments", `!!document.querySelector('#channels')`)
	var withAttachments channelcode.ChannelCode
	e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d", code.ID), nil, &withAttachments)
	if at := withAttachments.Welcome.Attachments; len(at) != 2 || at[0].Type != "image" || at[0].MediaAssetID == 0 ||
		at[1].Type != "link" || at[1].Title != "展会资料" || at[1].URL != "https://example.com/expo" {
		t.Fatalf("attachments saved by the form: %+v", at)
	}
	run(admin, "back to the code", fmt.Sprintf(`location.hash = '#/channels/%d'; 0`, code.ID))
	until(admin, "stored image previewed", `!!document.querySelector('#attachments [data-type="image"] img') &&
		document.querySelector('#attachments [data-type="image"] img').naturalWidth === 64`)
	do(admin, "print view", chromedp.Click(chromedp.CSS(`#channel-edit a[data-role="print-poster"]`)))
	until(admin, "poster shown", `!!document.querySelector('#print-poster #poster') && document.querySelector('#poster').dataset.ready === 'true' &&
		document.querySelector('#poster').naturalWidth === 1748`)
	shoot(admin, "console-desktop-print-poster")
	printsOnOneA5Page(t, admin, "console-poster.pdf")

	// A customer with a hostile name scans; their lead shows the name as text.
	const hostile = `<img src=x onerror=alert(1)>`
	e.scan(code, hostile)
	e.scan(code, "王小明")
	e.idle()
	run(admin, "trap dialogs", `window.__alerts = 0; window.alert = () => { window.__alerts++; }; location.hash = '#/channels?again=1'; 0`)
	until(admin, "today's adds", `[...document.querySelectorAll('#channels td.num')].some(td => td.textContent === '2')`)
	shoot(admin, "console-desktop-channels")

	// The code's page charts its days: adds, losses and net, and per staff
	// member, drawn by the vendored uPlot on canvases.
	run(admin, "open the code", fmt.Sprintf(`location.hash = '#/channels/%d'; 0`, code.ID))
	until(admin, "charts drawn", `document.querySelector('#code-charts')?.dataset.ready === 'true' &&
		document.querySelectorAll('#code-charts figure.chart[data-drawn="true"] canvas').length === 3`)
	// (series, sum of the values): adds + losses + net = 2 + 0 + 2; the staff
	// members who got the two customers, 2 adds and 2 net between them.
	if got := eval(admin, "chart data", `JSON.stringify([...document.querySelectorAll('#code-charts figure.chart')].map(f => f.dataset.total + '/' + (f.dataset.series > 0)))`); got != `["4/true","2/true","2/true"]` {
		t.Fatalf("charts = %s", got)
	}
	run(admin, "scroll to the charts", `document.getElementById('code-charts').scrollIntoView(); 0`)
	saveScreenshot(t, admin, shots, "console-desktop-channel-charts")
	run(admin, "leads", `location.hash = '#/leads'; 0`)
	until(admin, "leads listed", `document.querySelectorAll('#leads td a.name').length === 2`)
	got := eval(admin, "lead names", `JSON.stringify([[...document.querySelectorAll('#leads td a.name')].map(a => a.textContent),
		document.querySelectorAll('img').length, window.__alerts])`)
	if !strings.Contains(got, `"\u003cimg src=x onerror=alert(1)\u003e"`) && !strings.Contains(got, `"<img src=x onerror=alert(1)>"`) ||
		!strings.Contains(got, "王小明") || !strings.HasSuffix(got, ",0,0]") {
		t.Fatalf("leads page: %s (want the hostile name as text, no img element, no alert)", got)
	}
	shoot(admin, "console-desktop-leads")

	// The lead's detail, with its score lines; an admin may change the stage.
	run(admin, "open lead", `[...document.querySelectorAll('#leads td a.name')].find(a => a.textContent.startsWith('<img')).click(); 0`)
	until(admin, "lead detail", `!!document.querySelector('#lead') && !!document.querySelector('#stage-form') &&
		document.querySelector('#lead h1 .name').textContent === `+"`"+hostile+"`"+` && document.querySelectorAll('img').length === 0`)
	// Score lines and stage changes read in Chinese, with no English of ours.
	leadText := eval(admin, "lead texts", `document.getElementById('lead').innerText`)
	for _, want := range []string{"通过活码添加", "标签 展会", "分数 ", "新客户，创建线索"} {
		if !strings.Contains(leadText, want) {
			t.Fatalf("lead page lacks %q: %q", want, leadText)
		}
	}
	for _, english := range []string{"added via", "recency", "reached the", "created from", "tag 展会"} {
		if strings.Contains(leadText, english) {
			t.Fatalf("English %q on the Chinese lead page: %q", english, leadText)
		}
	}
	run(admin, "stage without reason", `(() => { const f = document.getElementById('stage-form');
		f.querySelector('select').value = 'nurturing'; f.querySelector('button[type=submit]').click(); return 0; })()`)
	until(admin, "reason error", `!document.querySelector('#stage-form .error-box').hidden`)
	shoot(admin, "console-desktop-lead")

	// The same customers on the contacts screen: the hostile name as text,
	// the code filter, and a customer's relation, source code, lead and the
	// welcome in the timeline.
	run(admin, "contacts", `location.hash = '#/contacts'; 0`)
	until(admin, "contacts listed", `document.querySelectorAll('#contacts td a.name').length === 2`)
	got = eval(admin, "contact names", `JSON.stringify([[...document.querySelectorAll('#contacts td a.name')].map(a => a.textContent).sort(),
		document.querySelectorAll('img').length, window.__alerts])`)
	if got != `["\u003cimg src=x onerror=alert(1)\u003e","王小明"],0,0]` && got != `[["<img src=x onerror=alert(1)>","王小明"],0,0]` {
		t.Fatalf("contacts page: %s (want the hostile name as text, no img element, no alert)", got)
	}
	run(admin, "filter by another staff member", `(() => { const f = document.getElementById('contact-filters');
		f.elements.staff.value = 'nobody'; f.querySelector('button[type=submit]').click(); return 0; })()`)
	until(admin, "nobody's contacts", `document.querySelectorAll('#contacts td a.name').length === 0 &&
		!!document.querySelector('#contacts tr.empty')`)
	run(admin, "filter by code", fmt.Sprintf(`(() => { const f = document.getElementById('contact-filters');
		f.elements.staff.value = ''; f.elements.code.value = '%d'; f.querySelector('button[type=submit]').click(); return 0; })()`, code.ID))
	until(admin, "the code's contacts", `document.querySelectorAll('#contacts td a.name').length === 2`)
	shoot(admin, "console-desktop-contacts")
	run(admin, "open contact", `[...document.querySelectorAll('#contacts td a.name')].find(a => a.textContent === '王小明').click(); 0`)
	until(admin, "contact detail", `!!document.querySelector('#contact') &&
		document.querySelector('#contact h1 .name').textContent === '王小明' &&
		document.getElementById('contact-code').textContent === '秋季展会' &&
		!!document.getElementById('contact-lead') &&
		[...document.querySelectorAll('#contact table')[0].querySelectorAll('td')].some(td => td.textContent === '正常') &&
		[...document.querySelectorAll('#contact table')[1].querySelectorAll('td')].some(td => td.textContent === '已发送欢迎语')`)
	// The staff member by userid, and their name from the directory.
	until(admin, "relation's name", `[...document.querySelectorAll('#contact table')[0].querySelectorAll('tbody tr')].every(tr => tr.querySelector('[data-role="staff-name"]').textContent !== '')`)
	got = eval(admin, "relation", `[...document.querySelectorAll('#contact table')[0].querySelectorAll('tbody tr')].map(tr => tr.children[0].textContent).join()`)
	if got != "zhangsan 张三" && got != "lisi 李四" {
		t.Fatalf("contact's relations: %q", got)
	}
	shoot(admin, "console-desktop-contact")
	run(admin, "contact's lead", `document.getElementById('contact-lead').click(); 0`)
	until(admin, "the lead", `!!document.querySelector('#lead') && document.querySelector('#lead h1 .name').textContent === '王小明'`)
	run(admin, "hostile contact", `location.hash = '#/contacts'; 0`)
	until(admin, "contacts again", `document.querySelectorAll('#contacts td a.name').length === 2`)
	run(admin, "open hostile contact", `[...document.querySelectorAll('#contacts td a.name')].find(a => a.textContent.startsWith('<img')).click(); 0`)
	until(admin, "hostile contact detail", `!!document.querySelector('#contact') &&
		document.querySelector('#contact h1 .name').textContent === `+"`"+hostile+"`"+` &&
		!!document.getElementById('contact-lead') && document.querySelectorAll('img').length === 0 && window.__alerts === 0`)

	// The other screens load without an error.
	for _, s := range []struct{ hash, section, ready string }{
		{"#/funnel", "funnel", `document.querySelectorAll('#funnel .funnel-row').length === 6`},
		{"#/events", "events", `document.querySelectorAll('#events tbody tr:not(.empty)').length > 0`},
		{"#/groups", "groups", `!!document.querySelector('#groups table')`},
		{"#/stores", "stores", `document.querySelectorAll('#stores table').length === 2`},
		{"#/webhooks", "webhooks", `document.querySelectorAll('#webhooks table').length === 2`},
	} {
		run(admin, s.hash, `location.hash = '`+s.hash+`'; 0`)
		until(admin, s.hash, `!!document.getElementById('`+s.section+`') && `+s.ready+` &&
			[...document.querySelectorAll('.error-box')].every(b => b.hidden)`)
	}
	shoot(admin, "console-desktop-funnel-webhooks")

	// A new webhook endpoint's secret is shown once (the receiver is on loopback).
	e.gw.webhooks.SetNetworkPolicy(webhook.NetworkPolicy{AllowHTTP: true, AllowPrivateNetworks: true})
	do(admin, "new endpoint", chromedp.Click(chromedp.ID("new-endpoint")), chromedp.WaitVisible(chromedp.ID("endpoint-form")),
		chromedp.SendKeys(chromedp.ID("f-url"), "http://127.0.0.1:9/crm-hooks"),
		chromedp.Click(chromedp.CSS(`#endpoint-form button[type="submit"]`)))
	until(admin, "secret shown", `!document.getElementById('webhook-secret').hidden &&
		document.querySelector('#webhook-secret .secret-value').textContent.startsWith('whsec_')`)
	shoot(admin, "console-desktop-webhook-secret")

	// A tag rule made through the form: contacts added through the expo code
	// get the tag 展会线索 and 10 points. A tag missing from the catalogue is
	// refused on its field first.
	if st := e.api("POST", "/api/v1/tags", map[string]any{"group": "线索", "names": []string{"展会线索"}}, nil); st != 201 {
		t.Fatalf("create tag: %d", st)
	}
	expo := e.createCode(map[string]any{"name": "展会线索码", "roster": roster(member("zhangsan"))})
	run(admin, "rules", `location.hash = '#/rules'; 0`)
	until(admin, "rules page", `!!document.getElementById('rules') && !!document.getElementById('new-rule')`)
	do(admin, "new rule", chromedp.Click(chromedp.ID("new-rule")), chromedp.WaitVisible(chromedp.ID("rule-form")))
	do(admin, "fill the rule",
		chromedp.SendKeys(chromedp.ID("f-name"), "展会线索加分"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-role="conditions.code_ids"][value="%d"]`, expo.ID))),
		chromedp.SendKeys(chromedp.ID("f-actions-add_tags"), "没有这个标签"),
		chromedp.SendKeys(chromedp.ID("f-actions-score_delta"), "10"))
	do(admin, "save the invalid rule", chromedp.Click(chromedp.ID("save-rule")))
	until(admin, "tag error on its field", `document.getElementById('f-actions-add_tags').classList.contains('invalid') &&
		document.activeElement === document.getElementById('f-actions-add_tags') &&
		document.querySelector('#rule-form .error-box').textContent.includes('actions.add_tags[0]')`)
	shoot(admin, "console-desktop-rule-error")
	run(admin, "fix the tag", `document.getElementById('f-actions-add_tags').value = '展会线索'; 0`)
	do(admin, "save the rule", chromedp.Click(chromedp.ID("save-rule")))
	until(admin, "rule listed", `!!document.getElementById('rules') &&
		[...document.querySelectorAll('#rules td a.name')].some(a => a.textContent === '展会线索加分')`)
	shoot(admin, "console-desktop-rules")
	// The tag catalogue below the rules: add a tag in WeCom, rename it, delete
	// it; a tag a rule names is refused with the API's reason.
	do(admin, "add a tag", chromedp.SendKeys(chromedp.ID("f-group"), "线索"), chromedp.SendKeys(chromedp.ID("f-names"), "临时标签"),
		chromedp.Click(chromedp.ID("add-tags")))
	until(admin, "tag added", `[...document.querySelectorAll('#tag-list [data-role="tag-name"]')].some(i => i.value === '临时标签')`)
	run(admin, "rename it", `(() => { const i = [...document.querySelectorAll('#tag-list [data-role="tag-name"]')].find(i => i.value === '临时标签');
		i.value = '改过的标签'; i.closest('.tag-row').querySelector('[data-role="rename"]').click(); return 0; })()`)
	until(admin, "tag renamed", `[...document.querySelectorAll('#tag-list [data-role="tag-name"]')].some(i => i.value === '改过的标签')`)
	run(admin, "delete it", `(() => { const b = [...document.querySelectorAll('#tag-list [data-role="tag-name"]')].find(i => i.value === '改过的标签')
		.closest('.tag-row').querySelector('[data-role="delete"]'); b.click(); b.click(); return 0; })()`)
	until(admin, "tag deleted", `![...document.querySelectorAll('#tag-list [data-role="tag-name"]')].some(i => i.value === '改过的标签')`)
	run(admin, "delete a tag a rule names", `(() => { const b = [...document.querySelectorAll('#tag-list [data-role="tag-name"]')].find(i => i.value === '展会线索')
		.closest('.tag-row').querySelector('[data-role="delete"]'); b.click(); b.click(); return 0; })()`)
	until(admin, "refused with the reason", `!document.querySelector('#tag-catalogue .error-box').hidden &&
		document.querySelector('#tag-catalogue .error-box').textContent.includes('被标签规则（展会线索加分）使用')`)
	shoot(admin, "console-desktop-tags")
	var rules struct {
		Rules []lead.TagRuleSpec `json:"tag_rules"`
	}
	if st := e.api("GET", "/api/v1/tag-rules", nil, &rules); st != 200 || len(rules.Rules) != 1 {
		t.Fatalf("rules: %d %+v", st, rules.Rules)
	}
	if r := rules.Rules[0]; r.Trigger != lead.TriggerContactAdded || fmt.Sprint(r.Conditions.CodeIDs) != fmt.Sprint([]uint64{expo.ID}) ||
		strings.Join(r.Actions.AddTags, ",") != "展会线索" || r.Actions.ScoreDelta != 10 || r.Enabled == nil || !*r.Enabled {
		t.Fatalf("rule made by the form = %+v", r)
	}
	e.scan(expo, "展会访客")
	e.idle()
	var found struct {
		Leads []struct {
			ID uint64 `json:"id"`
		} `json:"leads"`
	}
	if st := e.api("GET", "/api/v1/leads?q="+url.QueryEscape("展会访客"), nil, &found); st != 200 || len(found.Leads) != 1 {
		t.Fatalf("expo lead: %d %+v", st, found)
	}
	var scored struct {
		Tags      []string                     `json:"tags"`
		Breakdown []explain.ExplainedScoreLine `json:"score_breakdown"`
	}
	e.api("GET", fmt.Sprintf("/api/v1/leads/%d", found.Leads[0].ID), nil, &scored)
	ruleLine := slices.ContainsFunc(scored.Breakdown, func(l explain.ExplainedScoreLine) bool {
		return l.Reason == "rule 展会线索加分" && l.Points == 10 && l.ReasonMessage.Text == "规则 展会线索加分"
	})
	if !strings.Contains(","+strings.Join(scored.Tags, ",")+",", ",展会线索,") || !ruleLine {
		t.Fatalf("expo lead: tags %v, score lines %v", scored.Tags, scored.Breakdown)
	}

	// The scoring form saves new thresholds and says leads are re-scored.
	run(admin, "scoring", `location.hash = '#/scoring'; 0`)
	until(admin, "scoring form", `!!document.getElementById('scoring-form')`)
	run(admin, "thresholds", `document.getElementById('f-mql_threshold').value = '40';
		document.getElementById('f-sql_threshold').value = '85'; 0`)
	do(admin, "save scoring", chromedp.Click(chromedp.ID("save-scoring")))
	until(admin, "re-scoring said", `!document.getElementById('rescoring').hidden &&
		document.getElementById('rescoring').textContent.includes('重新评分')`)
	shoot(admin, "console-desktop-scoring")
	var scoring struct {
		Config lead.ScoringConfig `json:"config"`
	}
	if st := e.api("GET", "/api/v1/scoring", nil, &scoring); st != 200 || scoring.Config.MQL != 40 || scoring.Config.SQL != 85 ||
		scoring.Config.BANT["need"] != 20 || !scoring.Config.SQLOnBANT {
		t.Fatalf("scoring after the form: %d %+v", st, scoring.Config)
	}

	// A group code renamed and a store deleted through their forms.
	grp, err := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: "展会交流群", Owner: "zhangsan"})
	if err != nil {
		t.Fatal(err)
	}
	e.idle()
	var gc groupcode.GroupCode
	if st := e.api("POST", "/api/v1/group-codes", map[string]any{"name": "展会群", "chat_ids": []string{grp.ChatID},
		"utm": map[string]string{"utm_source": "poster"}}, &gc); st != 201 {
		t.Fatalf("create group code: %d", st)
	}
	run(admin, "groups", `location.hash = '#/groups'; 0`)
	until(admin, "group listed", `[...document.querySelectorAll('#groups td a.name')].some(a => a.textContent === '展会群')`)
	run(admin, "open group", `[...document.querySelectorAll('#groups td a.name')].find(a => a.textContent === '展会群').click(); 0`)
	until(admin, "group form", `!!document.getElementById('group-form') && document.getElementById('f-utm-utm_source').value === 'poster'`)
	run(admin, "rename", `document.getElementById('f-name').value = '展会群（二期）'; 0`)
	shoot(admin, "console-desktop-group-form")
	do(admin, "save group", chromedp.Click(chromedp.ID("save-group")))
	until(admin, "group renamed", `[...document.querySelectorAll('#groups td a.name')].some(a => a.textContent === '展会群（二期）')`)
	if st := e.api("GET", fmt.Sprintf("/api/v1/group-codes/%d", gc.ID), nil, &gc); st != 200 || gc.Name != "展会群（二期）" ||
		len(gc.Pool) != 1 || gc.UTM["utm_source"] != "poster" {
		t.Fatalf("group code after the form: %d %+v", st, gc)
	}
	doomed := e.createStore("临时门店", 31.2304, 121.4737)
	run(admin, "stores", `location.hash = '#/stores'; 0`)
	until(admin, "store listed", `[...document.querySelectorAll('#stores td a.name')].some(a => a.textContent === '临时门店')`)
	run(admin, "open store", `[...document.querySelectorAll('#stores td a.name')].find(a => a.textContent === '临时门店').click(); 0`)
	until(admin, "store form", `!!document.getElementById('store-form') && document.getElementById('f-name').value === '临时门店'`)
	do(admin, "ask to delete", chromedp.Click(chromedp.ID("delete-store")), chromedp.WaitVisible(chromedp.ID("confirm-delete")))
	shoot(admin, "console-desktop-store-delete")
	do(admin, "confirm", chromedp.Click(chromedp.ID("confirm-delete")))
	until(admin, "store gone", `!!document.getElementById('stores') && document.querySelectorAll('#stores table').length === 2 &&
		![...document.querySelectorAll('#stores td a.name')].some(a => a.textContent === '临时门店')`)
	if st := e.api("GET", fmt.Sprintf("/api/v1/stores/%d", doomed.ID), nil, nil); st != 404 {
		t.Fatalf("deleted store: %d", st)
	}

	// Stores come in from a CSV file: the good rows are kept, the bad one is
	// listed with its row, field and reason.
	csvPath := filepath.Join(t.TempDir(), "stores.csv")
	os.WriteFile(csvPath, []byte("门店名称,地址,城市,纬度,经度,员工\n徐汇店,漕溪北路 1 号,上海市,31.19,121.43,zhangsan|lisi\n坏店,,上海市,91,121.4,zhangsan\n"), 0o644)
	do(admin, "choose the CSV", chromedp.SetUploadFiles(chromedp.ID("f-import-file"), []string{csvPath}))
	do(admin, "import", chromedp.Click(chromedp.ID("import-stores")))
	until(admin, "import result", `!document.getElementById('import-result').hidden &&
		document.querySelector('#import-result p').dataset.imported === '1' && document.querySelector('#import-result p').dataset.failed === '1' &&
		document.querySelectorAll('#import-result table.import-errors tbody tr').length === 1 &&
		document.querySelector('#import-result tbody td:nth-child(2)').textContent === 'latitude' &&
		document.querySelector('#import-result tbody td:nth-child(3)').textContent.startsWith('须为 -90 到 90')`)
	shoot(admin, "console-desktop-store-import")
	var imported struct {
		Stores []storecode.RetailStore `json:"stores"`
	}
	e.api("GET", "/api/v1/stores?q="+url.QueryEscape("徐汇店"), nil, &imported)
	if len(imported.Stores) != 1 || imported.Stores[0].City != "上海市" {
		t.Fatalf("imported stores: %+v", imported.Stores)
	}

	// The same console on a phone.
	phone := tab(390, 844, true)
	signIn(phone, e.token)
	until(phone, "phone list", `[...document.querySelectorAll('#channels td a.name')].some(a => a.textContent === '秋季展会')`)
	if fits := eval(phone, "width", `String(document.documentElement.scrollWidth <= window.innerWidth)`); fits != "true" {
		t.Fatalf("phone page scrolls sideways")
	}
	shoot(phone, "console-phone-channels")
	run(phone, "phone leads", `location.hash = '#/leads'; 0`)
	until(phone, "phone leads", `document.querySelectorAll('#leads td a.name').length === 3`)
	shoot(phone, "console-phone-leads")
	run(phone, "phone contacts", `location.hash = '#/contacts'; 0`)
	until(phone, "phone contacts", `document.querySelectorAll('#contacts td a.name').length === 3`)
	if fits := eval(phone, "width", `String(document.documentElement.scrollWidth <= window.innerWidth)`); fits != "true" {
		t.Fatalf("phone contacts scroll sideways")
	}
	shoot(phone, "console-phone-contacts")
	run(phone, "phone contact", `[...document.querySelectorAll('#contacts td a.name')].find(a => a.textContent === '王小明').click(); 0`)
	until(phone, "phone contact", `!!document.querySelector('#contact') && !!document.getElementById('contact-lead')`)
	if fits := eval(phone, "width", `String(document.documentElement.scrollWidth <= window.innerWidth)`); fits != "true" {
		t.Fatalf("phone contact scrolls sideways")
	}
	shoot(phone, "console-phone-contact")
	run(phone, "phone form", `location.hash = '#/channels/new'; 0`)
	until(phone, "phone form", `!!document.querySelector('#channel-form')`)
	if fits := eval(phone, "width", `String(document.documentElement.scrollWidth <= window.innerWidth)`); fits != "true" {
		t.Fatalf("phone form scrolls sideways")
	}
	shoot(phone, "console-phone-channel-form")
	for _, s := range []struct{ hash, ready, name string }{
		{"#/rules", `!!document.querySelector('#rules td a.name')`, "rules"},
		{"#/rules/new", `!!document.getElementById('rule-form')`, "rule-form"},
		{"#/scoring", `!!document.getElementById('scoring-form')`, "scoring"},
		{fmt.Sprintf("#/groups/%d", gc.ID), `!!document.getElementById('group-form')`, "group-form"},
		{"#/stores", `document.querySelectorAll('#stores table').length === 2`, "stores"},
		{"#/stores/new", `!!document.querySelector('#store-form .member')`, "store-form"},
		{fmt.Sprintf("#/channels/%d", code.ID), `document.querySelectorAll('#overrides [data-role="override"]').length === 2`, "channel-overrides"},
	} {
		run(phone, s.hash, `location.hash = '`+s.hash+`'; 0`)
		until(phone, s.hash, s.ready)
		if fits := eval(phone, "width", `String(document.documentElement.scrollWidth <= window.innerWidth)`); fits != "true" {
			t.Fatalf("phone %s scrolls sideways", s.hash)
		}
		shoot(phone, "console-phone-"+s.name)
	}

	// A remark WeCom refuses for good (no relationship) fails its job; the
	// jobs screen shows it standing out, and filtered to failed, with WeCom's reason.
	if _, err := e.ctl.AddFault(ctx, wecomsim.Fault{API: "remark", ErrCode: wecom.CodeNoRelationship, Count: 1}); err != nil {
		t.Fatal(err)
	}
	e.scan(code, "备注失败")
	e.idle()
	failed, err := e.gw.store.ListJobs(ctx, model.JobFilter{Status: model.StatusFailed})
	if err != nil || len(failed) != 1 || failed[0].Kind != contact.JobRemark || !strings.Contains(failed[0].Error, "84061") {
		t.Fatalf("failed jobs: %+v %v", failed, err)
	}
	run(admin, "jobs", `location.hash = '#/jobs'; 0`)
	until(admin, "jobs listed", fmt.Sprintf(`document.querySelectorAll('#jobs tbody tr:not(.empty)').length > 1 &&
		document.querySelector('#jobs tr[data-id="%d"]').classList.contains('failed')`, failed[0].ID))
	shoot(admin, "console-desktop-jobs")
	run(admin, "failed jobs", `(() => { const f = document.getElementById('job-filters');
		f.elements.status.value = 'failed'; f.querySelector('button[type=submit]').click(); return 0; })()`)
	until(admin, "failed job", fmt.Sprintf(`document.querySelectorAll('#jobs tbody tr').length === 1 &&
		!!document.querySelector('#jobs tr.failed[data-id="%d"]') &&
		document.querySelector('#jobs tr.failed td.error').textContent === "企业微信接口 externalcontact/remark 出错（错误码 84061）：不存在外部联系人关系" &&
		document.querySelector('#jobs tr.failed td.error span').title === %q &&
		[...document.querySelectorAll('#jobs tr.failed td')].some(td => td.textContent.startsWith('设置备注 remark'))`, failed[0].ID, failed[0].Error))
	shoot(admin, "console-desktop-jobs-failed")
	run(admin, "no failed tag jobs", `(() => { const f = document.getElementById('job-filters');
		f.elements.kind.value = 'mark_tag'; f.querySelector('button[type=submit]').click(); return 0; })()`)
	until(admin, "no failed tag jobs", `!!document.querySelector('#jobs tr.empty') && !document.querySelector('#jobs tr.failed')`)
	run(phone, "phone jobs", `location.hash = '#/jobs?status=failed'; 0`)
	until(phone, "phone jobs", `document.querySelectorAll('#jobs tr.failed').length === 1 && document.querySelectorAll('#jobs tbody tr').length === 1`)
	if fits := eval(phone, "width", `String(document.documentElement.scrollWidth <= window.innerWidth)`); fits != "true" {
		t.Fatalf("phone jobs scroll sideways")
	}
	shoot(phone, "console-phone-jobs")

	// A viewer sees the codes but no create button, and no admin screens.
	view := tab(1280, 900, false)
	signIn(view, viewer)
	got = eval(view, "viewer", fmt.Sprintf(`JSON.stringify([document.getElementById('who-role').textContent,
		!!document.getElementById('new-channel'), [...document.querySelectorAll('#nav a')].map(a => a.textContent).join(','),
		[...document.querySelectorAll('#channels td a.name')].some(a => a.textContent === %q)])`, "秋季展会"))
	if got != `["只读 viewer",false,"渠道活码,群活码,门店活码,客户,线索,漏斗,标签规则,评分",true]` {
		t.Fatalf("viewer console = %s", got)
	}
	// The viewer reads the rules and the scoring, with no form to change them.
	run(view, "viewer rules", `location.hash = '#/rules'; 0`)
	until(view, "viewer rules", `!!document.getElementById('rules') && [...document.querySelectorAll('#rules td')].some(td => td.textContent === '展会线索加分')`)
	got = eval(view, "viewer rules", `JSON.stringify([!!document.getElementById('new-rule'), !!document.querySelector('#rules a.name'),
		document.querySelectorAll('#rules button').length])`)
	if got != `[false,false,0]` {
		t.Fatalf("viewer may change rules: %s", got)
	}
	run(view, "viewer scoring", `location.hash = '#/scoring'; 0`)
	until(view, "viewer scoring", `!!document.getElementById('scoring') && !!document.querySelector('#scoring table')`)
	if n := eval(view, "viewer forms", `String(document.querySelectorAll('form').length)`); n != "0" {
		t.Fatalf("viewer sees %s scoring forms", n)
	}
	run(view, "viewer groups", `location.hash = '#/groups'; 0`)
	until(view, "viewer groups", `[...document.querySelectorAll('#groups td')].some(td => td.textContent === '展会群（二期）') &&
		!document.querySelector('#groups a.name')`)
	run(view, "viewer group form", fmt.Sprintf(`location.hash = '#/groups/%d'; 0`, gc.ID))
	until(view, "viewer sent back", `!!document.getElementById('channels')`)

	// A token that stops working returns to sign-in.
	run(view, "bad token", `sessionStorage.setItem('scrm-console.token', 'revoked'); location.hash = '#/leads'; 0`)
	until(view, "back to sign-in", `!!document.getElementById('sign-in') && document.getElementById('who').hidden &&
		!document.querySelector('#sign-in .error-box').hidden`)
}

// waitForFile waits for a finished download with the suffix in dir.
func waitForFile(t *testing.T, dir, suffix string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), suffix) {
				return filepath.Join(dir, e.Name())
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no %s file appeared in %s", suffix, dir)
	return ""
}
