package model

import (
	"time"

	"gorm.io/gorm"
)

// --- version 12: the staff directory ------------------------------------------

// v12StaffMember is one WeCom staff member as the address book last said.
type v12StaffMember struct {
	CorpID      string `gorm:"primaryKey;size:64"`
	UserID      string `gorm:"primaryKey;size:64"`
	Name        string `gorm:"size:128;not null"`
	Departments string `gorm:"size:1024;not null"` // JSON: [{"id", "name"}]
	Avatar      string `gorm:"size:512;not null"`
	Status      int    `gorm:"not null"`
	RefreshedAt time.Time
}

func (v12StaffMember) TableName() string { return "staff_members" }

func migrateV12(tx *gorm.DB) error {
	if tx.Migrator().HasTable(&v12StaffMember{}) {
		return nil
	}
	return tx.Migrator().CreateTable(&v12StaffMember{})
}
