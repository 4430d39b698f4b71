package model

import (
	"time"

	"gorm.io/gorm"
)

// --- version 4: webhook endpoints, outbox, deliveries ----------------------

type v4WebhookEndpoint struct {
	ID                  uint64 `gorm:"primaryKey"`
	CorpID              string `gorm:"size:64;not null;index:idx_wh_endpoints_corp,priority:1"`
	URL                 string `gorm:"column:url;size:2048;not null"`
	Description         string `gorm:"size:512;not null"`
	EventTypes          string `gorm:"type:text;not null"` // JSON list; [] subscribes to every type
	Enabled             bool   `gorm:"not null"`
	Secret              string `gorm:"size:128;not null"`
	PreviousSecret      string `gorm:"size:128;not null"`
	PreviousSecretUntil *time.Time
	FailingSince        *time.Time
	DisabledAt          *time.Time
	DisabledReason      string     `gorm:"size:512;not null"`
	CreatedBy           string     `gorm:"size:128;not null"`
	CreatedAt           time.Time  `gorm:"not null"`
	UpdatedAt           time.Time  `gorm:"not null"`
	DeletedAt           *time.Time `gorm:"index:idx_wh_endpoints_corp,priority:2"`
}

func (v4WebhookEndpoint) TableName() string { return "webhook_endpoints" }

// v4WebhookMessage is one event as sent: the body is frozen at emit time so
// every attempt and replay sends the same bytes under the same webhook-id.
type v4WebhookMessage struct {
	ID         uint64    `gorm:"primaryKey"`
	CorpID     string    `gorm:"size:64;not null"`
	MsgID      string    `gorm:"size:64;not null;uniqueIndex:uk_wh_messages_msg"`
	Type       string    `gorm:"size:64;not null"`
	Subject    string    `gorm:"size:128;not null"`
	Body       string    `gorm:"type:mediumtext;not null"`
	OccurredAt time.Time `gorm:"not null"`
	CreatedAt  time.Time `gorm:"not null"`
}

func (v4WebhookMessage) TableName() string { return "webhook_messages" }

// v4WebhookDelivery carries the queue columns the shared claim expects
// (corp_id, order_key, status, attempts, error, available_at, lease_owner,
// lease_until, processed_at). order_key is "<endpoint>|<subject>", so one
// endpoint receives one subject's events in order.
type v4WebhookDelivery struct {
	ID             uint64     `gorm:"primaryKey"`
	CorpID         string     `gorm:"size:64;not null;index:idx_wh_deliveries_order,priority:1"`
	EndpointID     uint64     `gorm:"not null;uniqueIndex:uk_wh_deliveries_msg,priority:1;index:idx_wh_deliveries_endpoint,priority:1"`
	MessageID      uint64     `gorm:"not null;uniqueIndex:uk_wh_deliveries_msg,priority:2"`
	EventType      string     `gorm:"size:64;not null"`
	Subject        string     `gorm:"size:128;not null;index:idx_wh_deliveries_subject"`
	OrderKey       string     `gorm:"size:160;not null;index:idx_wh_deliveries_order,priority:2"`
	Status         string     `gorm:"size:16;not null;index:idx_wh_deliveries_claim,priority:1;index:idx_wh_deliveries_order,priority:3;index:idx_wh_deliveries_endpoint,priority:2"`
	Attempts       int        `gorm:"not null"`
	Error          string     `gorm:"size:1024;not null"`
	LastStatusCode int        `gorm:"not null"`
	AvailableAt    time.Time  `gorm:"not null;index:idx_wh_deliveries_claim,priority:2"`
	LeaseOwner     string     `gorm:"size:64;not null"`
	LeaseUntil     *time.Time `gorm:"index:idx_wh_deliveries_lease"`
	CreatedAt      time.Time  `gorm:"not null"`
	ProcessedAt    *time.Time
}

func (v4WebhookDelivery) TableName() string { return "webhook_deliveries" }

type v4WebhookAttempt struct {
	ID         uint64    `gorm:"primaryKey"`
	DeliveryID uint64    `gorm:"not null;index:idx_wh_attempts_delivery"`
	EndpointID uint64    `gorm:"not null"`
	Attempt    int       `gorm:"not null"`
	At         time.Time `gorm:"not null"`
	StatusCode int       `gorm:"not null"`
	LatencyMS  int64     `gorm:"column:latency_ms;not null"`
	Response   string    `gorm:"type:text;not null"`
	Error      string    `gorm:"size:512;not null"`
}

func (v4WebhookAttempt) TableName() string { return "webhook_attempts" }

func migrateV4(tx *gorm.DB) error {
	return createTables(tx, &v4WebhookEndpoint{}, &v4WebhookMessage{}, &v4WebhookDelivery{}, &v4WebhookAttempt{})
}
