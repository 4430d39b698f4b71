package model

import (
	"time"

	"gorm.io/gorm"
)

// --- version 3: leads, scoring, tag rules ---------------------------------

type v3Lead struct {
	ID             uint64     `gorm:"primaryKey"`
	CorpID         string     `gorm:"size:64;not null;uniqueIndex:uk_leads_contact,priority:1;index:idx_leads_stage,priority:1;index:idx_leads_owner,priority:1;index:idx_leads_union,priority:1"`
	ContactID      uint64     `gorm:"not null;uniqueIndex:uk_leads_contact,priority:2"`
	ExternalUserID string     `gorm:"size:64;not null"`
	UnionID        string     `gorm:"size:64;not null;index:idx_leads_union,priority:2"`
	Name           string     `gorm:"size:128;not null"`
	CorpName       string     `gorm:"size:128;not null"`
	Mobile         string     `gorm:"size:32;not null"`
	MobileValid    bool       `gorm:"not null"`
	Gender         int        `gorm:"not null"`
	Source         string     `gorm:"type:text;not null"` // JSON
	SourceCodeID   uint64     `gorm:"not null;index"`
	Owner          string     `gorm:"size:64;not null;index:idx_leads_owner,priority:2"`
	Tags           string     `gorm:"type:text;not null"` // JSON list of names
	BANT           string     `gorm:"column:bant;type:text;not null"`
	Behaviour      string     `gorm:"type:text;not null"`
	RulePoints     string     `gorm:"type:text;not null"`
	Score          int        `gorm:"not null;index"`
	Breakdown      string     `gorm:"type:text;not null"`
	ScoringVersion int        `gorm:"not null"`
	Stage          string     `gorm:"size:16;not null;index:idx_leads_stage,priority:2"`
	StageChangedAt time.Time  `gorm:"not null"`
	MergedInto     uint64     `gorm:"not null;index"`
	LastActivityAt time.Time  `gorm:"not null"`
	CreatedAt      time.Time  `gorm:"not null;index"`
	UpdatedAt      time.Time  `gorm:"not null"`
	DeletedAt      *time.Time `gorm:"index"`
}

func (v3Lead) TableName() string { return "leads" }

type v3LeadTransition struct {
	ID      uint64    `gorm:"primaryKey"`
	CorpID  string    `gorm:"size:64;not null;index:idx_transitions_funnel,priority:1"`
	LeadID  uint64    `gorm:"not null;index"`
	From    string    `gorm:"column:from_stage;size:16;not null"`
	To      string    `gorm:"column:to_stage;size:16;not null;index:idx_transitions_funnel,priority:2"`
	Reason  string    `gorm:"size:512;not null"`
	Actor   string    `gorm:"size:16;not null"`
	ActorID string    `gorm:"size:128;not null"`
	At      time.Time `gorm:"not null;index:idx_transitions_funnel,priority:3"`
}

func (v3LeadTransition) TableName() string { return "lead_transitions" }

type v3TagRule struct {
	ID         uint64    `gorm:"primaryKey"`
	CorpID     string    `gorm:"size:64;not null;index:idx_rules_corp,priority:1"`
	Name       string    `gorm:"size:128;not null"`
	Priority   int       `gorm:"not null;index:idx_rules_corp,priority:2"`
	Enabled    bool      `gorm:"not null"`
	Trigger    string    `gorm:"column:trigger_event;size:32;not null"`
	Conditions string    `gorm:"type:text;not null"`
	Actions    string    `gorm:"type:text;not null"`
	CreatedAt  time.Time `gorm:"not null"`
	UpdatedAt  time.Time `gorm:"not null"`
	DeletedAt  *time.Time
}

func (v3TagRule) TableName() string { return "tag_rules" }

type v3TagRuleRun struct {
	RuleID     uint64    `gorm:"primaryKey;autoIncrement:false"`
	LeadID     uint64    `gorm:"primaryKey;autoIncrement:false"`
	TriggerKey string    `gorm:"primaryKey;size:128"`
	At         time.Time `gorm:"not null"`
}

func (v3TagRuleRun) TableName() string { return "tag_rule_runs" }

type v3ScoringConfig struct {
	CorpID    string    `gorm:"primaryKey;size:64"`
	Config    string    `gorm:"type:text;not null"`
	Version   int       `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

func (v3ScoringConfig) TableName() string { return "scoring_configs" }

type v3CRMStatus struct {
	CorpID     string    `gorm:"primaryKey;size:64"`
	CRMEventID string    `gorm:"column:crm_event_id;primaryKey;size:128"`
	LeadID     uint64    `gorm:"not null"`
	Status     string    `gorm:"size:16;not null"`
	Result     string    `gorm:"size:512;not null"`
	At         time.Time `gorm:"not null"`
}

func (v3CRMStatus) TableName() string { return "crm_statuses" }

// v3APIToken adds the WeCom userid a staff token acts for (sales see only
// their own leads).
type v3APIToken struct {
	UserID string `gorm:"size:64;not null;default:''"`
}

func (v3APIToken) TableName() string { return "api_tokens" }

func migrateV3(tx *gorm.DB) error {
	if err := createTables(tx, &v3Lead{}, &v3LeadTransition{}, &v3TagRule{}, &v3TagRuleRun{}, &v3ScoringConfig{}, &v3CRMStatus{}); err != nil {
		return err
	}
	if !tx.Migrator().HasColumn(&v3APIToken{}, "UserID") {
		return tx.Migrator().AddColumn(&v3APIToken{}, "UserID")
	}
	return nil
}
