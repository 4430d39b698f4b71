package model

import "gorm.io/gorm"

// --- version 6: queue indexes that keep a claim's cost flat ----------------

// A claim reads pending rows in id order (order of arrival). With the index
// on (status, available_at) the database had to sort every pending row on
// each claim: draining a backlog of n events cost O(n²) (measured: 919
// events/s at 1,000 pending, 256/s at 4,000 on SQLite). (status, id) hands
// the rows over in order; available_at is checked on the way.
type v6Event struct {
	Status string `gorm:"index:idx_events_queue,priority:1"`
	ID     uint64 `gorm:"index:idx_events_queue,priority:2"`
}

func (v6Event) TableName() string { return "wecom_events" }

type v6Job struct {
	Status string `gorm:"index:idx_jobs_queue,priority:1"`
	ID     uint64 `gorm:"index:idx_jobs_queue,priority:2"`
}

func (v6Job) TableName() string { return "jobs" }

func migrateV6(tx *gorm.DB) error {
	m := tx.Migrator()
	for _, ix := range []struct {
		model     any
		drop, add string
	}{
		{&v1Event{}, "idx_events_claim", "idx_events_queue"},
		{&v2Job{}, "idx_jobs_claim", "idx_jobs_queue"},
	} {
		if m.HasIndex(ix.model, ix.drop) {
			if err := m.DropIndex(ix.model, ix.drop); err != nil {
				return err
			}
		}
	}
	for _, ix := range []struct {
		model any
		name  string
	}{{&v6Event{}, "idx_events_queue"}, {&v6Job{}, "idx_jobs_queue"}} {
		if !m.HasIndex(ix.model, ix.name) {
			if err := m.CreateIndex(ix.model, ix.name); err != nil {
				return err
			}
		}
	}
	return nil
}
