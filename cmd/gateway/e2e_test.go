package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/config"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

const e2eCorp = "wwe2etest"

// e2e is a whole gateway (on SQLite or MariaDB) wired to a WeCom simulator,
// both over real HTTP: admin API → service → WeCom API client → simulator,
// and simulator scan → encrypted callback → inbox → dispatcher → jobs.
type e2e struct {
	t     *testing.T
	sim   *wecomsim.Sim
	ctl   *wecomsim.Control
	gw    *gateway
	base  string
	token string
	clock *modeltest.Clock
	// simClock is the simulator's (WeCom's) clock, apart from the gateway's.
	simClock *modeltest.Clock
	proxy    *flakyProxy
	cancel   context.CancelFunc
}

// flakyProxy sits between the simulator and the gateway's callback URL. It
// forwards every delivery, and answers 500 to the first `fails` deliveries of
// each body, so WeCom's resends reach the gateway.
type flakyProxy struct {
	mu    sync.Mutex
	fails int
	seen  map[string]int
	rp    *httputil.ReverseProxy
}

func (p *flakyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.mu.Lock()
	p.seen[string(body)]++
	n := p.seen[string(body)]
	fails := p.fails
	p.mu.Unlock()
	rec := httptest.NewRecorder()
	p.rp.ServeHTTP(rec, r)
	if n <= fails {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// startE2E starts a gateway on driver; adjust changes its config last.
func startE2E(t *testing.T, driver string, adjust ...func(*config.Config)) *e2e {
	t.Helper()
	// The gateway runs on one clock that follows the wall clock until a
	// test sets, advances or stops it.
	clk := modeltest.NewClock(time.Now())
	clk.Start()
	simClk := modeltest.NewClock(time.Now())
	simClk.Start()
	sim, err := wecomsim.New(wecomsim.Options{Now: simClk.Now,
		CorpID: e2eCorp, Secret: "e2e-secret", Token: "e2etoken", EncodingAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
		Seed: 7, RetryDelay: 20 * time.Millisecond, CallbackTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim.Handler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	target, _ := url.Parse(base)
	proxy := &flakyProxy{seen: map[string]int{}, rp: httputil.NewSingleHostReverseProxy(target)}
	proxySrv := httptest.NewServer(proxy)
	sim.SetCallbackURL(proxySrv.URL + "/wecom/callback/" + e2eCorp)

	cfg := config.Default()
	cfg.Listen = ln.Addr().String()
	cfg.PublicURL = base
	cfg.DB.Driver = driver
	cfg.DB.DSN = modeltest.DSN(t, driver)
	cfg.WeCom.APIBase = simSrv.URL
	cfg.Dispatcher.SweepInterval = 100 * time.Millisecond
	cfg.HTTP.LandingPerMinute = 0 // every test client has one address
	cfg.Security.DataKeys = []string{modeltest.KeySpec}
	cfg.Corps = []config.Corp{{ID: e2eCorp, Secret: "e2e-secret", CallbackToken: "e2etoken", CallbackAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}}
	for _, a := range adjust {
		a(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var logw io.Writer = io.Discard
	if os.Getenv("E2E_LOG") != "" {
		logw = os.Stderr
	}
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	g, err := newGateway(context.Background(), cfg, log, ln.Addr().String(), io.Discard,
		func(w *wiring) {
			w.clock = clk
			w.retryBase = 30 * time.Millisecond
			w.holdFor = 300 * time.Millisecond
		})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- g.serve(ctx, ln) }()
	tok, _, err := auth.New(g.store, clk).CreateToken(context.Background(), "e2e admin", auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	e := &e2e{t: t, sim: sim, ctl: wecomsim.NewControl(simSrv.URL, nil), gw: g, base: base, token: tok, clock: clk, simClock: simClk, proxy: proxy, cancel: cancel}
	t.Cleanup(func() {
		cancel()
		<-served
		proxySrv.Close()
		sim.Close()
		simSrv.Close()
	})
	return e
}

func eachE2E(t *testing.T, fn func(t *testing.T, e *e2e)) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) { fn(t, startE2E(t, d)) })
	}
}

// api calls the admin API with the admin token (or tok) and decodes into out.
func (e *e2e) api(method, path string, body any, out any, tok ...string) int {
	e.t.Helper()
	token := e.token
	if len(tok) > 0 {
		token = tok[0]
	}
	return callAPI(e.t, e.base, token, method, path, body, out)
}

// callAPI calls an admin API at base with token and decodes into out.
func callAPI(t *testing.T, base, token, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	checkResponse(t, method, path, resp.StatusCode, resp.Header, b)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

func (e *e2e) createCode(spec map[string]any) channelcode.ChannelCode {
	e.t.Helper()
	var code channelcode.ChannelCode
	var raw map[string]any
	if st := e.api("POST", "/api/v1/channel-codes", spec, &raw); st != 201 {
		e.t.Fatalf("create code: %d %v", st, raw)
	}
	b, _ := json.Marshal(raw)
	json.Unmarshal(b, &code)
	return code
}

// waitFor waits until cond holds (at most a minute).
func (e *e2e) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// idle waits until the simulator has no callback in flight and the gateway
// has no event or job left to do.
func (e *e2e) idle() {
	e.t.Helper()
	e.idleOn(e.gw.store)
}

// idleOn is idle reading through st (another store on the same database
// leaves the gateway's statement counts alone).
func (e *e2e) idleOn(st *model.Store) {
	e.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for {
		pendingCB := e.sim.PendingCallbacks()
		busy, err := st.Unfinished(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if pendingCB == 0 && busy == 0 {
			return
		}
		if time.Now().After(deadline) {
			var stuck []string
			for _, st := range []string{model.StatusPending, model.StatusProcessing} {
				jobs, _ := e.gw.store.ListJobs(ctx, model.JobFilter{Status: st, Limit: 5})
				for _, j := range jobs {
					stuck = append(stuck, fmt.Sprintf("job %d %s %s attempts=%d err=%q", j.ID, j.Kind, j.Status, j.Attempts, j.Error))
				}
				evs, _ := e.gw.store.ListEvents(ctx, model.EventFilter{Status: st, Limit: 5})
				for _, ev := range evs {
					stuck = append(stuck, fmt.Sprintf("event %d %s %s attempts=%d err=%q", ev.ID, ev.Type, ev.Status, ev.Attempts, ev.Error))
				}
			}
			e.t.Fatalf("not idle: %d callbacks pending, %d events/jobs busy: %v", pendingCB, busy, stuck)
		}
		time.Sleep(15 * time.Millisecond)
	}
}

func (e *e2e) scan(code channelcode.ChannelCode, name string) wecomsim.ScanResult {
	e.t.Helper()
	res, err := e.ctl.Scan(context.Background(), wecomsim.ScanRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{Name: name}})
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func roster(members ...map[string]any) map[string]any {
	return map[string]any{"members": members}
}

func member(uid string, extra ...any) map[string]any {
	m := map[string]any{"userid": uid}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func TestChannelCodeScanGreetedOnceTaggedRemarkedCounted(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		e.proxy.fails = 3 // every callback arrives 4 times
		code := e.createCode(map[string]any{
			"name": "秋季展会", "folder": "展会", "tags": []string{"展会", "2026秋"}, "remark_template": "{name}-{code}",
			"welcome": map[string]any{"text": "您好{name}，欢迎来到秋季展会", "attachments": []map[string]any{
				{"type": "link", "title": "展会资料", "url": "https://example.com/expo"}}},
			"roster": roster(member("zhangsan"), member("lisi")),
		})
		if code.ConfigID == "" || !strings.HasPrefix(code.State, "c:") || len(code.State) > 30 || len(code.Tags) != 2 || code.Tags[0].ID == "" {
			t.Fatalf("code = %+v", code)
		}
		way, err := e.ctl.ContactWay(ctx, code.ConfigID)
		if err != nil || way.State != code.State || strings.Join(way.User, ",") != "lisi,zhangsan" {
			t.Fatalf("way = %+v, %v", way, err)
		}

		res := e.scan(code, "王小明")
		e.idle()

		// Stored once although delivered four times; greeted once.
		evs, _ := e.gw.store.ListEvents(ctx, model.EventFilter{Type: "change_external_contact/add_external_contact", Limit: 10})
		if len(evs) != 1 || evs[0].Status != model.StatusProcessed {
			t.Fatalf("events = %+v", evs)
		}
		if n := e.proxy.seen; len(n) != 1 {
			t.Fatalf("proxy saw %d distinct bodies", len(n))
		}
		for _, n := range e.proxy.seen {
			if n != 4 {
				t.Fatalf("callback delivered %d times, want 4", n)
			}
		}
		welcomes, _ := e.ctl.Welcomes(ctx, wecomsim.WelcomeQuery{ExternalUserID: res.ExternalUserID})
		if len(welcomes) != 1 || welcomes[0].Content != "您好王小明，欢迎来到秋季展会" || len(welcomes[0].Attachments) != 1 {
			t.Fatalf("welcomes = %+v", welcomes)
		}
		if calls, _ := e.ctl.Log(ctx, wecomsim.LogQuery{API: "send_welcome_msg"}); len(calls) != 1 {
			t.Fatalf("send_welcome_msg called %d times", len(calls))
		}

		// Tagged and remarked in WeCom.
		sc, err := e.ctl.Contact(ctx, res.ExternalUserID)
		if err != nil || len(sc.FollowUser) != 1 {
			t.Fatalf("sim contact = %+v %v", sc, err)
		}
		fu := sc.FollowUser[0]
		if fu.Remark != "王小明-秋季展会" || len(fu.Tags) != 2 {
			t.Fatalf("follow = %+v", fu)
		}

		// Recorded and counted in the gateway.
		var list struct {
			Contacts []contact.ContactView `json:"contacts"`
		}
		e.api("GET", fmt.Sprintf("/api/v1/contacts?code=%d", code.ID), nil, &list)
		if len(list.Contacts) != 1 || list.Contacts[0].Name != "王小明" || list.Contacts[0].Source != "channel" || list.Contacts[0].SourceCodeID != code.ID {
			t.Fatalf("contacts = %+v", list.Contacts)
		}
		// q finds a contact by a prefix of its external_userid, and by a part
		// of its name; a LIKE wildcard in q is a plain character.
		for q, want := range map[string]int{res.ExternalUserID[:6]: 1, "小明": 1, "%": 0, res.ExternalUserID[1:]: 0} {
			var found struct {
				Contacts []contact.ContactView `json:"contacts"`
			}
			e.api("GET", "/api/v1/contacts?q="+url.QueryEscape(q), nil, &found)
			if len(found.Contacts) != want {
				t.Errorf("contacts?q=%s: %d, want %d", q, len(found.Contacts), want)
			}
		}
		var detail struct {
			Relations []struct {
				Relation contact.RelationView `json:"relation"`
				Tags     []string             `json:"tags"`
			} `json:"relations"`
			Timeline []contact.TimelineView `json:"timeline"`
		}
		e.api("GET", fmt.Sprintf("/api/v1/contacts/%d", list.Contacts[0].ID), nil, &detail)
		if len(detail.Relations) != 1 || detail.Relations[0].Relation.UserID != res.UserID ||
			detail.Relations[0].Relation.Remark != "王小明-秋季展会" || strings.Join(detail.Relations[0].Tags, ",") != "2026秋,展会" {
			t.Fatalf("detail = %+v", detail)
		}
		if len(detail.Timeline) != 1 || detail.Timeline[0].Kind != "added" || detail.Timeline[0].Detail != "welcome sent" {
			t.Fatalf("timeline = %+v", detail.Timeline)
		}
		var stats channelcode.CodeStats
		e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d/stats", code.ID), nil, &stats)
		if stats.Total.Adds != 1 || stats.Staff[res.UserID] == nil || stats.Staff[res.UserID].Adds != 1 {
			t.Fatalf("stats = %+v", stats)
		}
	})
}

func TestDailyCapTakesStaffOffTheWay(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		code := e.createCode(map[string]any{"name": "限额", "roster": roster(member("zhangsan", "daily_cap", 2), member("lisi"))})
		got := map[string]int{}
		for i := 0; i < 12; i++ {
			res := e.scan(code, fmt.Sprint("客户", i))
			got[res.UserID]++
			e.idle()
		}
		if got["zhangsan"] != 2 || got["lisi"] != 10 {
			t.Fatalf("distribution = %v, want zhangsan capped at 2", got)
		}
		way, _ := e.ctl.ContactWay(ctx, code.ConfigID)
		if strings.Join(way.User, ",") != "lisi" {
			t.Fatalf("way users = %v", way.User)
		}
		var v channelcode.ChannelCode
		e.api("GET", fmt.Sprintf("/api/v1/channel-codes/%d", code.ID), nil, &v)
		if strings.Join(v.WeComUsers, ",") != "lisi" {
			t.Fatalf("code view users = %v", v.WeComUsers)
		}
	})
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
