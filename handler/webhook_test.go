package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/handler"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/webhook/outbound"
)

type hookEnv struct {
	t      *testing.T
	st     *model.Store
	hooks  *outbound.Webhooks
	srv    *httptest.Server
	admin  string
	viewer string
}

func newHookEnv(t *testing.T, driver string, policy webhook.NetworkPolicy) *hookEnv {
	st := modeltest.Open(t, driver, nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cb, err := service.NewCallbacks(queue.NewInbox(st, nil), nil, clock.Real{}, service.CallbackLimits{}, service.CallbackCorp{ID: corpID, Token: token, AESKey: aesKey})
	if err != nil {
		t.Fatal(err)
	}
	hooks := outbound.NewWebhooks(st, clock.Real{}, outbound.WebhookOptions{Policy: policy, PollInterval: 20 * time.Millisecond, Workers: 2, Logger: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = hooks.Run(ctx); close(done) }()
	tokens := auth.New(st, clock.Real{})
	r := handler.New(handler.Deps{Callbacks: cb, Queue: service.NewQueueLog(st), Auth: tokens, Logger: log, Webhooks: hooks, Clock: clock.Real{}})
	e := &hookEnv{t: t, st: st, hooks: hooks, srv: httptest.NewServer(r)}
	t.Cleanup(func() { e.srv.Close(); cancel(); <-done })
	e.admin, _, err = tokens.CreateToken(ctx, "admin", auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	e.viewer, _, _ = tokens.CreateToken(ctx, "viewer", auth.RoleViewer)
	return e
}

// call sends a request and decodes the JSON answer into a map.
func (e *hookEnv) call(method, path string, body any, tok ...string) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = strings.NewReader(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	t := e.admin
	if len(tok) > 0 {
		t = tok[0]
	}
	req.Header.Set("Authorization", "Bearer "+t)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			e.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, out
}

func errField(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

func TestWebhookEndpointValidationAndRoles(t *testing.T) {
	e := newHookEnv(t, "sqlite", webhook.NetworkPolicy{})
	if st, _ := e.call("GET", "/api/v1/webhook-endpoints", nil, e.viewer); st != 403 {
		t.Fatalf("viewer: %d", st)
	}
	if st, _ := e.call("GET", "/api/v1/webhook-deliveries", nil, "nope"); st != 401 {
		t.Fatalf("bad token: %d", st)
	}
	cases := []struct {
		body  any
		field string
	}{
		{map[string]any{"url": "https://127.0.0.1/hook"}, "url"},
		{map[string]any{"url": "https://10.0.0.8/hook"}, "url"},
		{map[string]any{"url": "https://[::1]/hook"}, "url"},
		{map[string]any{"url": "https://169.254.169.254/"}, "url"},
		{map[string]any{"url": "https://localhost:8443/hook"}, "url"},
		{map[string]any{"url": "http://93.184.215.14/hook"}, "url"},
		{map[string]any{}, "url"},
		{map[string]any{"url": "https://93.184.215.14/", "event_types": []string{"lead.nope"}}, "event_types"},
		{map[string]any{"url": "https://93.184.215.14/", "description": strings.Repeat("x", 513)}, "description"},
		{map[string]any{"url": "https://93.184.215.14/", "enabeld": false}, "enabeld"},
		{map[string]any{"url": 42}, "url"},
		{"{not json", ""},
	}
	for _, c := range cases {
		st, body := e.call("POST", "/api/v1/webhook-endpoints", c.body)
		if st != 400 || errField(body) != c.field {
			t.Errorf("%v: %d %v, want 400 on %q", c.body, st, body, c.field)
		}
	}
	for _, q := range []struct{ query, field string }{
		{"status=sent", "status"}, {"endpoint=x", "endpoint"}, {"lead=-1", "lead"}, {"limit=0", "limit"},
		{"type=lead.nope", "type"}, {"lead=1&contact=wm1", "subject"}, {"corp=other", "corp"},
	} {
		st, body := e.call("GET", "/api/v1/webhook-deliveries?"+q.query, nil)
		if st != 400 || errField(body) != q.field {
			t.Errorf("?%s: %d %v, want 400 on %q", q.query, st, body, q.field)
		}
	}
	if st, body := e.call("POST", "/api/v1/webhook-deliveries/replay", map[string]any{"status": "pending"}); st != 400 || errField(body) != "status" {
		t.Errorf("bulk replay of pending: %d %v", st, body)
	}
	if st, _ := e.call("POST", "/api/v1/webhook-deliveries/99/replay", nil); st != 404 {
		t.Errorf("replay of nothing: %d", st)
	}
}

func TestWebhookEndpointsAndDeliveriesAPI(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) {
			e := newHookEnv(t, d, webhook.NetworkPolicy{AllowHTTP: true, AllowPrivateNetworks: true})
			var hits atomic.Int32
			crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				io.WriteString(w, "thanks")
			}))
			defer crm.Close()

			st, ep := e.call("POST", "/api/v1/webhook-endpoints", map[string]any{"url": crm.URL + "/in", "description": "CRM",
				"event_types": []string{"lead.created", "lead.qualified"}})
			if st != 201 || !strings.HasPrefix(fmt.Sprint(ep["secret"]), "whsec_") || ep["enabled"] != true {
				t.Fatalf("create: %d %v", st, ep)
			}
			id := uint64(ep["id"].(float64))
			path := fmt.Sprintf("/api/v1/webhook-endpoints/%d", id)
			st, got := e.call("GET", path, nil)
			if st != 200 || got["secret"] != nil || got["description"] != "CRM" {
				t.Fatalf("get: %d %v", st, got)
			}
			st, list := e.call("GET", "/api/v1/webhook-endpoints", nil)
			if st != 200 || len(list["webhook_endpoints"].([]any)) != 1 {
				t.Fatalf("list: %d %v", st, list)
			}
			st, rot := e.call("POST", path+"/rotate-secret", nil)
			if st != 200 || rot["secret"] == ep["secret"] || rot["previous_secret_expires_at"] == nil {
				t.Fatalf("rotate: %d %v", st, rot)
			}

			ctx := context.Background()
			for i := 1; i <= 3; i++ {
				body := fmt.Sprintf(`{"type":"lead.created","timestamp":"2026-11-23T10:00:00.000Z","data":{"id":%d}}`, i)
				if err := e.st.EmitWebhookNow(ctx, model.OutboxEvent{CorpID: corpID, Type: webhook.EventLeadCreated,
					Subject: fmt.Sprint("lead:", i), Body: func(model.OutboxReader, model.OutboxMessage) ([]byte, error) {
						return []byte(body), nil
					}}); err != nil {
					t.Fatal(err)
				}
			}
			e.hooks.Notify()
			deadline := time.Now().Add(10 * time.Second)
			for {
				n, _ := e.st.CountWebhookDeliveries(ctx, model.DeliveryDelivered)
				if n == 3 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("not delivered")
				}
				time.Sleep(10 * time.Millisecond)
			}

			st, ds := e.call("GET", fmt.Sprintf("/api/v1/webhook-deliveries?endpoint=%d&status=delivered&lead=2", id), nil)
			items, _ := ds["deliveries"].([]any)
			if st != 200 || len(items) != 1 {
				t.Fatalf("deliveries: %d %v", st, ds)
			}
			item := items[0].(map[string]any)
			attempts := item["attempts"].([]any)
			a := attempts[0].(map[string]any)
			if item["subject"] != "lead:2" || !strings.HasPrefix(item["webhook_id"].(string), "msg_") || len(attempts) != 1 ||
				a["status_code"] != float64(200) || a["response"] != "thanks" || a["latency_ms"] == nil {
				t.Fatalf("delivery = %v", item)
			}
			did := uint64(item["id"].(float64))
			st, one := e.call("GET", fmt.Sprintf("/api/v1/webhook-deliveries/%d", did), nil)
			payload, _ := one["payload"].(map[string]any)
			if st != 200 || payload["type"] != "lead.created" || payload["timestamp"] == nil || payload["data"] == nil {
				t.Fatalf("delivery detail: %d %v", st, one)
			}
			st, _ = e.call("GET", "/api/v1/webhook-deliveries?limit=2", nil)
			if st != 200 {
				t.Fatal(st)
			}

			if st, r := e.call("POST", fmt.Sprintf("/api/v1/webhook-deliveries/%d/replay", did), nil); st != 202 || r["status"] != "queued" {
				t.Fatalf("replay: %d %v", st, r)
			}
			st, r := e.call("POST", "/api/v1/webhook-deliveries/replay", map[string]any{"endpoint": id, "status": "delivered"})
			if st != 202 {
				t.Fatalf("bulk replay: %d %v", st, r)
			}
			deadline = time.Now().Add(10 * time.Second)
			for hits.Load() < 6 {
				if time.Now().After(deadline) {
					t.Fatalf("replays sent: %d", hits.Load())
				}
				time.Sleep(10 * time.Millisecond)
			}

			st, off := e.call("PATCH", path, map[string]any{"enabled": false})
			if st != 200 || off["enabled"] != false || off["disabled_reason"] != "disabled by an admin" {
				t.Fatalf("disable: %d %v", st, off)
			}
			if st, r := e.call("POST", fmt.Sprintf("/api/v1/webhook-deliveries/%d/replay", did), nil); st != 409 {
				t.Fatalf("replay to a disabled endpoint: %d %v", st, r)
			}
			if st, r := e.call("PATCH", path, map[string]any{"url": "ftp://x"}); st != 400 || errField(r) != "url" {
				t.Fatalf("bad patch: %d %v", st, r)
			}
			if st, _ := e.call("DELETE", path, nil); st != 204 {
				t.Fatalf("delete: %d", st)
			}
			if st, _ := e.call("GET", path, nil); st != 404 {
				t.Fatalf("get after delete: %d", st)
			}
		})
	}
}

