package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/groupcode"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/webhook/outbound"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// Every timestamp the admin API answers or a webhook carries is RFC 3339 in
// UTC with exactly milliseconds (service.Timestamp). checkResponse and
// checkWebhook hold every body the e2e tests see to it; the test below
// visits every list and detail route with data in it.

// timestampRE is the one format of a timestamp.
var timestampRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$`)

// looksLikeTime is a string that is a date and a time in some format.
var looksLikeTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}`)

// isTimeKey is a member whose value is a time by its name.
func isTimeKey(k string) bool {
	return strings.HasSuffix(k, "_at") || k == "at" || k == "timestamp" || strings.HasSuffix(k, "_since")
}

// timestamps walks a JSON body and returns the paths of the timestamps in
// it and of the times that are not in the format.
func timestamps(body []byte) (seen int, bad []string) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return 0, nil
	}
	var walk func(path string, v any, key string)
	walk = func(path string, v any, key string) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				walk(path+"."+k, c, k)
			}
		case []any:
			for i, c := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), c, "")
			}
		case string:
			if !isTimeKey(key) && !looksLikeTime.MatchString(x) {
				return
			}
			seen++
			if !timestampRE.MatchString(x) {
				bad = append(bad, fmt.Sprintf("%s = %q", path, x))
			}
		case float64:
			if isTimeKey(key) {
				bad = append(bad, fmt.Sprintf("%s = %v (a number)", path, x))
			}
		}
	}
	walk("$", v, "")
	return seen, bad
}

// checkTimestamps fails t on any time in body that is not a Timestamp.
func checkTimestamps(t *testing.T, what string, body []byte) int {
	t.Helper()
	n, bad := timestamps(body)
	if len(bad) > 0 {
		t.Errorf("%s: timestamps not RFC 3339 UTC with milliseconds: %s", what, strings.Join(bad, "; "))
	}
	return n
}

func TestTimestampWalkerFindsEveryForm(t *testing.T) {
	n, bad := timestamps([]byte(`{"a_at":"2026-12-07T06:01:34.123Z","l":[{"at":"2026-12-07T06:01:34Z"}],
		"x":"2026-12-07T06:01:34.478492846Z","y":"2026-12-07 06:01:34","d":"2026-12-07","z":{"failing_since":"2026-12-07T14:01:34.123+08:00"},
		"n_at":1700000000,"name":"2026年"}`))
	if n != 5 || len(bad) != 5 {
		t.Fatalf("seen %d, bad %v", n, bad)
	}
}

