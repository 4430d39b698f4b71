package model

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Queue tables (wecom_events, jobs) share the claim columns: corp_id,
// order_key, status, attempts, error, available_at, lease_owner, lease_until,
// processed_at. These helpers implement leasing once for both.

// Statuses shared by queue tables.
const (
	StatusPending    = "pending"
	StatusProcessing = "processing"
	StatusProcessed  = "processed"
	StatusIgnored    = "ignored"
	StatusFailed     = "failed"
)

// LaneDeadline is the lane of work with a deadline: events whose welcome
// has a window, cap syncs (sync_way). Claims take it ahead of lane 0, the
// bulk work.
const LaneDeadline = 1

// deadlineLane selects the rows a claim takes first: lane 1, and for
// events only those received within the welcome window (open reports
// whether a row's window can still be open at now).
type deadlineLane struct {
	open time.Duration // 0: any age
	only bool          // claim lane 1 alone, nothing else
}

// queueRow is a row of a queue table as a claim hands it out.
type queueRow interface {
	Event | Job
}

// leasedRow is what a claim sets on the rows it locked, as its update set
// them in the table.
type leasedRow[T queueRow] interface {
	*T
	leased(owner string, until time.Time)
	laneAndID() (int, uint64)
}

func (e *Event) leased(owner string, until time.Time) {
	e.Status, e.LeaseOwner, e.LeaseUntil, e.Attempts = StatusProcessing, owner, &until, e.Attempts+1
}
func (e *Event) laneAndID() (int, uint64) { return e.Lane, e.ID }

func (j *Job) leased(owner string, until time.Time) {
	j.Status, j.LeaseOwner, j.LeaseUntil, j.Attempts = StatusProcessing, owner, &until, j.Attempts+1
}
func (j *Job) laneAndID() (int, uint64) { return j.Lane, j.ID }

// claim leases up to n due rows of table to owner, oldest first, skipping a
// row whose order key has an earlier unfinished row, and returns them,
// deadline lane first, then by id. Rows of the deadline lane go first. One
// plain read finds the candidates of both lanes (a UNION ALL of the lane-1
// walk over (status, lane, id) and the usual walk over (status, id), so one
// snapshot sees both); lane-1 candidates are locked first, the others only
// for the capacity left. The locking read returns the whole rows, and the
// lease is set on them as the update sets it in the table: no read after
// the update.
func claim[T queueRow, P leasedRow[T]](ctx context.Context, s *Store, table, owner string, lease time.Duration, n int, lane deadlineLane) ([]T, error) {
	now := s.Now()
	var out []T
	err := retryable(func() error {
		out = nil
		first, rest, err := s.claimCandidates(ctx, table, n, now, lane)
		if err != nil || len(first)+len(rest) == 0 {
			return err
		}
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			rows, err := lockRows[T](s, tx, first, "id", n)
			if err != nil {
				return err
			}
			if len(rows) < n {
				more, err := lockRows[T](s, tx, rest, "id", n-len(rows))
				if err != nil {
					return err
				}
				rows = append(rows, more...)
			}
			if len(rows) == 0 {
				return nil
			}
			ids := make([]uint64, len(rows))
			for i := range rows {
				_, ids[i] = P(&rows[i]).laneAndID()
			}
			until := now.Add(lease)
			if err := tx.Table(table).Where("id IN ?", ids).Updates(map[string]any{
				"status": StatusProcessing, "lease_owner": owner, "lease_until": until,
				"attempts": gorm.Expr("attempts + 1"),
			}).Error; err != nil {
				return err
			}
			for i := range rows {
				P(&rows[i]).leased(owner, until)
			}
			sort.SliceStable(rows, func(a, b int) bool {
				la, ia := P(&rows[a]).laneAndID()
				lb, ib := P(&rows[b]).laneAndID()
				if la != lb {
					return la > lb
				}
				return ia < ib
			})
			out = rows
			return nil
		})
	})
	return out, err
}

// lockRows is the second step of a claim: the candidates come from
// one plain read, which sees a single snapshot: a row is a candidate only if
// every earlier row of its order key was finished in that snapshot. They
// are then locked and read whole, up to n in `order`, skipping rows another claimer
// holds and rows no longer pending. In one locking statement MariaDB's READ
// COMMITTED lets the NOT EXISTS subquery read an older snapshot than the
// rows the locking scan reaches: a row emitted while the scan ran was
// claimed while the earlier row of its key, emitted just before it, was
// invisible to the subquery, and the two were sent out of order. The plain
// read asks for twice n, so rows other claimers hold do not make a busy
// queue look empty.
func lockRows[T queueRow | WebhookDelivery](s *Store, tx *gorm.DB, cands []uint64, order string, n int) ([]T, error) {
	if len(cands) == 0 || n <= 0 {
		return nil, nil
	}
	var rows []T
	q := tx.Where("id IN ? AND status = ?", cands, StatusPending).Order(order).Limit(n)
	if s.dialect == "mysql" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	return rows, q.Find(&rows).Error
}

