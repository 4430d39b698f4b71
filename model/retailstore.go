package model

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// RetailStore is a physical store of a corp (the table is "stores"; the
// name avoids the database type). Staff is the JSON roster owned by service.
type RetailStore struct {
	ID          uint64
	CorpID      string
	Name        string
	Address     string
	Province    string
	City        string
	Latitude    float64 // GCJ-02, as WeChat reports positions in China
	Longitude   float64
	Staff       string
	GroupChatID string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	DeletedAt   *time.Time
}

func (RetailStore) TableName() string { return "stores" }

// StoreCode is a store live code: a set of stores (its ways), a search
// radius, a fallback store, and whether customers are offered the store's
// staff or its group.
type StoreCode struct {
	ID            uint64
	CorpID        string
	Name          string
	Title         string
	Slug          string
	RadiusM       int
	FallbackStore uint64
	Offer         string
	UTM           string `gorm:"column:utm"`
	CreatedBy     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	DeletedAt     *time.Time
}

func (StoreCode) TableName() string { return "store_codes" }

// StoreCodeWay is one store of a store code with that pair's own contact
// way (and join way, when the code offers groups). Its state names both,
// so an add is attributed to code and store. A store taken off the code is
// retired, not deleted, so old adds stay attributed.
type StoreCodeWay struct {
	ID           uint64
	CorpID       string
	CodeID       uint64
	StoreID      uint64
	State        string
	ConfigID     string
	QRCode       string
	WeComUsers   string `gorm:"column:wecom_users"`
	JoinConfigID string
	JoinQRCode   string
	JoinChatID   string
	Alert        string
	SyncedAt     *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	RetiredAt    *time.Time
}

func (StoreCodeWay) TableName() string { return "store_code_ways" }

type storeDailyStat struct {
	CodeID  uint64 `gorm:"primaryKey"`
	StoreID uint64 `gorm:"primaryKey"`
	Day     string `gorm:"primaryKey"`
	CorpID  string
	Scans   int
}

func (storeDailyStat) TableName() string { return "store_daily_stats" }

// CreateRetailStores inserts stores in one transaction.
func (s *Store) CreateRetailStores(ctx context.Context, stores []*RetailStore) error {
	if len(stores) == 0 {
		return nil
	}
	now := s.Now()
	for _, st := range stores {
		st.CreatedAt, st.UpdatedAt = now, now
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, st := range stores {
			if err := tx.Create(st).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: unable to create stores: %w", err)
	}
	return nil
}

// SaveRetailStore writes every column of a store.
func (s *Store) SaveRetailStore(ctx context.Context, st *RetailStore) error {
	st.UpdatedAt = s.Now()
	if err := s.db.WithContext(ctx).Save(st).Error; err != nil {
		return fmt.Errorf("store: unable to save store %d: %w", st.ID, err)
	}
	return nil
}

// DeleteRetailStore marks a store deleted.
func (s *Store) DeleteRetailStore(ctx context.Context, id uint64) error {
	now := s.Now()
	return s.db.WithContext(ctx).Model(&RetailStore{}).Where("id = ? AND deleted_at IS NULL", id).
		Updates(map[string]any{"deleted_at": now, "updated_at": now}).Error
}

// GetRetailStore returns a live store of corp.
func (s *Store) GetRetailStore(ctx context.Context, corpID string, id uint64) (*RetailStore, error) {
	var st RetailStore
	err := s.db.WithContext(ctx).Where("id = ? AND corp_id = ? AND deleted_at IS NULL", id, corpID).First(&st).Error
	return &st, notFound(err, "store")
}

// RetailStoresByID returns the live stores of corp among ids.
func (s *Store) RetailStoresByID(ctx context.Context, corpID string, ids []uint64) ([]RetailStore, error) {
	var out []RetailStore
	if len(ids) == 0 {
		return out, nil
	}
	err := s.db.WithContext(ctx).Where("corp_id = ? AND id IN ? AND deleted_at IS NULL", corpID, ids).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read stores: %w", err)
	}
	return out, nil
}

// RetailStoreFilter selects stores for the admin API.
type RetailStoreFilter struct {
	CorpID  string
	City    string
	Q       string
	AfterID uint64
	Limit   int
}

// ListRetailStores returns live stores by id.
func (s *Store) ListRetailStores(ctx context.Context, f RetailStoreFilter) ([]RetailStore, error) {
	q := s.db.WithContext(ctx).Where("deleted_at IS NULL")
	if f.CorpID != "" {
		q = q.Where("corp_id = ?", f.CorpID)
	}
	if f.City != "" {
		q = q.Where("city = ?", f.City)
	}
	if f.Q != "" {
		like := "%" + escapeLike(f.Q) + "%"
		q = q.Where("(name LIKE ? OR address LIKE ?)", like, like)
	}
	if f.AfterID > 0 {
		q = q.Where("id > ?", f.AfterID)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var out []RetailStore
	if err := q.Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list stores: %w", err)
	}
	return out, nil
}

