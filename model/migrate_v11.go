package model

import (
	"time"

	"gorm.io/gorm"
)

// --- version 11: the audit log of personal-data reads ------------------------

// v11AuditEntry is one read or export of one customer's or lead's personal
// data by an API token.
type v11AuditEntry struct {
	ID          uint64    `gorm:"primaryKey"`
	At          time.Time `gorm:"not null;index:idx_audit_at;index:idx_audit_subject,priority:3;index:idx_audit_token,priority:2"`
	TokenID     uint64    `gorm:"not null;index:idx_audit_token,priority:1"`
	TokenName   string    `gorm:"size:128;not null"`
	Role        string    `gorm:"size:16;not null"`
	Action      string    `gorm:"size:16;not null"`
	SubjectKind string    `gorm:"size:16;not null;index:idx_audit_subject,priority:1"`
	SubjectID   uint64    `gorm:"not null;index:idx_audit_subject,priority:2"`
	Route       string    `gorm:"size:128;not null"`
	Client      string    `gorm:"size:64;not null"`
	RequestID   string    `gorm:"size:64;not null"`
}

func (v11AuditEntry) TableName() string { return "audit_log" }

func migrateV11(tx *gorm.DB) error { return tx.Migrator().AutoMigrate(&v11AuditEntry{}) }
