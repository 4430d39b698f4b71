package model_test

import (
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

// The outbox holds each corp's subscriptions in memory: an emit does not
// read the endpoints again, a change made here applies to the next emit,
// and a change made by another replica within the poll.
func TestOutboxHoldsSubscriptionsInMemory(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) {
			replicas := modeltest.Replicas(t, d, 2)
			st, other := replicas[0], replicas[1]
			deliveries := func() int64 {
				n, err := st.CountWebhookDeliveries(ctx, "")
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			emit := func() {
				t.Helper()
				if err := st.EmitWebhookNow(ctx, event("ww1", "contact.added", "contact:a", time.Now(), 1)); err != nil {
					t.Fatal(err)
				}
			}
			ep := endpoint(t, st, "ww1", "contact.added")
			emit()
			if n := deliveries(); n != 1 {
				t.Fatalf("deliveries = %d, want 1", n)
			}
			// Two more emits: the endpoints are not read again (at most
			// the version is, once, when the poll falls due).
			before := st.Statements().Statements["select"]
			emit()
			emit()
			if n := st.Statements().Statements["select"] - before; n > 1 {
				t.Fatalf("two emits sent %d selects, want at most the version's 1", n)
			}
			if n := deliveries(); n != 3 {
				t.Fatalf("deliveries = %d, want 3", n)
			}

			// Disabled here: the very next emit knows.
			if _, err := st.UpdateWebhookEndpoint(ctx, "ww1", ep.ID, func(e *model.WebhookEndpoint) error { e.Enabled = false; return nil }); err != nil {
				t.Fatal(err)
			}
			emit()
			if n := deliveries(); n != 3 {
				t.Fatalf("deliveries = %d after the endpoint was disabled, want 3", n)
			}

			// Enabled by another replica: seen within the poll.
			if _, err := other.UpdateWebhookEndpoint(ctx, "ww1", ep.ID, func(e *model.WebhookEndpoint) error { e.Enabled = true; return nil }); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for deliveries() == 3 {
				if time.Now().After(deadline) {
					t.Fatal("an endpoint enabled by another replica got no delivery within 10 s")
				}
				time.Sleep(50 * time.Millisecond)
				emit()
			}
		})
	}
}
