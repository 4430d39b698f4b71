package model

import (
	"time"

	"gorm.io/gorm"
)

// --- version 13: erased contacts ---------------------------------------------

// v13Contact marks a contact whose personal data was erased: the row stays
// (counts and statistics keep it) with its profile emptied.
type v13Contact struct {
	ErasedAt *time.Time
}

func (v13Contact) TableName() string { return "contacts" }

func migrateV13(tx *gorm.DB) error {
	if tx.Migrator().HasColumn(&v13Contact{}, "ErasedAt") {
		return nil
	}
	return tx.Migrator().AddColumn(&v13Contact{}, "ErasedAt")
}
