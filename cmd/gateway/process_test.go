package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// These tests run the gateway and the WeCom simulator as child processes
// over real sockets, built from this tree once per test binary.

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds the gateway and the simulator.
func binaries(t *testing.T) (gateway, sim string) {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "gateway-bin-"); binErr != nil {
			return
		}
		for _, b := range []struct{ out, pkg string }{{"gateway", "."}, {"wecom-sim", "../wecom-sim"}} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, b.out), b.pkg).CombinedOutput()
			if err != nil {
				binErr = fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "gateway"), filepath.Join(binDir, "wecom-sim")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// child is a running process with its output kept for the failure message.
type child struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startChild(t *testing.T, name, bin string, env []string, args ...string) *child {
	t.Helper()
	c := &child{name: name, cmd: exec.Command(bin, args...), out: &lockedBuffer{}, done: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			t.Logf("%s output (last 4 KiB):\n%s", name, tail(c.out.String(), 4096))
		}
	})
	return c
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// kill ends the process with SIGKILL: no handler runs, nothing is handed back.
func (c *child) kill() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// waitHTTP polls url until it answers 200 (at most a minute).
func waitHTTP(t *testing.T, c *child, u string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-c.done:
			t.Fatalf("%s exited:\n%s", c.name, tail(c.out.String(), 4096))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %s within a minute", c.name, u)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fleet is a simulator, the gateways behind a balancer that spreads the
// simulator's callbacks over them (a gateway that is down answers 502, and
// the simulator sends again), a CRM receiver, and the database they share.
type fleet struct {
	t        *testing.T
	gwBin    string
	env      []string
	sim      *child
	ctl      *wecomsim.Control
	addrs    []string
	gateways []*child
	wecom    []*apiRecorder // each gateway's own way to the simulator
	token    string
	crm      *crmReceiver
	store    *model.Store // the test's own connection, for checks
	next     atomic.Uint64
}

const procCorp = "wwprocess"

func startFleet(t *testing.T, driver string, replicas int) *fleet {
	t.Helper()
	gwBin, simBin := binaries(t)
	f := &fleet{t: t, gwBin: gwBin}
	lb := httptest.NewServer(http.HandlerFunc(f.balance))
	t.Cleanup(lb.Close)
	const token, aesKey, secret = "proctoken", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "proc-secret"
	simAddr := freeAddr(t)
	f.sim = startChild(t, "wecom-sim", simBin, nil, "-listen", simAddr, "-corp", procCorp, "-secret", secret,
		"-token", token, "-aes-key", aesKey, "-callback", lb.URL+"/wecom/callback/"+procCorp, "-seed", "7",
		"-retry-delay", "1s", "-log-level", "error")
	simURL := "http://" + simAddr
	waitHTTP(t, f.sim, simURL+"/sim/staff")
	f.ctl = wecomsim.NewControl(simURL, nil)

	dsn := modeltest.DSN(t, driver)
	f.env = []string{"GATEWAY_DB_DRIVER=" + driver, "GATEWAY_DB_DSN=" + dsn, "GATEWAY_WECOM_API_BASE=" + simURL,
		"GATEWAY_CORP_ID=" + procCorp, "GATEWAY_CORP_SECRET=" + secret, "GATEWAY_CALLBACK_TOKEN=" + token,
		"GATEWAY_CALLBACK_AES_KEY=" + aesKey, "GATEWAY_WEBHOOKS_ALLOW_HTTP=true",
		"GATEWAY_WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true", "GATEWAY_LOG_LEVEL=warn", "GATEWAY_DATA_KEY=" + modeltest.KeySpec}
	for range replicas {
		f.addrs = append(f.addrs, freeAddr(t))
		f.wecom = append(f.wecom, newAPIRecorder(t, simURL))
	}
	f.gateways = make([]*child, replicas)
	for i := range replicas {
		f.start(i)
	}
	cmd := exec.Command(gwBin, "token", "create", "-role", "admin", "-name", "process test")
	cmd.Env = append(os.Environ(), f.env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	f.token = strings.TrimSpace(string(out))
	if f.store, err = model.Open(driver, dsn, model.Options{Clock: clock.Real{}, Keys: modeltest.Keys}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Close() })

	f.crm = newCRMReceiver(t)
	var ep map[string]any
	if st := f.api(0, "POST", "/api/v1/webhook-endpoints", map[string]any{"url": f.crm.srv.URL + "/crm", "event_types": []string{}}, &ep); st != 201 {
		t.Fatalf("create endpoint: %d %v", st, ep)
	}
	f.crm.mu.Lock()
	f.crm.secret = ep["secret"].(string)
	f.crm.mu.Unlock()
	return f
}

// start (re)starts gateway i on its address.
func (f *fleet) start(i int) {
	f.t.Helper()
	addr := f.addrs[i]
	f.gateways[i] = startChild(f.t, fmt.Sprintf("gateway %d", i), f.gwBin,
		append(f.env, "GATEWAY_LISTEN="+addr, "GATEWAY_PUBLIC_URL=http://"+addr, "GATEWAY_WECOM_API_BASE="+f.wecom[i].srv.URL))
	waitHTTP(f.t, f.gateways[i], "http://"+addr+"/readyz")
}

// apiRecorder stands between one gateway and the simulator and notes every
// API call it makes with WeCom's errcode, so a test knows which replica
// called.
type apiRecorder struct {
	srv     *httptest.Server
	mu      sync.Mutex
	calls   []apiCall      // answered
	arrived map[string]int // requests by API, answered or not
	writes  []*wayWrite    // update_contact_way requests
}

// wayWrite is one update_contact_way: the way, the user list it sets, and
// when the request left the gateway and its answer came back.
type wayWrite struct {
	ConfigID string
	User     []string
	Arrived  time.Time
	Answered time.Time // zero: no answer
}

type writeKey struct{}

type apiCall struct {
	API     string // e.g. externalcontact/send_welcome_msg
	ErrCode int
	At      time.Time
}

func newAPIRecorder(t *testing.T, target string) *apiRecorder {
	t.Helper()
	u, _ := url.Parse(target)
	r := &apiRecorder{arrived: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	direct := rp.Director
	rp.Director = func(req *http.Request) {
		if api, ok := strings.CutPrefix(req.URL.Path, "/cgi-bin/"); ok {
			var w *wayWrite
			if api == "externalcontact/update_contact_way" && req.Body != nil {
				b, _ := io.ReadAll(req.Body)
				req.Body = io.NopCloser(bytes.NewReader(b))
				w = &wayWrite{Arrived: time.Now()}
				_ = json.Unmarshal(b, &struct {
					ConfigID *string   `json:"config_id"`
					User     *[]string `json:"user"`
				}{&w.ConfigID, &w.User})
				*req = *req.WithContext(context.WithValue(req.Context(), writeKey{}, w))
			}
			r.mu.Lock()
			r.arrived[api]++
			if w != nil {
				r.writes = append(r.writes, w)
			}
			r.mu.Unlock()
		}
		direct(req)
	}
	// A gateway killed mid-call is expected here: no log line for it.
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	rp.ModifyResponse = func(resp *http.Response) error {
		api, ok := strings.CutPrefix(resp.Request.URL.Path, "/cgi-bin/")
		if !ok {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		var out struct {
			ErrCode int `json:"errcode"`
		}
		_ = json.Unmarshal(b, &out)
		r.mu.Lock()
		r.calls = append(r.calls, apiCall{API: api, ErrCode: out.ErrCode, At: time.Now()})
		if w, ok := resp.Request.Context().Value(writeKey{}).(*wayWrite); ok {
			w.Answered = time.Now()
		}
		r.mu.Unlock()
		return nil
	}
	r.srv = httptest.NewServer(rp)
	t.Cleanup(r.srv.Close)
	return r
}

// count is the calls to api, answered errcode unless errcode is nil.
func (r *apiRecorder) count(api string, errcode *int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c.API == api && (errcode == nil || c.ErrCode == *errcode) {
			n++
		}
	}
	return n
}

// wayWrites copies the update_contact_way requests so far.
func (r *apiRecorder) wayWrites() []wayWrite {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]wayWrite, len(r.writes))
	for i, w := range r.writes {
		out[i] = *w
	}
	return out
}

