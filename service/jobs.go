package service

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/leadgate/scrm-gateway/model"
)

// JobStore is what the job runner needs from the database.
type JobStore interface {
	ClaimJobs(ctx context.Context, owner string, lease time.Duration, n int, deadlineOnly bool) ([]model.Job, error)
	FinishJob(ctx context.Context, id uint64, owner, status, reason string) error
	RetryJob(ctx context.Context, id uint64, owner string, at time.Time, reason string) error
	DeferJob(ctx context.Context, id uint64, owner string, at time.Time, reason string) error
	ReleaseJobs(ctx context.Context, owner string) (int64, error)
	RecoverExpiredJobs(ctx context.Context) (int64, error)
}

// JobHandler runs one job kind; its error means what an EventHandler's does.
type JobHandler func(ctx context.Context, j *model.Job) error

// JobRunner runs side-effect jobs: each has its own idempotency key, retries
// with backoff (or after WeCom's retry-after), and ends processed, ignored or
// failed with a visible reason.
type JobRunner struct {
	pool     *pool
	handlers map[string]JobHandler
}

// NewJobRunner builds a runner; register handlers before Run.
func NewJobRunner(store JobStore, opts PoolOptions) *JobRunner {
	r := &JobRunner{handlers: map[string]JobHandler{}}
	r.pool = newPool("jobs", queueOps{
		claim: func(ctx context.Context, owner string, lease time.Duration, n int, deadlineOnly bool) ([]queueItem, error) {
			rows, err := store.ClaimJobs(ctx, owner, lease, n, deadlineOnly)
			items := make([]queueItem, len(rows))
			for i := range rows {
				j := &rows[i]
				items[i] = queueItem{ID: j.ID, CorpID: j.CorpID, Type: j.Kind, Attempts: j.Attempts, CreatedAt: j.CreatedAt, value: j}
			}
			return items, err
		},
		finish:         store.FinishJob,
		retry:          store.RetryJob,
		deferItem:      store.DeferJob,
		release:        store.ReleaseJobs,
		recoverExpired: store.RecoverExpiredJobs,
		handle: func(ctx context.Context, it queueItem) error {
			j := it.value.(*model.Job)
			h, ok := r.handlers[j.Kind]
			if !ok {
				return Permanent(fmt.Errorf("no handler for job kind %q", j.Kind))
			}
			return h(ctx, j)
		},
		count: func(it queueItem, outcome string) {
			if m := opts.Metrics; m != nil {
				m.Jobs.WithLabelValues(it.Type, outcome).Inc()
			}
		},
	}, opts)
	return r
}

// Handle registers h for a job kind.
func (r *JobRunner) Handle(kind string, h JobHandler) { r.handlers[kind] = h }

// YieldTo makes the runner give way to the dispatcher while it has a backlog
// of ready events (for at most 30 s in a row): under a burst of scans the
// machine goes to the welcomes, which must be sent within WeCom's 20 s, and
// the follow-up jobs (profile, tags, remark, lead) run as soon as the burst
// has been worked off. Jobs of the deadline lane (cap syncs) are claimed
// all the same. Call before Run.
func (r *JobRunner) YieldTo(d *Dispatcher) {
	r.pool.yieldTo = d.pool
	d.pool.drained = r.pool.notify
}

// Notify wakes the runner after jobs were enqueued.
func (r *JobRunner) Notify() { r.pool.notify() }

// NotifyDeadline wakes the runner after a job of the deadline lane was
// queued: it is claimed even while the runner gives way to an event backlog.
func (r *JobRunner) NotifyDeadline() {
	r.pool.deadlineHint.Store(true)
	r.pool.notify()
}

// Run runs jobs until ctx is cancelled.
func (r *JobRunner) Run(ctx context.Context) error {
	r.pool.run(ctx)
	return nil
}

// decodePayload unmarshals a job's JSON payload; a payload that does not
// decode can never succeed.
func decodePayload(j *model.Job, v any) error {
	if err := json.Unmarshal([]byte(j.Payload), v); err != nil {
		return Permanent(fmt.Errorf("job %d: bad payload: %w", j.ID, err))
	}
	return nil
}

func encodePayload(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // payloads are our own structs
	}
	return string(b)
}
