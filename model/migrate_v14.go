package model

import (
	"fmt"

	"gorm.io/gorm"
)

// --- version 14: personal data sealed at rest ---------------------------------

// v14Lead adds the mobile's blind index, searched by (corp, index).
type v14Lead struct {
	CorpID      string `gorm:"size:64;not null;index:idx_leads_mobile,priority:1"`
	MobileIndex string `gorm:"size:64;not null;default:'';index:idx_leads_mobile,priority:2"`
}

func (v14Lead) TableName() string { return "leads" }

// v14Widened are the sealed columns' sizes on MySQL: a sealed value is
// "v1:<id>:" and base64 of 12 + n + 16 bytes, for the n bytes the column
// held in plain: contacts' names and company names 128 (cut to 128 bytes),
// leads' 128 characters (up to 512 bytes, as an admin may set them),
// avatars 512, remarks 64, mobiles 32, access tokens 1024, webhook secrets
// 128. SQLite does not enforce sizes.
var v14Widened = []struct {
	table, column string
	size          int
}{
	{"contacts", "name", 256}, {"contacts", "avatar", 768}, {"contacts", "corp_name", 256},
	{"relations", "remark", 192},
	{"leads", "name", 768}, {"leads", "corp_name", 768}, {"leads", "mobile", 128},
	{"wecom_tokens", "value", 1536},
	{"webhook_endpoints", "secret", 256}, {"webhook_endpoints", "previous_secret", 256},
}

func migrateV14(tx *gorm.DB) error {
	if tx.Dialector.Name() == "mysql" {
		for _, c := range v14Widened {
			if err := tx.Exec(fmt.Sprintf("ALTER TABLE `%s` MODIFY `%s` VARCHAR(%d) NOT NULL", c.table, c.column, c.size)).Error; err != nil {
				return err
			}
		}
	}
	m := tx.Migrator()
	if !m.HasColumn(&v14Lead{}, "MobileIndex") {
		if err := m.AddColumn(&v14Lead{}, "MobileIndex"); err != nil {
			return err
		}
	}
	if !m.HasIndex(&v14Lead{}, "idx_leads_mobile") {
		if err := m.CreateIndex(&v14Lead{}, "idx_leads_mobile"); err != nil {
			return err
		}
	}
	// Seal what was stored in plain.
	kr := keyringFrom(tx.Statement.Context)
	if kr == nil {
		return ErrNoKeyring
	}
	_, err := rekey(tx, kr, 500, nil)
	return err
}
