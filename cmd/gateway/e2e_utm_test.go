package main

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/storecode"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// leadCreatedFor waits for the CRM's lead.created of a contact and checks
// it against the published schema.
func (e *e2e) leadCreatedFor(crm *crmReceiver, ext string) map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, p := range crm.ofType(webhook.EventLeadCreated) {
			data := p["data"].(map[string]any)
			if data["external_userid"] != ext {
				continue
			}
			payload := maps.Clone(p)
			delete(payload, "webhook-id")
			conforms(e.t, "lead.created.v1.json", payload)
			return data
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no lead.created for %s; refused: %v", ext, crm.bad)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sourceUTM reads data.source.utm of a webhook's lead.
func sourceUTM(data map[string]any) map[string]string {
	out := map[string]string{}
	utm, _ := data["source"].(map[string]any)["utm"].(map[string]any)
	for k, v := range utm {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// apiError calls the API expecting an error and returns the status and field.
func (e *e2e) apiError(method, path string, body any) (int, string) {
	e.t.Helper()
	var out struct {
		Error struct {
			Field string `json:"field"`
		} `json:"error"`
	}
	st := e.api(method, path, body, &out)
	return st, out.Error.Field
}

// A code's UTM parameters, set over the admin API, are shown on the code and
// carried by the source of the leads it brings in: through the lead API and
// the lead.created webhook, for channel codes and store codes alike. Bad
// parameters are refused with the field, and nothing is made.
func TestUTMOnCodesReachesTheLead(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		crm := e.crmEndpoint("", webhook.EventLeadCreated)

		// Refused with the field; no code and no contact way made.
		ways := func() int {
			calls, err := e.ctl.Log(ctx, wecomsim.LogQuery{API: "add_contact_way"})
			if err != nil {
				t.Fatal(err)
			}
			return len(calls)
		}
		before := ways()
		long := strings.Repeat("长", 129)
		for _, c := range []struct {
			utm   map[string]any
			field string
		}{
			{map[string]any{"utm_source": "poster", "gclid": "x"}, "utm"},
			{map[string]any{"utm_campaign": long}, "utm.utm_campaign"},
		} {
			body := map[string]any{"name": "坏参数", "roster": roster(member("zhangsan")), "utm": c.utm}
			if st, field := e.apiError("POST", "/api/v1/channel-codes", body); st != 400 || field != c.field {
				t.Errorf("channel code with utm %v: %d on %q, want 400 on %s", c.utm, st, field, c.field)
			}
		}
		var codes struct {
			Codes []channelcode.ChannelCode `json:"channel_codes"`
		}
		if e.api("GET", "/api/v1/channel-codes", nil, &codes); len(codes.Codes) != 0 || ways() != before {
			t.Fatalf("a refused code left %d codes and %d contact ways", len(codes.Codes), ways()-before)
		}

		// A channel code with UTM: shown on the code, carried by its leads.
		utm := map[string]string{"utm_source": "poster", "utm_medium": "offline", "utm_campaign": "autumn-expo"}
		code := e.createCode(map[string]any{"name": "秋季展会", "roster": roster(member("zhangsan")), "utm": utm})
		if !maps.Equal(code.UTM, utm) {
			t.Fatalf("created code utm = %v", code.UTM)
		}
		path := fmt.Sprintf("/api/v1/channel-codes/%d", code.ID)
		// call decodes into a fresh code (decoding into a used one would merge maps).
		call := func(method string, body any) (int, channelcode.ChannelCode) {
			var c channelcode.ChannelCode
			st := e.api(method, path, body, &c)
			return st, c
		}
		if _, got := call("GET", nil); !maps.Equal(got.UTM, utm) {
			t.Fatalf("GET code utm = %v", got.UTM)
		}
		first := e.scan(code, "王小明")
		e.idle()
		if l := e.leadOf(first.ExternalUserID); l.Source.Kind != webhook.SourceChannel || !maps.Equal(l.Source.UTM, utm) {
			t.Fatalf("lead source = %+v", l.Source)
		}
		if got := sourceUTM(e.leadCreatedFor(crm, first.ExternalUserID)); !maps.Equal(got, utm) {
			t.Fatalf("lead.created source.utm = %v", got)
		}

		// A bad PATCH changes nothing; a good one applies to leads sourced
		// from then on, not to those that came before.
		if st, field := e.apiError("PATCH", path, map[string]any{"utm": map[string]string{"utm_term": long}}); st != 400 || field != "utm.utm_term" {
			t.Fatalf("bad PATCH: %d on %q", st, field)
		}
		if _, got := call("GET", nil); !maps.Equal(got.UTM, utm) {
			t.Fatalf("utm after a refused PATCH = %v", got.UTM)
		}
		spring := map[string]string{"utm_source": "poster", "utm_campaign": "spring"}
		if st, got := call("PATCH", map[string]any{"utm": spring}); st != 200 || !maps.Equal(got.UTM, spring) {
			t.Fatalf("PATCH utm: %d %v", st, got.UTM)
		}
		if st, got := call("PATCH", map[string]any{"name": "春季展会"}); st != 200 || !maps.Equal(got.UTM, spring) {
			t.Fatalf("a PATCH without utm kept %v", got.UTM)
		}
		second := e.scan(code, "李雷")
		e.idle()
		if l := e.leadOf(second.ExternalUserID); !maps.Equal(l.Source.UTM, spring) {
			t.Fatalf("second lead utm = %v", l.Source.UTM)
		}
		if l := e.leadOf(first.ExternalUserID); !maps.Equal(l.Source.UTM, utm) {
			t.Fatalf("first lead utm changed to %v", l.Source.UTM)
		}
		if st, got := call("PATCH", map[string]any{"utm": map[string]string{}}); st != 200 || len(got.UTM) != 0 {
			t.Fatalf("clearing utm: %d %v", st, got.UTM)
		}

		// Store codes, the same way.
		shop := e.createStore("陆家嘴店", 31.2397, 121.4998)
		for _, c := range []struct {
			utm   map[string]any
			field string
		}{
			{map[string]any{"utm_id": "1"}, "utm"},
			{map[string]any{"utm_content": long}, "utm.utm_content"},
		} {
			body := map[string]any{"name": "坏参数", "store_ids": []uint64{shop.ID}, "utm": c.utm}
			if st, field := e.apiError("POST", "/api/v1/store-codes", body); st != 400 || field != c.field {
				t.Errorf("store code with utm %v: %d on %q, want 400 on %s", c.utm, st, field, c.field)
			}
		}
		var storeCodes struct {
			Codes []storecode.StoreCode `json:"store_codes"`
		}
		if e.api("GET", "/api/v1/store-codes", nil, &storeCodes); len(storeCodes.Codes) != 0 {
			t.Fatalf("a refused store code was made: %+v", storeCodes.Codes)
		}
		storeUTM := map[string]string{"utm_source": "flyer", "utm_medium": "store", "utm_content": "A4"}
		sc := e.createStoreCode(map[string]any{"name": "门店活码", "store_ids": []uint64{shop.ID}, "utm": storeUTM})
		if !maps.Equal(sc.UTM, storeUTM) || len(sc.Stores) != 1 {
			t.Fatalf("store code = %+v", sc)
		}
		scPath := fmt.Sprintf("/api/v1/store-codes/%d", sc.ID)
		if st, field := e.apiError("PATCH", scPath, map[string]any{"utm": map[string]string{"UTM_SOURCE": "x"}}); st != 400 || field != "utm" {
			t.Fatalf("bad store code PATCH: %d on %q", st, field)
		}
		add, err := e.ctl.Scan(ctx, wecomsim.ScanRequest{QRCode: sc.Stores[0].QRCode, Customer: wecomsim.Customer{Name: "门店客户"}})
		if err != nil {
			t.Fatal(err)
		}
		e.idle()
		l := e.leadOf(add.ExternalUserID)
		if l.Source.Kind != webhook.SourceStore || l.Source.StoreID != shop.ID || l.Source.CodeID != sc.ID ||
			l.Source.CodeName != "门店活码" || !maps.Equal(l.Source.UTM, storeUTM) {
			t.Fatalf("store lead source = %+v", l.Source)
		}
		if got := sourceUTM(e.leadCreatedFor(crm, add.ExternalUserID)); !maps.Equal(got, storeUTM) {
			t.Fatalf("store lead.created source.utm = %v", got)
		}
		var scGot storecode.StoreCode
		newUTM := map[string]string{"utm_source": "flyer", "utm_campaign": "winter"}
		if st := e.api("PATCH", scPath, map[string]any{"utm": newUTM}, &scGot); st != 200 || !maps.Equal(scGot.UTM, newUTM) {
			t.Fatalf("store code PATCH utm: %d %v", st, scGot.UTM)
		}
	})
}
