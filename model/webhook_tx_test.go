package model

import (
	"context"
	"errors"
	"testing"

	"gorm.io/gorm"

	"github.com/leadgate/scrm-gateway/clock"
)

// Internal: only a domain transaction inside model can hand emit its tx.
func TestEmitRollsBackWithTheCaller(t *testing.T) {
	ctx := context.Background()
	st, err := Open("sqlite", t.TempDir()+"/tx.db", Options{Clock: clock.Real{}, Keys: testKeys})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateWebhookEndpoint(ctx, &WebhookEndpoint{CorpID: "ww1", URL: "https://crm.example.com", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	qualified := OutboxEvent{CorpID: "ww1", Type: "lead.qualified", Subject: "lead:1",
		Body: func(OutboxReader, OutboxMessage) ([]byte, error) { return []byte("{}"), nil }}
	boom := errors.New("boom")
	err = st.db.Transaction(func(tx *gorm.DB) error {
		if err := st.emit(tx, qualified); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n, _ := st.CountWebhookDeliveries(ctx, ""); n != 0 {
		t.Fatalf("deliveries after rollback = %d", n)
	}
	err = st.db.Transaction(func(tx *gorm.DB) error {
		return st.emit(tx, qualified)
	})
	if n, _ := st.CountWebhookDeliveries(ctx, ""); err != nil || n != 1 {
		t.Fatalf("deliveries after commit = %d, %v", n, err)
	}
}
