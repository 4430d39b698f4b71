package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/groupcode"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/webhook/outbound"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// A customer joining a pooled group through the group code reaches the CRM
// as one signed group.joined, even though WeCom's first delivery of the
// callback fails and it is sent again; a staff member scanning the same
// code is not announced.
func TestGroupJoinDeliversOneSignedGroupJoined(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		crm := e.crmEndpoint("/scrm", webhook.EventGroupJoined)

		g, err := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: "展会一群", Owner: "zhangsan"})
		if err != nil {
			t.Fatal(err)
		}
		e.idle()
		var code groupcode.GroupCode
		if st := e.api("POST", "/api/v1/group-codes", map[string]any{"name": "展会群", "chat_ids": []string{g.ChatID}}, &code); st != 201 {
			t.Fatalf("create: %d %+v", st, code)
		}

		e.proxy.mu.Lock()
		e.proxy.fails = 1 // WeCom sends every callback twice
		e.proxy.mu.Unlock()
		staff, err := e.ctl.Join(ctx, wecomsim.JoinRequest{ConfigID: code.ConfigID, UserID: "lisi"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.ctl.Join(ctx, wecomsim.JoinRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{Name: "韩梅梅"}})
		if err != nil {
			t.Fatal(err)
		}
		e.idle()
		if evs := e.sim.Events(wecomsim.EventQuery{Type: "change_external_chat"}); len(evs) == 0 || evs[len(evs)-1].Attempts < 2 {
			t.Fatalf("the join callback was not resent: %+v", evs)
		}
		// Every callback, event and job is finished, so the outbox holds all
		// the joins will ever emit: one group.joined, delivered once.
		ds, err := e.gw.store.ListWebhookDeliveries(ctx, model.WebhookDeliveryFilter{CorpID: e2eCorp, EventType: webhook.EventGroupJoined})
		if err != nil || len(ds) != 1 {
			t.Fatalf("group.joined deliveries = %+v, %v", ds, err)
		}
		crm.await(t, webhook.EventGroupJoined, 1)
		e.waitFor("the delivery recorded", func() bool {
			d, _, err := e.gw.store.WebhookDelivery(ctx, e2eCorp, ds[0].ID)
			return err == nil && d.Status == model.DeliveryDelivered
		})
		got := crm.ofType(webhook.EventGroupJoined)
		if len(got) != 1 || len(crm.bad) != 0 {
			t.Fatalf("group.joined arrived %d times (staff %s joined too); refused %v", len(got), staff.UserID, crm.bad)
		}
		payload := got[0]
		delete(payload, "webhook-id")
		conforms(t, "group.joined.v1.json", payload)
		var data webhook.GroupJoinedData
		b, _ := json.Marshal(payload["data"])
		if err := json.Unmarshal(b, &data); err != nil {
			t.Fatal(err)
		}
		if data.CorpID != e2eCorp || data.ChatID != g.ChatID || data.ChatName != "展会一群" || data.ExternalUserID != res.ExternalUserID ||
			data.Owner != "zhangsan" || data.JoinScene != 3 || data.State != code.State || data.CodeID != code.ID ||
			data.StoreCodeID != 0 || data.LeadID != 0 || data.JoinedAt.IsZero() {
			t.Fatalf("data = %s", b)
		}

		var list struct {
			Deliveries []outbound.WebhookDelivery `json:"deliveries"`
		}
		if st := e.api("GET", "/api/v1/webhook-deliveries?type=group.joined", nil, &list); st != 200 {
			t.Fatalf("deliveries: %d", st)
		}
		if len(list.Deliveries) != 1 || list.Deliveries[0].Subject != "contact:"+res.ExternalUserID {
			t.Fatalf("deliveries = %+v", list.Deliveries)
		}

		// The same customer joining another group later names their lead,
		// which the first join made.
		g2, _ := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: "展会二群", Owner: "wangwu"})
		e.idle()
		if st := e.api("PATCH", fmt.Sprintf("/api/v1/group-codes/%d", code.ID), map[string]any{"chat_ids": []string{g2.ChatID}}, nil); st != 200 {
			t.Fatalf("patch: %d", st)
		}
		e.idle()
		if _, err := e.ctl.Join(ctx, wecomsim.JoinRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{ExternalUserID: res.ExternalUserID}}); err != nil {
			t.Fatal(err)
		}
		e.idle()
		second := crm.await(t, webhook.EventGroupJoined, 2)[1]
		delete(second, "webhook-id")
		conforms(t, "group.joined.v1.json", second)
		leads, err := e.gw.store.ListLeads(ctx, model.LeadFilter{CorpID: e2eCorp})
		if err != nil || len(leads) != 1 || leads[0].ExternalUserID != res.ExternalUserID {
			t.Fatalf("leads = %+v, %v", leads, err)
		}
		d := second["data"].(map[string]any)
		if d["chat_id"] != g2.ChatID || d["lead_id"] != float64(leads[0].ID) || d["owner"] != "wangwu" {
			t.Fatalf("second group.joined = %v (lead %d)", d, leads[0].ID)
		}
	})
}
