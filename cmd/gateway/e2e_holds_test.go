package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/config"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// visit opens a landing page as a fresh visitor (no cookie) and returns the
// status and the QR code shown.
func visit(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := qrInPage.FindSubmatch(b); m != nil {
		return resp.StatusCode, string(m[1])
	}
	return resp.StatusCode, string(b)
}

// Landing-page picks of a precise-mode code hold a cap only for a few
// minutes: anonymous page views cannot use a code up for the day, while a
// pick followed by the customer's add counts for good.
func TestPreciseCapsCannotBeDrainedByPageViews(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		real := time.Now()
		e.clock.Set(real.Add(-6 * time.Minute))
		code := e.createCode(map[string]any{"name": "防刷", "mode": "precise",
			"roster": roster(member("zhangsan", "daily_cap", 2), member("lisi", "daily_cap", 2))})

		// Four views hold both caps; the fifth finds nobody.
		for i := range 4 {
			if st, _ := visit(t, code.LandingURL); st != 200 {
				t.Fatalf("view %d: %d", i, st)
			}
		}
		if st, body := visit(t, code.LandingURL); st != 503 || !strings.Contains(body, "暂无顾问在线") {
			t.Fatalf("fifth view: %d %s", st, body)
		}
		// Nobody scanned: five minutes on the holds are gone.
		e.clock.Set(real)
		st, qr := visit(t, code.LandingURL)
		if st != 200 {
			t.Fatalf("after the holds ran out: %d", st)
		}
		// This visitor scans: the add takes the hold's place and stays.
		if _, err := e.ctl.Scan(ctx, wecomsim.ScanRequest{QRCode: qr, Customer: wecomsim.Customer{Name: "扫码客户"}}); err != nil {
			t.Fatal(err)
		}
		e.idle()
		for i := range 3 {
			if st, _ := visit(t, code.LandingURL); st != 200 {
				t.Fatalf("view %d after the add: %d", i, st)
			}
		}
		if st, _ := visit(t, code.LandingURL); st != 503 {
			t.Fatalf("the add did not count: view %d", st)
		}
		// The minute's tick deletes the four run-out holds and the consumed
		// one; the three live holds and the add still fill both caps.
		if err := e.gw.codes.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := e.gw.store.PrunePickHolds(ctx, e.clock.Now(), 100); err != nil || n != 0 {
			t.Fatalf("the tick left %d holds to prune (%v)", n, err)
		}
		if st, _ := visit(t, code.LandingURL); st != 503 {
			t.Fatalf("the tick's prune freed a cap: view %d", st)
		}
	})
}

// One client opening landing pages in a loop is told to slow down with a
// 429 and a Chinese page; other clients and the admin API are unaffected.
func TestLandingPagesAreRateLimitedPerClient(t *testing.T) {
	for _, driver := range modeltest.Drivers[:1] {
		e := startE2E(t, driver, func(c *config.Config) {
			c.HTTP.LandingPerMinute, c.HTTP.LandingBurst = 1, 3
			// Other clients arrive through a trusted proxy: X-Forwarded-For names them.
			c.HTTP.TrustedProxies = []string{"127.0.0.1"}
		})
		code := e.createCode(map[string]any{"name": "限流页", "mode": "precise", "roster": roster(member("zhangsan"))})
		get := func(path, forwardedFor string) (*http.Response, string) {
			req, _ := http.NewRequest("GET", e.base+path, nil)
			if forwardedFor != "" {
				req.Header.Set("X-Forwarded-For", forwardedFor)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp, string(b)
		}
		slug := "/c/" + code.Slug
		for i, p := range []string{slug, "/g/none", "/s/none"} {
			if resp, _ := get(p, ""); resp.StatusCode == 429 {
				t.Fatalf("request %d within the burst: 429", i)
			}
		}
		resp, body := get(slug, "")
		if resp.StatusCode != 429 || !strings.Contains(body, "访问太频繁") || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("over the limit: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		if resp, _ := get("/healthz", ""); resp.StatusCode != 200 {
			t.Fatalf("healthz limited: %d", resp.StatusCode)
		}
		var out map[string]any
		if st := e.api("GET", "/api/v1/channel-codes", nil, &out); st != 200 {
			t.Fatalf("admin API limited: %d", st)
		}
	}
}
