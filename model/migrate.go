package model

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migration is one schema step. Each step declares its own frozen table
// structs, so a later change to a live model never rewrites history.
type migration struct {
	Version int
	Name    string
	Up      func(tx *gorm.DB) error
}

// schemaMigration records an applied step.
type schemaMigration struct {
	Version   int    `gorm:"primaryKey;autoIncrement:false"`
	Name      string `gorm:"size:128;not null"`
	AppliedAt time.Time
}

func (schemaMigration) TableName() string { return "schema_migrations" }

// migrations is the ordered history of the schema. Append only.
var migrations = []migration{
	{1, "inbox, api tokens, wecom tokens, leases", migrateV1},
	{2, "jobs, channel codes, contacts, relations, stats, media, corp tags", migrateV2},
	{3, "leads, transitions, tag rules, scoring, crm statuses", migrateV3},
	{4, "webhook endpoints, outbox, deliveries", migrateV4},
	{5, "group codes, stores, store codes", migrateV5},
	{6, "queue indexes in claim order", migrateV6},
	{7, "relations by state, code UTM fields, group welcome template", migrateV7},
	{8, "lead list index on (corp_id, merged_into, deleted_at)", migrateV8},
	{9, "deadline lanes on events and jobs, shared API budgets, landing-page pick holds", migrateV9},
	{10, "webhook endpoint versions, replay schedules, token expiry, lead change feed", migrateV10},
	{11, "audit log of personal-data reads", migrateV11},
	{12, "staff directory", migrateV12},
	{13, "erased contacts", migrateV13},
	{14, "personal data sealed at rest, mobile blind index", migrateV14},
	{15, "the digest of a CRM answer's reason", migrateV15},
	{16, "running tallies of live pick holds", migrateV16},
}

// SchemaVersion is the version this build expects.
func SchemaVersion() int { return migrations[len(migrations)-1].Version }

// Migrate applies every pending step, each in its own transaction, and
// returns the versions it applied. MySQL commits DDL implicitly, so there a
// failed step can leave part of its tables behind; every step creates tables
// only if they are missing so that a rerun completes it.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	// Steps that seal data find the keyring in the context.
	db := s.db.WithContext(withKeyring(ctx, s.keys))
	if s.dialect == "mysql" {
		// Binary collation: WeCom ids are case-sensitive, and a case-insensitive
		// default would let two external_userids collide on a unique key.
		db = db.Set("gorm:table_options", "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin").Session(&gorm.Session{})
	}
	if err := db.AutoMigrate(&schemaMigration{}); err != nil {
		return nil, fmt.Errorf("store: create schema_migrations: %w", err)
	}
	var applied []int
	for _, m := range migrations {
		var n int64
		if err := db.Model(&schemaMigration{}).Where("version = ?", m.Version).Count(&n).Error; err != nil {
			return applied, fmt.Errorf("store: read schema version: %w", err)
		}
		if n > 0 {
			continue
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := m.Up(tx); err != nil {
				return err
			}
			return tx.Create(&schemaMigration{Version: m.Version, Name: m.Name, AppliedAt: s.Now()}).Error
		})
		if err != nil {
			return applied, fmt.Errorf("store: migration %d (%s): %w", m.Version, m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// CurrentVersion is the highest applied migration, 0 for an empty database.
func (s *Store) CurrentVersion(ctx context.Context) (int, error) {
	db := s.db.WithContext(ctx)
	if !db.Migrator().HasTable(&schemaMigration{}) {
		return 0, nil
	}
	var v *int
	if err := db.Model(&schemaMigration{}).Select("MAX(version)").Scan(&v).Error; err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}

// createTables creates each table that is missing.
func createTables(tx *gorm.DB, tables ...any) error {
	for _, t := range tables {
		if tx.Migrator().HasTable(t) {
			continue
		}
		if err := tx.Migrator().CreateTable(t); err != nil {
			return err
		}
	}
	return nil
}

// --- version 1 -------------------------------------------------------------

type v1Event struct {
	ID             uint64     `gorm:"primaryKey"`
	CorpID         string     `gorm:"size:64;not null;uniqueIndex:uk_events_dedupe,priority:1;index:idx_events_order,priority:1"`
	DedupeKey      string     `gorm:"size:64;not null;uniqueIndex:uk_events_dedupe,priority:2"`
	Type           string     `gorm:"size:96;not null;index:idx_events_type,priority:1"`
	OrderKey       string     `gorm:"size:128;not null;index:idx_events_order,priority:2"`
	UserID         string     `gorm:"size:64;not null"`
	ExternalUserID string     `gorm:"size:64;not null"`
	ChatID         string     `gorm:"size:64;not null"`
	State          string     `gorm:"size:64;not null"`
	Payload        string     `gorm:"type:mediumtext;not null"`
	Status         string     `gorm:"size:16;not null;index:idx_events_claim,priority:1;index:idx_events_order,priority:3"`
	Attempts       int        `gorm:"not null"`
	Error          string     `gorm:"size:1024;not null"`
	AvailableAt    time.Time  `gorm:"not null;index:idx_events_claim,priority:2"`
	LeaseOwner     string     `gorm:"size:64;not null"`
	LeaseUntil     *time.Time `gorm:"index"`
	ReceivedAt     time.Time  `gorm:"not null"`
	ProcessedAt    *time.Time
}

func (v1Event) TableName() string { return "wecom_events" }

type v1APIToken struct {
	ID         uint64 `gorm:"primaryKey"`
	Name       string `gorm:"size:128;not null"`
	Role       string `gorm:"size:16;not null"`
	Hash       string `gorm:"size:64;not null;uniqueIndex"`
	Prefix     string `gorm:"size:16;not null"`
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (v1APIToken) TableName() string { return "api_tokens" }

type v1WeComToken struct {
	Key       string    `gorm:"primaryKey;size:128"`
	Value     string    `gorm:"size:1024;not null"`
	ExpiresAt time.Time `gorm:"not null"`
	UpdatedAt time.Time
}

func (v1WeComToken) TableName() string { return "wecom_tokens" }

type v1Lease struct {
	Name      string    `gorm:"primaryKey;size:128"`
	Holder    string    `gorm:"size:128;not null"`
	ExpiresAt time.Time `gorm:"not null"`
}

func (v1Lease) TableName() string { return "leases" }

func migrateV1(tx *gorm.DB) error {
	return createTables(tx, &v1Event{}, &v1APIToken{}, &v1WeComToken{}, &v1Lease{})
}
