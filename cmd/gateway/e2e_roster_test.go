package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// A Monday in Shanghai, 09:59.
var monday0959 = time.Date(2026, 11, 23, 9, 59, 0, 0, time.FixedZone("CST", 8*3600))

func TestShiftBoundaryRewritesTheWayAndBackupsTakeOver(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		e.clock.Set(monday0959)
		shift := []map[string]any{{"weekdays": []int{1}, "start": "09:00", "end": "10:00"}}
		// zhangsan until 10:00, lisi from 10:00 to 10:01; wangwu is the backup.
		code := e.createCode(map[string]any{"name": "轮班", "roster": map[string]any{
			"time_zone": "Asia/Shanghai",
			"members": []map[string]any{
				member("zhangsan", "shifts", shift),
				member("lisi", "shifts", []map[string]any{{"weekdays": []int{1}, "start": "10:00", "end": "10:01"}}),
			},
			"backups": []string{"wangwu"},
		}})
		users := func() string {
			way, err := e.ctl.ContactWay(ctx, code.ConfigID)
			if err != nil {
				t.Fatal(err)
			}
			return strings.Join(way.User, ",")
		}
		if u := users(); u != "zhangsan" {
			t.Fatalf("09:59 way = %q", u)
		}
		tick := func() {
			if err := e.gw.codes.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			e.idle()
		}
		tick() // nothing changed: no rewrite
		if n, _ := e.ctl.Log(ctx, wecomsim.LogQuery{API: "update_contact_way"}); len(n) != 0 {
			t.Fatalf("rewrote an unchanged list %d times", len(n))
		}

		e.clock.Set(monday0959.Add(time.Minute)) // 10:00: the shift boundary
		tick()
		if u := users(); u != "lisi" {
			t.Fatalf("10:00 way = %q", u)
		}
		for i := 0; i < 3; i++ {
			if res := e.scan(code, fmt.Sprint("c", i)); res.UserID != "lisi" {
				t.Fatalf("scan after the boundary went to %s", res.UserID)
			}
		}
		e.idle()

		e.clock.Set(monday0959.Add(2 * time.Minute)) // 10:01: nobody on shift → backup
		tick()
		if u := users(); u != "wangwu" {
			t.Fatalf("10:01 way = %q", u)
		}
		var v channelcode.ChannelCode
		e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d", code.ID), nil, &v)
		if !strings.Contains(v.Alert, "backups") {
			t.Fatalf("alert = %q", v.Alert)
		}
		if n, _ := e.ctl.Log(ctx, wecomsim.LogQuery{API: "update_contact_way"}); len(n) != 2 {
			t.Fatalf("update_contact_way called %d times, want 2", len(n))
		}

		// No backups either: the way keeps its last list and the admin is told.
		e.api("PATCH", fmt.Sprintf("/api/v1/channel-codes/%d", code.ID), map[string]any{"roster": map[string]any{
			"time_zone": "Asia/Shanghai", "members": []map[string]any{member("zhangsan", "shifts", shift)}}}, nil)
		e.idle()
		if u := users(); u != "wangwu" {
			t.Fatalf("with nobody eligible the way = %q, want the last list kept", u)
		}
		e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d", code.ID), nil, &v)
		if !strings.Contains(v.Alert, "no staff member or backup") {
			t.Fatalf("alert = %q", v.Alert)
		}
	})
}

var qrInPage = regexp.MustCompile(`<img src="([^"]+)"`)

