package contact

import (
	"context"
	"time"

	"github.com/leadgate/scrm-gateway/model"
)

// Store is what the contacts service needs from the database; model.Store satisfies it.
type Store interface {
	ContactByExternalID(ctx context.Context, corpID, externalUserID string) (*model.Contact, error)
	EnqueueJobs(ctx context.Context, jobs ...*model.Job) error
	EraseContact(ctx context.Context, corpID string, id uint64, event func(c *model.Contact, leadID uint64) model.OutboxEvent) (erased bool, leadID uint64, err error)
	EventsOfContact(ctx context.Context, corpID, externalUserID string, limit int) ([]model.Event, error)
	GetContact(ctx context.Context, corpID string, id uint64) (*model.ContactDetail, error)
	GetLead(ctx context.Context, corpID string, id uint64) (*model.Lead, []model.LeadTransition, error)
	ListContacts(ctx context.Context, f model.ContactFilter) ([]model.Contact, error)
	ListLeads(ctx context.Context, f model.LeadFilter) ([]model.Lead, error)
	LostContactsBefore(ctx context.Context, before time.Time, limit int) ([]model.ContactRef, error)
	RecordAdd(ctx context.Context, r model.AddRecord) (applied bool, count int, contactID uint64, err error)
	RecordFollowUp(ctx context.Context, f model.FollowUp) error
	RecordLoss(ctx context.Context, r model.LossRecord) (bool, error)
	RelationsOf(ctx context.Context, corpID, externalUserID string) ([]model.Relation, error)
	SetRelationRemark(ctx context.Context, corpID, userID, externalUserID, remark string) error
	SetRelationTags(ctx context.Context, corpID, userID, externalUserID, tagsJSON string) error
	UpdateContactProfile(ctx context.Context, corpID, externalUserID string, p model.ContactProfile, userID, remark, tagsJSON string) error
}
