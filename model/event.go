package model

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Event is a callback stored in the inbox.
type Event struct {
	ID             uint64
	CorpID         string
	DedupeKey      string
	Type           string
	OrderKey       string
	UserID         string
	ExternalUserID string
	ChatID         string
	State          string
	Lane           int // LaneDeadline: an add with a welcome to send
	Payload        string
	Status         string
	Attempts       int
	Error          string
	AvailableAt    time.Time
	LeaseOwner     string
	LeaseUntil     *time.Time
	ReceivedAt     time.Time
	ProcessedAt    *time.Time
}

func (Event) TableName() string { return "wecom_events" }

// InsertEvent stores an event unless one with the same (corp, dedupe key)
// exists. It reports whether the row was new.
func (s *Store) InsertEvent(ctx context.Context, e *Event) (inserted bool, err error) {
	ins, err := s.InsertEvents(ctx, []*Event{e})
	if err != nil {
		return false, err
	}
	return ins[0], nil
}

// InsertEvents stores events in one transaction (one commit, one fsync for
// the lot), each unless one with the same (corp, dedupe key) exists, and
// reports which rows were new. Each row is a plain insert whose unique-key
// violation is translated by GORM (an upsert's affected-row count differs
// between dialects and driver flags); on both stores a failed statement is
// undone alone and the transaction goes on. Any other failure stores none.
func (s *Store) InsertEvents(ctx context.Context, events []*Event) (inserted []bool, err error) {
	now := s.Now()
	inserted = make([]bool, len(events))
	err = retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for i, e := range events {
				e.ID, e.Status, e.ReceivedAt, e.AvailableAt = 0, StatusPending, now, now
				err := tx.Create(e).Error
				if errors.Is(err, gorm.ErrDuplicatedKey) {
					inserted[i] = false
					continue
				}
				if err != nil {
					return err
				}
				inserted[i] = true
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: unable to insert events: %w", err)
	}
	return inserted, nil
}

// WelcomeWindow is WeCom's: a welcome_code is good for 20 s. An add received
// longer ago than that has no welcome left to send and waits its turn with
// the bulk work.
const WelcomeWindow = 20 * time.Second

// ClaimEvents leases up to n due events to owner: the adds whose welcome
// window is still open first (lane 1), then the rest, oldest first. An event
// whose order key has an earlier unfinished event is left for later, so the
// events of one contact or group are handled in order of arrival.
func (s *Store) ClaimEvents(ctx context.Context, owner string, lease time.Duration, n int) ([]Event, error) {
	claimed, err := claim[Event](ctx, s, "wecom_events", owner, lease, n, deadlineLane{open: WelcomeWindow})
	if err != nil {
		return nil, fmt.Errorf("store: unable to claim events: %w", err)
	}
	return claimed, nil
}

// FinishEvent records the outcome of a claimed event. It only touches the row
// while owner still holds the lease, so a replica that lost its lease cannot
// overwrite the outcome of the one that took over.
func (s *Store) FinishEvent(ctx context.Context, id uint64, owner, status, reason string) error {
	return s.finish(ctx, "wecom_events", id, owner, status, reason)
}

// FinishEvents records the outcomes of events owner claimed, in one
// transaction; lost[i] is non-nil when event i's lease was no longer owner's.
func (s *Store) FinishEvents(ctx context.Context, owner string, outs []Outcome) (lost []error, err error) {
	return s.finishMany(ctx, "wecom_events", owner, outs)
}

// RetryEvent hands a claimed event back to the queue, due at `at`.
func (s *Store) RetryEvent(ctx context.Context, id uint64, owner string, at time.Time, reason string) error {
	return s.retry(ctx, "wecom_events", id, owner, at, reason)
}

// DeferEvent hands a claimed event back, due at `at`, without counting the
// attempt: its call was refused by a rate limit before it could be tried.
func (s *Store) DeferEvent(ctx context.Context, id uint64, owner string, at time.Time, reason string) error {
	return s.requeue(ctx, "wecom_events", id, owner, at, reason, true)
}

// ReleaseEvents hands back every event owner still holds without counting
// the attempt (graceful stop).
func (s *Store) ReleaseEvents(ctx context.Context, owner string) (int64, error) {
	return s.release(ctx, "wecom_events", owner)
}

// RenewEventLeases extends owner's leases on the events of ids it still
// holds (the heartbeat of a running replica).
func (s *Store) RenewEventLeases(ctx context.Context, owner string, ids []uint64, lease time.Duration) (int64, error) {
	return s.renew(ctx, "wecom_events", owner, ids, lease)
}

// RecoverExpiredEvents returns events whose lease ran out (their owner
// crashed) to the queue.
func (s *Store) RecoverExpiredEvents(ctx context.Context) (int64, error) {
	return s.recoverExpired(ctx, "wecom_events")
}

// EventFilter selects events for the admin API.
type EventFilter struct {
	CorpID   string
	Status   string
	Type     string
	BeforeID uint64
	Limit    int
}

// ListEvents returns events newest first, without payloads.
func (s *Store) ListEvents(ctx context.Context, f EventFilter) ([]Event, error) {
	q := s.db.WithContext(ctx).Model(&Event{}).Omit("payload")
	if f.CorpID != "" {
		q = q.Where("corp_id = ?", f.CorpID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Type != "" {
		q = q.Where("type = ?", f.Type)
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	var out []Event
	if err := q.Order("id DESC").Limit(f.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list events: %w", err)
	}
	return out, nil
}

// GetEvent returns one event with its payload.
func (s *Store) GetEvent(ctx context.Context, id uint64) (*Event, error) {
	var e Event
	err := s.db.WithContext(ctx).First(&e, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to get event %d: %w", id, err)
	}
	return &e, nil
}

// CountEvents counts events by status (tests and readiness).
func (s *Store) CountEvents(ctx context.Context, status string) (int64, error) {
	var n int64
	q := s.db.WithContext(ctx).Model(&Event{})
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if err := q.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: unable to count events: %w", err)
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary so MySQL's utf8mb4 column accepts it.
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
