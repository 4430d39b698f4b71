package livecode

import (
	"context"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/queue"
)

// JobRearmer is the store's write of a coalesced job (model.Store's
// RearmJob).
type JobRearmer interface {
	RearmJob(ctx context.Context, j *model.Job) error
}

// RequestSync queues j, coalesced with the job of the same key not yet run
// (many requests, one rewrite of a way or catalogue), and wakes the job
// runner: for the deadline lane when j is in it.
func RequestSync(ctx context.Context, store JobRearmer, jobs queue.Wake, j *model.Job) error {
	if err := store.RearmJob(ctx, j); err != nil {
		return err
	}
	if j.Lane == model.LaneDeadline {
		jobs.NotifyDeadline()
	} else {
		jobs.Notify()
	}
	return nil
}
