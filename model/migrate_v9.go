package model

import (
	"time"

	"gorm.io/gorm"
)

// --- version 9: deadline lanes, shared API budgets, landing-page holds ------

// Work with a deadline is claimed ahead of bulk work: `lane` 1 on an event is
// an add whose welcome has a window, on a job a cap sync (sync_way); 0 is
// everything else. A claim first walks (status, lane, id) for lane 1, then
// the usual (status, id) for whatever capacity is left.
type v9Event struct {
	Status string `gorm:"index:idx_events_lane,priority:1"`
	Lane   int    `gorm:"not null;default:0;index:idx_events_lane,priority:2"`
	ID     uint64 `gorm:"index:idx_events_lane,priority:3"`
}

func (v9Event) TableName() string { return "wecom_events" }

type v9Job struct {
	Status string `gorm:"index:idx_jobs_lane,priority:1"`
	Lane   int    `gorm:"not null;default:0;index:idx_jobs_lane,priority:2"`
	ID     uint64 `gorm:"index:idx_jobs_lane,priority:3"`
}

func (v9Job) TableName() string { return "jobs" }

// v9APIBudget is one corp's call budget for one API, shared by every replica:
// the sliding windows' counts, claimed in chunks under a row lock.
type v9APIBudget struct {
	Name      string `gorm:"primaryKey;size:191"`
	State     string `gorm:"type:text;not null"`
	UpdatedAt time.Time
}

func (v9APIBudget) TableName() string { return "api_budgets" }

// v9PickHold is a precise-mode landing-page pick: it counts toward the staff
// member's cap while it is live, becomes an add when that customer's add
// arrives (consumed_at), and is let go when it expires unused.
type v9PickHold struct {
	ID         uint64 `gorm:"primaryKey"`
	CodeID     uint64 `gorm:"not null;index:idx_pick_holds_live,priority:1"`
	Day        string `gorm:"size:10;not null;index:idx_pick_holds_live,priority:2"`
	UserID     string `gorm:"size:64;not null;index:idx_pick_holds_live,priority:3"`
	ExpiresAt  time.Time
	ConsumedAt *time.Time
	CreatedAt  time.Time
}

func (v9PickHold) TableName() string { return "pick_holds" }

func migrateV9(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, c := range []struct {
		model any
		index string
	}{{&v9Event{}, "idx_events_lane"}, {&v9Job{}, "idx_jobs_lane"}} {
		if !m.HasColumn(c.model, "Lane") {
			if err := m.AddColumn(c.model, "Lane"); err != nil {
				return err
			}
		}
		if !m.HasIndex(c.model, c.index) {
			if err := m.CreateIndex(c.model, c.index); err != nil {
				return err
			}
		}
	}
	return m.AutoMigrate(&v9APIBudget{}, &v9PickHold{})
}