// CreateStoreCode inserts a code; a taken slug is ErrConflict.
func (s *Store) CreateStoreCode(ctx context.Context, c *StoreCode) error {
	now := s.Now()
	c.CreatedAt, c.UpdatedAt = now, now
	err := s.db.WithContext(ctx).Create(c).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: unable to create store code: %w", err)
	}
	return nil
}

// SaveStoreCode writes every column of a code.
func (s *Store) SaveStoreCode(ctx context.Context, c *StoreCode) error {
	c.UpdatedAt = s.Now()
	if err := s.db.WithContext(ctx).Save(c).Error; err != nil {
		return fmt.Errorf("store: unable to save store code %d: %w", c.ID, err)
	}
	return nil
}

// DeleteStoreCode marks a code deleted and retires its ways.
func (s *Store) DeleteStoreCode(ctx context.Context, id uint64) error {
	now := s.Now()
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Model(&StoreCode{}).Where("id = ? AND deleted_at IS NULL", id).
			Updates(map[string]any{"deleted_at": now, "updated_at": now}).Error; err != nil {
			return err
		}
		return tx.Model(&StoreCodeWay{}).Where("code_id = ? AND retired_at IS NULL", id).
			Updates(map[string]any{"retired_at": now, "updated_at": now}).Error
	})
}

// GetStoreCode returns a live code of corp.
func (s *Store) GetStoreCode(ctx context.Context, corpID string, id uint64) (*StoreCode, error) {
	var c StoreCode
	err := s.db.WithContext(ctx).Where("id = ? AND corp_id = ? AND deleted_at IS NULL", id, corpID).First(&c).Error
	return &c, notFound(err, "store code")
}

// StoreCodeBySlug returns a live code by its landing slug.
func (s *Store) StoreCodeBySlug(ctx context.Context, slug string) (*StoreCode, error) {
	var c StoreCode
	err := s.db.WithContext(ctx).Where("slug = ? AND deleted_at IS NULL", slug).First(&c).Error
	return &c, notFound(err, "store code")
}

// ListStoreCodes returns live codes of corp by id.
func (s *Store) ListStoreCodes(ctx context.Context, corpID string, afterID uint64, limit int) ([]StoreCode, error) {
	q := s.db.WithContext(ctx).Where("deleted_at IS NULL")
	if corpID != "" {
		q = q.Where("corp_id = ?", corpID)
	}
	if afterID > 0 {
		q = q.Where("id > ?", afterID)
	}
	if limit > 0 {
		q = q.Limit(limit)
	}
	var out []StoreCode
	if err := q.Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list store codes: %w", err)
	}
	return out, nil
}

// StoreCodeWays returns a code's live (unretired) ways by store id.
func (s *Store) StoreCodeWays(ctx context.Context, codeID uint64) ([]StoreCodeWay, error) {
	var out []StoreCodeWay
	err := s.db.WithContext(ctx).Where("code_id = ? AND retired_at IS NULL", codeID).Order("store_id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read ways of store code %d: %w", codeID, err)
	}
	return out, nil
}

// LiveStoreCodeWays returns every unretired way (the staff reconcile).
func (s *Store) LiveStoreCodeWays(ctx context.Context) ([]StoreCodeWay, error) {
	var out []StoreCodeWay
	if err := s.db.WithContext(ctx).Where("retired_at IS NULL").Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read store code ways: %w", err)
	}
	return out, nil
}

// StoreCodeWaysOfStore returns the unretired ways of one store.
func (s *Store) StoreCodeWaysOfStore(ctx context.Context, storeID uint64) ([]StoreCodeWay, error) {
	var out []StoreCodeWay
	err := s.db.WithContext(ctx).Where("store_id = ? AND retired_at IS NULL", storeID).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read ways of store %d: %w", storeID, err)
	}
	return out, nil
}

// StoreCodeWayByState returns a way (retired ones too: an add through a
// code that changed since still belongs to it).
func (s *Store) StoreCodeWayByState(ctx context.Context, corpID, state string) (*StoreCodeWay, error) {
	var w StoreCodeWay
	err := s.db.WithContext(ctx).Where("corp_id = ? AND state = ?", corpID, state).First(&w).Error
	return &w, notFound(err, "store code way")
}

// StoreCodeWayStates returns every way's state with its code and store (the
// attribution cache).
func (s *Store) StoreCodeWayStates(ctx context.Context) ([]StoreCodeWay, error) {
	var out []StoreCodeWay
	if err := s.db.WithContext(ctx).Select("id, corp_id, code_id, store_id, state").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read store code states: %w", err)
	}
	return out, nil
}

