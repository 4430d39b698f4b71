package groupcode

import (
	"context"

	"github.com/leadgate/scrm-gateway/model"
)

// Store is what the group codes needs from the database; model.Store satisfies it.
type Store interface {
	AdoptGroupChat(ctx context.Context, p model.GroupCodeChat) (bool, error)
	CreateGroupCode(ctx context.Context, c *model.GroupCode, pool []model.GroupCodeChat) error
	DeleteGroupCode(ctx context.Context, id uint64) error
	GetGroupCode(ctx context.Context, corpID string, id uint64) (*model.GroupCode, error)
	GroupCodeBySlug(ctx context.Context, slug string) (*model.GroupCode, error)
	GroupCodeMemberCounts(ctx context.Context, codeID uint64, from, to string) ([]model.ChatDayCount, error)
	GroupCodePool(ctx context.Context, codeID uint64) ([]model.GroupCodeChat, error)
	GroupLandingVersion(ctx context.Context) (string, error)
	ListGroupCodes(ctx context.Context, f model.GroupCodeFilter) ([]model.GroupCode, error)
	MarkGroupChatDismissed(ctx context.Context, corpID, chatID string) (bool, error)
	PoolChat(ctx context.Context, corpID, chatID string) (*model.GroupCodeChat, error)
	PooledChats(ctx context.Context, corpID string, chatIDs []string) (map[string]uint64, error)
	RearmJob(ctx context.Context, j *model.Job) error
	RecordChatChange(ctx context.Context, ch model.ChatChange) (int, error)
	ReplaceGroupCodePool(ctx context.Context, c *model.GroupCode, pool []model.GroupCodeChat) error
	SaveGroupCode(ctx context.Context, c *model.GroupCode) error
	SetGroupChatCounts(ctx context.Context, corpID, chatID string, c model.ChatCounts) error
	SetGroupCodeAlert(ctx context.Context, id uint64, alert string) error
	SetGroupCodeSync(ctx context.Context, id uint64, chatList string, dry bool, alert string, reconciled bool) error
	StoreGroupWays(ctx context.Context, corpID, chatID string) ([]model.StoreCodeWay, error)
}
