package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/leadgate/scrm-gateway/config"
	"github.com/leadgate/scrm-gateway/service/groupcode"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/storecode"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// consoleTab is one browser tab on the console, with the steps a test takes.
type consoleTab struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

func newConsoleTab(t *testing.T, timeout time.Duration) *consoleTab {
	path := requireChromium(t)
	bctx := startBrowser(t, path, 1280, 900)
	tctx, cancel := chromedp.NewContext(bctx)
	t.Cleanup(cancel)
	tctx, cancelT := context.WithTimeout(tctx, timeout)
	t.Cleanup(cancelT)
	return &consoleTab{t: t, ctx: tctx, shots: screenshotDir(t)}
}

func (c *consoleTab) page() string {
	body, _ := chromedp.Run(c.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return body
}

// until waits for a JavaScript condition, and shows the page when it does
// not come true.
func (c *consoleTab) until(what, cond string) {
	c.t.Helper()
	ok, err := chromedp.Run(c.ctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil || !ok {
		c.t.Fatalf("%s: waiting for %s: %v (page: %q)", what, cond, err, c.page())
	}
}

func (c *consoleTab) run(what, js string) {
	c.t.Helper()
	if _, err := chromedp.Run(c.ctx, chromedp.Evaluate[any](js)); err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
}

func (c *consoleTab) eval(what, js string) string {
	c.t.Helper()
	v, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		c.t.Fatalf("%s: %v", what, err)
	}
	return v
}

func (c *consoleTab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	if err := chromedp.Do(c.ctx, steps...); err != nil {
		c.t.Fatalf("%s: %v (page: %q)", what, err, c.page())
	}
}

// open goes to a screen and waits until cond holds there.
func (c *consoleTab) open(hash, cond string) {
	c.t.Helper()
	c.run("open "+hash, fmt.Sprintf(`location.hash = %q; 0`, hash))
	c.until(hash, cond)
}

func (c *consoleTab) shoot(name string) {
	c.t.Helper()
	saveScreenshot(c.t, c.ctx, c.shots, name)
}

func (c *consoleTab) signIn(base, token string) {
	c.t.Helper()
	c.do("open the console", chromedp.Navigate(base+"/console"))
	c.do("sign in", chromedp.WaitVisible(chromedp.ID("f-token")), chromedp.SendKeys(chromedp.ID("f-token"), token),
		chromedp.Click(chromedp.CSS(`#sign-in button[type="submit"]`)))
	c.until("signed in", `!!document.querySelector('#channels') && !document.getElementById('who').hidden`)
}

// filter sets a filter form's fields (name → value) and submits it.
func (c *consoleTab) filter(form string, values map[string]string) {
	c.t.Helper()
	var js strings.Builder
	fmt.Fprintf(&js, `(() => { const f = document.getElementById(%q);`, form)
	for k, v := range values {
		fmt.Fprintf(&js, ` f.elements[%q].value = %q;`, k, v)
	}
	js.WriteString(` f.querySelector('button[type=submit]').click(); return 0; })()`)
	c.run("filter "+form, js.String())
}

// printsOnOneA5Page prints the tab's page to PDF as the browser would print
// it (the page's CSS page size) and fails unless it is one A5 page holding an
// image (the poster); the PDF is kept beside the screenshots as name.
func printsOnOneA5Page(t *testing.T, tctx context.Context, name string) {
	t.Helper()
	var pdf []byte
	if err := chromedp.Do(tctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		yes := true
		res, err := cdp.Call(ctx, tg, page.PrintToPDF, page.PrintToPDFParams{PreferCSSPageSize: &yes, PrintBackground: &yes})
		pdf = res.Data
		return err
	})); err != nil {
		t.Fatalf("print %s to PDF: %v", name, err)
	}
	if dir := os.Getenv("GATEWAY_TEST_SCREENSHOTS"); dir != "" {
		os.WriteFile(filepath.Join(dir, name), pdf, 0o644)
	}
	// One page, A5: 148 × 210 mm is 419.5 × 595.3 pt.
	boxes := regexp.MustCompile(`/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\]`).FindAllSubmatch(pdf, -1)
	if len(boxes) != 1 {
		t.Fatalf("%s: the poster printed to %d pages, want 1 (%d bytes of PDF)", name, len(boxes), len(pdf))
	}
	if w, _ := strconv.ParseFloat(string(boxes[0][1]), 64); math.Abs(w-419.5) > 1.5 {
		t.Fatalf("%s: PDF page width %s pt, want A5 (419.5)", name, boxes[0][1])
	}
	if h, _ := strconv.ParseFloat(string(boxes[0][2]), 64); math.Abs(h-595.3) > 1.5 {
		t.Fatalf("%s: PDF page height %s pt, want A5 (595.3)", name, boxes[0][2])
	}
	if !bytes.Contains(pdf, []byte("/Subtype /Image")) && !bytes.Contains(pdf, []byte("/Subtype/Image")) {
		t.Fatalf("%s: the printed PDF holds no image", name)
	}
}