// SaveStoreCodeWay inserts or rewrites a way. A pair that exists already
// (a retired store put back on its code) is revived in place.
func (s *Store) SaveStoreCodeWay(ctx context.Context, w *StoreCodeWay) error {
	now := s.Now()
	w.UpdatedAt = now
	if w.ID == 0 {
		var old StoreCodeWay
		err := s.db.WithContext(ctx).Where("code_id = ? AND store_id = ?", w.CodeID, w.StoreID).First(&old).Error
		switch {
		case err == nil:
			w.ID, w.CreatedAt = old.ID, old.CreatedAt
		case errors.Is(err, gorm.ErrRecordNotFound):
			w.CreatedAt = now
		default:
			return fmt.Errorf("store: unable to read store code way: %w", err)
		}
	}
	err := s.db.WithContext(ctx).Save(w).Error
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: unable to save store code way: %w", err)
	}
	return nil
}

// RetireStoreCodeWay takes a store off its code.
func (s *Store) RetireStoreCodeWay(ctx context.Context, id uint64) error {
	now := s.Now()
	return s.db.WithContext(ctx).Model(&StoreCodeWay{}).Where("id = ?", id).
		Updates(map[string]any{"retired_at": now, "updated_at": now}).Error
}

// SetStoreCodeWaySync records the user list a way now holds.
func (s *Store) SetStoreCodeWaySync(ctx context.Context, id uint64, users, alert string) error {
	now := s.Now()
	return s.db.WithContext(ctx).Model(&StoreCodeWay{}).Where("id = ?", id).
		Updates(map[string]any{"wecom_users": users, "alert": truncate(alert, 512), "synced_at": now}).Error
}

// GetStoreCodeWay returns a way by id.
func (s *Store) GetStoreCodeWay(ctx context.Context, id uint64) (*StoreCodeWay, error) {
	var w StoreCodeWay
	err := s.db.WithContext(ctx).Where("id = ?", id).First(&w).Error
	return &w, notFound(err, "store code way")
}

// CountStoreScans adds n landing-page visits that showed a store.
func (s *Store) CountStoreScans(ctx context.Context, corpID string, codeID, storeID uint64, day string, n int) error {
	return retryable(func() error {
		return s.bump(s.db.WithContext(ctx), &storeDailyStat{CodeID: codeID, StoreID: storeID, Day: day, CorpID: corpID, Scans: n},
			[]string{"code_id", "store_id", "day"}, "scans", n)
	})
}

// StoreScanCounts returns a code's scans per store and day.
func (s *Store) StoreScanCounts(ctx context.Context, codeID uint64, from, to string) ([]ChatDayCount, error) {
	var rows []storeDailyStat
	if err := s.db.WithContext(ctx).Where("code_id = ? AND day >= ? AND day <= ?", codeID, from, to).
		Order("day, store_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read store scans: %w", err)
	}
	out := make([]ChatDayCount, len(rows))
	for i, r := range rows {
		out[i] = ChatDayCount{StoreID: r.StoreID, Day: r.Day, Kind: "scan", Count: r.Scans}
	}
	return out, nil
}

// StateAdd is one relation added through a state.
type StateAdd struct {
	State   string
	AddedAt time.Time
}

// AddsByState returns the relations added through any of states in
// [from, to), for statistics bucketed by the caller's local day.
func (s *Store) AddsByState(ctx context.Context, corpID string, states []string, from, to time.Time) ([]StateAdd, error) {
	var out []StateAdd
	if len(states) == 0 {
		return out, nil
	}
	err := s.db.WithContext(ctx).Model(&Relation{}).Select("state, added_at").
		Where("corp_id = ? AND state IN ? AND added_at >= ? AND added_at < ?", corpID, states, from, to).
		Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read adds: %w", err)
	}
	return out, nil
}

// StoreCodeAllWays returns a code's ways, retired ones too (statistics).
func (s *Store) StoreCodeAllWays(ctx context.Context, codeID uint64) ([]StoreCodeWay, error) {
	var out []StoreCodeWay
	if err := s.db.WithContext(ctx).Where("code_id = ?", codeID).Order("store_id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read ways of store code %d: %w", codeID, err)
	}
	return out, nil
}

// StoreGroupWays returns the ways (retired ones too) whose join way serves
// chatID, so a join through an old code still counts for it.
func (s *Store) StoreGroupWays(ctx context.Context, corpID, chatID string) ([]StoreCodeWay, error) {
	var out []StoreCodeWay
	err := s.db.WithContext(ctx).Where("corp_id = ? AND join_chat_id = ?", corpID, chatID).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to read store group ways: %w", err)
	}
	return out, nil
}