// TestEveryTimestampHasMilliseconds fills a gateway with one of everything
// and reads every list and detail route of the API: each time in each
// answer is RFC 3339 UTC with milliseconds, and every route that shows
// times showed some.
func TestEveryTimestampHasMilliseconds(t *testing.T) {
	e := startE2E(t, "sqlite")
	ctx := context.Background()
	crm := e.crmEndpoint("/crm", webhook.WebhookEventTypes...)

	code := e.createCode(map[string]any{"name": "展会", "roster": roster(member("zhangsan"))})
	res := e.scan(code, "韩梅梅")
	var rule lead.TagRuleSpec
	if st := e.api("POST", "/api/v1/tag-rules", map[string]any{"name": "展会加分", "trigger": "contact_added",
		"conditions": map[string]any{"code_ids": []uint64{code.ID}}, "actions": map[string]any{"score_delta": 5}}, &rule); st != 201 {
		t.Fatalf("rule: %d", st)
	}
	g, err := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: "展会一群", Owner: "zhangsan"})
	if err != nil {
		t.Fatal(err)
	}
	e.idle()
	var group groupcode.GroupCode
	if st := e.api("POST", "/api/v1/group-codes", map[string]any{"name": "展会群", "chat_ids": []string{g.ChatID}}, &group); st != 201 {
		t.Fatalf("group code: %d", st)
	}
	store := e.createStore("人民广场店", 31.2304, 121.4737)
	storeCode := e.createStoreCode(map[string]any{"name": "门店码", "store_ids": []uint64{store.ID}})
	e.upload(pngBytes(t, 90))
	if st := e.api("POST", "/api/v1/tags", map[string]any{"group": "线索", "names": []string{"高意向"}}, nil); st != 201 {
		t.Fatalf("tags: %d", st)
	}
	var tok auth.Token
	if st := e.api("POST", "/api/v1/tokens", map[string]any{"role": "crm", "name": "CRM"}, &tok); st != 201 {
		t.Fatalf("token: %d", st)
	}
	e.idle()
	first := e.leadOf(res.ExternalUserID)
	crm.await(t, webhook.EventLeadCreated, 1)
	// The CRM's read makes the token's last_used_at.
	if st := e.api("GET", fmt.Sprintf("/api/v1/leads/%d", first.ID), nil, nil, tok.Secret); st != 200 {
		t.Fatalf("crm read: %d", st)
	}
	var eps struct {
		Endpoints []outbound.WebhookEndpoint `json:"webhook_endpoints"`
	}
	e.api("GET", "/api/v1/webhook-endpoints", nil, &eps)
	if st := e.api("POST", fmt.Sprintf("/api/v1/webhook-endpoints/%d/rotate-secret", eps.Endpoints[0].ID), nil, nil); st != 200 {
		t.Fatalf("rotate: %d", st)
	}
	// A test event, and a bulk replay of an endpoint's failed deliveries,
	// answer as the document says.
	var probe outbound.WebhookTestResult
	if st := e.api("POST", fmt.Sprintf("/api/v1/webhook-endpoints/%d/test", eps.Endpoints[0].ID), nil, &probe); st != 200 || !probe.OK {
		t.Fatalf("test event: %d %+v", st, probe)
	}
	if st := e.api("POST", "/api/v1/webhook-deliveries/replay", map[string]any{"endpoint": eps.Endpoints[0].ID, "status": "failed"}, nil); st != 202 {
		t.Fatalf("bulk replay: %d", st)
	}
	var ds struct {
		Deliveries []outbound.WebhookDelivery `json:"deliveries"`
	}
	e.waitFor("a delivered delivery", func() bool {
		e.api("GET", "/api/v1/webhook-deliveries?status=delivered", nil, &ds)
		return len(ds.Deliveries) > 0
	})
	var events struct {
		Events []service.EventView `json:"events"`
	}
	var jobs struct {
		Jobs []service.JobView `json:"jobs"`
	}
	e.api("GET", "/api/v1/events", nil, &events)
	e.api("GET", "/api/v1/jobs", nil, &jobs)
	if len(events.Events) == 0 || len(jobs.Jobs) == 0 {
		t.Fatalf("events %d, jobs %d", len(events.Events), len(jobs.Jobs))
	}
	contact := first.ContactID
	// The change feed shows what settled (lead.FeedSettle) before now.
	e.clock.Advance(lead.FeedSettle + time.Second)

	// Every GET route of the API and where to read it; a route added
	// without a line here fails the test.
	visits := map[string][]string{
		"/api/v1/me":                           {"/api/v1/me"},
		"/api/v1/tokens":                       {"/api/v1/tokens"},
		"/api/v1/leads":                        {"/api/v1/leads", "/api/v1/leads?updated_after=2000-01-01T00:00:00Z"},
		"/api/v1/leads/:id":                    {fmt.Sprintf("/api/v1/leads/%d", first.ID)},
		"/api/v1/funnel":                       {"/api/v1/funnel"},
		"/api/v1/scoring":                      {"/api/v1/scoring"},
		"/api/v1/tag-rules":                    {"/api/v1/tag-rules"},
		"/api/v1/tag-rules/:id":                {fmt.Sprintf("/api/v1/tag-rules/%d", rule.ID)},
		"/api/v1/tags":                         {"/api/v1/tags"},
		"/api/v1/webhook-endpoints":            {"/api/v1/webhook-endpoints"},
		"/api/v1/webhook-endpoints/:id":        {fmt.Sprintf("/api/v1/webhook-endpoints/%d", eps.Endpoints[0].ID)},
		"/api/v1/webhook-deliveries":           {"/api/v1/webhook-deliveries"},
		"/api/v1/webhook-deliveries/:id":       {fmt.Sprintf("/api/v1/webhook-deliveries/%d", ds.Deliveries[0].ID)},
		"/api/v1/events":                       {"/api/v1/events"},
		"/api/v1/events/:id":                   {fmt.Sprintf("/api/v1/events/%d", events.Events[0].ID)},
		"/api/v1/jobs":                         {"/api/v1/jobs"},
		"/api/v1/channel-codes":                {"/api/v1/channel-codes"},
		"/api/v1/channel-codes/:id":            {fmt.Sprintf("/api/v1/channel-codes/%d", code.ID)},
		"/api/v1/channel-codes/:id/stats":      {fmt.Sprintf("/api/v1/channel-codes/%d/stats", code.ID)},
		"/api/v1/group-codes":                  {"/api/v1/group-codes"},
		"/api/v1/group-codes/:id":              {fmt.Sprintf("/api/v1/group-codes/%d", group.ID)},
		"/api/v1/group-codes/:id/stats":        {fmt.Sprintf("/api/v1/group-codes/%d/stats", group.ID)},
		"/api/v1/store-codes":                  {"/api/v1/store-codes"},
		"/api/v1/store-codes/:id":              {fmt.Sprintf("/api/v1/store-codes/%d", storeCode.ID)},
		"/api/v1/store-codes/:id/stats":        {fmt.Sprintf("/api/v1/store-codes/%d/stats", storeCode.ID)},
		"/api/v1/stores":                       {"/api/v1/stores"},
		"/api/v1/stores/:id":                   {fmt.Sprintf("/api/v1/stores/%d", store.ID)},
		"/api/v1/contacts":                     {"/api/v1/contacts"},
		"/api/v1/contacts/:id":                 {fmt.Sprintf("/api/v1/contacts/%d", contact)},
		"/api/v1/contacts/:id/export":          {fmt.Sprintf("/api/v1/contacts/%d/export", contact)},
		"/api/v1/audit":                        {"/api/v1/audit"},
		"/api/v1/staff":                        {"/api/v1/staff"},
		"/api/v1/media/:id/image":              nil, // an image
		"/api/v1/channel-codes/:id/qr.png":     nil,
		"/api/v1/channel-codes/:id/poster.png": nil,
		"/api/v1/group-codes/:id/qr.png":       nil,
		"/api/v1/group-codes/:id/poster.png":   nil,
		"/api/v1/store-codes/:id/qr.png":       nil,
		"/api/v1/store-codes/:id/poster.png":   nil,
		"/api/v1/openapi.json":                 nil, // the document, not data
		"/api/v1/debug/pprof/":                 nil, // Go's profiles
		"/api/v1/debug/pprof/:name":            nil,
	}
	// Routes whose answers hold no time at all.
	timeless := map[string]bool{"/api/v1/me": true, "/api/v1/scoring": true, "/api/v1/channel-codes/:id/stats": true,
		"/api/v1/group-codes/:id/stats": true, "/api/v1/store-codes/:id/stats": true}

	for _, r := range e.gw.handler.(*gin.Engine).Routes() {
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		paths, ok := visits[r.Path]
		if !ok {
			t.Errorf("GET %s: no visit planned; add it to this test", r.Path)
			continue
		}
		for _, p := range paths {
			body := e.getBody(p)
			n := checkTimestamps(t, "GET "+p, body)
			if n == 0 && !timeless[r.Path] {
				t.Errorf("GET %s showed no timestamp; the test should give it data: %s", p, clip(body))
			}
		}
	}
	for _, p := range crm.ofType(webhook.EventLeadCreated) {
		b, _ := json.Marshal(p)
		if checkTimestamps(t, "lead.created", b) < 4 {
			t.Errorf("lead.created has too few timestamps: %s", b)
		}
	}
}

// getBody reads an admin-API route with the admin token (held to the
// document like every other answer) and returns its body.
func (e *e2e) getBody(path string) []byte {
	e.t.Helper()
	var raw json.RawMessage
	if st := e.api("GET", path, nil, &raw); st != 200 {
		e.t.Fatalf("GET %s: %d %s", path, st, raw)
	}
	return raw
}
