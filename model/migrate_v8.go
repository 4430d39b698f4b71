package model

import (
	"time"

	"gorm.io/gorm"
)

// --- version 8: the lead list reads in id order ---------------------------

// The lead list asks for a corp's live leads (merged_into = 0, deleted_at IS
// NULL) newest first. With only single-column indexes on merged_into and
// deleted_at, MariaDB intersected those two (each matching nearly every
// row) and sorted the result: 0.5–0.8 s a page at 100,000 leads while a
// re-score ran. Neither index serves any other query; one on (corp_id,
// merged_into, deleted_at) replaces them, and the plan walks the primary key
// backwards and stops after a page.
type v8Lead struct {
	CorpID     string     `gorm:"index:idx_leads_live,priority:1"`
	MergedInto uint64     `gorm:"index:idx_leads_live,priority:2"`
	DeletedAt  *time.Time `gorm:"index:idx_leads_live,priority:3"`
}

func (v8Lead) TableName() string { return "leads" }

func migrateV8(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, name := range []string{"idx_leads_merged_into", "idx_leads_deleted_at"} {
		if m.HasIndex(&v8Lead{}, name) {
			if err := m.DropIndex(&v8Lead{}, name); err != nil {
				return err
			}
		}
	}
	if !m.HasIndex(&v8Lead{}, "idx_leads_live") {
		return m.CreateIndex(&v8Lead{}, "idx_leads_live")
	}
	return nil
}
