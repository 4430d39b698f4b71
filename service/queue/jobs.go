package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
)

// JobStore is what the job runner needs from the database.
type JobStore interface {
	ClaimJobs(ctx context.Context, owner string, lease time.Duration, n int, deadlineOnly bool) ([]model.Job, error)
	FinishJobs(ctx context.Context, owner string, outs []model.Outcome) (lost []error, err error)
	RetryJob(ctx context.Context, id uint64, owner string, at time.Time, reason string) error
	DeferJob(ctx context.Context, id uint64, owner string, at time.Time, reason string) error
	ReleaseJobs(ctx context.Context, owner string) (int64, error)
	RecoverExpiredJobs(ctx context.Context) (int64, error)
	RenewJobLeases(ctx context.Context, owner string, ids []uint64, lease time.Duration) (int64, error)
}

// JobHandler runs one job kind; its error means what an EventHandler's does.
type JobHandler func(ctx context.Context, j *model.Job) error

// JobRunner runs side-effect jobs: each has its own idempotency key, retries
// with backoff (or after WeCom's retry-after), and ends processed, ignored or
// failed with a visible reason.
type JobRunner struct {
	pool     *Pool
	handlers map[string]JobHandler
}

// NewJobRunner builds a runner that runs handlers (the Jobs of Routes) and
// answers wakes.Jobs. It gives way to the dispatcher while that has a
// backlog of ready events (for at most 30 s in a row): under a burst of
// scans the machine goes to the welcomes, which must be sent within WeCom's
// 20 s, and the follow-up jobs (profile, tags, remark, lead) run as soon as
// the burst has been worked off; jobs of the deadline lane (cap syncs) are
// claimed all the same. yieldTo may be nil.
func NewJobRunner(store JobStore, handlers map[string]JobHandler, wakes Wakes, yieldTo *Dispatcher, clk clock.Clock, opts PoolOptions) *JobRunner {
	r := &JobRunner{handlers: handlers}
	r.pool = NewPool("jobs", QueueOps{
		table: model.TableJobs,
		Claim: func(ctx context.Context, owner string, lease time.Duration, n int, deadlineOnly bool) ([]QueueItem, error) {
			rows, err := store.ClaimJobs(ctx, owner, lease, n, deadlineOnly)
			items := make([]QueueItem, len(rows))
			for i := range rows {
				j := &rows[i]
				items[i] = QueueItem{ID: j.ID, CorpID: j.CorpID, Type: j.Kind, Attempts: j.Attempts, CreatedAt: j.CreatedAt, Value: j}
			}
			return items, err
		},
		finishMany:     store.FinishJobs,
		Retry:          store.RetryJob,
		deferItem:      store.DeferJob,
		Release:        store.ReleaseJobs,
		RecoverExpired: store.RecoverExpiredJobs,
		Renew:          store.RenewJobLeases,
		Handle: func(ctx context.Context, it QueueItem) error {
			j := it.Value.(*model.Job)
			h, ok := r.handlers[j.Kind]
			if !ok {
				return Permanent(fmt.Errorf("no handler for job kind %q", j.Kind))
			}
			return h(ctx, j)
		},
		Count: func(it QueueItem, outcome string) {
			if m := opts.Metrics; m != nil {
				m.Jobs.WithLabelValues(it.Type, outcome).Inc()
			}
		},
	}, clk, wakes.Jobs, opts)
	if yieldTo != nil {
		r.pool.yieldTo = yieldTo.pool
	}
	return r
}

// Notify wakes the runner after jobs were enqueued.
func (r *JobRunner) Notify() { r.pool.Notify() }

// Run runs jobs until ctx is cancelled.
func (r *JobRunner) Run(ctx context.Context) error {
	r.pool.Run(ctx)
	return nil
}

// DecodePayload unmarshals a job's JSON payload; a payload that does not
// decode can never succeed.
func DecodePayload(j *model.Job, v any) error {
	if err := json.Unmarshal([]byte(j.Payload), v); err != nil {
		return Permanent(fmt.Errorf("job %d: bad payload: %w", j.ID, err))
	}
	return nil
}

// EncodePayload marshals a job's payload to JSON.
func EncodePayload(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // payloads are our own structs
	}
	return string(b)
}