// claimCandidates is a claim's plain read: the lane-1 candidates (first)
// and the others (rest), oldest first. It runs before the claim's
// transaction, so that a claim finding nothing costs one read and no
// transaction; each statement reads its own snapshot under READ COMMITTED
// anyway, and the locking step checks every row again.
func (s *Store) claimCandidates(ctx context.Context, table string, n int, now time.Time, lane deadlineLane) (first, rest []uint64, err error) {
	walk := `SELECT e.id FROM ` + table + ` e
WHERE e.status = ? AND e.available_at <= ?%s
  AND (e.order_key = '' OR NOT EXISTS (
    SELECT 1 FROM ` + table + ` p
    WHERE p.corp_id = e.corp_id AND p.order_key = e.order_key AND p.id < e.id AND p.status IN (?, ?)))
ORDER BY e.id LIMIT ?`
	laneCond, laneArgs := " AND e.lane = ?", []any{LaneDeadline}
	if lane.open > 0 {
		laneCond += " AND e.received_at >= ?"
		laneArgs = append(laneArgs, now.Add(-lane.open))
	}
	q := `SELECT id, 1 AS first FROM (` + fmt.Sprintf(walk, laneCond) + `) d1`
	args := append(append([]any{StatusPending, now}, laneArgs...), StatusPending, StatusProcessing, 2*n)
	if !lane.only {
		q += ` UNION ALL SELECT id, 0 AS first FROM (` + fmt.Sprintf(walk, "") + `) d2`
		args = append(args, StatusPending, now, StatusPending, StatusProcessing, 2*n)
	}
	var rows []struct {
		ID    uint64
		First int
	}
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return nil, nil, err
	}
	seen := make(map[uint64]bool, len(rows))
	for _, r := range rows {
		if r.First == 1 && !seen[r.ID] {
			seen[r.ID] = true
			first = append(first, r.ID)
		}
	}
	for _, r := range rows {
		if !seen[r.ID] {
			seen[r.ID] = true
			rest = append(rest, r.ID)
		}
	}
	return first, rest, nil
}

// Outcome is the final status of a claimed row.
type Outcome struct {
	ID     uint64
	Status string
	Reason string
}

// ErrLeaseLost is wrapped by a finish whose row owner no longer holds.
var ErrLeaseLost = errors.New("lease lost")

// finish records a claimed row's outcome while owner still holds its lease.
func (s *Store) finish(ctx context.Context, table string, id uint64, owner, status, reason string) error {
	lost, err := s.finishMany(ctx, table, owner, []Outcome{{ID: id, Status: status, Reason: reason}})
	if err != nil {
		return err
	}
	return lost[0]
}

// finishMany records outcomes of rows owner claimed, in one transaction (one
// statement and no transaction for a single outcome). lost[i] is non-nil
// when row i's lease was no longer owner's; err fails them all.
func (s *Store) finishMany(ctx context.Context, table, owner string, outs []Outcome) (lost []error, err error) {
	now := s.Now()
	return s.eachInOneTx(ctx, table, outs, func(tx *gorm.DB, o Outcome) *gorm.DB { return finishRow(tx, table, o, owner, now) })
}

// finishRow writes one claimed row's outcome while owner holds its lease.
func finishRow(tx *gorm.DB, table string, o Outcome, owner string, now time.Time) *gorm.DB {
	if table == "jobs" {
		// A job flagged to rerun while it ran goes back to pending. The
		// statement reads the flag and writes the outcome under the
		// row's lock, so a concurrent RearmJob is either seen here or
		// sees the finished row. MySQL assigns left to right, each
		// assignment seeing the ones before it, so rerun is cleared last.
		return tx.Exec(`UPDATE jobs SET
  status = CASE WHEN rerun THEN ? ELSE ? END,
  available_at = CASE WHEN rerun THEN ? ELSE available_at END,
  attempts = CASE WHEN rerun THEN 0 ELSE attempts END,
  error = ?, processed_at = ?, lease_owner = '', lease_until = NULL, rerun = ?
WHERE id = ? AND status = ? AND lease_owner = ?`,
			StatusPending, o.Status, now, truncate(o.Reason, 1024), now, false, o.ID, StatusProcessing, owner)
	}
	return tx.Table(table).Where("id = ? AND status = ? AND lease_owner = ?", o.ID, StatusProcessing, owner).
		Updates(map[string]any{"status": o.Status, "error": truncate(o.Reason, 1024), "processed_at": now,
			"lease_owner": "", "lease_until": nil})
}

// eachInOneTx runs one update per outcome, in id order (two batches lock
// their rows in the same order), in one transaction unless there is only
// one, restarting on a deadlock.
func (s *Store) eachInOneTx(ctx context.Context, table string, outs []Outcome, update func(tx *gorm.DB, o Outcome) *gorm.DB) ([]error, error) {
	order := make([]int, len(outs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return outs[order[a]].ID < outs[order[b]].ID })
	lost := make([]error, len(outs))
	run := func(tx *gorm.DB) error {
		for _, i := range order {
			res := update(tx, outs[i])
			if res.Error != nil {
				return res.Error
			}
			lost[i] = nil
			if res.RowsAffected == 0 {
				lost[i] = fmt.Errorf("store: %s %d: %w", table, outs[i].ID, ErrLeaseLost)
			}
		}
		return nil
	}
	err := retryable(func() error {
		if len(outs) == 1 {
			return run(s.db.WithContext(ctx))
		}
		return s.db.WithContext(ctx).Transaction(run)
	})
	if err != nil {
		return nil, fmt.Errorf("store: unable to finish %s: %w", table, err)
	}
	return lost, nil
}