// printView opens a code's print view from its page (打印海报) and waits
// for the poster, 1748 px wide (A5 at 300 dpi).
func (c *consoleTab) printView(screen string) {
	c.t.Helper()
	c.do("print view", chromedp.Click(chromedp.CSS(screen+` a[data-role="print-poster"]`)))
	c.until("poster shown", `!!document.querySelector('#print-poster #poster') && document.querySelector('#poster').dataset.ready === 'true' &&
		document.querySelector('#poster').naturalWidth === 1748`)
}

// chartsDrawn is the condition that a code's page drew n charts with uPlot.
func chartsDrawn(n int) string {
	return fmt.Sprintf(`document.querySelector('#code-charts')?.dataset.ready === 'true' &&
		document.querySelectorAll('#code-charts figure.chart[data-drawn="true"] canvas').length === %d`, n)
}

// chartTotals is what each chart of the page drew: the sum of its values
// and its number of series.
const chartTotals = `JSON.stringify([...document.querySelectorAll('#code-charts figure.chart')].map(f => f.dataset.total + '/' + f.dataset.series))`

// TestConsoleTasksInHeadlessChromium walks the tasks of docs/CONSOLE.md
// the other browser tests leave out, as an admin and without curl: the
// channel codes filtered by folder and by name, and one deleted; a group
// code made through its form, its joins charted, then deleted; a store made
// through its form (a userid that is not a staff member refused on its
// box first) and a store code over it, its scans and adds charted, then
// deleted; a rule disabled, enabled and deleted; a lead moved to another
// stage with a reason, and the leads filtered by stage and owner; the
// funnel for one channel code; the events filtered; and signing out. Each
// is checked through the API.
func TestConsoleTasksInHeadlessChromium(t *testing.T) {
	c := newConsoleTab(t, 5*time.Minute)
	e := startE2E(t, "sqlite")
	ctx := context.Background()

	expo := e.createCode(map[string]any{"name": "秋季展会", "folder": "展会", "roster": roster(member("zhangsan"))})
	spring := e.createCode(map[string]any{"name": "春季促销", "folder": "促销", "roster": roster(member("lisi"))})
	chat, err := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: "展会交流群", Owner: "zhangsan"})
	if err != nil {
		t.Fatal(err)
	}
	first := e.scan(expo, "李雷")
	e.scan(expo, "韩梅梅")
	e.scan(spring, "王小明")
	e.idle()

	c.signIn(e.base, e.token)

	// Channel codes by folder, then by name; one deleted after the confirm.
	names := `[...document.querySelectorAll('#channels td a.name')].map(a => a.textContent).sort().join()`
	c.until("both codes", names+` === '春季促销,秋季展会'`)
	c.filter("channel-filters", map[string]string{"folder": "展会", "q": ""})
	c.until("the expo folder", names+` === '秋季展会'`)
	c.filter("channel-filters", map[string]string{"folder": "", "q": "春季"})
	c.until("found by name", names+` === '春季促销'`)
	c.open(fmt.Sprintf("#/channels/%d", spring.ID), `!!document.getElementById('delete-channel')`)
	c.do("ask to delete", chromedp.Click(chromedp.ID("delete-channel")), chromedp.WaitVisible(chromedp.ID("confirm-delete")))
	if st := e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d", spring.ID), nil, nil); st != 200 {
		t.Fatalf("deleted before the confirm: %d", st)
	}
	c.do("confirm", chromedp.Click(chromedp.ID("confirm-delete")))
	c.until("code gone", `!!document.getElementById('channels') && `+names+` === '秋季展会'`)
	if st := e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d", spring.ID), nil, nil); st != 404 {
		t.Fatalf("deleted code: %d", st)
	}

	// A group code made through its form, with groups made when it is full
	// (a bad numbering refused on its box first); two customers join; its
	// page charts the joins, per day and per group; then it is deleted.
	c.open("#/groups/new", `!!document.getElementById('group-form')`)
	c.do("fill the group code", chromedp.SendKeys(chromedp.ID("f-name"), "展会群"),
		chromedp.SendKeys(chromedp.ID("f-title"), "加入展会交流群"),
		chromedp.SendKeys(chromedp.ID("f-chat_ids"), chat.ChatID),
		chromedp.SetValue(chromedp.ID("f-threshold"), "150"),
		chromedp.SendKeys(chromedp.ID("f-utm-utm_campaign"), "autumn"),
		chromedp.Click(chromedp.ID("f-auto_create-enabled")),
		chromedp.SendKeys(chromedp.ID("f-auto_create-room_base_name"), "展会新群"),
		chromedp.SendKeys(chromedp.ID("f-auto_create-room_base_id"), "-1"))
	c.do("create", chromedp.Click(chromedp.ID("save-group")))
	c.until("numbering error on its box, in Chinese", `document.getElementById('f-auto_create-room_base_id').classList.contains('invalid') &&
		document.querySelector('#group-form .error-box').textContent === '起始编号（auto_create.room_base_id）：须为 0 到 1000000000'`)
	c.shoot("console-desktop-group-form-auto-create")
	c.run("fix the numbering", `document.getElementById('f-auto_create-room_base_id').value = '3'; 0`)
	c.do("create", chromedp.Click(chromedp.ID("save-group")))
	c.until("group listed", `[...document.querySelectorAll('#groups td a.name')].some(a => a.textContent === '展会群')`)
	var groups struct {
		Codes []groupcode.GroupCode `json:"group_codes"`
	}
	e.api("GET", "/api/v1/group-codes", nil, &groups)
	if len(groups.Codes) != 1 || groups.Codes[0].Threshold != 150 || groups.Codes[0].Title != "加入展会交流群" ||
		len(groups.Codes[0].Pool) != 1 || groups.Codes[0].Pool[0].ChatID != chat.ChatID || groups.Codes[0].UTM["utm_campaign"] != "autumn" ||
		groups.Codes[0].AutoCreate != (groupcode.AutoCreateSpec{Enabled: true, RoomBaseName: "展会新群", RoomBaseID: 3}) {
		t.Fatalf("group code made by the form: %+v", groups.Codes)
	}
	gc := groups.Codes[0]
	for _, name := range []string{"甲", "乙"} {
		if _, err := e.ctl.Join(ctx, wecomsim.JoinRequest{ConfigID: gc.ConfigID, Customer: wecomsim.Customer{Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	e.idle()
	c.open(fmt.Sprintf("#/groups/%d", gc.ID), chartsDrawn(3))
	// joins + leaves per day, joins per group, leaves per group
	if got := c.eval("group charts", chartTotals); got != `["2/2","2/1","0/1"]` {
		t.Fatalf("group charts = %s", got)
	}
	c.run("scroll to the charts", `document.getElementById('code-charts').scrollIntoView(); 0`)
	c.shoot("console-desktop-group-charts")
	// Its poster prints on one A5 page.
	c.printView("#group-edit")
	c.shoot("console-desktop-print-group-poster")
	printsOnOneA5Page(t, c.ctx, "console-group-poster.pdf")
	c.open(fmt.Sprintf("#/groups/%d", gc.ID), `!!document.getElementById('delete-group')`)
	c.do("ask to delete", chromedp.Click(chromedp.ID("delete-group")), chromedp.WaitVisible(chromedp.ID("confirm-delete")))
	c.do("confirm", chromedp.Click(chromedp.ID("confirm-delete")))
	c.until("group gone", `!!document.getElementById('groups') && !document.querySelector('#groups td a.name')`)
	if st := e.api("GET", fmt.Sprintf("/api/v1/group-codes/%d", gc.ID), nil, nil); st != 404 {
		t.Fatalf("deleted group code: %d", st)
	}

	// A store through its form, with its staff's roster: members (a userid
	// that is not a staff member refused on its box first), a weekly shift,
	// and a backup named from the directory.
	c.open("#/stores/new", `!!document.getElementById('store-form') && !!document.querySelector('#store-form .member [data-role="userid"]')`)
	if got := c.eval("no caps", `String(!!document.querySelector('#store-form [data-role="cap"]'))`); got != "false" {
		t.Fatal("the store form offers a daily cap, which stores do not have")
	}
	c.do("fill the store", chromedp.SendKeys(chromedp.ID("f-name"), "人民广场店"),
		chromedp.SendKeys(chromedp.ID("f-city"), "上海市"),
		chromedp.SendKeys(chromedp.ID("f-address"), "人民大道 1 号"),
		chromedp.SendKeys(chromedp.ID("f-latitude"), "31.2304"),
		chromedp.SendKeys(chromedp.ID("f-longitude"), "121.4737"),
		chromedp.SendKeys(chromedp.CSS(`#store-form .member [data-role="userid"]`), "zhangsan"),
		chromedp.Click(chromedp.ID("add-member")),
		chromedp.SendKeys(chromedp.CSS(`#store-form .member:nth-of-type(2) [data-role="userid"]`), "ghost"),
		chromedp.SendKeys(chromedp.ID("f-staff-backups"), "nobody"))
	// The backups box names each userid from the directory, and marks the
	// one it lacks.
	staffNames := `[...document.querySelectorAll('#store-form [data-role="staff-names"] .badge')].map(b => b.textContent + (b.classList.contains('warn') ? '!' : '')).join('|')`
	c.until("backup marked", staffNames+` === 'nobody（不在员工目录）!'`)
	c.run("clear the backup", `(() => { const i = document.getElementById('f-staff-backups'); i.value = '';
		i.dispatchEvent(new Event('input', { bubbles: true })); return 0; })()`)
	if got := c.eval("suggestions", `document.querySelector('#store-form [data-role="staff-add"]').getAttribute('list')`); got != "staff-options" {
		t.Fatalf("the staff adder suggests %q, want the directory", got)
	}
	// Typed into the suggesting box and left with Tab (Enter with the
	// suggestions' popup open stalls headless Chromium's input layer).
	c.do("add wangwu", chromedp.SendKeys(chromedp.CSS(`#store-form [data-role="staff-add"]`), "wangwu\t"))
	c.until("wangwu added", `document.getElementById('f-staff-backups').value === 'wangwu' &&
		document.querySelector('#store-form [data-role="staff-add"]').value === '' && /^王五.*（wangwu）$/.test(`+staffNames+`)`)
	c.do("save", chromedp.Click(chromedp.ID("save-store")))
	c.until("staff error on its box", `document.querySelector('#store-form .member:nth-of-type(2) [data-role="userid"]').classList.contains('invalid') &&
		document.querySelector('#store-form .error-box').textContent.includes('“ghost”不是本企业的企业微信成员')`)
	c.shoot("console-desktop-store-form-error")
	// Fixed: lisi instead, on duty on weekdays.
	c.run("lisi instead", `document.querySelector('#store-form .member:nth-of-type(2) [data-role="userid"]').value = 'lisi'; 0`)
	c.run("a shift", `[...document.querySelectorAll('#store-form .member:nth-of-type(2) button')].find(b => b.textContent === '+ 班次').click(); 0`)
	c.until("shift shown", `document.querySelectorAll('#store-form .member:nth-of-type(2) .shift').length === 1`)
	c.shoot("console-desktop-store-form-staff")
	c.do("save", chromedp.Click(chromedp.ID("save-store")))
	c.until("store listed", `[...document.querySelectorAll('#stores td a.name')].some(a => a.textContent === '人民广场店')`)
	var stores struct {
		Stores []storecode.RetailStore `json:"stores"`
	}
	e.api("GET", "/api/v1/stores", nil, &stores)
	if len(stores.Stores) != 1 || stores.Stores[0].City != "上海市" || stores.Stores[0].Latitude != 31.2304 {
		t.Fatalf("store made by the form: %+v", stores.Stores)
	}
	if r := stores.Stores[0].Staff; len(r.Members) != 2 || r.Members[0].UserID != "zhangsan" || r.Members[1].UserID != "lisi" ||
		len(r.Members[1].Shifts) != 1 || r.Members[1].Shifts[0].Start != "09:00" || r.Members[1].Shifts[0].End != "18:00" ||
		fmt.Sprint(r.Members[1].Shifts[0].Weekdays) != "[1 2 3 4 5]" || strings.Join(r.Backups, ",") != "wangwu" || r.TimeZone != "Asia/Shanghai" {
		t.Fatalf("store staff made by the form: %+v", r)
	}
	// The stores list names the staff; the store's page shows the same roster.
	c.until("staff named in the list", `[...document.querySelectorAll('#stores td[data-label="店员"]')].some(td => td.textContent === 'zhangsan 张三，lisi 李四')`)
	c.open(fmt.Sprintf("#/stores/%d", stores.Stores[0].ID), `document.querySelectorAll('#store-form .member').length === 2 &&
		document.querySelector('#store-form .member:nth-of-type(2) [data-role="userid"]').value === 'lisi' &&
		document.querySelectorAll('#store-form .member:nth-of-type(2) .shift').length === 1 &&
		document.getElementById('f-staff-backups').value === 'wangwu'`)
	shop := stores.Stores[0]

	// A store code over it through its form; a customer finds the store and
	// adds its staff; the page charts the scan and the add; then deleted.
	c.open("#/store-codes/new", `!!document.getElementById('store-code-form') && !!document.querySelector('[data-role="store"]')`)
	c.do("fill the store code", chromedp.SendKeys(chromedp.ID("f-name"), "就近门店"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-role="store"][value="%d"]`, shop.ID))))
	c.do("create", chromedp.Click(chromedp.ID("save-store-code")))
	c.until("store code listed", `[...document.querySelectorAll('#stores td a.name')].some(a => a.textContent === '就近门店')`)
	var codes struct {
		Codes []storecode.StoreCode `json:"store_codes"`
	}
	e.api("GET", "/api/v1/store-codes", nil, &codes)
	if len(codes.Codes) != 1 || len(codes.Codes[0].Stores) != 1 || codes.Codes[0].Stores[0].StoreID != shop.ID {
		t.Fatalf("store code made by the form: %+v", codes.Codes)
	}
	sc := codes.Codes[0]
	if st, res, body := e.nearest(sc.Slug, "lat=31.2305&lng=121.4738"); st != 200 || len(res.Stores) != 1 {
		t.Fatalf("nearest: %d %s", st, body)
	}
	if _, err := e.ctl.Scan(ctx, wecomsim.ScanRequest{ConfigID: sc.Stores[0].ConfigID, Customer: wecomsim.Customer{Name: "路过的客户"}}); err != nil {
		t.Fatal(err)
	}
	e.idle()
	c.open(fmt.Sprintf("#/store-codes/%d", sc.ID), chartsDrawn(3))
	// scans + adds + joins per day, scans per store, adds per store
	if got := c.eval("store charts", chartTotals); got != `["2/3","1/1","1/1"]` {
		t.Fatalf("store charts = %s", got)
	}
	if legend := c.eval("store legend", `document.querySelectorAll('#code-charts figure.chart')[1].innerText`); !strings.Contains(legend, "人民广场店") {
		t.Fatalf("the per-store chart does not name the store: %q", legend)
	}
	c.run("scroll to the charts", `document.getElementById('code-charts').scrollIntoView(); 0`)
	c.shoot("console-desktop-store-charts")
	c.printView("#store-code-edit")
	c.shoot("console-desktop-print-store-poster")
	printsOnOneA5Page(t, c.ctx, "console-store-poster.pdf")
	c.open(fmt.Sprintf("#/store-codes/%d", sc.ID), `!!document.getElementById('delete-store-code')`)
	c.do("ask to delete", chromedp.Click(chromedp.ID("delete-store-code")), chromedp.WaitVisible(chromedp.ID("confirm-delete")))
	c.do("confirm", chromedp.Click(chromedp.ID("confirm-delete")))
	c.until("store code gone", `!!document.getElementById('stores') && document.querySelectorAll('#stores table').length === 2 &&
		![...document.querySelectorAll('#stores td a.name')].some(a => a.textContent === '就近门店')`)
	if st := e.api("GET", fmt.Sprintf("/api/v1/store-codes/%d", sc.ID), nil, nil); st != 404 {
		t.Fatalf("deleted store code: %d", st)
	}

	// A rule disabled and enabled in place, then deleted after the confirm.
	var rule lead.TagRuleSpec
	if st := e.api("POST", "/api/v1/tag-rules", map[string]any{"name": "展会加分", "trigger": "contact_added",
		"conditions": map[string]any{"code_ids": []uint64{expo.ID}}, "actions": map[string]any{"score_delta": 5}}, &rule); st != 201 {
		t.Fatalf("rule: %d", st)
	}
	enabled := func() bool {
		var r lead.TagRuleSpec
		e.api("GET", fmt.Sprintf("/api/v1/tag-rules/%d", rule.ID), nil, &r)
		return r.Enabled != nil && *r.Enabled
	}
	toggle := `document.querySelector('#rules [data-role="toggle"]')`
	c.open("#/rules", `!!`+toggle+` && `+toggle+`.textContent === '停用'`)
	c.run("disable", toggle+`.click(); 0`)
	c.until("disabled", toggle+`.textContent === '启用' && document.querySelector('#rules td[data-label="状态"]').textContent === '停用'`)
	if enabled() {
		t.Fatal("the rule is still enabled")
	}
	c.run("enable", toggle+`.click(); 0`)
	c.until("enabled", toggle+`.textContent === '停用'`)
	if !enabled() {
		t.Fatal("the rule is still disabled")
	}
	c.open(fmt.Sprintf("#/rules/%d", rule.ID), `!!document.getElementById('delete-rule')`)
	c.do("ask to delete", chromedp.Click(chromedp.ID("delete-rule")), chromedp.WaitVisible(chromedp.ID("confirm-delete")))
	c.do("confirm", chromedp.Click(chromedp.ID("confirm-delete")))
	c.until("rule gone", `!!document.getElementById('rules') && !document.querySelector('#rules td a.name')`)
	if st := e.api("GET", fmt.Sprintf("/api/v1/tag-rules/%d", rule.ID), nil, nil); st != 404 {
		t.Fatalf("deleted rule: %d", st)
	}

	// A lead moved to MQL with a reason; the list filtered by stage
	// and by owner (the owner box suggests the staff directory).
	moved := e.leadOf(first.ExternalUserID)
	c.open(fmt.Sprintf("#/leads/%d", moved.ID), `!!document.getElementById('stage-form')`)
	c.run("move the lead", `(() => { const f = document.getElementById('stage-form');
		f.elements.stage.value = 'mql'; f.elements.reason.value = '展会上聊过，有预算'; f.querySelector('button[type=submit]').click(); return 0; })()`)
	c.until("stage shown", `!!document.querySelector('#lead') && document.querySelector('#lead h1').textContent.includes('MQL') &&
		document.getElementById('lead').innerText.includes('展会上聊过，有预算')`)
	c.until("owner named", `[...document.querySelectorAll('#lead dl.facts dt')].find(dt => dt.textContent === '负责人').nextElementSibling.textContent === 'zhangsan 张三'`)
	c.shoot("console-desktop-lead-moved")
	if l := e.leadOf(first.ExternalUserID); l.Stage != lead.StageMQL || !strings.HasSuffix(stagesOf(l), "mql/admin") {
		t.Fatalf("lead after the form: %s, %s", l.Stage, stagesOf(l))
	}
	leadNames := `[...document.querySelectorAll('#leads td a.name')].map(a => a.textContent).sort().join()`
	// six leads: three scans, two group joins and the store's add
	c.open("#/leads", `document.querySelectorAll('#leads td a.name').length === 6`)
	if got := c.eval("owner picker", `document.getElementById('lead-filters').elements.owner.getAttribute('list')`); got != "staff-options" {
		t.Fatalf("the owner box suggests %q, want the staff directory", got)
	}
	c.filter("lead-filters", map[string]string{"stage": "mql"})
	c.until("MQL leads", leadNames+` === '李雷'`)
	c.filter("lead-filters", map[string]string{"stage": "", "owner": "lisi"})
	c.until("lisi's leads", leadNames+` === '王小明'`)
	// The owner by userid and name.
	c.until("owner named", `document.querySelector('#leads td[data-label="负责人"]').textContent === 'lisi 李四'`)
	c.filter("lead-filters", map[string]string{"owner": "zhaoliu"})
	c.until("no leads", leadNames+` === '' && !!document.querySelector('#leads tr.empty')`)

	// The funnel for one channel code, chosen by name: its two leads of the
	// six.
	c.open("#/funnel", `document.querySelectorAll('#funnel .funnel-row').length === 6`)
	raw := `document.querySelector('#funnel .funnel-row[data-stage="raw"] .count').textContent`
	c.until("every code's leads", raw+` === '6'`)
	// The code is picked by name from the list of codes.
	if got := c.eval("code choices", `[...document.getElementById('funnel-filters').elements.code.options].map(o => o.value + '=' + o.textContent).join()`); got != fmt.Sprintf("=全部,%d=秋季展会", expo.ID) {
		t.Fatalf("the funnel's code choices: %s", got)
	}
	c.filter("funnel-filters", map[string]string{"code": fmt.Sprint(expo.ID)})
	c.until("the code's leads", raw+` === '2'`)
	c.shoot("console-desktop-funnel-code")

	// The events filtered by status and by type.
	c.open("#/events", `document.querySelectorAll('#events tbody tr:not(.empty)').length > 0`)
	c.filter("event-filters", map[string]string{"status": "processed", "type": ""})
	c.until("processed events", `document.querySelectorAll('#events tbody tr:not(.empty)').length > 0 &&
		[...document.querySelectorAll('#events tbody tr')].every(r => r.textContent.includes('processed'))`)
	c.filter("event-filters", map[string]string{"status": "", "type": "change_external_chat/dismiss"})
	c.until("no such events", `!!document.querySelector('#events tr.empty') && document.querySelectorAll('#events tbody tr').length === 1`)

	// Signing out forgets the token and returns to sign-in.
	c.do("sign out", chromedp.Click(chromedp.ID("sign-out")))
	c.until("signed out", `!!document.getElementById('sign-in') && document.getElementById('who').hidden &&
		!sessionStorage.getItem('scrm-console.token')`)
	c.do("reload", chromedp.Reload())
	c.until("still signed out", `!!document.getElementById('sign-in')`)
}

// TestConsoleListsPageInHeadlessChromium follows the contacts' and the
// leads' cursors with 加载更多: 51 customers are one page of 50 and one of 1,
// and the button goes once the last page is in.
func TestConsoleListsPageInHeadlessChromium(t *testing.T) {
	c := newConsoleTab(t, 3*time.Minute)
	e := startE2E(t, "sqlite")
	code := e.createCode(map[string]any{"name": "大型展会", "roster": roster(member("zhangsan"), member("lisi"))})
	for i := range 51 {
		e.scan(code, fmt.Sprintf("访客%02d", i))
	}
	e.idle()
	c.signIn(e.base, e.token)
	for _, l := range []struct{ hash, section, more string }{
		{"#/contacts", "contacts", "more-contacts"},
		{"#/leads", "leads", "more-leads"},
	} {
		rows := fmt.Sprintf(`document.querySelectorAll('#%s td a.name').length`, l.section)
		more := fmt.Sprintf(`document.getElementById(%q)`, l.more)
		c.open(l.hash, rows+` === 50 && !`+more+`.hidden`)
		c.run("more", more+`.click(); 0`)
		c.until(l.hash+" second page", rows+` === 51 && `+more+`.hidden`)
		if got := c.eval("distinct", fmt.Sprintf(`String(new Set([...document.querySelectorAll('#%s td a.name')].map(a => a.textContent)).size)`, l.section)); got != "51" {
			t.Fatalf("%s: %s distinct customers over the two pages, want 51", l.hash, got)
		}
	}
}

// TestConsoleSignsInToOneOfSeveralCorps: with two corps configured, the
// sign-in's CorpID says which corp the console works on (?corp= on every
// call); the sign-in refuses none and an unknown one on that box.
func TestConsoleSignsInToOneOfSeveralCorps(t *testing.T) {
	c := newConsoleTab(t, 3*time.Minute)
	const other = "wwsecondcorp"
	e := startE2E(t, "sqlite", func(cfg *config.Config) {
		cfg.Corps = append(cfg.Corps, config.Corp{ID: other, Secret: "other-secret", CallbackToken: "othertoken",
			CallbackAESKey: "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"})
	})
	if st := e.api("POST", "/api/v1/channel-codes?corp="+e2eCorp, map[string]any{"name": "主企业的码", "roster": roster(member("zhangsan"))}, nil); st != 201 {
		t.Fatalf("create code: %d", st)
	}
	signIn := func(corp string) {
		t.Helper()
		c.do("open the console", chromedp.Navigate(e.base+"/console"))
		c.do("sign in", chromedp.WaitVisible(chromedp.ID("f-token")), chromedp.SendKeys(chromedp.ID("f-token"), e.token),
			chromedp.SendKeys(chromedp.ID("f-corp"), corp), chromedp.Click(chromedp.CSS(`#sign-in button[type="submit"]`)))
	}
	signOut := func() {
		t.Helper()
		c.do("sign out", chromedp.Click(chromedp.ID("sign-out")))
		c.until("signed out", `!!document.getElementById('sign-in')`)
	}
	names := `[...document.querySelectorAll('#channels td a.name')].map(a => a.textContent).join()`

	// Without a CorpID, or with one not configured, the sign-in refuses on
	// the CorpID box.
	refused := func(what, text string) {
		t.Helper()
		c.until(what, `!!document.getElementById('sign-in') && document.getElementById('f-corp').classList.contains('invalid') &&
			document.querySelector('#sign-in .error-box').textContent.includes(`+"'"+text+"'"+`) && !sessionStorage.getItem('scrm-console.token')`)
	}
	signIn("")
	refused("which corp?", "配置了多个企业")
	c.shoot("console-desktop-corp-missing")
	c.do("reload", chromedp.Reload())
	signIn("wwnosuchcorp")
	refused("unknown corp", "没有这个企业")
	c.do("reload", chromedp.Reload())
	signIn(e2eCorp)
	c.until("the corp's codes", `!!document.querySelector('#channels') && `+names+` === '主企业的码'`)
	signOut()
	signIn(other)
	c.until("the other corp's codes", `!!document.querySelector('#channels tr.empty') && `+names+` === ''`)
}
