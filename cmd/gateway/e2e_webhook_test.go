package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/webhook/outbound"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// crmReceiver is a CRM endpoint that verifies every request with the
// Standard Webhooks library and keeps what it verified.
type crmReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	secret string
	// check validates each verified body against the OpenAPI document.
	check func(typ string, body []byte)
	got   []map[string]any
	bad   []string
	// now, when set, is the gateway's clock for a test that moves it: the
	// signature is checked by the library and the timestamp's tolerance
	// (5 minutes, as the library's) against this clock.
	now func() time.Time
}

func newCRMReceiver(t *testing.T) *crmReceiver {
	c := &crmReceiver{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		defer c.mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(c.secret)
		switch {
		case err == nil && c.now != nil:
			err = wh.VerifyIgnoringTimestamp(body, r.Header)
			if sec, perr := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64); err == nil && (perr != nil || c.now().Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute) {
				err = fmt.Errorf("webhook-timestamp %q is not within 5 minutes of %s", r.Header.Get("webhook-timestamp"), c.now())
			}
		case err == nil:
			err = wh.Verify(body, r.Header)
		}
		if err != nil {
			c.bad = append(c.bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var p map[string]any
		_ = json.Unmarshal(body, &p)
		if c.check != nil {
			typ, _ := p["type"].(string)
			c.check(typ, body)
		}
		p["webhook-id"] = r.Header.Get("webhook-id")
		c.got = append(c.got, p)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

// crmEndpoint registers a verifying CRM receiver (an httptest server on
// loopback over http, which the network policy is opened for) as a webhook
// endpoint subscribed to types.
func (e *e2e) crmEndpoint(path string, types ...string) *crmReceiver {
	e.t.Helper()
	e.gw.webhooks.SetNetworkPolicy(webhook.NetworkPolicy{AllowHTTP: true, AllowPrivateNetworks: true})
	crm := newCRMReceiver(e.t)
	crm.check = func(typ string, body []byte) { checkWebhook(e.t, typ, body) }
	var ep map[string]any
	if st := e.api("POST", "/api/v1/webhook-endpoints", map[string]any{"url": crm.srv.URL + path, "event_types": types}, &ep); st != 201 {
		e.t.Fatalf("create endpoint: %d %v", st, ep)
	}
	crm.mu.Lock()
	crm.secret = ep["secret"].(string)
	crm.mu.Unlock()
	return crm
}

// await waits until at least n verified payloads of typ have arrived and
// returns them.
func (c *crmReceiver) await(t *testing.T, typ string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := c.ofType(typ)
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			c.mu.Lock()
			bad := slices.Clone(c.bad)
			c.mu.Unlock()
			t.Fatalf("%d %s wanted, %d arrived; refused: %v", n, typ, len(got), bad)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *crmReceiver) ofType(typ string) []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]any
	for _, p := range c.got {
		if p["type"] == typ {
			out = append(out, p)
		}
	}
	return out
}

func TestScanDeliversASignedContactAddedToTheCRM(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		crm := e.crmEndpoint("/wecom-leads", webhook.EventContactAdded, webhook.EventContactLost)

		code := e.createCode(map[string]any{"name": "春季展会", "folder": "展会", "roster": roster(member("zhangsan"))})
		res := e.scan(code, "王小明")
		e.idle()
		crm.await(t, webhook.EventContactAdded, 1)
		time.Sleep(100 * time.Millisecond)
		got := crm.ofType(webhook.EventContactAdded)
		if len(got) != 1 || len(crm.bad) != 0 {
			t.Fatalf("contact.added arrived %d times; refused %v", len(got), crm.bad)
		}
		payload := map[string]any{}
		for k, v := range got[0] {
			if k != "webhook-id" {
				payload[k] = v
			}
		}
		conforms(t, "contact.added.v1.json", payload)
		var data webhook.ContactAddedData
		b, _ := json.Marshal(got[0]["data"])
		if err := json.Unmarshal(b, &data); err != nil {
			t.Fatal(err)
		}
		if data.CorpID != e2eCorp || data.Contact.ExternalUserID != res.ExternalUserID || data.StaffUserID != res.UserID ||
			data.Source.Kind != "channel" || data.Source.CodeID != code.ID || data.Source.CodeName != "春季展会" ||
			data.Source.CodeFolder != "展会" || data.Source.State != code.State || data.AddedAt.IsZero() {
			t.Fatalf("data = %+v (%s)", data, b)
		}

		var list struct {
			Deliveries []outbound.WebhookDelivery `json:"deliveries"`
		}
		// The CRM has the request before the sender records the outcome
		// (in a transaction shared with other sends): wait for the record.
		for deadline := time.Now().Add(10 * time.Second); len(list.Deliveries) == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if st := e.api("GET", "/api/v1/webhook-deliveries?status=delivered&contact="+res.ExternalUserID, nil, &list); st != 200 {
				t.Fatalf("deliveries: %d", st)
			}
		}
		if len(list.Deliveries) != 1 || list.Deliveries[0].WebhookID != got[0]["webhook-id"] ||
			len(list.Deliveries[0].Attempts) != 1 || list.Deliveries[0].Attempts[0].StatusCode != 204 {
			t.Fatalf("deliveries = %+v", list.Deliveries)
		}

		// The customer deletes the staff member: contact.lost follows, in order.
		if err := e.ctl.DeleteStaff(context.Background(), wecomsim.RelationRequest{UserID: res.UserID, ExternalUserID: res.ExternalUserID}); err != nil {
			t.Fatal(err)
		}
		e.idle()
		lostPayload := crm.await(t, webhook.EventContactLost, 1)[0]
		delete(lostPayload, "webhook-id")
		conforms(t, "contact.lost.v1.json", lostPayload)
		lost := lostPayload["data"].(map[string]any)
		if lost["status"] != model.RelationLost || lost["staff_userid"] != res.UserID {
			t.Fatalf("contact.lost = %v", lost)
		}
	})
}

