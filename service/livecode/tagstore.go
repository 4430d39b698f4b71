package livecode

import (
	"context"

	"github.com/leadgate/scrm-gateway/model"
)

// TagStore is what the tag catalogue needs from the database; model.Store satisfies it.
type TagStore interface {
	ListCorpTags(ctx context.Context, corpID string) ([]model.CorpTag, error)
	RearmJob(ctx context.Context, j *model.Job) error
	ReplaceCorpTags(ctx context.Context, corpID string, tags []model.CorpTag) error
	UpsertCorpTags(ctx context.Context, tags []model.CorpTag) error
}