// arrivals is the requests to api so far, answered or not.
func (r *apiRecorder) arrivals(api string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.arrived[api]
}

// heldSeconds reads gateway_wecom_api_held_seconds for api from gateway i.
func (f *fleet) heldSeconds(i int, api string) float64 {
	f.t.Helper()
	resp, err := http.Get("http://" + f.addrs[i] + "/metrics")
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	prefix := fmt.Sprintf(`gateway_wecom_api_held_seconds{api=%q,corp=%q} `, api, procCorp)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			x, _ := strconv.ParseFloat(v, 64)
			return x
		}
	}
	f.t.Fatalf("gateway %d: no %s on /metrics", i, prefix)
	return 0
}

// waitUntil polls cond until it holds, failing after limit.
func waitUntil(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// balance sends each callback to the next gateway in turn.
func (f *fleet) balance(w http.ResponseWriter, r *http.Request) {
	i := int(f.next.Add(1)) % len(f.addrs)
	target, _ := url.Parse("http://" + f.addrs[i])
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	rp.ServeHTTP(w, r)
}

// api calls gateway i's admin API.
func (f *fleet) api(i int, method, path string, body, out any) int {
	f.t.Helper()
	return callAPI(f.t, "http://"+f.addrs[i], f.token, method, path, body, out)
}

// idle waits until the simulator has no callback left to deliver and the
// database no event, job or webhook delivery left to do.
func (f *fleet) idle() {
	f.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st, err := f.ctl.Stats(ctx)
		if err != nil {
			f.t.Fatal(err)
		}
		busy, err := f.store.Unfinished(ctx)
		if err != nil {
			f.t.Fatal(err)
		}
		var hooks int64
		for _, s := range []string{model.StatusPending, model.StatusProcessing} {
			n, err := f.store.CountWebhookDeliveries(ctx, s)
			if err != nil {
				f.t.Fatal(err)
			}
			hooks += n
		}
		if st.Callbacks.Pending == 0 && busy == 0 && hooks == 0 {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("not idle after 2 minutes: %d callbacks, %d events/jobs, %d deliveries", st.Callbacks.Pending, busy, hooks)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// createCode makes a channel code on gateway i that welcomes, tags and
// remarks.
func (f *fleet) createCode(i int, roster map[string]any) channelcode.ChannelCode {
	f.t.Helper()
	return f.createNamedCode(i, "进程", roster)
}

// createNamedCode is createCode with a name (the remark is the name).
func (f *fleet) createNamedCode(i int, name string, roster map[string]any) channelcode.ChannelCode {
	f.t.Helper()
	var raw map[string]any
	spec := map[string]any{"name": name, "welcome": map[string]any{"text": "欢迎光临"}, "tags": []string{"展会"},
		"remark_template": "{code}", "roster": roster}
	if st := f.api(i, "POST", "/api/v1/channel-codes", spec, &raw); st != 201 {
		f.t.Fatalf("create code: %d %v", st, raw)
	}
	var code channelcode.ChannelCode
	b, _ := json.Marshal(raw)
	_ = json.Unmarshal(b, &code)
	return code
}

// burst scans the code n times, one every gap, and calls during(i) before
// the i-th scan (the scans already made go on meanwhile).
func (f *fleet) burst(code channelcode.ChannelCode, n int, gap time.Duration, during func(i int)) []wecomsim.ScanResult {
	f.t.Helper()
	res := make([]wecomsim.ScanResult, n)
	var wg sync.WaitGroup
	for i := range n {
		if during != nil {
			during(i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.ctl.Scan(context.Background(), wecomsim.ScanRequest{ConfigID: code.ConfigID,
				Customer: wecomsim.Customer{Name: fmt.Sprintf("客户%d", i)}})
			if err != nil {
				f.t.Error(err)
			}
			res[i] = r
		}()
		time.Sleep(gap)
	}
	wg.Wait()
	if f.t.Failed() {
		f.t.FailNow()
	}
	return res
}

// welcomeOutcomes checks every scan's contact, welcome, tag, remark and lead,
// and returns the welcome outcomes the timeline recorded, by their first words.
func (f *fleet) welcomeOutcomes(scans []wecomsim.ScanResult, codes ...channelcode.ChannelCode) map[string]int {
	f.t.Helper()
	ctx := context.Background()
	added := map[string]int{}
	for _, p := range f.crm.ofType(webhook.EventContactAdded) {
		d, _ := p["data"].(map[string]any)
		c, _ := d["contact"].(map[string]any)
		if ext, ok := c["external_userid"].(string); ok {
			added[ext]++
		}
	}
	byState := map[string]channelcode.ChannelCode{}
	for _, c := range codes {
		byState[c.State] = c
	}
	outcomes := map[string]int{}
	for _, r := range scans {
		code, ok := byState[r.State]
		if !ok {
			f.t.Fatalf("%s scanned state %q, none of the codes'", r.ExternalUserID, r.State)
		}
		var list struct {
			Contacts []contact.ContactView `json:"contacts"`
		}
		f.api(0, "GET", "/api/v1/contacts?q="+r.ExternalUserID, nil, &list)
		if len(list.Contacts) != 1 || list.Contacts[0].Source != webhook.SourceChannel {
			f.t.Fatalf("contact of %s = %+v", r.ExternalUserID, list.Contacts)
		}
		var detail struct {
			Timeline []contact.TimelineView `json:"timeline"`
		}
		f.api(0, "GET", fmt.Sprintf("/api/v1/contacts/%d", list.Contacts[0].ID), nil, &detail)
		said := ""
		for _, e := range detail.Timeline {
			if strings.HasPrefix(e.Detail, "welcome") {
				said = e.Detail
			}
		}
		w, err := f.ctl.Welcomes(ctx, wecomsim.WelcomeQuery{ExternalUserID: r.ExternalUserID})
		if err != nil {
			f.t.Fatal(err)
		}
		truthful := false
		switch len(w) {
		case 0:
			truthful = strings.HasPrefix(said, "welcome not sent") || strings.HasPrefix(said, "welcome outcome unknown")
		case 1:
			truthful = strings.HasPrefix(said, "welcome sent") || strings.HasPrefix(said, "welcome already delivered") ||
				strings.HasPrefix(said, "welcome outcome unknown")
		}
		if !truthful {
			f.t.Fatalf("%s: %d welcomes delivered, the timeline says %q", r.ExternalUserID, len(w), said)
		}
		outcomes[strings.Join(strings.Fields(said)[:2], " ")]++

		c, err := f.ctl.Contact(ctx, r.ExternalUserID)
		if err != nil {
			f.t.Fatal(err)
		}
		tagged := false
		for _, fu := range c.FollowUser {
			if fu.UserID != r.UserID {
				continue
			}
			for _, tg := range fu.Tags {
				tagged = tagged || tg.TagName == "展会"
			}
			if fu.Remark != code.Name {
				f.t.Fatalf("%s: remark %q, want %q", r.ExternalUserID, fu.Remark, code.Name)
			}
		}
		if !tagged {
			f.t.Fatalf("%s: not tagged: %+v", r.ExternalUserID, c.FollowUser)
		}
		var leads struct {
			Leads []map[string]any `json:"leads"`
		}
		if st := f.api(0, "GET", fmt.Sprintf("/api/v1/leads?contact=%d", list.Contacts[0].ID), nil, &leads); st != 200 || len(leads.Leads) != 1 {
			f.t.Fatalf("%s: lead: %d %+v", r.ExternalUserID, st, leads)
		}
		if added[r.ExternalUserID] == 0 {
			f.t.Fatalf("%s: no contact.added reached the CRM", r.ExternalUserID)
		}
	}
	return outcomes
}

// everyMessageArrived checks that every delivery in the outbox was
// delivered, that the CRM got each message at least once, and that every
// copy of a message carried the same webhook-id and body.
func (f *fleet) everyMessageArrived() (messages, copies int) {
	f.t.Helper()
	ds, err := f.store.ListWebhookDeliveries(context.Background(), model.WebhookDeliveryFilter{Limit: 10000})
	if err != nil {
		f.t.Fatal(err)
	}
	f.crm.mu.Lock()
	got := map[string][]string{}
	for _, p := range f.crm.got {
		id, _ := p["webhook-id"].(string)
		b, _ := json.Marshal(p)
		got[id] = append(got[id], string(b))
	}
	bad := len(f.crm.bad)
	f.crm.mu.Unlock()
	if bad != 0 {
		f.t.Fatalf("%d requests failed verification", bad)
	}
	for _, d := range ds {
		if d.Status != model.DeliveryDelivered {
			f.t.Fatalf("delivery %d (%s) is %s: %s", d.ID, d.WebhookID, d.Status, d.Error)
		}
		if len(got[d.WebhookID]) == 0 {
			f.t.Fatalf("message %s (%s) never reached the CRM", d.WebhookID, d.EventType)
		}
		for _, c := range got[d.WebhookID] {
			if c != got[d.WebhookID][0] {
				f.t.Fatalf("message %s arrived with different bodies:\n%s\n%s", d.WebhookID, got[d.WebhookID][0], c)
			}
		}
		copies += len(got[d.WebhookID])
	}
	return len(ds), copies
}

// A gateway killed with SIGKILL in the middle of a burst of scans and
// started again at once: every scan is welcomed once or recorded truthfully
// as expired or unknown, every contact, tag, remark and lead is there, and
// every webhook message reaches the CRM at least once with one webhook-id.
// The dead process's claimed events are taken over when their (short)
// leases run out.
func TestKill9MidBurstLosesNothing(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) {
			f := startFleet(t, d, 1)
			code := f.createCode(0, roster(member("zhangsan"), member("lisi")))
			const scans = 40
			var down time.Duration
			res := f.burst(code, scans, 50*time.Millisecond, func(i int) {
				if i == scans/2 {
					t0 := time.Now()
					f.gateways[0].kill()
					f.start(0)
					down = time.Since(t0)
				}
			})
			f.idle()
			if st, _ := f.ctl.Stats(context.Background()); st.Callbacks.Failed+st.Callbacks.Dropped != 0 {
				t.Fatalf("callbacks lost: %+v", st.Callbacks)
			}
			outcomes := f.welcomeOutcomes(res, code)
			messages, copies := f.everyMessageArrived()
			t.Logf("%s: killed mid-burst, serving again after %v; %d scans: welcome outcomes %v; %d webhook messages, %d copies received",
				d, down.Round(time.Millisecond), scans, outcomes, messages, copies)
		})
	}
}

// Two gateways on one MariaDB, WeCom's callbacks alternating between them:
// a burst of 300 scans, 20 a second, over six random-mode channel codes,
// each with two members capped at 10 adds a day and one without a cap. Four
// codes are made on the first gateway before the burst; two on the second
// in mid-burst, and their first scans follow at once (either gateway may
// take those adds). Then:
//   - every scan is one contact, relation, tag, remark, lead and
//     contact.added, and at most one welcome, the timeline saying what
//     became of it (no double welcome, no lost add);
//   - a cap runs over by at most maxOver. In random mode WeCom picks the
//     member, so customers scanning between the add that fills a cap and the
//     rewrite of the way's user list still reach that member: the overshoot
//     is the member's scan rate (20/s over 4 codes × 3 members ≈ 1.7 a
//     second, less once six codes share the burst) times the time from the
//     scan of that add to the rewrite at WeCom. The rewrite is a
//     deadline-lane job claimed ahead of all bulk work, so that time is the
//     add's own callback and dispatch, one claim and one WeCom call: 1 to 3 s
//     on the 2-core machine at a load average of 20 (logged), 3.5 s allowed
//     (maxOver 6);
//   - each contact way has one writer: its sync_way job is one row per code,
//     coalesced and ordered by code, so update_contact_way calls for a way
//     (from either gateway) never overlap, each writes a new user list, and
//     there are no more of them than members who reached their cap.
func TestTwoGatewaysOnOneDatabase(t *testing.T) {
	f := startFleet(t, "mysql", 2)
	ctx := context.Background()
	const (
		scans   = 300
		gap     = 50 * time.Millisecond
		capN    = 10
		lateAt  = 100 // the late codes are made before this scan
		maxOver = 6
	)
	capped := []string{"zhangsan", "lisi"}
	rost := roster(member(capped[0], "daily_cap", capN), member(capped[1], "daily_cap", capN), member("wangwu"))
	var codes []channelcode.ChannelCode
	for _, name := range []string{"早一", "早二", "早三", "早四"} {
		codes = append(codes, f.createNamedCode(0, name, rost))
	}
	type scan struct {
		res  wecomsim.ScanResult
		code int
		at   time.Time // when WeCom had handed the customer to a member
	}
	out := make([]scan, scans)
	var wg sync.WaitGroup
	tick := time.NewTicker(gap)
	start := time.Now()
	for i := range scans {
		if i == lateAt {
			codes = append(codes, f.createNamedCode(1, "晚一", rost), f.createNamedCode(1, "晚二", rost))
		}
		ci := i % len(codes)
		if i >= lateAt && i < lateAt+4 {
			ci = 4 + i%2 // the late codes' first scans follow their creation at once
		}
		code := codes[ci]
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.ctl.Scan(ctx, wecomsim.ScanRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{Name: fmt.Sprintf("客户%d", i)}})
			if err != nil {
				t.Error(err)
				return
			}
			out[i] = scan{res: r, code: ci, at: time.Now()}
		}()
	}
	tick.Stop()
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	burst := time.Since(start)
	f.idle()

	res := make([]wecomsim.ScanResult, scans)
	for i, s := range out {
		res[i] = s.res
	}
	outcomes := f.welcomeOutcomes(res, codes...)
	if n := outcomes["welcome failed"]; n != 0 {
		t.Fatalf("welcome outcomes %v: %d failed", outcomes, n)
	}
	for i, r := range f.wecom {
		if r.count("externalcontact/send_welcome_msg", nil) == 0 {
			t.Fatalf("gateway %d sent no welcome: the work was not split", i)
		}
	}

	// Caps: adds per code and member.
	adds := make([]map[string]int, len(codes))
	for i := range adds {
		adds[i] = map[string]int{}
	}
	for _, s := range out {
		adds[s.code][s.res.UserID]++
	}
	// How long each rewrite took to reach WeCom after the scan of the add
	// that filled a cap (scans in the order WeCom handed them out).
	var lags []time.Duration
	{
		var writes []wayWrite
		for _, r := range f.wecom {
			writes = append(writes, r.wayWrites()...)
		}
		order := slices.Clone(out)
		sort.Slice(order, func(i, j int) bool { return order[i].at.Before(order[j].at) })
		for ci, c := range codes {
			for _, m := range capped {
				n := 0
				for _, s := range order {
					if s.code != ci || s.res.UserID != m {
						continue
					}
					if n++; n != capN {
						continue
					}
					for _, w := range writes {
						if w.ConfigID == c.ConfigID && !slices.Contains(w.User, m) && w.Answered.After(s.at) {
							lags = append(lags, w.Answered.Sub(s.at).Round(time.Millisecond))
							break
						}
					}
				}
			}
		}
	}
	t.Logf("from the scan that filled a cap to the rewrite answered by WeCom: %v", lags)
	over, reached := 0, 0
	for ci, a := range adds {
		for _, m := range capped {
			if a[m] > capN+maxOver {
				t.Fatalf("code %s: %s has %d adds, cap %d (over by more than %d): %v", codes[ci].Name, m, a[m], capN, maxOver, a)
			}
			if a[m] >= capN {
				reached++
				over = max(over, a[m]-capN)
			}
		}
	}
	if reached == 0 {
		t.Fatalf("no cap was reached: %v", adds)
	}

	// One writer per contact way.
	var writes []wayWrite
	for _, r := range f.wecom {
		writes = append(writes, r.wayWrites()...)
	}
	sort.Slice(writes, func(i, j int) bool { return writes[i].Arrived.Before(writes[j].Arrived) })
	total := 0
	for ci, c := range codes {
		var mine []wayWrite
		for _, w := range writes {
			if w.ConfigID == c.ConfigID {
				mine = append(mine, w)
			}
		}
		full := 0
		for _, m := range capped {
			if adds[ci][m] >= capN {
				full++
			}
		}
		if len(mine) > full || (full > 0 && len(mine) == 0) {
			t.Fatalf("code %s: %d update_contact_way calls for %d members at their cap: %+v", c.Name, len(mine), full, mine)
		}
		for i, w := range mine {
			if w.Answered.IsZero() {
				t.Fatalf("code %s: a write went unanswered: %+v", c.Name, w)
			}
			if i > 0 && w.Arrived.Before(mine[i-1].Answered) {
				t.Fatalf("code %s: two writers of the contact way at once: %+v and %+v", c.Name, mine[i-1], w)
			}
			if i > 0 && slices.Equal(w.User, mine[i-1].User) {
				t.Fatalf("code %s: the same user list written twice: %+v", c.Name, mine)
			}
		}
		way, err := f.ctl.ContactWay(ctx, c.ConfigID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range capped {
			if slices.Contains(way.User, m) == (adds[ci][m] >= capN) {
				t.Fatalf("code %s: way users %v with adds %v", c.Name, way.User, adds[ci])
			}
		}
		total += len(mine)
	}
	messages, copies := f.everyMessageArrived()
	t.Logf("two gateways: %d scans in %v over %d codes; welcome outcomes %v; adds per code %v (cap %d: %d members reached it, most over %d); "+
		"%d contact-way writes, never two at once; %d webhook messages, %d copies", scans, burst.Round(time.Millisecond), len(codes), outcomes,
		adds, capN, reached, over, total, messages, copies)
}

