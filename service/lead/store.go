package lead

import (
	"context"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/livecode"
)

// Store is what the leads service needs from the database.
type Store interface {
	CRMStatusByEvent(ctx context.Context, corpID, eventID string) (*model.CRMStatus, error)
	ContactByExternalID(ctx context.Context, corpID, externalUserID string) (*model.Contact, error)
	CorpTagsByName(ctx context.Context, corpID string, names []string) ([]model.CorpTag, error)
	FunnelCounts(ctx context.Context, corpID string, from, to time.Time, codeID uint64) (map[string]int, error)
	FurthestStages(ctx context.Context, corpID string, from, to time.Time, codeID uint64, order []string) (map[string]int, error)
	GetChannelCode(ctx context.Context, corpID string, id uint64) (*model.ChannelCode, error)
	GetGroupCode(ctx context.Context, corpID string, id uint64) (*model.GroupCode, error)
	GetLead(ctx context.Context, corpID string, id uint64) (*model.Lead, []model.LeadTransition, error)
	GetScoringConfig(ctx context.Context, corpID string) (cfg string, version int, ok bool, err error)
	GetStoreCode(ctx context.Context, corpID string, id uint64) (*model.StoreCode, error)
	LeadChanges(ctx context.Context, corpID string, after time.Time, afterID uint64, until time.Time, n int) ([]model.Lead, error)
	LeadRules(ctx context.Context, corpID string) (*model.LeadRules, error)
	LeadsByUnionID(ctx context.Context, corpID, unionID string) ([]model.Lead, error)
	ListLeads(ctx context.Context, f model.LeadFilter) ([]model.Lead, error)
	ListTagRules(ctx context.Context, corpID string) ([]model.TagRule, error)
	RearmJob(ctx context.Context, j *model.Job) error
	SaveScoringConfig(ctx context.Context, corpID, cfg string) (int, error)
	StaffNames(ctx context.Context, corpID string, userIDs []string) (map[string]string, error)
	StoreCodeWayByState(ctx context.Context, corpID, state string) (*model.StoreCodeWay, error)
	UpdateLead(ctx context.Context, corpID string, id uint64, fn func(lt *model.LeadTx) error) error
	UpdateLeadOfContact(ctx context.Context, corpID string, contactID uint64, init func(c *model.Contact) *model.Lead, fn func(lt *model.LeadTx) error) error
	UpdateLeadsAfter(ctx context.Context, corpID string, after uint64, n int, fn func(lt *model.LeadTx) error) (last uint64, err error)
}

// RuleStore is what the tag rules' admin needs from the database.
type RuleStore interface {
	CorpTagsByName(ctx context.Context, corpID string, names []string) ([]model.CorpTag, error)
	DeleteTagRule(ctx context.Context, corpID string, id uint64) error
	GetTagRule(ctx context.Context, corpID string, id uint64) (*model.TagRule, error)
	ListTagRules(ctx context.Context, corpID string) ([]model.TagRule, error)
	LiveChannelCodeIDs(ctx context.Context, corpID string, ids []uint64) ([]uint64, error)
	RetailStoresByID(ctx context.Context, corpID string, ids []uint64) ([]model.RetailStore, error)
	SaveTagRule(ctx context.Context, r *model.TagRule) error
}

// Codes is what leads read of the live channel codes: a code's name, tags
// and UTM by its id, as the code cache holds them.
type Codes interface {
	// CodeByID returns the live channel code with id; ok is false when
	// there is none.
	CodeByID(id uint64) (code Code, ok bool)
}

// Code is a channel code as a lead's source and behaviour name it.
type Code struct {
	ID   uint64
	Name string
	// Tags are the code's own tags, which a contact added through it gets.
	Tags []livecode.TagRef
	// UTM is the code's UTM object as stored (JSON).
	UTM string
}
