package storecode

import (
	"context"
	"time"

	"github.com/leadgate/scrm-gateway/model"
)

// Store is what the stores and store codes needs from the database; model.Store satisfies it.
type Store interface {
	AddsByState(ctx context.Context, corpID string, states []string, from, to time.Time) ([]model.StateAdd, error)
	CountStoreScans(ctx context.Context, corpID string, codeID, storeID uint64, day string, n int) error
	CreateRetailStores(ctx context.Context, stores []*model.RetailStore) error
	CreateStoreCode(ctx context.Context, c *model.StoreCode) error
	DeleteRetailStore(ctx context.Context, id uint64) error
	DeleteStoreCode(ctx context.Context, id uint64) error
	GetRetailStore(ctx context.Context, corpID string, id uint64) (*model.RetailStore, error)
	GetStoreCode(ctx context.Context, corpID string, id uint64) (*model.StoreCode, error)
	GetStoreCodeWay(ctx context.Context, id uint64) (*model.StoreCodeWay, error)
	ListRetailStores(ctx context.Context, f model.RetailStoreFilter) ([]model.RetailStore, error)
	ListStoreCodes(ctx context.Context, corpID string, afterID uint64, limit int) ([]model.StoreCode, error)
	LiveStoreCodeWays(ctx context.Context) ([]model.StoreCodeWay, error)
	RearmJob(ctx context.Context, j *model.Job) error
	RetailStoresByID(ctx context.Context, corpID string, ids []uint64) ([]model.RetailStore, error)
	RetireStoreCodeWay(ctx context.Context, id uint64) error
	SaveRetailStore(ctx context.Context, st *model.RetailStore) error
	SaveStoreCode(ctx context.Context, c *model.StoreCode) error
	SaveStoreCodeWay(ctx context.Context, w *model.StoreCodeWay) error
	StoreCodeAllWays(ctx context.Context, codeID uint64) ([]model.StoreCodeWay, error)
	StoreCodeBySlug(ctx context.Context, slug string) (*model.StoreCode, error)
	StoreCodeJoinCounts(ctx context.Context, codeID uint64, from, to string) ([]model.ChatDayCount, error)
	StoreCodeWayByState(ctx context.Context, corpID, state string) (*model.StoreCodeWay, error)
	StoreCodeWays(ctx context.Context, codeID uint64) ([]model.StoreCodeWay, error)
	StoreCodeWaysOfStore(ctx context.Context, storeID uint64) ([]model.StoreCodeWay, error)
	StoreLandingVersion(ctx context.Context) (string, error)
	StoreScanCounts(ctx context.Context, codeID uint64, from, to string) ([]model.ChatDayCount, error)
}
