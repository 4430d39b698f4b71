package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/leadgate/scrm-gateway/service/groupcode"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// chromiumPath finds a headless-capable Chromium: $GATEWAY_TEST_CHROMIUM or
// the usual names on PATH.
func chromiumPath() string {
	if p := os.Getenv("GATEWAY_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// requireChromium returns Chromium's path, or skips the test when there is
// none, unless GATEWAY_TEST_BROWSER_REQUIRED=1 (CI) makes that a failure.
func requireChromium(t *testing.T) string {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("GATEWAY_TEST_BROWSER_REQUIRED") == "1" {
			t.Fatal("no Chromium found (install the chromium package or set GATEWAY_TEST_CHROMIUM)")
		}
		t.Skip("no Chromium found; set GATEWAY_TEST_BROWSER_REQUIRED=1 to make this a failure")
	}
	return path
}

// screenshotDir is $GATEWAY_TEST_SCREENSHOTS, or the test's temporary
// directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	shots := os.Getenv("GATEWAY_TEST_SCREENSHOTS")
	if shots == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return shots
}

// startBrowser starts a headless Chromium with a window of w×h for the
// length of the test and returns its context.
func startBrowser(t *testing.T, path string, w, h int) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.Flag("disable-gpu", true),
		chromedp.Flag("lang", "zh-CN"), chromedp.WindowSize(w, h))...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil { // starts the browser on a context without a deadline
		t.Fatal(err)
	}
	return bctx
}

// saveScreenshot writes a full-page PNG of the tab to dir/name.png and
// checks it is a real picture.
func saveScreenshot(t *testing.T, tctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100)) // 100: lossless PNG
	if err != nil {
		t.Fatalf("%s: screenshot: %v", name, err)
	}
	if len(png) < 1000 || string(png[1:4]) != "PNG" {
		t.Fatalf("%s: screenshot of %d bytes", name, len(png))
	}
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
}

