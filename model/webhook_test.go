package model_test

import (
	"encoding/json"
	"errors"
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

// event is an outbox event whose body names its message and carries data.
func event(corp, typ, subject string, at time.Time, data any) model.OutboxEvent {
	return model.OutboxEvent{CorpID: corp, Type: typ, Subject: subject, At: at,
		Body: func(_ model.OutboxReader, m model.OutboxMessage) ([]byte, error) {
			return json.Marshal(map[string]any{"id": m.ID, "version": m.Version, "at": m.At, "data": data})
		}}
}

func TestEmitWebhookWritesOneDeliveryPerSubscribedEndpoint(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		all := endpoint(t, st, "ww1")
		leads := endpoint(t, st, "ww1", "lead.created")
		contacts := endpoint(t, st, "ww1", "contact.added")
		endpoint(t, st, "ww2") // another corp
		off := endpoint(t, st, "ww1")
		if _, err := st.UpdateWebhookEndpoint(ctx, "ww1", off.ID, func(e *model.WebhookEndpoint) error { e.Enabled = false; return nil }); err != nil {
			t.Fatal(err)
		}

		at := clock.Now().Add(-time.Minute)
		if err := st.EmitWebhookNow(ctx, event("ww1", "lead.created", "lead:42", at, 42)); err != nil {
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
		// The body is rendered for the message: its webhook-id, the
		// endpoints' version and the event's time in UTC.
		want, _ := json.Marshal(map[string]any{"id": ds[0].WebhookID, "version": 1, "at": at.UTC(), "data": 42})
		if msg.Body != string(want) {
			t.Fatalf("body = %s\nwant %s", msg.Body, want)
		}

		// No subscriber: nothing is written, and no body is rendered.
		if err := st.EmitWebhookNow(ctx, model.OutboxEvent{CorpID: "ww3", Type: "lead.created",
			Body: func(model.OutboxReader, model.OutboxMessage) ([]byte, error) { panic("rendered for no one") }}); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.CountWebhookDeliveries(ctx, ""); n != 2 {
			t.Fatalf("deliveries = %d", n)
		}
	})
}

func TestEmitWebhookRendersOneMessagePerPinnedVersion(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		v1 := endpoint(t, st, "ww1")
		v2 := &model.WebhookEndpoint{CorpID: "ww1", URL: "https://crm.example.com/v2", EventTypes: "[]", Version: 2, Enabled: true, Secret: "whsec_x"}
		if err := st.CreateWebhookEndpoint(ctx, v2); err != nil {
			t.Fatal(err)
		}
		var rendered []int
		err := st.EmitWebhookNow(ctx, model.OutboxEvent{CorpID: "ww1", Type: "lead.created", Subject: "lead:1",
			Body: func(_ model.OutboxReader, m model.OutboxMessage) ([]byte, error) {
				rendered = append(rendered, m.Version)
				return json.Marshal(map[string]any{"version": m.Version})
			}})
		if err != nil || len(rendered) != 2 || rendered[0] != 1 || rendered[1] != 2 {
			t.Fatalf("rendered %v, %v", rendered, err)
		}
		for _, ep := range []*model.WebhookEndpoint{v1, v2} {
			ds, _ := st.ListWebhookDeliveries(ctx, model.WebhookDeliveryFilter{EndpointID: ep.ID})
			if len(ds) != 1 {
				t.Fatalf("endpoint %d: %+v", ep.ID, ds)
			}
			_, msg, _ := st.WebhookDelivery(ctx, "ww1", ds[0].ID)
			if msg.Body != fmt.Sprintf(`{"version":%d}`, ep.Version) {
				t.Fatalf("endpoint v%d got %s", ep.Version, msg.Body)
			}
		}
	})
}

