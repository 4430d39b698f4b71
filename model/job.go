package model

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Job is one side effect (mark a tag, set a remark, fetch a profile, rewrite
// a contact way) with its own idempotency key, retries and a visible outcome.
type Job struct {
	ID          uint64
	CorpID      string
	Kind        string
	Key         string `gorm:"column:job_key"`
	OrderKey    string
	Payload     string
	Status      string
	Rerun       bool
	Lane        int // LaneDeadline: claimed ahead of bulk work
	Attempts    int
	Error       string
	AvailableAt time.Time
	LeaseOwner  string
	LeaseUntil  *time.Time
	CreatedAt   time.Time
	ProcessedAt *time.Time
}

func (Job) TableName() string { return "jobs" }

// EnqueueJobs inserts jobs; a job whose (corp, key) exists already is left
// as it is, which makes enqueueing from a retried event harmless.
func (s *Store) EnqueueJobs(ctx context.Context, jobs ...*Job) error {
	return enqueueJobs(s.db.WithContext(ctx), s.Now(), jobs)
}

func enqueueJobs(db *gorm.DB, now time.Time, jobs []*Job) error {
	for _, j := range jobs {
		if j.Status != StatusFailed { // a step that failed for good elsewhere, recorded as a failed job
			j.Status = StatusPending
		}
		j.CreatedAt = now
		if j.AvailableAt.IsZero() {
			j.AvailableAt = now
		}
	}
	if len(jobs) == 0 {
		return nil
	}
	err := db.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "corp_id"}, {Name: "job_key"}},
		DoUpdates: clause.Assignments(map[string]any{"corp_id": gorm.Expr("jobs.corp_id")}),
	}).Create(jobs).Error
	if err != nil {
		return fmt.Errorf("store: unable to enqueue jobs: %w", err)
	}
	return nil
}

// RearmJob makes sure a coalescing job (one per key, such as "rewrite this
// contact way") runs again soon: it inserts it, re-arms a finished one, leaves
// a pending one pending, and flags a running one to run once more after it
// finishes, because the state it read may already be stale.
func (s *Store) RearmJob(ctx context.Context, j *Job) error {
	now := s.Now()
	return retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for attempt := 0; attempt < 2; attempt++ {
				var cur Job
				q := tx.Where("corp_id = ? AND job_key = ?", j.CorpID, j.Key)
				if s.dialect == "mysql" {
					q = q.Clauses(clause.Locking{Strength: "UPDATE"})
				}
				err := q.First(&cur).Error
				if errors.Is(err, gorm.ErrRecordNotFound) {
					j.Status, j.CreatedAt, j.AvailableAt = StatusPending, now, now
					err = tx.Create(j).Error
					if errors.Is(err, gorm.ErrDuplicatedKey) {
						continue
					}
					return err
				}
				if err != nil {
					return err
				}
				switch cur.Status {
				case StatusProcessing:
					return tx.Model(&Job{}).Where("id = ?", cur.ID).Updates(map[string]any{"rerun": true, "payload": j.Payload, "lane": j.Lane}).Error
				case StatusPending:
					return tx.Model(&Job{}).Where("id = ?", cur.ID).Updates(map[string]any{"payload": j.Payload, "available_at": now, "lane": j.Lane}).Error
				default:
					return tx.Model(&Job{}).Where("id = ?", cur.ID).Updates(map[string]any{
						"status": StatusPending, "payload": j.Payload, "available_at": now, "attempts": 0, "error": "", "lane": j.Lane,
					}).Error
				}
			}
			return fmt.Errorf("store: job %s: could not re-arm", j.Key)
		})
	})
}

// ClaimJobs leases up to n due jobs, those of the deadline lane first, then
// the rest oldest first, one at a time per order key. deadlineOnly claims
// the deadline lane alone (while the dispatcher has a backlog, bulk work
// waits but cap syncs do not).
func (s *Store) ClaimJobs(ctx context.Context, owner string, lease time.Duration, n int, deadlineOnly bool) ([]Job, error) {
	claimed, err := claim[Job](ctx, s, "jobs", owner, lease, n, deadlineLane{only: deadlineOnly})
	if err != nil {
		return nil, fmt.Errorf("store: unable to claim jobs: %w", err)
	}
	return claimed, nil
}