// retry hands a claimed row back to the queue, due at `at`.
func (s *Store) retry(ctx context.Context, table string, id uint64, owner string, at time.Time, reason string) error {
	return s.requeue(ctx, table, id, owner, at, reason, false)
}

// requeue hands a claimed row back, due at `at`; refund takes back the
// attempt its claim counted (the work was deferred, not tried).
func (s *Store) requeue(ctx context.Context, table string, id uint64, owner string, at time.Time, reason string, refund bool) error {
	upd := map[string]any{
		"status": StatusPending, "error": truncate(reason, 1024), "available_at": at.UTC(),
		"lease_owner": "", "lease_until": nil,
	}
	if refund {
		upd["attempts"] = gorm.Expr("CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END")
	}
	var res *gorm.DB
	_ = retryable(func() error {
		res = s.db.WithContext(ctx).Table(table).
			Where("id = ? AND status = ? AND lease_owner = ?", id, StatusProcessing, owner).Updates(upd)
		return res.Error
	})
	if res.Error != nil {
		return fmt.Errorf("store: unable to requeue %s %d: %w", table, id, res.Error)
	}
	return nil
}

// renew extends owner's leases on those of ids it still holds, so work that
// outlives a lease is not taken over while its owner is alive; it returns how
// many it still held. The rows are named by primary key, like a finish.
func (s *Store) renew(ctx context.Context, table, owner string, ids []uint64, lease time.Duration) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var res *gorm.DB
	_ = retryable(func() error {
		res = s.db.WithContext(ctx).Table(table).Where("id IN ? AND status = ? AND lease_owner = ?", ids, StatusProcessing, owner).
			Update("lease_until", s.Now().Add(lease))
		return res.Error
	})
	if res.Error != nil {
		return 0, fmt.Errorf("store: unable to renew leases on %s: %w", table, res.Error)
	}
	return res.RowsAffected, nil
}

// release hands back every row owner holds without counting the attempt.
func (s *Store) release(ctx context.Context, table, owner string) (int64, error) {
	var res *gorm.DB
	_ = retryable(func() error {
		res = s.db.WithContext(ctx).Table(table).
			Where("status = ? AND lease_owner = ?", StatusProcessing, owner).
			Updates(map[string]any{
				"status": StatusPending, "lease_owner": "", "lease_until": nil,
				"attempts": gorm.Expr("CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"),
			})
		return res.Error
	})
	if res.Error != nil {
		return 0, fmt.Errorf("store: unable to release %s: %w", table, res.Error)
	}
	return res.RowsAffected, nil
}

// recoverExpired returns rows whose lease ran out (their owner died) to the
// queue. The ids are read first without locks and then updated by primary
// key with the condition checked again: an UPDATE driven by the lease_until
// index would lock index entries before rows, the opposite order of a worker
// finishing a row, and deadlock with it.
func (s *Store) recoverExpired(ctx context.Context, table string) (int64, error) {
	now := s.Now()
	var ids []uint64
	if err := s.db.WithContext(ctx).Table(table).Where("status = ? AND lease_until < ?", StatusProcessing, now).
		Limit(1000).Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("store: unable to recover %s: %w", table, err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	var res *gorm.DB
	_ = retryable(func() error {
		res = s.db.WithContext(ctx).Table(table).
			Where("id IN ? AND status = ? AND lease_until < ?", ids, StatusProcessing, now).
			Updates(map[string]any{"status": StatusPending, "lease_owner": "", "lease_until": nil})
		return res.Error
	})
	if res.Error != nil {
		return 0, fmt.Errorf("store: unable to recover %s: %w", table, res.Error)
	}
	return res.RowsAffected, nil
}

// retryable runs fn again when MySQL picked it as a deadlock victim (1213)
// or a lock wait timed out (1205): the standard answer to both is to restart
// the transaction, which is safe because fn is one whole transaction.
func retryable(fn func() error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = fn()
		var me *mysqldrv.MySQLError
		if err == nil || !errors.As(err, &me) || (me.Number != 1213 && me.Number != 1205) {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

// Unfinished counts events, then jobs, that are pending or processing. The
// order matters to a caller waiting for quiet: an event's jobs are committed
// before the event is finished, and a job's follow-up jobs before the job,
// so an empty answer cannot miss work spawned between the two counts.
func (s *Store) Unfinished(ctx context.Context) (int64, error) {
	var total int64
	for _, table := range []string{"wecom_events", "jobs"} {
		var n int64
		if err := s.db.WithContext(ctx).Table(table).Where("status IN ?", []string{StatusPending, StatusProcessing}).
			Count(&n).Error; err != nil {
			return 0, fmt.Errorf("store: unable to count unfinished %s: %w", table, err)
		}
		total += n
	}
	return total, nil
}
