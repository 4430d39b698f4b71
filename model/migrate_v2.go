package model

import (
	"time"

	"gorm.io/gorm"
)

// --- version 2: jobs, channel codes, contacts ------------------------------

type v2Job struct {
	ID          uint64     `gorm:"primaryKey"`
	CorpID      string     `gorm:"size:64;not null;uniqueIndex:uk_jobs_key,priority:1;index:idx_jobs_order,priority:1"`
	Kind        string     `gorm:"size:32;not null;index:idx_jobs_kind,priority:1"`
	Key         string     `gorm:"column:job_key;size:160;not null;uniqueIndex:uk_jobs_key,priority:2"`
	OrderKey    string     `gorm:"size:128;not null;index:idx_jobs_order,priority:2"`
	Payload     string     `gorm:"type:text;not null"`
	Status      string     `gorm:"size:16;not null;index:idx_jobs_claim,priority:1;index:idx_jobs_order,priority:3;index:idx_jobs_kind,priority:2"`
	Rerun       bool       `gorm:"not null"`
	Attempts    int        `gorm:"not null"`
	Error       string     `gorm:"size:1024;not null"`
	AvailableAt time.Time  `gorm:"not null;index:idx_jobs_claim,priority:2"`
	LeaseOwner  string     `gorm:"size:64;not null"`
	LeaseUntil  *time.Time `gorm:"index"`
	CreatedAt   time.Time  `gorm:"not null"`
	ProcessedAt *time.Time
}

func (v2Job) TableName() string { return "jobs" }

type v2ChannelCode struct {
	ID             uint64 `gorm:"primaryKey"`
	CorpID         string `gorm:"size:64;not null;uniqueIndex:uk_codes_state,priority:1;index:idx_codes_corp,priority:1"`
	Name           string `gorm:"size:128;not null"`
	Folder         string `gorm:"size:128;not null;index:idx_codes_corp,priority:2"`
	State          string `gorm:"size:32;not null;uniqueIndex:uk_codes_state,priority:2"`
	Slug           string `gorm:"size:32;not null;uniqueIndex"`
	ConfigID       string `gorm:"size:64;not null;index"`
	QRCode         string `gorm:"size:512;not null"`
	SkipVerify     bool   `gorm:"not null"`
	RemarkTemplate string `gorm:"size:128;not null"`
	Description    string `gorm:"size:512;not null"`
	Tags           string `gorm:"type:text;not null"` // JSON [{name, id}]
	Welcome        string `gorm:"type:mediumtext;not null"`
	Roster         string `gorm:"type:mediumtext;not null"`
	Mode           string `gorm:"size:16;not null"`
	Strategy       string `gorm:"size:16;not null"`
	WeComUsers     string `gorm:"column:wecom_users;type:text;not null"` // JSON list last written to the contact way
	MemberWays     string `gorm:"type:mediumtext;not null"`              // JSON {userid: {config_id, qr_code}} for precise mode
	LastPick       string `gorm:"size:64;not null"`
	Alert          string `gorm:"size:512;not null"`
	SyncedAt       *time.Time
	CreatedBy      string     `gorm:"size:128;not null"`
	CreatedAt      time.Time  `gorm:"not null"`
	UpdatedAt      time.Time  `gorm:"not null"`
	DeletedAt      *time.Time `gorm:"index"`
}

func (v2ChannelCode) TableName() string { return "channel_codes" }

type v2StaffDayCount struct {
	CodeID uint64 `gorm:"primaryKey;autoIncrement:false"`
	Day    string `gorm:"primaryKey;size:10"`
	UserID string `gorm:"primaryKey;size:64"`
	CorpID string `gorm:"size:64;not null"`
	Count  int    `gorm:"not null"`
}

func (v2StaffDayCount) TableName() string { return "staff_day_counts" }

type v2CodeDailyStat struct {
	CodeID uint64 `gorm:"primaryKey;autoIncrement:false"`
	Day    string `gorm:"primaryKey;size:10"`
	UserID string `gorm:"primaryKey;size:64"`
	CorpID string `gorm:"size:64;not null"`
	Adds   int    `gorm:"not null"`
	Losses int    `gorm:"not null"`
}

func (v2CodeDailyStat) TableName() string { return "code_daily_stats" }