// Only an admin may change endpoints, send test events or replay; a bulk
// replay's filter is checked field by field.
func TestWebhookAdminActionsRefuseOtherRolesAndBadFilters(t *testing.T) {
	e := newHookEnv(t, "sqlite", webhook.NetworkPolicy{AllowHTTP: true, AllowPrivateNetworks: true})
	ctx := context.Background()
	tokens := auth.New(e.st, clock.Real{})
	staff, _, _ := tokens.CreateTokenFor(ctx, "sales", auth.RoleStaff, "zhangsan")
	crmTok, _, _ := tokens.CreateToken(ctx, "crm", auth.RoleCRM)
	st, ep := e.call("POST", "/api/v1/webhook-endpoints", map[string]any{"url": "http://127.0.0.1:9/in"})
	if st != 201 {
		t.Fatalf("create: %d %v", st, ep)
	}
	path := fmt.Sprintf("/api/v1/webhook-endpoints/%d", uint64(ep["id"].(float64)))
	for _, tok := range []string{e.viewer, staff, crmTok} {
		for _, r := range []struct{ method, path string }{
			{"POST", path + "/test"}, {"POST", path + "/rotate-secret"}, {"PATCH", path}, {"DELETE", path},
			{"POST", "/api/v1/webhook-deliveries/replay"}, {"POST", "/api/v1/webhook-deliveries/1/replay"},
		} {
			if st, body := e.call(r.method, r.path, map[string]any{}, tok); st != 403 {
				t.Errorf("%s %s as a non-admin: %d %v", r.method, r.path, st, body)
			}
		}
	}
	for _, c := range []struct {
		body  any
		field string
	}{
		{map[string]any{"status": "pending"}, "status"},
		{map[string]any{"status": "sent"}, "status"},
		{map[string]any{"endpoint": "x", "status": "failed"}, "endpoint"},
		{map[string]any{"endpoint": 0}, "endpoint"},
		{map[string]any{"type": "lead.nope"}, "type"},
		{map[string]any{"lead": 1, "contact": "wm1"}, "subject"},
		{map[string]any{"lead": "-1"}, "lead"},
		{map[string]any{"endpont": 1}, "endpont"},
		{"{not json", ""},
	} {
		if st, body := e.call("POST", "/api/v1/webhook-deliveries/replay", c.body); st != 400 || errField(body) != c.field {
			t.Errorf("bulk replay %v: %d %v, want 400 on %q", c.body, st, body, c.field)
		}
	}
	if st, body := e.call("POST", "/api/v1/webhook-deliveries/replay", map[string]any{"endpoint": ep["id"], "status": "failed"}); st != 202 || body["replayed"] != float64(0) {
		t.Errorf("bulk replay of nothing: %d %v", st, body)
	}
	if st, _ := e.call("POST", "/api/v1/webhook-endpoints/99/test", nil); st != 404 {
		t.Errorf("test event to no endpoint: %d", st)
	}
	if st, body := e.call("POST", "/api/v1/webhook-endpoints/x/test", nil); st != 400 || errField(body) != "id" {
		t.Errorf("test event to a bad id: %d %v", st, body)
	}
}

