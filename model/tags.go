package model

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CorpTag is one entry of a corp's WeCom tag catalogue.
type CorpTag struct {
	CorpID    string `gorm:"primaryKey"`
	TagID     string `gorm:"primaryKey"`
	Name      string
	GroupID   string
	GroupName string
	UpdatedAt time.Time
}

func (CorpTag) TableName() string { return "corp_tags" }

// UpsertCorpTags stores catalogue entries.
func (s *Store) UpsertCorpTags(ctx context.Context, tags []CorpTag) error {
	if len(tags) == 0 {
		return nil
	}
	now := s.Now()
	for i := range tags {
		tags[i].UpdatedAt = now
	}
	err := s.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "corp_id"}, {Name: "tag_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"name", "group_id", "group_name", "updated_at"}),
	}).Create(&tags).Error
	if err != nil {
		return fmt.Errorf("store: unable to save corp tags: %w", err)
	}
	return nil
}

// CorpTagsByName returns the catalogue entries with these names.
func (s *Store) CorpTagsByName(ctx context.Context, corpID string, names []string) ([]CorpTag, error) {
	var out []CorpTag
	if len(names) == 0 {
		return nil, nil
	}
	err := s.db.WithContext(ctx).Where("corp_id = ? AND name IN ?", corpID, names).Order("tag_id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read corp tags: %w", err)
	}
	return out, nil
}

// MediaAsset is an image the gateway keeps uploaded to WeCom (media_ids last
// three days) for welcome messages.
type MediaAsset struct {
	ID          uint64
	CorpID      string
	SHA256      string `gorm:"column:sha256"`
	Filename    string
	ContentType string
	Data        []byte
	MediaID     string
	UploadedAt  *time.Time
	ExpiresAt   *time.Time
	CreatedAt   time.Time
}

func (MediaAsset) TableName() string { return "media_assets" }

// CreateMediaAsset stores an asset, or returns the existing one with the same content.
func (s *Store) CreateMediaAsset(ctx context.Context, a *MediaAsset) (*MediaAsset, error) {
	a.CreatedAt = s.Now()
	db := s.db.WithContext(ctx)
	err := db.Create(a).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		var cur MediaAsset
		if err := db.Where("corp_id = ? AND sha256 = ?", a.CorpID, a.SHA256).First(&cur).Error; err != nil {
			return nil, fmt.Errorf("store: unable to read media asset: %w", err)
		}
		return &cur, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to create media asset: %w", err)
	}
	return a, nil
}

// GetMediaAsset returns an asset of corp.
func (s *Store) GetMediaAsset(ctx context.Context, corpID string, id uint64) (*MediaAsset, error) {
	var a MediaAsset
	err := s.db.WithContext(ctx).Where("id = ? AND corp_id = ?", id, corpID).First(&a).Error
	return &a, notFound(err, "media asset")
}

// MediaAssetsByID returns assets without their data (for the welcome cache).
func (s *Store) MediaAssetsByID(ctx context.Context, ids []uint64) ([]MediaAsset, error) {
	var out []MediaAsset
	if len(ids) == 0 {
		return nil, nil
	}
	err := s.db.WithContext(ctx).Omit("data").Where("id IN ?", ids).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read media assets: %w", err)
	}
	return out, nil
}

// SetMediaUploaded records a fresh media_id.
func (s *Store) SetMediaUploaded(ctx context.Context, id uint64, mediaID string, uploadedAt, expiresAt time.Time) error {
	return s.db.WithContext(ctx).Model(&MediaAsset{}).Where("id = ?", id).Updates(map[string]any{
		"media_id": mediaID, "uploaded_at": uploadedAt.UTC(), "expires_at": expiresAt.UTC(),
	}).Error
}

// MediaAssetsExpiringBefore lists assets whose media_id is missing or
// expires before t (without their data).
func (s *Store) MediaAssetsExpiringBefore(ctx context.Context, t time.Time) ([]MediaAsset, error) {
	var out []MediaAsset
	err := s.db.WithContext(ctx).Omit("data").Where("expires_at IS NULL OR expires_at < ?", t).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read expiring media: %w", err)
	}
	return out, nil
}

// ReplaceCorpTags makes a corp's catalogue exactly tags (a full reconcile
// with WeCom): entries not in tags are removed.
func (s *Store) ReplaceCorpTags(ctx context.Context, corpID string, tags []CorpTag) error {
	now := s.Now()
	return retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			ids := make([]string, 0, len(tags))
			for i := range tags {
				tags[i].CorpID, tags[i].UpdatedAt = corpID, now
				ids = append(ids, tags[i].TagID)
			}
			del := tx.Where("corp_id = ?", corpID)
			if len(ids) > 0 {
				del = del.Where("tag_id NOT IN ?", ids)
			}
			if err := del.Delete(&CorpTag{}).Error; err != nil {
				return err
			}
			if len(tags) == 0 {
				return nil
			}
			return tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "corp_id"}, {Name: "tag_id"}},
				DoUpdates: clause.AssignmentColumns([]string{"name", "group_id", "group_name", "updated_at"}),
			}).CreateInBatches(&tags, 200).Error
		})
	})
}

// ListCorpTags returns a corp's catalogue.
func (s *Store) ListCorpTags(ctx context.Context, corpID string) ([]CorpTag, error) {
	var out []CorpTag
	err := s.db.WithContext(ctx).Where("corp_id = ?", corpID).Order("group_name, name").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to list corp tags: %w", err)
	}
	return out, nil
}