type v2Contact struct {
	ID               uint64    `gorm:"primaryKey"`
	CorpID           string    `gorm:"size:64;not null;uniqueIndex:uk_contacts_ext,priority:1;index:idx_contacts_union,priority:1"`
	ExternalUserID   string    `gorm:"size:64;not null;uniqueIndex:uk_contacts_ext,priority:2"`
	Name             string    `gorm:"size:128;not null"`
	Avatar           string    `gorm:"size:512;not null"`
	Type             int       `gorm:"not null"`
	Gender           int       `gorm:"not null"`
	UnionID          string    `gorm:"size:64;not null;index:idx_contacts_union,priority:2"`
	CorpName         string    `gorm:"size:128;not null"`
	Source           string    `gorm:"size:16;not null"`
	SourceCodeID     uint64    `gorm:"not null;index"`
	State            string    `gorm:"size:64;not null"`
	FirstSeenAt      time.Time `gorm:"not null"`
	UpdatedAt        time.Time `gorm:"not null"`
	ProfileFetchedAt *time.Time
}

func (v2Contact) TableName() string { return "contacts" }

type v2Relation struct {
	ID             uint64    `gorm:"primaryKey"`
	CorpID         string    `gorm:"size:64;not null;uniqueIndex:uk_relations,priority:1"`
	UserID         string    `gorm:"size:64;not null;uniqueIndex:uk_relations,priority:2;index:idx_relations_staff"`
	ExternalUserID string    `gorm:"size:64;not null;uniqueIndex:uk_relations,priority:3"`
	ContactID      uint64    `gorm:"not null;index"`
	CodeID         uint64    `gorm:"not null;index"`
	State          string    `gorm:"size:64;not null"`
	Remark         string    `gorm:"size:64;not null"`
	Tags           string    `gorm:"type:text;not null"`
	Status         string    `gorm:"size:16;not null"`
	HalfAdded      bool      `gorm:"not null"`
	AddedAt        time.Time `gorm:"not null"`
	LostAt         *time.Time
	LossReason     string    `gorm:"size:32;not null"`
	UpdatedAt      time.Time `gorm:"not null"`
}

func (v2Relation) TableName() string { return "relations" }

type v2TimelineEntry struct {
	ID        uint64    `gorm:"primaryKey"`
	CorpID    string    `gorm:"size:64;not null"`
	ContactID uint64    `gorm:"not null;index:idx_timeline_contact,priority:1"`
	At        time.Time `gorm:"not null;index:idx_timeline_contact,priority:2"`
	Kind      string    `gorm:"size:32;not null;uniqueIndex:uk_timeline_event,priority:2"`
	UserID    string    `gorm:"size:64;not null"`
	CodeID    uint64    `gorm:"not null"`
	Detail    string    `gorm:"size:1024;not null"`
	// EventID is set for entries made by a callback; unique with Kind so a
	// re-run event applies its effects once. NULLs never collide.
	EventID *uint64 `gorm:"uniqueIndex:uk_timeline_event,priority:1"`
}

func (v2TimelineEntry) TableName() string { return "contact_timeline" }

type v2MediaAsset struct {
	ID          uint64 `gorm:"primaryKey"`
	CorpID      string `gorm:"size:64;not null;uniqueIndex:uk_media_sha,priority:1"`
	SHA256      string `gorm:"column:sha256;size:64;not null;uniqueIndex:uk_media_sha,priority:2"`
	Filename    string `gorm:"size:128;not null"`
	ContentType string `gorm:"size:64;not null"`
	Data        []byte `gorm:"type:mediumblob;not null"`
	MediaID     string `gorm:"size:256;not null"`
	UploadedAt  *time.Time
	ExpiresAt   *time.Time `gorm:"index"`
	CreatedAt   time.Time  `gorm:"not null"`
}

func (v2MediaAsset) TableName() string { return "media_assets" }

type v2CorpTag struct {
	CorpID    string `gorm:"primaryKey;size:64;index:idx_corp_tags_name,priority:1"`
	TagID     string `gorm:"primaryKey;size:64"`
	Name      string `gorm:"size:64;not null;index:idx_corp_tags_name,priority:2"`
	GroupID   string `gorm:"size:64;not null"`
	GroupName string `gorm:"size:64;not null"`
	UpdatedAt time.Time
}

func (v2CorpTag) TableName() string { return "corp_tags" }

func migrateV2(tx *gorm.DB) error {
	return createTables(tx, &v2Job{}, &v2ChannelCode{}, &v2StaffDayCount{}, &v2CodeDailyStat{},
		&v2Contact{}, &v2Relation{}, &v2TimelineEntry{}, &v2MediaAsset{}, &v2CorpTag{})
}