// A test event is signed as the endpoint's deliveries are: after a
// rotation with both secrets. What the endpoint answered comes back, 2xx
// or not, and nothing joins the delivery log.
func TestWebhookTestEventIsSignedWithEverySecretAndReportsTheAnswer(t *testing.T) {
	e := newHookEnv(t, "sqlite", webhook.NetworkPolicy{AllowHTTP: true, AllowPrivateNetworks: true})
	var answer atomic.Int32
	answer.Store(204)
	type seen struct {
		header http.Header
		body   []byte
	}
	got := make(chan seen, 4)
	crm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Header.Clone(), b}
		w.WriteHeader(int(answer.Load()))
		io.WriteString(w, "checked")
	}))
	defer crm.Close()
	st, ep := e.call("POST", "/api/v1/webhook-endpoints", map[string]any{"url": crm.URL + "/in", "event_types": []string{"lead.created"}})
	if st != 201 {
		t.Fatalf("create: %d %v", st, ep)
	}
	path := fmt.Sprintf("/api/v1/webhook-endpoints/%d", uint64(ep["id"].(float64)))
	old := ep["secret"].(string)
	_, rot := e.call("POST", path+"/rotate-secret", nil)
	fresh := rot["secret"].(string)

	st, res := e.call("POST", path+"/test", nil)
	if st != 200 || res["ok"] != true || res["status_code"] != float64(204) || res["error"] != nil || res["latency_ms"] == nil {
		t.Fatalf("test event: %d %v", st, res)
	}
	req := <-got
	id, ts := req.header.Get("webhook-id"), req.header.Get("webhook-timestamp")
	var tsec int64
	fmt.Sscan(ts, &tsec)
	sigs := strings.Fields(req.header.Get("webhook-signature"))
	for _, secret := range []string{fresh, old} {
		want, _ := webhook.Sign(secret, id, tsec, req.body)
		if !slices.Contains(sigs, want) {
			t.Errorf("no signature under %s among %v", secret[:10], sigs)
		}
	}
	var body webhook.WebhookEnvelope
	if err := json.Unmarshal(req.body, &body); err != nil || body.Type != webhook.EventWebhookTest || body.ID != id || res["webhook_id"] != id {
		t.Fatalf("body %s (%v), result %v", req.body, err, res)
	}
	var sent any
	json.Unmarshal(req.body, &sent)
	if !reflect.DeepEqual(res["payload"], sent) {
		t.Errorf("payload %v, sent %s", res["payload"], req.body)
	}

	answer.Store(500)
	st, res = e.call("POST", path+"/test", nil)
	if st != 200 || res["ok"] != false || res["status_code"] != float64(500) || res["error"] != "HTTP 500" || res["response"] != "checked" {
		t.Fatalf("test event answered 500: %d %v", st, res)
	}
	<-got
	if n, _ := e.st.CountWebhookDeliveries(context.Background(), ""); n != 0 {
		t.Errorf("test events joined the delivery log: %d", n)
	}
}
