package model

import (
	"time"

	"gorm.io/gorm"
)

// --- version 16: running tallies of live pick holds ---------------------------

// v16PickHold gains Released: set when the hold stops counting (consumed by
// its add, or swept once expired), and indexed with the code and expiry so
// a pick finds the holds that ran out since the last one without reading
// the live ones.
type v16PickHold struct {
	ID        uint64    `gorm:"primaryKey"`
	CodeID    uint64    `gorm:"not null;index:idx_pick_holds_sweep,priority:1"`
	Released  bool      `gorm:"not null;default:false;index:idx_pick_holds_sweep,priority:2;index:idx_pick_holds_released"`
	ExpiresAt time.Time `gorm:"index:idx_pick_holds_sweep,priority:3"`
}

func (v16PickHold) TableName() string { return "pick_holds" }

// v16PickTally is the number of a staff member's holds of a code and day
// that still count.
type v16PickTally struct {
	CodeID uint64 `gorm:"primaryKey;autoIncrement:false"`
	Day    string `gorm:"primaryKey;size:10"`
	UserID string `gorm:"primaryKey;size:64"`
	Live   int    `gorm:"not null;default:0"`
}

func (v16PickTally) TableName() string { return "pick_tallies" }

func migrateV16(tx *gorm.DB) error {
	m := tx.Migrator()
	if !m.HasColumn(&v16PickHold{}, "Released") {
		if err := m.AddColumn(&v16PickHold{}, "Released"); err != nil {
			return err
		}
		// A consumed hold counts no more; expired ones are released by the
		// next pick of their code or the next prune.
		if err := tx.Model(&v16PickHold{}).Where("consumed_at IS NOT NULL").Update("released", true).Error; err != nil {
			return err
		}
	}
	for _, idx := range []string{"idx_pick_holds_sweep", "idx_pick_holds_released"} {
		if !m.HasIndex(&v16PickHold{}, idx) {
			if err := m.CreateIndex(&v16PickHold{}, idx); err != nil {
				return err
			}
		}
	}
	if m.HasTable(&v16PickTally{}) {
		return nil
	}
	if err := m.CreateTable(&v16PickTally{}); err != nil {
		return err
	}
	return tx.Exec("INSERT INTO pick_tallies (code_id, day, user_id, live) "+
		"SELECT code_id, day, user_id, COUNT(*) FROM pick_holds WHERE released = ? GROUP BY code_id, day, user_id", false).Error
}