// Two gateways on one MariaDB: when WeCom answers 45009 to one, the other
// holds the API too, without a call of its own (it reads the corp's shared
// holds at most every half second), and reports it on
// gateway_wecom_api_held_seconds. Once WeCom takes calls again the welcome
// goes out, once.
func TestRateLimitHoldIsSharedByGateways(t *testing.T) {
	f := startFleet(t, "mysql", 2)
	ctx := context.Background()
	code := f.createCode(0, roster(member("zhangsan")))
	const api = "externalcontact/send_welcome_msg"
	// WeCom refuses every welcome until the fault is cleared.
	if _, err := f.ctl.AddFault(ctx, wecomsim.Fault{API: "send_welcome_msg", ErrCode: 45009}); err != nil {
		t.Fatal(err)
	}
	res := f.burst(code, 1, 0, nil)
	limited := 45009
	refused := -1
	waitUntil(t, "a 45009 on the welcome", 30*time.Second, func() bool {
		for i, r := range f.wecom {
			if r.count(api, &limited) > 0 {
				refused = i
				return true
			}
		}
		return false
	})
	other := 1 - refused
	waitUntil(t, fmt.Sprintf("gateway %d to hold the welcome API", other), 10*time.Second, func() bool {
		return f.heldSeconds(other, api) > 0
	})
	if n := f.wecom[other].count(api, nil); n != 0 {
		t.Fatalf("gateway %d called %s %d times itself: its hold is not the other's", other, api, n)
	}
	if err := f.ctl.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	f.idle()
	w, err := f.ctl.Welcomes(ctx, wecomsim.WelcomeQuery{ExternalUserID: res[0].ExternalUserID})
	if err != nil || len(w) != 1 {
		t.Fatalf("welcomes = %+v, %v; want one", w, err)
	}
	t.Logf("gateway %d was refused %d times; gateway %d held the API without calling it", refused,
		f.wecom[refused].count(api, &limited), other)
}