// TestLandingPagesInHeadlessChromium renders the group and store landing
// pages at a phone's viewport in a real browser, as WeChat's in-app browser
// would: the QR images load, the store page asks for the position and shows
// the nearest store, and falls back to the city picker when the position is
// unavailable. Screenshots go to $GATEWAY_TEST_SCREENSHOTS (or the test's
// temporary directory). CI sets GATEWAY_TEST_BROWSER_REQUIRED=1, which turns
// a missing Chromium into a failure.
func TestLandingPagesInHeadlessChromium(t *testing.T) {
	path := requireChromium(t)
	shots := screenshotDir(t)
	e := startE2E(t, "sqlite")
	ctx := context.Background()

	// A group code with room, and a store code over two Shanghai stores and one in Beijing.
	var pool []string
	for i := 1; i <= 2; i++ {
		g, err := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: fmt.Sprintf("秋季展会交流%d群", i), Owner: "zhangsan"})
		if err != nil {
			t.Fatal(err)
		}
		pool = append(pool, g.ChatID)
	}
	e.idle()
	var gc groupcode.GroupCode
	if st := e.api("POST", "/api/v1/group-codes", map[string]any{"name": "秋季展会群", "title": "加入秋季展会交流群",
		"text": "扫码进群，领取展会资料和专属优惠。", "chat_ids": pool, "threshold": 200}, &gc); st != 201 {
		t.Fatalf("create group code: %d", st)
	}
	square := e.createStore("人民广场旗舰店", 31.2304, 121.4737, "address", "黄浦区人民大道 100 号")
	lujiazui := e.createStore("陆家嘴店", 31.2397, 121.4998, "address", "浦东新区世纪大道 8 号")
	beijing := e.createStore("王府井店", 39.9087, 116.3975, "province", "北京市", "city", "北京市", "address", "东城区王府井大街 1 号")
	sc := e.createStoreCode(map[string]any{"name": "门店活码", "title": "添加离您最近的门店顾问",
		"store_ids": []uint64{square.ID, lujiazui.ID, beijing.ID}, "radius_m": 20000, "fallback_store_id": square.ID})

	bctx := startBrowser(t, path, 390, 844)
	origin := (&url.URL{Scheme: "http", Host: strings.TrimPrefix(e.base, "http://")}).String()

	// page opens a fresh tab at a phone's viewport (iPhone 12-14: 390×844 at 3×,
	// scaled to 2× to keep the PNGs small) with the given position, or none.
	page := func(name string, pos *[2]float64) context.Context {
		tab, cancel := chromedp.NewContext(bctx)
		t.Cleanup(cancel)
		tctx, cancelT := context.WithTimeout(tab, 30*time.Second)
		t.Cleanup(cancelT)
		geo := emulation.SetGeolocationOverrideParams{} // no position: "position unavailable"
		if pos != nil {
			acc := 20.0
			geo = emulation.SetGeolocationOverrideParams{Latitude: &pos[0], Longitude: &pos[1], Accuracy: &acc}
		}
		err := chromedp.Do(tctx,
			chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(2)),
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				b := chromedp.FromContext(ctx).Browser
				if _, err := cdp.Call(ctx, b, browser.SetPermission, browser.SetPermissionParams{
					Permission: &browser.PermissionDescriptor{Name: "geolocation"}, Setting: browser.PermissionSettingGranted, Origin: origin,
				}); err != nil {
					return fmt.Errorf("grant geolocation: %w", err)
				}
				_, err := cdp.Call(ctx, tg, emulation.SetGeolocationOverride, geo)
				return err
			}),
		)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return tctx
	}
	shoot := func(tctx context.Context, name string) { t.Helper(); saveScreenshot(t, tctx, shots, name) }
	// loaded waits until every image on the page has really been decoded.
	loaded := func(tctx context.Context, name, cond string) {
		t.Helper()
		ok, err := chromedp.Run(tctx, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(15*time.Second)))
		if err != nil || !ok {
			body, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
			t.Fatalf("%s: waiting for %s: %v (page: %q)", name, cond, err, body)
		}
	}
	const imagesLoaded = `Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)`

	// The group code's landing page.
	tctx := page("group", nil)
	if err := chromedp.Do(tctx, chromedp.Navigate(e.base+"/g/"+gc.Slug)); err != nil {
		t.Fatal(err)
	}
	loaded(tctx, "group", `document.images.length === 1 && `+imagesLoaded)
	got, err := chromedp.Run(tctx, chromedp.Evaluate[[]string](`[document.querySelector('h1').innerText,
		document.querySelector('main').dataset.chatId, document.querySelector('.group').innerText,
		String(document.documentElement.scrollWidth <= window.innerWidth)]`))
	if err != nil || got[0] != "加入秋季展会交流群" || got[1] != pool[0] || got[2] != "秋季展会交流1群" || got[3] != "true" {
		t.Fatalf("group page = %q, %v", got, err)
	}
	shoot(tctx, "group-landing")

	// The store code's landing page with the position given (a phone's GPS,
	// WGS-84, a few hundred metres from the store in GCJ-02).
	tctx = page("store", &[2]float64{31.2323, 121.4690})
	if err := chromedp.Do(tctx, chromedp.Navigate(e.base+"/s/"+sc.Slug)); err != nil {
		t.Fatal(err)
	}
	loaded(tctx, "store", `!document.getElementById('result').hidden && document.images.length === 1 && `+imagesLoaded)
	got, err = chromedp.Run(tctx, chromedp.Evaluate[[]string](`[document.getElementById('store-name').innerText,
		document.getElementById('store-addr').innerText, String(document.querySelectorAll('#others li').length),
		document.getElementById('qr').src, String(document.documentElement.scrollWidth <= window.innerWidth)]`))
	if err != nil || got[0] != "人民广场旗舰店" || !strings.Contains(got[1], "米") || got[2] != "1" || got[3] != sc.Stores[0].QRCode || got[4] != "true" {
		t.Fatalf("store page = %q, %v", got, err)
	}
	shoot(tctx, "store-landing-nearest")

	// Without a position the page offers the city picker; picking a city
	// shows that city's store.
	tctx = page("picker", nil)
	if err := chromedp.Do(tctx, chromedp.Navigate(e.base+"/s/"+sc.Slug)); err != nil {
		t.Fatal(err)
	}
	loaded(tctx, "picker", `!document.getElementById('picker').hidden`)
	shoot(tctx, "store-landing-city-picker")
	if _, err := chromedp.Run(tctx, chromedp.Evaluate[bool](`(function () { var s = document.getElementById('city');
		s.value = '北京市'; s.dispatchEvent(new Event('change')); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	loaded(tctx, "picker", `!document.getElementById('result').hidden && document.getElementById('store-name').innerText === '王府井店' && `+imagesLoaded)
	shoot(tctx, "store-landing-city-picked")
}
