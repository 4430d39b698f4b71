package channelcode

import (
	"context"
	"time"

	"github.com/leadgate/scrm-gateway/model"
)

// Store is what the channel codes (with the precise mode and the code cache) needs from the database; model.Store satisfies it.
type Store interface {
	ActiveChannelCodes(ctx context.Context) ([]model.ChannelCode, error)
	ChannelCodeBySlug(ctx context.Context, slug string) (*model.ChannelCode, error)
	ChannelCodesVersion(ctx context.Context) (string, error)
	CodeStats(ctx context.Context, codeID uint64, from, to string) ([]model.CodeDailyStat, error)
	CorpTagsByName(ctx context.Context, corpID string, names []string) ([]model.CorpTag, error)
	CreateChannelCode(ctx context.Context, c *model.ChannelCode) error
	CreateMediaAsset(ctx context.Context, a *model.MediaAsset) (*model.MediaAsset, error)
	DayCounts(ctx context.Context, codeID uint64, day string) (map[string]int, error)
	DeleteChannelCode(ctx context.Context, id uint64) error
	GetChannelCode(ctx context.Context, corpID string, id uint64) (*model.ChannelCode, error)
	GetMediaAsset(ctx context.Context, corpID string, id uint64) (*model.MediaAsset, error)
	ListChannelCodes(ctx context.Context, f model.ChannelCodeFilter) ([]model.ChannelCode, error)
	LiveChannelCodeByState(ctx context.Context, corpID, state string) (*model.ChannelCode, error)
	LockChannelCode(ctx context.Context, codeID uint64, fn func(c *model.ChannelCode, counts func(day string, at time.Time) (map[string]int, error), hold func(day, userID string, until time.Time) error) error) error
	MediaAssetsByID(ctx context.Context, ids []uint64) ([]model.MediaAsset, error)
	MediaAssetsExpiringBefore(ctx context.Context, t time.Time) ([]model.MediaAsset, error)
	PrunePickHolds(ctx context.Context, before time.Time, limit int) (int64, error)
	RearmJob(ctx context.Context, j *model.Job) error
	SaveChannelCode(ctx context.Context, c *model.ChannelCode) error
	SetChannelCodeAlert(ctx context.Context, id uint64, alert string) error
	SetMediaUploaded(ctx context.Context, id uint64, mediaID string, uploadedAt, expiresAt time.Time) error
	UpdateChannelCodeSync(ctx context.Context, id uint64, wecomUsers, alert string) error
	UpsertCorpTags(ctx context.Context, tags []model.CorpTag) error
}