func TestContactEventsShareTheDomainTransaction(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		endpoint(t, st, "ww1")
		at := clock.Now()
		added := func(c *model.Contact) []model.OutboxEvent {
			return []model.OutboxEvent{event("ww1", "contact.added", "contact:"+c.ExternalUserID, at, c.ID)}
		}
		applied, _, contactID, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "ww1", EventID: 7, UserID: "zhangsan", ExternalUserID: "wmA",
			State: "c:x", Source: "unknown", At: at, Events: added})
		if err != nil || !applied {
			t.Fatal(applied, err)
		}
		// The same event again changes nothing and emits nothing.
		if _, _, _, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "ww1", EventID: 7, UserID: "zhangsan", ExternalUserID: "wmA", At: at,
			Events: added}); err != nil {
			t.Fatal(err)
		}
		// The loss's body reads the contact inside the transaction.
		var read *model.Contact
		if _, err := st.RecordLoss(ctx, model.LossRecord{CorpID: "ww1", EventID: 8, UserID: "zhangsan", ExternalUserID: "wmA",
			Status: model.RelationLost, Reason: "customer_deleted", At: at.Add(time.Hour),
			Events: func(rel *model.Relation) []model.OutboxEvent {
				e := event("ww1", "contact.lost", "contact:wmA", at, rel.State)
				body := e.Body
				e.Body = func(r model.OutboxReader, m model.OutboxMessage) ([]byte, error) {
					c, err := r.Contact(rel.ContactID)
					read = c
					if err != nil {
						return nil, err
					}
					return body(r, m)
				}
				return []model.OutboxEvent{e}
			}}); err != nil {
			t.Fatal(err)
		}
		if read == nil || read.ID != contactID {
			t.Fatalf("contact read in the loss = %+v", read)
		}
		ds, _ := st.ListWebhookDeliveries(ctx, model.WebhookDeliveryFilter{Subject: "contact:wmA"})
		if len(ds) != 2 || ds[0].EventType != "contact.lost" || ds[1].EventType != "contact.added" {
			t.Fatalf("deliveries = %+v", ds)
		}
		_, msg, _ := st.WebhookDelivery(ctx, "ww1", ds[0].ID)
		if !strings.Contains(msg.Body, `"data":"c:x"`) {
			t.Fatalf("payload = %s", msg.Body)
		}
	})
}

func TestEmitWebhooksNowInBatches(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, _ *modeltest.Clock) {
		a := endpoint(t, st, "ww1")
		endpoint(t, st, "ww1", "contact.lost")
		var es []model.OutboxEvent
		for i := 0; i < 1200; i++ {
			es = append(es, event("ww1", "lead.created", fmt.Sprint("lead:", i), time.Time{}, i))
		}
		es = append(es, event("ww9", "lead.created", "", time.Time{}, 0))
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
		if !strings.HasSuffix(msg.Body, `"data":1199,"id":"`+ds[0].WebhookID+`","version":1}`) {
			t.Fatal(msg.Body)
		}
	})
}

func TestWebhookAttemptsAreRecordedTogether(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		ep := endpoint(t, st, "ww1")
		for i := 0; i < 3; i++ {
			if err := st.EmitWebhookNow(ctx, event("ww1", "lead.created", fmt.Sprint("lead:", i), clock.Now(), i)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.ClaimWebhookDeliveries(ctx, "w", time.Minute, 3)
		if err != nil || len(got) != 3 {
			t.Fatalf("claimed %d, %v", len(got), err)
		}
		now := clock.Now()
		rec := func(i int, status string, owner string) model.WebhookAttemptRecord {
			return model.WebhookAttemptRecord{DeliveryID: got[i].Delivery.ID, EndpointID: ep.ID, Owner: owner, Attempt: 1, At: now,
				StatusCode: 204, Status: status, NextAt: now.Add(5 * time.Second)}
		}
		before := st.Statements().Transactions
		out, err := st.RecordWebhookAttempts(ctx, []model.WebhookAttemptRecord{
			rec(0, model.DeliveryDelivered, "w"), rec(1, model.StatusPending, "w"), rec(2, model.DeliveryDelivered, "someone else")})
		if err != nil {
			t.Fatal(err)
		}
		if tx := st.Statements().Transactions - before; tx != 1 {
			t.Fatalf("%d transactions, want 1", tx)
		}
		if out[0].Err != nil || out[1].Err != nil || !errors.Is(out[2].Err, model.ErrLeaseLost) {
			t.Fatalf("recorded = %+v", out)
		}
		for i, want := range []struct {
			status   string
			attempts int
		}{{model.DeliveryDelivered, 1}, {model.StatusPending, 1}, {model.StatusProcessing, 0}} {
			d, _, err := st.WebhookDelivery(ctx, "ww1", got[i].Delivery.ID)
			if err != nil || d.Status != want.status || len(d.Attempts) != want.attempts {
				t.Fatalf("delivery %d = %+v, %v; want %+v", i, d, err, want)
			}
		}
	})
}

