package model

import (
	"time"

	"gorm.io/gorm"
)

// --- version 7: relations by state, campaign fields, group welcome ----------

// Store statistics read adds by contact-way state over a date range; without
// an index that scans every relation of the corp.
type v7Relation struct {
	CorpID  string    `gorm:"index:idx_relations_state,priority:1"`
	State   string    `gorm:"index:idx_relations_state,priority:2"`
	AddedAt time.Time `gorm:"index:idx_relations_state,priority:3"`
}

func (v7Relation) TableName() string { return "relations" }

// UTM: the campaign a code's poster belongs to (utm_source, utm_medium,
// utm_campaign, utm_term, utm_content as a JSON object); leads sourced from
// the code carry it.
type v7ChannelCode struct {
	UTM string `gorm:"column:utm;size:1024;not null;default:''"`
}

func (v7ChannelCode) TableName() string { return "channel_codes" }

type v7StoreCode struct {
	UTM string `gorm:"column:utm;size:1024;not null;default:''"`
}

func (v7StoreCode) TableName() string { return "store_codes" }

// WelcomeTemplateID: WeCom's group welcome template made from the code's
// welcome text.
type v7GroupCode struct {
	UTM               string `gorm:"column:utm;size:1024;not null;default:''"`
	WelcomeTemplateID string `gorm:"size:128;not null;default:''"`
}

func (v7GroupCode) TableName() string { return "group_codes" }

func migrateV7(tx *gorm.DB) error {
	m := tx.Migrator()
	if !m.HasIndex(&v7Relation{}, "idx_relations_state") {
		if err := m.CreateIndex(&v7Relation{}, "idx_relations_state"); err != nil {
			return err
		}
	}
	for _, c := range []struct {
		model any
		field string
	}{
		{&v7ChannelCode{}, "UTM"},
		{&v7StoreCode{}, "UTM"},
		{&v7GroupCode{}, "UTM"},
		{&v7GroupCode{}, "WelcomeTemplateID"},
	} {
		if !m.HasColumn(c.model, c.field) {
			if err := m.AddColumn(c.model, c.field); err != nil {
				return err
			}
		}
	}
	return nil
}
