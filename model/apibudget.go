package model

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// APIBudget is one corp's call budget for one WeCom API, shared by every
// replica. State is the wecom package's own encoding of its windows; the
// store only keeps it and serializes the replicas that change it.
type APIBudget struct {
	Name      string `gorm:"primaryKey"`
	State     string
	UpdatedAt time.Time
}

func (APIBudget) TableName() string { return "api_budgets" }

// UpdateBudget runs fn on the budget name's state (empty when new) while the
// row is locked against every other replica, and stores what fn returns. It
// is one short transaction: one locking read and one write.
func (s *Store) UpdateBudget(ctx context.Context, name string, fn func(state []byte) ([]byte, error)) error {
	err := retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for attempt := 0; attempt < 2; attempt++ {
				var cur APIBudget
				q := tx.Where("name = ?", name)
				if s.dialect == "mysql" {
					q = q.Clauses(clause.Locking{Strength: "UPDATE"})
				}
				err := q.Take(&cur).Error
				if errors.Is(err, gorm.ErrRecordNotFound) {
					// Create the row with fn's state; if another replica
					// created it meanwhile, lock that one like any other.
					next, err := fn(nil)
					if err != nil {
						return err
					}
					res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&APIBudget{Name: name, State: string(next), UpdatedAt: s.Now()})
					if res.Error != nil && !errors.Is(res.Error, gorm.ErrDuplicatedKey) {
						return res.Error
					}
					if res.Error == nil && res.RowsAffected == 1 {
						return nil
					}
					continue
				}
				if err != nil {
					return err
				}
				next, err := fn([]byte(cur.State))
				if err != nil {
					return err
				}
				return tx.Model(&APIBudget{}).Where("name = ?", name).
					Updates(map[string]any{"state": string(next), "updated_at": s.Now()}).Error
			}
			return errors.New("budget row vanished")
		})
	})
	if err != nil {
		return fmt.Errorf("store: unable to update budget %s: %w", name, err)
	}
	return nil
}

// BudgetStates returns the states of the budgets whose names begin with
// prefix, by name: one plain read, no lock.
func (s *Store) BudgetStates(ctx context.Context, prefix string) (map[string][]byte, error) {
	var rows []APIBudget
	esc := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(prefix)
	if err := s.db.WithContext(ctx).Select("name", "state").Where("name LIKE ? ESCAPE '!'", esc+"%").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read budgets %s: %w", prefix, err)
	}
	out := make(map[string][]byte, len(rows))
	for _, r := range rows {
		out[r.Name] = []byte(r.State)
	}
	return out, nil
}
