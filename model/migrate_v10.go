package model

import (
	"time"

	"gorm.io/gorm"
)

// --- version 10: the CRM contract ---------------------------------------------

// Version is the payload schema version an endpoint was made with; it keeps
// receiving that version when a later one ships beside it.
type v10WebhookEndpoint struct {
	Version int `gorm:"not null;default:1"`
}

func (v10WebhookEndpoint) TableName() string { return "webhook_endpoints" }

// ScheduleFrom is the attempts made before the delivery's last replay: the
// attempt numbers continue across replays while the retry schedule starts
// over from there.
type v10WebhookDelivery struct {
	ScheduleFrom int `gorm:"not null;default:0"`
}

func (v10WebhookDelivery) TableName() string { return "webhook_deliveries" }

// ExpiresAt ends a token without revoking it (tokens made over the API).
type v10APIToken struct {
	ExpiresAt *time.Time
}

func (v10APIToken) TableName() string { return "api_tokens" }

// The CRM's change feed reads a corp's leads in (updated_at, id) order from
// a point in time.
type v10Lead struct {
	CorpID    string    `gorm:"index:idx_leads_changes,priority:1"`
	UpdatedAt time.Time `gorm:"index:idx_leads_changes,priority:2"`
	ID        uint64    `gorm:"index:idx_leads_changes,priority:3"`
}

func (v10Lead) TableName() string { return "leads" }

func migrateV10(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, c := range []struct {
		model any
		field string
	}{
		{&v10WebhookEndpoint{}, "Version"},
		{&v10WebhookDelivery{}, "ScheduleFrom"},
		{&v10APIToken{}, "ExpiresAt"},
	} {
		if !m.HasColumn(c.model, c.field) {
			if err := m.AddColumn(c.model, c.field); err != nil {
				return err
			}
		}
	}
	if !m.HasIndex(&v10Lead{}, "idx_leads_changes") {
		return m.CreateIndex(&v10Lead{}, "idx_leads_changes")
	}
	return nil
}
