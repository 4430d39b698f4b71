package model

import "gorm.io/gorm"

// --- version 15: what a CRM answer said ---------------------------------------

// v15CRMStatus keeps the SHA-256 of each CRM answer's reason, so that the
// same event id with another reason is told apart from a repeat. Rows from
// before keep "" (unknown: only the lead and the status are compared), as
// do answers whose lead was erased.
type v15CRMStatus struct {
	ReasonDigest string `gorm:"size:64;not null;default:''"`
}

func (v15CRMStatus) TableName() string { return "crm_statuses" }

func migrateV15(tx *gorm.DB) error {
	if tx.Migrator().HasColumn(&v15CRMStatus{}, "ReasonDigest") {
		return nil
	}
	return tx.Migrator().AddColumn(&v15CRMStatus{}, "ReasonDigest")
}