// Deliveries that were simply delivered are settled by one update; when one
// of them has lost its lease meanwhile, the others are still recorded and
// only it is reported lost.
func TestDeliveredAttemptsSettleInOneUpdate(t *testing.T) {
	each(t, func(t *testing.T, st *model.Store, clock *modeltest.Clock) {
		ep := endpoint(t, st, "ww1")
		for i := 0; i < 6; i++ {
			if err := st.EmitWebhookNow(ctx, event("ww1", "lead.created", fmt.Sprint("lead:", i), clock.Now(), i)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.ClaimWebhookDeliveries(ctx, "w", time.Minute, 6)
		if err != nil || len(got) != 6 {
			t.Fatalf("claimed %d, %v", len(got), err)
		}
		for _, c := range got {
			if c.Delivery.Status != model.StatusProcessing || c.Delivery.LeaseOwner != "w" || c.Delivery.Attempts != 1 || c.Delivery.LeaseUntil == nil {
				t.Fatalf("claimed delivery = %+v", c.Delivery)
			}
		}
		now := clock.Now()
		delivered := func(cs []model.ClaimedDelivery) []model.WebhookAttemptRecord {
			var recs []model.WebhookAttemptRecord
			for _, c := range cs {
				recs = append(recs, model.WebhookAttemptRecord{DeliveryID: c.Delivery.ID, EndpointID: ep.ID, Owner: "w", Attempt: 1,
					At: now, StatusCode: 204, Status: model.DeliveryDelivered})
			}
			return recs
		}
		before := st.Statements()
		out, err := st.RecordWebhookAttempts(ctx, delivered(got[:3]))
		if err != nil {
			t.Fatal(err)
		}
		after := st.Statements()
		if n := after.Statements["update"] - before.Statements["update"]; n != 1 {
			t.Fatalf("three delivered attempts sent %d updates, want 1", n)
		}
		for i, o := range out {
			if o.Err != nil {
				t.Fatalf("record %d: %v", i, o.Err)
			}
		}
		// The fifth was handed back meanwhile: it alone is not recorded.
		if err := st.FinishWebhookDelivery(ctx, got[4].Delivery.ID, "w", model.StatusFailed, "handed back"); err != nil {
			t.Fatal(err)
		}
		out, err = st.RecordWebhookAttempts(ctx, delivered(got[3:]))
		if err != nil {
			t.Fatal(err)
		}
		if out[0].Err != nil || !errors.Is(out[1].Err, model.ErrLeaseLost) || out[2].Err != nil {
			t.Fatalf("recorded = %+v", out)
		}
		for i, c := range got {
			want, attempts := model.DeliveryDelivered, 1
			if i == 4 {
				want, attempts = model.StatusFailed, 0
			}
			d, _, err := st.WebhookDelivery(ctx, "ww1", c.Delivery.ID)
			if err != nil || d.Status != want || len(d.Attempts) != attempts || (i != 4 && (d.LastStatusCode != 204 || d.ProcessedAt == nil)) {
				t.Fatalf("delivery %d = %+v, %v; want %s with %d attempts", i, d, err, want, attempts)
			}
		}
	})
}
