package model

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// APIToken is an admin-API credential. Only the SHA-256 of the secret is kept.
type APIToken struct {
	ID         uint64
	Name       string
	Role       string
	Hash       string
	Prefix     string
	UserID     string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
	// ExpiresAt, when set, ends the token without revoking it.
	ExpiresAt *time.Time
}

func (APIToken) TableName() string { return "api_tokens" }

// CreateAPIToken stores a token row.
func (s *Store) CreateAPIToken(ctx context.Context, t *APIToken) error {
	t.CreatedAt = s.Now()
	if err := s.db.WithContext(ctx).Create(t).Error; err != nil {
		return fmt.Errorf("store: unable to create api token: %w", err)
	}
	return nil
}

// APITokenByHash finds an unrevoked token by the hash of its secret.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (*APIToken, error) {
	var t APIToken
	err := s.db.WithContext(ctx).Where("hash = ? AND revoked_at IS NULL", hash).First(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to look up api token: %w", err)
	}
	return &t, nil
}

// ListAPITokens returns every token, revoked ones too, by id.
func (s *Store) ListAPITokens(ctx context.Context) ([]APIToken, error) {
	var out []APIToken
	if err := s.db.WithContext(ctx).Order("id").Limit(10000).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list api tokens: %w", err)
	}
	return out, nil
}

// RevokeAPIToken revokes a live token; ErrNotFound when there is none.
func (s *Store) RevokeAPIToken(ctx context.Context, id uint64) error {
	res := s.db.WithContext(ctx).Model(&APIToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.Now())
	if res.Error != nil {
		return fmt.Errorf("store: unable to revoke api token: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// TouchAPIToken records use of a token.
func (s *Store) TouchAPIToken(ctx context.Context, id uint64, at time.Time) error {
	return s.db.WithContext(ctx).Model(&APIToken{}).Where("id = ?", id).Update("last_used_at", at.UTC()).Error
}

// WeComToken is a cached WeCom access token shared by every replica.
type WeComToken struct {
	Key       string `gorm:"primaryKey"`
	Value     string `gorm:"serializer:sealed"`
	ExpiresAt time.Time
	UpdatedAt time.Time
}

func (WeComToken) TableName() string { return "wecom_tokens" }

// LoadWeComToken returns the cached token under key.
func (s *Store) LoadWeComToken(ctx context.Context, key string) (value string, expiresAt time.Time, ok bool, err error) {
	var t WeComToken
	err = s.db.WithContext(ctx).Where("`key` = ?", key).First(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("store: unable to load wecom token: %w", err)
	}
	return t.Value, t.ExpiresAt, true, nil
}

// SaveWeComToken upserts the cached token under key.
func (s *Store) SaveWeComToken(ctx context.Context, key, value string, expiresAt time.Time) error {
	t := WeComToken{Key: key, Value: value, ExpiresAt: expiresAt.UTC(), UpdatedAt: s.Now()}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "key"}},
		DoUpdates: clause.AssignmentColumns([]string{"value", "expires_at", "updated_at"}),
	}).Create(&t).Error
	if err != nil {
		return fmt.Errorf("store: unable to save wecom token: %w", err)
	}
	return nil
}

// DropWeComToken deletes the cached token only if it still has value. The
// stored value is sealed under a fresh nonce, so it is read and compared
// opened, then deleted only if the row still holds what was read.
func (s *Store) DropWeComToken(ctx context.Context, key, value string) error {
	db := s.db.WithContext(ctx)
	var row struct{ Value string }
	err := db.Model(&WeComToken{}).Select("value").Where("`key` = ?", key).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err == nil {
		var plain string
		if plain, err = s.keys.open("wecom_tokens.value", row.Value); err == nil && plain == value {
			err = db.Where("`key` = ? AND value = ?", key, row.Value).Delete(&WeComToken{}).Error
		}
	}
	if err != nil {
		return fmt.Errorf("store: unable to drop wecom token: %w", err)
	}
	return nil
}

// Lease is a named, time-bound claim held by one replica (cron jobs, one
// writer per contact way).
type Lease struct {
	Name      string `gorm:"primaryKey"`
	Holder    string
	ExpiresAt time.Time
}

func (Lease) TableName() string { return "leases" }

// AcquireLease takes or renews the lease name for holder until now+ttl. It
// succeeds when the lease is free, expired, or already held by holder.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := s.Now()
	until := now.Add(ttl)
	db := s.db.WithContext(ctx)
	res := db.Model(&Lease{}).Where("name = ? AND (holder = ? OR expires_at < ?)", name, holder, now).
		Updates(map[string]any{"holder": holder, "expires_at": until})
	if res.Error != nil {
		return false, fmt.Errorf("store: unable to acquire lease %s: %w", name, res.Error)
	}
	if res.RowsAffected == 1 {
		return true, nil
	}
	err := db.Create(&Lease{Name: name, Holder: holder, ExpiresAt: until}).Error
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, gorm.ErrDuplicatedKey) {
		return false, fmt.Errorf("store: unable to acquire lease %s: %w", name, err)
	}
	// MySQL reports 0 affected rows when a renewal writes identical values;
	// the row then still names us.
	var l Lease
	if err := db.Where("name = ?", name).First(&l).Error; err != nil {
		return false, fmt.Errorf("store: unable to read lease %s: %w", name, err)
	}
	return l.Holder == holder && !l.ExpiresAt.Before(now), nil
}

// ReleaseLease gives up a lease held by holder.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	return s.db.WithContext(ctx).Where("name = ? AND holder = ?", name, holder).Delete(&Lease{}).Error
}
