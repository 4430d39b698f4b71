package model

import (
	"time"

	"gorm.io/gorm"
)

// --- version 5: group codes, stores, store codes ---------------------------

type v5GroupCode struct {
	ID           uint64 `gorm:"primaryKey"`
	CorpID       string `gorm:"size:64;not null;uniqueIndex:uk_group_codes_state,priority:1;index:idx_group_codes_corp"`
	Name         string `gorm:"size:128;not null"`
	Title        string `gorm:"size:128;not null"`
	Text         string `gorm:"size:1024;not null"`
	State        string `gorm:"size:32;not null;uniqueIndex:uk_group_codes_state,priority:2"`
	Slug         string `gorm:"size:32;not null;uniqueIndex"`
	ConfigID     string `gorm:"size:64;not null;index"`
	QRCode       string `gorm:"size:512;not null"`
	Threshold    int    `gorm:"not null"`
	AutoCreate   bool   `gorm:"not null"`
	RoomBaseName string `gorm:"size:64;not null"`
	RoomBaseID   int    `gorm:"not null"`
	Welcome      string `gorm:"type:text;not null"`
	ChatList     string `gorm:"type:text;not null"` // JSON list last written to the join way
	Dry          bool   `gorm:"not null"`
	Alert        string `gorm:"size:512;not null"`
	SyncedAt     *time.Time
	ReconciledAt *time.Time
	CreatedBy    string     `gorm:"size:128;not null"`
	CreatedAt    time.Time  `gorm:"not null"`
	UpdatedAt    time.Time  `gorm:"not null"`
	DeletedAt    *time.Time `gorm:"index"`
}

func (v5GroupCode) TableName() string { return "group_codes" }

type v5GroupCodeChat struct {
	ID            uint64 `gorm:"primaryKey"`
	CorpID        string `gorm:"size:64;not null;uniqueIndex:uk_group_code_chats,priority:1"`
	ChatID        string `gorm:"size:64;not null;uniqueIndex:uk_group_code_chats,priority:2"`
	CodeID        uint64 `gorm:"not null;index:idx_group_code_chats_code,priority:1"`
	Position      int    `gorm:"not null;index:idx_group_code_chats_code,priority:2"`
	Name          string `gorm:"size:128;not null"`
	Members       int    `gorm:"not null"`
	Customers     int    `gorm:"not null"`
	MemberVersion string `gorm:"size:64;not null"`
	Dismissed     bool   `gorm:"not null"`
	AutoCreated   bool   `gorm:"not null"`
	RefreshedAt   *time.Time
	CreatedAt     time.Time `gorm:"not null"`
}

func (v5GroupCodeChat) TableName() string { return "group_code_chats" }

type v5ChatMemberEvent struct {
	ID          uint64    `gorm:"primaryKey"`
	CorpID      string    `gorm:"size:64;not null;uniqueIndex:uk_chat_member_events,priority:1"`
	EventID     uint64    `gorm:"not null;uniqueIndex:uk_chat_member_events,priority:2"`
	MemberID    string    `gorm:"size:64;not null;uniqueIndex:uk_chat_member_events,priority:3"`
	Kind        string    `gorm:"size:8;not null;uniqueIndex:uk_chat_member_events,priority:4"`
	ChatID      string    `gorm:"size:64;not null"`
	State       string    `gorm:"size:64;not null"`
	GroupCodeID uint64    `gorm:"not null;index:idx_chat_member_events_group,priority:1"`
	StoreCodeID uint64    `gorm:"not null;index:idx_chat_member_events_store,priority:1"`
	StoreID     uint64    `gorm:"not null"`
	Day         string    `gorm:"size:10;not null;index:idx_chat_member_events_group,priority:2;index:idx_chat_member_events_store,priority:2"`
	At          time.Time `gorm:"not null"`
}

func (v5ChatMemberEvent) TableName() string { return "chat_member_events" }

type v5Store struct {
	ID          uint64     `gorm:"primaryKey"`
	CorpID      string     `gorm:"size:64;not null;index:idx_stores_corp,priority:1"`
	Name        string     `gorm:"size:128;not null"`
	Address     string     `gorm:"size:512;not null"`
	Province    string     `gorm:"size:64;not null"`
	City        string     `gorm:"size:64;not null;index:idx_stores_corp,priority:2"`
	Latitude    float64    `gorm:"not null"`
	Longitude   float64    `gorm:"not null"`
	Staff       string     `gorm:"type:mediumtext;not null"` // JSON roster
	GroupChatID string     `gorm:"size:64;not null"`
	CreatedAt   time.Time  `gorm:"not null"`
	UpdatedAt   time.Time  `gorm:"not null"`
	DeletedAt   *time.Time `gorm:"index"`
}

func (v5Store) TableName() string { return "stores" }

type v5StoreCode struct {
	ID            uint64     `gorm:"primaryKey"`
	CorpID        string     `gorm:"size:64;not null;index"`
	Name          string     `gorm:"size:128;not null"`
	Title         string     `gorm:"size:128;not null"`
	Slug          string     `gorm:"size:32;not null;uniqueIndex"`
	RadiusM       int        `gorm:"not null"`
	FallbackStore uint64     `gorm:"not null"`
	Offer         string     `gorm:"size:8;not null"`
	CreatedBy     string     `gorm:"size:128;not null"`
	CreatedAt     time.Time  `gorm:"not null"`
	UpdatedAt     time.Time  `gorm:"not null"`
	DeletedAt     *time.Time `gorm:"index"`
}

func (v5StoreCode) TableName() string { return "store_codes" }

type v5StoreCodeWay struct {
	ID           uint64 `gorm:"primaryKey"`
	CorpID       string `gorm:"size:64;not null;uniqueIndex:uk_store_code_ways_state,priority:1"`
	CodeID       uint64 `gorm:"not null;uniqueIndex:uk_store_code_ways_pair,priority:1"`
	StoreID      uint64 `gorm:"not null;uniqueIndex:uk_store_code_ways_pair,priority:2;index"`
	State        string `gorm:"size:32;not null;uniqueIndex:uk_store_code_ways_state,priority:2"`
	ConfigID     string `gorm:"size:64;not null"`
	QRCode       string `gorm:"size:512;not null"`
	WeComUsers   string `gorm:"column:wecom_users;type:text;not null"` // JSON list last written
	JoinConfigID string `gorm:"size:64;not null"`
	JoinQRCode   string `gorm:"size:512;not null"`
	JoinChatID   string `gorm:"size:64;not null"`
	Alert        string `gorm:"size:512;not null"`
	SyncedAt     *time.Time
	CreatedAt    time.Time `gorm:"not null"`
	UpdatedAt    time.Time `gorm:"not null"`
	RetiredAt    *time.Time
}

func (v5StoreCodeWay) TableName() string { return "store_code_ways" }

type v5StoreDailyStat struct {
	CodeID  uint64 `gorm:"primaryKey;autoIncrement:false"`
	StoreID uint64 `gorm:"primaryKey;autoIncrement:false"`
	Day     string `gorm:"primaryKey;size:10"`
	CorpID  string `gorm:"size:64;not null"`
	Scans   int    `gorm:"not null"`
}

func (v5StoreDailyStat) TableName() string { return "store_daily_stats" }

func migrateV5(tx *gorm.DB) error {
	return createTables(tx, &v5GroupCode{}, &v5GroupCodeChat{}, &v5ChatMemberEvent{}, &v5Store{}, &v5StoreCode{},
		&v5StoreCodeWay{}, &v5StoreDailyStat{})
}
