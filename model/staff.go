package model

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// StaffMember is one WeCom staff member of a corp as its address book last
// said: the directory the console's pickers and the API's userid checks use.
type StaffMember struct {
	CorpID      string `gorm:"primaryKey"`
	UserID      string `gorm:"primaryKey"`
	Name        string
	Departments string // JSON owned by service
	Avatar      string
	Status      int
	RefreshedAt time.Time
}

func (StaffMember) TableName() string { return "staff_members" }

// ReplaceStaff makes list the corp's whole directory, in one transaction.
func (s *Store) ReplaceStaff(ctx context.Context, corpID string, list []StaffMember) error {
	now := s.Now()
	err := retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Where("corp_id = ?", corpID).Delete(&StaffMember{}).Error; err != nil {
				return err
			}
			for i := range list {
				list[i].CorpID, list[i].RefreshedAt = corpID, now
				list[i].Name, list[i].Avatar = truncate(list[i].Name, 128), truncate(list[i].Avatar, 512)
				list[i].Departments = truncate(list[i].Departments, 1024)
			}
			if len(list) == 0 {
				return nil
			}
			return tx.CreateInBatches(list, 200).Error
		})
	})
	if err != nil {
		return fmt.Errorf("store: unable to replace the staff directory: %w", err)
	}
	return nil
}

// ListStaff returns the corp's directory by userid.
func (s *Store) ListStaff(ctx context.Context, corpID string) ([]StaffMember, error) {
	var out []StaffMember
	if err := s.db.WithContext(ctx).Where("corp_id = ?", corpID).Order("user_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read the staff directory: %w", err)
	}
	return out, nil
}

// KnownStaff returns those of userIDs that are in the corp's directory.
func (s *Store) KnownStaff(ctx context.Context, corpID string, userIDs []string) ([]string, error) {
	var out []string
	if len(userIDs) == 0 {
		return out, nil
	}
	err := s.db.WithContext(ctx).Model(&StaffMember{}).Where("corp_id = ? AND user_id IN ?", corpID, userIDs).Pluck("user_id", &out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to look up staff: %w", err)
	}
	return out, nil
}

// StaffNames maps those of userIDs that are in the corp's directory to their names.
func (s *Store) StaffNames(ctx context.Context, corpID string, userIDs []string) (map[string]string, error) {
	return staffNames(s.db.WithContext(ctx), corpID, userIDs)
}

// StaffName is a staff member's name as the directory has it; "" when unknown.
func (r OutboxReader) StaffName(corpID, userID string) (string, error) {
	names, err := staffNames(r.tx, corpID, []string{userID})
	return names[userID], err
}

func staffNames(db *gorm.DB, corpID string, userIDs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []StaffMember
	if err := db.Select("user_id", "name").Where("corp_id = ? AND user_id IN ?", corpID, userIDs).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read staff names: %w", err)
	}
	for _, r := range rows {
		out[r.UserID] = r.Name
	}
	return out, nil
}
