package staff

import (
	"context"

	"github.com/leadgate/scrm-gateway/model"
)

// Store is what the staff directory needs from the database; model.Store satisfies it.
type Store interface {
	KnownStaff(ctx context.Context, corpID string, userIDs []string) ([]string, error)
	ListStaff(ctx context.Context, corpID string) ([]model.StaffMember, error)
	ReplaceStaff(ctx context.Context, corpID string, list []model.StaffMember) error
}
