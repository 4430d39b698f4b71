package wecomsim

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/wecom"
)

// Fixed test credentials (not real ones).
const (
	testCorp   = "wwsimtest00000001"
	testSecret = "sim-secret-for-tests"
	testToken  = "simtoken"
	testAESKey = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
)

var t0 = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// env is a simulator served over a real socket, a control client, an API
// client and, when asked, a callback receiver.
type env struct {
	t     testing.TB
	sim   *Sim
	srv   *httptest.Server
	ctl   *Control
	api   *apiClient
	clock *fakeClock
	rcv   *receiver
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	clock := &fakeClock{now: t0}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.CorpID == "" {
		opts.CorpID, opts.Secret, opts.Token, opts.EncodingAESKey = testCorp, testSecret, testToken, testAESKey
	}
	if opts.RetryDelay == 0 {
		opts.RetryDelay = 10 * time.Millisecond
	}
	if opts.Seed == 0 {
		opts.Seed = 42
	}
	sim, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	e := &env{t: t, sim: sim, srv: srv, ctl: NewControl(srv.URL, srv.Client()), clock: clock}
	e.api = &apiClient{t: t, base: srv.URL, hc: srv.Client(), corp: opts.CorpID, secret: opts.Secret}
	t.Cleanup(func() {
		sim.Close()
		srv.Close()
	})
	return e
}

// withReceiver starts a callback receiver and points the simulator at it.
func (e *env) withReceiver(respond func(n int, r *http.Request) (int, string, bool)) *receiver {
	e.t.Helper()
	cr, err := wecom.NewCrypter(e.sim.opts.Token, e.sim.opts.EncodingAESKey, e.sim.opts.CorpID)
	if err != nil {
		e.t.Fatal(err)
	}
	r := &receiver{t: e.t, crypter: cr, respond: respond}
	r.srv = httptest.NewServer(r)
	e.t.Cleanup(r.srv.Close)
	e.sim.SetCallbackURL(r.srv.URL + "/wecom/callback/" + e.sim.opts.CorpID)
	e.rcv = r
	return r
}

type received struct {
	query url.Values
	body  []byte
	event *wecom.Event
}

// receiver is a stand-in gateway: it verifies and decrypts each callback
// with the wecom package, records it, and answers as respond says.
type receiver struct {
	t       testing.TB
	crypter *wecom.Crypter
	respond func(n int, r *http.Request) (status int, body string, hang bool)
	srv     *httptest.Server

	mu   sync.Mutex
	got  []received
	gets int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodGet {
		echo := q.Get("echostr")
		if err := rc.crypter.Verify(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), echo); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		plain, err := rc.crypter.Decrypt(echo)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.gets++
		rc.mu.Unlock()
		w.Write(plain)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var envl wecom.Envelope
	if err := xml.Unmarshal(body, &envl); err != nil {
		rc.t.Errorf("callback body is not an envelope: %v", err)
	}
	if envl.ToUserName != rc.crypter.ReceiveID() {
		rc.t.Errorf("envelope ToUserName = %q", envl.ToUserName)
	}
	if err := rc.crypter.Verify(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), envl.Encrypt); err != nil {
		rc.t.Errorf("callback signature: %v", err)
	}
	plain, err := rc.crypter.Decrypt(envl.Encrypt)
	if err != nil {
		rc.t.Errorf("callback decrypt: %v", err)
	}
	ev, err := wecom.ParseEvent(plain)
	if err != nil {
		rc.t.Errorf("callback parse: %v", err)
	}
	rc.mu.Lock()
	rc.got = append(rc.got, received{query: q, body: body, event: ev})
	n := len(rc.got)
	rc.mu.Unlock()
	status, answer, hang := http.StatusOK, "success", false
	if rc.respond != nil {
		status, answer, hang = rc.respond(n, r)
	}
	if hang {
		<-r.Context().Done()
		return
	}
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

func (rc *receiver) deliveries() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// events returns distinct events in arrival order (resends collapsed).
func (rc *receiver) events() []*wecom.Event {
	seen := map[string]bool{}
	var out []*wecom.Event
	for _, d := range rc.deliveries() {
		k := d.event.DedupeKey()
		if !seen[k] {
			seen[k] = true
			out = append(out, d.event)
		}
	}
	return out
}

// waitEvents waits until n distinct events arrived and all deliveries settled.
func (e *env) waitEvents(n int) []*wecom.Event {
	e.t.Helper()
	waitFor(e.t, func() bool { return len(e.rcv.events()) >= n && e.sim.PendingCallbacks() == 0 })
	return e.rcv.events()
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// apiClient calls /cgi-bin/ like a WeCom client would, with no knowledge of
// the gateway's own client.
type apiClient struct {
	t            testing.TB
	base         string
	hc           *http.Client
	corp, secret string
	token        string
}

type resp map[string]any

func (r resp) code() int {
	v, ok := r["errcode"].(float64)
	if !ok {
		return -999
	}
	return int(v)
}

func (r resp) str(k string) string { s, _ := r[k].(string); return s }

func (r resp) obj(k string) resp { m, _ := r[k].(map[string]any); return resp(m) }

func (r resp) list(k string) []any { l, _ := r[k].([]any); return l }

func (a *apiClient) fetchToken() string {
	a.t.Helper()
	r := a.get("gettoken", url.Values{"corpid": {a.corp}, "corpsecret": {a.secret}}, false)
	if r.code() != 0 {
		a.t.Fatalf("gettoken: %v", r)
	}
	a.token = r.str("access_token")
	return a.token
}

func (a *apiClient) do(method, api string, q url.Values, body []byte, contentType string, withToken bool) (int, resp) {
	a.t.Helper()
	if q == nil {
		q = url.Values{}
	}
	if withToken {
		if a.token == "" {
			a.fetchToken()
		}
		q.Set("access_token", a.token)
	}
	req, err := http.NewRequest(method, a.base+"/cgi-bin/"+api+"?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := resp{}
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &out); err != nil {
			a.t.Fatalf("%s: answer is not JSON: %s", api, b)
		}
	}
	return res.StatusCode, out
}

func (a *apiClient) get(api string, q url.Values, withToken bool) resp {
	a.t.Helper()
	_, r := a.do(http.MethodGet, api, q, nil, "", withToken)
	return r
}

func (a *apiClient) post(api string, body any) resp {
	a.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		a.t.Fatal(err)
	}
	_, r := a.do(http.MethodPost, api, nil, b, "application/json", true)
	return r
}

func mustCode(t testing.TB, r resp, want int) {
	t.Helper()
	if r.code() != want {
		t.Fatalf("errcode = %d, want %d (%v)", r.code(), want, r)
	}
}

func ctx() context.Context { return context.Background() }

// addWay creates a contact way over the API and returns its config_id.
func (e *env) addWay(body map[string]any) string {
	e.t.Helper()
	r := e.api.post("externalcontact/add_contact_way", body)
	mustCode(e.t, r, 0)
	return r.str("config_id")
}

func strings31() string { return strings.Repeat("s", 31) }