// FinishJob records a job's outcome; a job flagged to rerun while it ran
// goes back to pending instead.
func (s *Store) FinishJob(ctx context.Context, id uint64, owner, status, reason string) error {
	return s.finish(ctx, "jobs", id, owner, status, reason)
}

// FinishJobs records the outcomes of jobs owner claimed, in one transaction;
// lost[i] is non-nil when job i's lease was no longer owner's.
func (s *Store) FinishJobs(ctx context.Context, owner string, outs []Outcome) (lost []error, err error) {
	return s.finishMany(ctx, "jobs", owner, outs)
}

// RetryJob hands a claimed job back, due at `at`.
func (s *Store) RetryJob(ctx context.Context, id uint64, owner string, at time.Time, reason string) error {
	return s.retry(ctx, "jobs", id, owner, at, reason)
}

// DeferJob hands a claimed job back, due at `at`, without counting the
// attempt: its call was refused by a rate limit before it could be tried.
func (s *Store) DeferJob(ctx context.Context, id uint64, owner string, at time.Time, reason string) error {
	return s.requeue(ctx, "jobs", id, owner, at, reason, true)
}

// ReleaseJobs hands back every job owner holds (graceful stop).
func (s *Store) ReleaseJobs(ctx context.Context, owner string) (int64, error) {
	return s.release(ctx, "jobs", owner)
}

// RenewJobLeases extends owner's leases on the jobs of ids it still holds.
func (s *Store) RenewJobLeases(ctx context.Context, owner string, ids []uint64, lease time.Duration) (int64, error) {
	return s.renew(ctx, "jobs", owner, ids, lease)
}

// RecoverExpiredJobs returns jobs whose lease ran out to the queue.
func (s *Store) RecoverExpiredJobs(ctx context.Context) (int64, error) {
	return s.recoverExpired(ctx, "jobs")
}

// JobFilter selects jobs for the admin API and tests.
type JobFilter struct {
	CorpID   string
	Kind     string
	Status   string
	KeyLike  string
	BeforeID uint64
	Limit    int
}

// ListJobs returns jobs newest first.
func (s *Store) ListJobs(ctx context.Context, f JobFilter) ([]Job, error) {
	q := s.db.WithContext(ctx).Model(&Job{})
	if f.CorpID != "" {
		q = q.Where("corp_id = ?", f.CorpID)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.KeyLike != "" {
		q = q.Where("job_key LIKE ?", f.KeyLike)
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []Job
	if err := q.Order("id DESC").Limit(f.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list jobs: %w", err)
	}
	return out, nil
}

// CountJobs counts jobs of a kind (any kind when empty) by status (any when empty).
func (s *Store) CountJobs(ctx context.Context, kind, status string) (int64, error) {
	q := s.db.WithContext(ctx).Model(&Job{})
	if kind != "" {
		q = q.Where("kind = ?", kind)
	}
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: unable to count jobs: %w", err)
	}
	return n, nil
}

// JobRetry selects finished jobs to run again: one job by ID, or every job
// of a corp (any when empty) whose status is one of Statuses (finished ones:
// failed, ignored) and of Kind (any when empty).
type JobRetry struct {
	ID       uint64
	CorpID   string
	Statuses []string
	Kind     string
}

// RetryJobs puts the jobs r selects back in the queue, due now, with their
// attempts and error cleared, and reports how many. A job that is pending or
// running is never touched.
func (s *Store) RetryJobs(ctx context.Context, r JobRetry) (int64, error) {
	q := s.db.WithContext(ctx).Model(&Job{}).Where("status IN ?", r.Statuses)
	if r.ID > 0 {
		q = q.Where("id = ?", r.ID)
	}
	if r.CorpID != "" {
		q = q.Where("corp_id = ?", r.CorpID)
	}
	if r.Kind != "" {
		q = q.Where("kind = ?", r.Kind)
	}
	res := q.Updates(map[string]any{"status": StatusPending, "attempts": 0, "error": "", "available_at": s.Now(),
		"processed_at": nil, "lease_owner": "", "lease_until": nil})
	if res.Error != nil {
		return 0, fmt.Errorf("store: unable to retry jobs: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// GetJob returns one job.
func (s *Store) GetJob(ctx context.Context, id uint64) (*Job, error) {
	var j Job
	err := s.db.WithContext(ctx).First(&j, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to read job %d: %w", id, err)
	}
	return &j, nil
}