// TestPreciseBurstRespectsCapsExactly fires 1,000 concurrent landing-page
// visits at a precise-mode code with five capped staff and a backup, then
// has each visitor scan the code they were shown.
func TestPreciseBurstRespectsCapsExactly(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		if err := e.ctl.AddStaff(ctx, wecomsim.Staff{UserID: "backup1", Name: "值班"}); err != nil {
			t.Fatal(err)
		}
		var members []map[string]any
		for _, u := range []string{"zhangsan", "lisi", "wangwu", "zhaoliu", "sunqi"} {
			members = append(members, member(u, "daily_cap", 150))
		}
		code := e.createCode(map[string]any{"name": "精准", "mode": "precise", "strategy": "least_loaded",
			"roster": map[string]any{"members": members, "backups": []string{"backup1"}}})
		if code.LandingURL == "" || len(code.MemberWays) != 6 {
			t.Fatalf("code = %+v", code)
		}
		owner := map[string]string{}
		for uid, w := range code.MemberWays {
			owner[w.QRCode] = uid
		}

		const visitors = 1000
		picked := make([]string, visitors)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for i := 0; i < visitors; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				resp, err := http.Get(code.LandingURL)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				m := qrInPage.FindSubmatch(b)
				if resp.StatusCode != 200 || m == nil {
					t.Errorf("landing %d: %s", resp.StatusCode, b)
					return
				}
				picked[i] = string(m[1])
			}(i)
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		counts := map[string]int{}
		for _, qr := range picked {
			counts[owner[qr]]++
		}
		for _, u := range []string{"zhangsan", "lisi", "wangwu", "zhaoliu", "sunqi"} {
			if counts[u] != 150 {
				t.Errorf("%s got %d, want exactly its cap of 150 (all: %v)", u, counts[u], counts)
			}
		}
		if counts["backup1"] != 250 {
			t.Errorf("backup got %d, want 250", counts["backup1"])
		}

		// Every fifth visitor scans what they were shown (the whole pipeline at
		// full volume is measured by cmd/loadgen; under -race the embedded
		// SQLite is too slow for 1,000 here): each add lands with that staff
		// member, attributed to the code.
		var sw sync.WaitGroup
		scanned := make([]string, visitors)
		for i, qr := range picked {
			if i%5 != 0 {
				continue
			}
			sw.Add(1)
			go func(i int, qr string) {
				defer sw.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				res, err := e.ctl.Scan(ctx, wecomsim.ScanRequest{QRCode: qr, Customer: wecomsim.Customer{Name: fmt.Sprint("访客", i)}})
				if err != nil {
					t.Error(err)
					return
				}
				scanned[i] = res.UserID
			}(i, qr)
		}
		sw.Wait()
		e.idle()
		want := map[string]int{}
		for i := range picked {
			if i%5 != 0 {
				continue
			}
			want[owner[picked[i]]]++
			if scanned[i] != owner[picked[i]] {
				t.Fatalf("visitor %d was shown %s but added %s", i, owner[picked[i]], scanned[i])
			}
		}
		var stats channelcode.CodeStats
		e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d/stats", code.ID), nil, &stats)
		if stats.Total.Adds != visitors/5 {
			t.Fatalf("stats total = %+v", stats.Total)
		}
		for u, n := range want {
			if stats.Staff[u] == nil || stats.Staff[u].Adds != n {
				t.Fatalf("stats for %s = %+v, want %d adds", u, stats.Staff[u], n)
			}
		}
		if n, _ := e.gw.store.CountEvents(ctx, model.StatusProcessed); n != visitors/5 {
			t.Fatalf("processed events = %d", n)
		}
		// A returning visitor (cookie) keeps their staff member.
		jar := &cookieJar{}
		c := &http.Client{Jar: jar}
		first := landingQR(t, c, code.LandingURL)
		for i := 0; i < 3; i++ {
			if again := landingQR(t, c, code.LandingURL); again != first {
				t.Fatalf("returning visitor got %s then %s", first, again)
			}
		}
	})
}

func landingQR(t *testing.T, c *http.Client, u string) string {
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := qrInPage.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no QR in %s", b)
	}
	return string(m[1])
}

// cookieJar is the smallest jar that keeps cookies by name for one host.
type cookieJar struct {
	mu sync.Mutex
	c  map[string]*http.Cookie
}

func (j *cookieJar) SetCookies(_ *url.URL, cs []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.c == nil {
		j.c = map[string]*http.Cookie{}
	}
	for _, c := range cs {
		j.c[c.Name] = c
	}
}

func (j *cookieJar) Cookies(_ *url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []*http.Cookie
	for _, c := range j.c {
		out = append(out, c)
	}
	return out
}