// A welcome WeCom accepted while the gateway that sent it was killed before
// it could record it (the simulator holds the request until the process is
// gone, then delivers it, as WeCom does with a request it has whole). When
// the event is re-run:
//   - inside the window, the welcome is sent again: the earlier attempt's
//     fate is unknown, and WeCom's welcome code is single-use, so the repeat
//     is refused with 41051 and recorded "welcome already delivered"; the
//     customer is greeted once (and would have been greeted by the re-run had
//     the dead attempt not got through);
//   - after the window, nothing can be sent; since the earlier attempt was
//     made while the window was open it may have gone out, so the outcome is
//     unknown, not expired.
//
// Either way the add itself (contact, relation, tag, remark, lead,
// contact.added) is recorded by the re-run.
func TestWelcomeOfAKilledGatewayIsNotRepeatedNorCalledExpired(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) {
			f := startFleet(t, d, 1)
			ctx := context.Background()
			code := f.createCode(0, roster(member("zhangsan")))
			const api = "externalcontact/send_welcome_msg"
			// die scans once and kills the gateway while WeCom holds its
			// welcome request; it returns the scan and WeCom's time then.
			die := func(name string) (wecomsim.ScanResult, time.Time) {
				t.Helper()
				if _, err := f.ctl.SetFaults(ctx, wecomsim.Fault{API: "send_welcome_msg", LatencyMS: 5000, Count: 1}); err != nil {
					t.Fatal(err)
				}
				clk, err := f.ctl.Clock(ctx)
				if err != nil {
					t.Fatal(err)
				}
				before := f.wecom[0].arrivals(api)
				res, err := f.ctl.Scan(ctx, wecomsim.ScanRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{Name: name}})
				if err != nil {
					t.Fatal(err)
				}
				waitUntil(t, "the welcome request at WeCom", 30*time.Second, func() bool { return f.wecom[0].arrivals(api) > before })
				f.gateways[0].kill()
				waitUntil(t, "WeCom to deliver the welcome", 30*time.Second, func() bool {
					w, err := f.ctl.Welcomes(ctx, wecomsim.WelcomeQuery{ExternalUserID: res.ExternalUserID})
					return err == nil && len(w) == 1
				})
				return res, clk.Now
			}
			timeline := func(ext string) string {
				t.Helper()
				var list struct {
					Contacts []contact.ContactView `json:"contacts"`
				}
				f.api(0, "GET", "/api/v1/contacts?q="+ext, nil, &list)
				if len(list.Contacts) != 1 {
					t.Fatalf("contact %s: %+v", ext, list.Contacts)
				}
				var detail struct {
					Timeline []contact.TimelineView `json:"timeline"`
				}
				f.api(0, "GET", fmt.Sprintf("/api/v1/contacts/%d", list.Contacts[0].ID), nil, &detail)
				for _, e := range detail.Timeline {
					if strings.HasPrefix(e.Detail, "welcome") {
						return e.Detail
					}
				}
				return ""
			}

			// Re-run inside the window: the restarted gateway takes the
			// event over when the dead one's 5 s lease runs out.
			within, _ := die("窗口内")
			f.start(0)
			f.idle()
			if got := timeline(within.ExternalUserID); got != "welcome already delivered" {
				t.Fatalf("re-run inside the window: timeline says %q", got)
			}
			already := 41051
			if n := f.wecom[0].count(api, &already); n != 1 {
				t.Fatalf("%d welcomes answered 41051, want the re-run's one", n)
			}

			// Re-run after the window: WeCom's clock runs 12 s behind, so
			// the event is 12 s old when it arrives; the gateway comes back
			// only once the window has certainly closed.
			if _, err := f.ctl.AdvanceClock(ctx, -12*time.Second); err != nil {
				t.Fatal(err)
			}
			after, scannedAt := die("窗口后")
			waitUntil(t, "the welcome window to close", time.Minute, func() bool {
				c, err := f.ctl.Clock(ctx)
				return err == nil && c.Now.After(scannedAt.Add(22*time.Second))
			})
			f.start(0)
			f.idle()
			if got := timeline(after.ExternalUserID); !strings.HasPrefix(got, "welcome outcome unknown: an earlier attempt") {
				t.Fatalf("re-run after the window: timeline says %q", got)
			}
			resp, err := http.Get("http://" + f.addrs[0] + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			m, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(m), `gateway_welcomes_total{outcome="unknown"} 1`) || strings.Contains(string(m), `gateway_welcomes_total{outcome="expired"}`) {
				t.Fatalf("the restarted gateway's welcome counts:\n%s", grepLines(string(m), "gateway_welcomes_total"))
			}
			for _, r := range []wecomsim.ScanResult{within, after} {
				if w, _ := f.ctl.Welcomes(ctx, wecomsim.WelcomeQuery{ExternalUserID: r.ExternalUserID}); len(w) != 1 {
					t.Fatalf("%s: %d welcomes delivered, want 1", r.ExternalUserID, len(w))
				}
			}
			outcomes := f.welcomeOutcomes([]wecomsim.ScanResult{within, after}, code)
			t.Logf("%s: %v", d, outcomes)
		})
	}
}
