package model_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

func endpoint(t *testing.T, st *model.Store, corp string, types ...string) *model.WebhookEndpoint {
	t.Helper()
	b, _ := json.Marshal(types)
	if types == nil {
		b = []byte("[]")
	}
	ep := &model.WebhookEndpoint{CorpID: corp, URL: "https://crm.example.com/hook", EventTypes: string(b), Enabled: true, Secret: "whsec_x"}
	if err := st.CreateWebhookEndpoint(ctx, ep); err != nil {
		t.Fatal(err)
	}
	return ep
}

func TestEmitWebhookWritesOneDeliveryPerSubscribedEndpoint(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		all := endpoint(t, st, "ww1")
		leads := endpoint(t, st, "ww1", model.WebhookLeadCreated)
		contacts := endpoint(t, st, "ww1", model.WebhookContactAdded)
		endpoint(t, st, "ww2") // another corp
		off := endpoint(t, st, "ww1")
		if _, err := st.UpdateWebhookEndpoint(ctx, "ww1", off.ID, func(e *model.WebhookEndpoint) error { e.Enabled = false; return nil }); err != nil {
			t.Fatal(err)
		}

		at := clock.Now().Add(-time.Minute)
		err := st.EmitWebhookNow(ctx, model.WebhookEvent{CorpID: "ww1", Type: model.WebhookLeadCreated, Subject: "lead:42",
			Data: map[string]any{"id": 42}, At: at})
		if err != nil {
			t.Fatal(err)
		}
		ds, err := st.ListWebhookDeliveries(ctx, model.WebhookDeliveryFilter{CorpID: "ww1"})
		if err != nil {
			t.Fatal(err)
		}
		got := map[uint64]bool{}
		for _, d := range ds {
			got[d.EndpointID] = true
			if d.Status != model.StatusPending || d.Subject != "lead:42" || !strings.HasPrefix(d.WebhookID, "msg_") || d.WebhookID != ds[0].WebhookID {
				t.Fatalf("delivery = %+v", d)
			}
		}
		if len(ds) != 2 || !got[all.ID] || !got[leads.ID] || got[contacts.ID] {
			t.Fatalf("deliveries went to %v", got)
		}
		_, msg, err := st.WebhookDelivery(ctx, "ww1", ds[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"type":"lead.created","timestamp":"` + at.UTC().Format(time.RFC3339Nano) + `","data":{"id":42}}`
		if msg.Body != want {
			t.Fatalf("body = %s\nwant %s", msg.Body, want)
		}

		// No subscriber: nothing is written.
		if err := st.EmitWebhookNow(ctx, model.WebhookEvent{CorpID: "ww3", Type: model.WebhookLeadCreated}); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.CountWebhookDeliveries(ctx, ""); n != 2 {
			t.Fatalf("deliveries = %d", n)
		}
	})
}

func TestContactEventsShareTheDomainTransaction(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		endpoint(t, st, "ww1")
		at := clock.Now()
		applied, _, _, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "ww1", EventID: 7, UserID: "zhangsan", ExternalUserID: "wmA",
			State: "c:x", Source: "unknown", At: at})
		if err != nil || !applied {
			t.Fatal(applied, err)
		}
		// The same event again changes nothing and emits nothing.
		if _, _, _, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "ww1", EventID: 7, UserID: "zhangsan", ExternalUserID: "wmA", At: at}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.RecordLoss(ctx, model.LossRecord{CorpID: "ww1", EventID: 8, UserID: "zhangsan", ExternalUserID: "wmA",
			Status: model.RelationLost, Reason: "customer_deleted", At: at.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		ds, _ := st.ListWebhookDeliveries(ctx, model.WebhookDeliveryFilter{Subject: "contact:wmA"})
		if len(ds) != 2 || ds[0].EventType != model.WebhookContactLost || ds[1].EventType != model.WebhookContactAdded {
			t.Fatalf("deliveries = %+v", ds)
		}
		_, msg, _ := st.WebhookDelivery(ctx, "ww1", ds[1].ID)
		var p struct {
			Type string
			Data model.ContactAddedData
		}
		if err := json.Unmarshal([]byte(msg.Body), &p); err != nil || p.Type != "contact.added" ||
			p.Data.Contact.ExternalUserID != "wmA" || p.Data.StaffUserID != "zhangsan" || p.Data.Source.State != "c:x" {
			t.Fatalf("payload = %s (%v)", msg.Body, err)
		}
	})
}

func TestEmitWebhooksNowInBatches(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		a := endpoint(t, st, "ww1")
		endpoint(t, st, "ww1", model.WebhookContactLost)
		var es []model.WebhookEvent
		for i := 0; i < 1200; i++ {
			es = append(es, model.WebhookEvent{CorpID: "ww1", Type: model.WebhookLeadCreated, Subject: fmt.Sprint("lead:", i), Data: i})
		}
		es = append(es, model.WebhookEvent{CorpID: "ww9", Type: model.WebhookLeadCreated})
		if err := st.EmitWebhooksNow(ctx, es); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.CountWebhookDeliveries(ctx, model.StatusPending); n != 1200 {
			t.Fatalf("deliveries = %d", n)
		}
		ds, _ := st.ListWebhookDeliveries(ctx, model.WebhookDeliveryFilter{Subject: "lead:1199"})
		if len(ds) != 1 || ds[0].EndpointID != a.ID {
			t.Fatalf("%+v", ds)
		}
		_, msg, _ := st.WebhookDelivery(ctx, "ww1", ds[0].ID)
		if !strings.HasSuffix(msg.Body, `"data":1199}`) {
			t.Fatal(msg.Body)
		}
	})
}
