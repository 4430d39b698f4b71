package livecode

import (
	"context"
	"errors"
	"testing"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/queue"
)

type rearms struct {
	jobs []*model.Job
	err  error
}

func (r *rearms) RearmJob(_ context.Context, j *model.Job) error {
	r.jobs = append(r.jobs, j)
	return r.err
}

// A sync request is the job handed to the store as it was made (its key is
// what coalesces it); a store that refuses it makes the request fail.
func TestRequestSyncRearmsTheJob(t *testing.T) {
	st := &rearms{}
	j := &model.Job{CorpID: "ww1", Kind: "sync_way", Key: "sync_way:7", Lane: model.LaneDeadline}
	if err := RequestSync(context.Background(), st, queue.NewWake(), j); err != nil || len(st.jobs) != 1 || st.jobs[0] != j {
		t.Fatalf("rearmed %v, %v", st.jobs, err)
	}
	st.err = errors.New("database down")
	if err := RequestSync(context.Background(), st, queue.NewWake(), &model.Job{Key: "tags"}); !errors.Is(err, st.err) {
		t.Fatalf("a refused rearm: %v", err)
	}
}
