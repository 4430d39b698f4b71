package outbound

import (
	"context"
	"time"

	"github.com/leadgate/scrm-gateway/model"
)

// Store is what the webhook service needs from the database; model.Store satisfies it.
type Store interface {
	ClaimWebhookDeliveries(ctx context.Context, owner string, lease time.Duration, n int) ([]model.ClaimedDelivery, error)
	CountDisabledWebhookEndpoints(ctx context.Context) (int64, error)
	CreateWebhookEndpoint(ctx context.Context, e *model.WebhookEndpoint) error
	DeleteWebhookEndpoint(ctx context.Context, corpID string, id uint64) error
	FinishWebhookDelivery(ctx context.Context, id uint64, owner, status, reason string) error
	ListWebhookDeliveries(ctx context.Context, f model.WebhookDeliveryFilter) ([]model.DeliveryWithAttempts, error)
	ListWebhookEndpoints(ctx context.Context, corpID string) ([]model.WebhookEndpoint, error)
	RecordWebhookAttempts(ctx context.Context, recs []model.WebhookAttemptRecord) (out []model.AttemptRecorded, err error)
	RecoverExpiredWebhookDeliveries(ctx context.Context) (int64, error)
	ReleaseWebhookDeliveries(ctx context.Context, owner string) (int64, error)
	RenewWebhookDeliveryLeases(ctx context.Context, owner string, ids []uint64, lease time.Duration) (int64, error)
	ReplayWebhookDeliveries(ctx context.Context, f model.WebhookDeliveryFilter) (int64, error)
	ReplayWebhookDelivery(ctx context.Context, corpID string, id uint64) error
	RetryWebhookDelivery(ctx context.Context, id uint64, owner string, at time.Time, reason string) error
	UpdateWebhookEndpoint(ctx context.Context, corpID string, id uint64, fn func(e *model.WebhookEndpoint) error) (*model.WebhookEndpoint, error)
	WebhookDelivery(ctx context.Context, corpID string, id uint64) (*model.DeliveryWithAttempts, *model.WebhookMessage, error)
	WebhookEndpoint(ctx context.Context, corpID string, id uint64) (*model.WebhookEndpoint, error)
}