func TestWebhookTestCommandSendsASignedEvent(t *testing.T) {
	t.Chdir(t.TempDir()) // no gateway.yaml: the demo defaults
	crm := newCRMReceiver(t)
	crm.secret = webhook.NewSecret()
	allow := func(k string) string {
		switch k {
		case "GATEWAY_WEBHOOKS_ALLOW_HTTP", "GATEWAY_WEBHOOKS_ALLOW_PRIVATE_NETWORKS":
			return "true"
		}
		return ""
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"webhook-test", "--url", crm.srv.URL, "--secret", crm.secret}, &out, &errOut, allow)
	if code != 0 || len(crm.ofType(webhook.EventWebhookTest)) != 1 {
		t.Fatalf("exit %d, received %d, refused %v\n%s%s", code, len(crm.got), crm.bad, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "webhook-signature: v1,") || !strings.Contains(out.String(), "HTTP 204") {
		t.Fatalf("output:\n%s", out.String())
	}
	test := crm.ofType(webhook.EventWebhookTest)[0]
	delete(test, "webhook-id")
	conforms(t, "webhook.test.v1.json", test)

	// A receiver that rejects the signature fails the command.
	out.Reset()
	errOut.Reset()
	code = run(context.Background(), []string{"webhook-test", "--url", crm.srv.URL}, &out, &errOut, allow)
	if code != 1 || !strings.Contains(errOut.String(), "HTTP 401") || !strings.Contains(out.String(), "secret:    whsec_") {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errOut.String())
	}

	// Without the switches a loopback URL is refused before anything is sent.
	errOut.Reset()
	n := len(crm.got)
	code = run(context.Background(), []string{"webhook-test", "--url", crm.srv.URL}, &out, &errOut, func(string) string { return "" })
	if code != 1 || !strings.Contains(errOut.String(), "--url") || len(crm.got) != n {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if code := run(context.Background(), []string{"webhook-test"}, &out, &errOut, allow); code != 1 {
		t.Fatalf("no --url: exit %d", code)
	}
}

// conforms validates a webhook body (without the receiver's webhook-id
// note) against the OpenAPI document, the schema named by file.
func conforms(t *testing.T, file string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	checkWebhook(t, strings.TrimSuffix(file, ".v1.json"), b)
}
