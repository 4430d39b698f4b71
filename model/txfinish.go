package model

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// A claimed row's success can be written by the business transaction that
// completes its work, instead of by a transaction of its own after it: the
// queue hands the handler a context carrying the row (WithFinish), and the
// store method that makes the item's last change records the outcome as
// its last statement, under the same lease check as a separate finish. If
// the lease is no longer ours the whole transaction rolls back, so the work
// is done once, by the holder of the lease.

// Queue tables whose rows can be finished in a business transaction.
const (
	TableEvents = "wecom_events"
	TableJobs   = "jobs"
)

// TxFinish is a claimed row to be finished in the transaction that
// completes its work.
type TxFinish struct {
	table string
	id    uint64
	owner string
	// Status and Reason are the outcome to write (StatusProcessed and ""
	// unless the handler says otherwise before the transaction).
	Status, Reason string
	// Done is set once a transaction that wrote the outcome committed.
	Done bool
}

type txFinishKey struct{}

// WithFinish returns a context that lets the store finish row id of table
// (held by owner) in the transaction that completes its work.
func WithFinish(ctx context.Context, table string, id uint64, owner string) (context.Context, *TxFinish) {
	f := &TxFinish{table: table, id: id, owner: owner, Status: StatusProcessed}
	return context.WithValue(ctx, txFinishKey{}, f), f
}

// FinishOf returns the row ctx lets the store finish, or nil.
func FinishOf(ctx context.Context) *TxFinish {
	f, _ := ctx.Value(txFinishKey{}).(*TxFinish)
	return f
}

// finishInTx writes the outcome of ctx's row in tx, if ctx carries one not
// yet written; it fails with ErrLeaseLost (rolling the caller back) when
// the lease is no longer ours. The caller calls committed(f) after the
// commit.
func (s *Store) finishInTx(ctx context.Context, tx *gorm.DB) (*TxFinish, error) {
	f := FinishOf(ctx)
	if f == nil || f.Done {
		return nil, nil
	}
	now := s.Now()
	res := finishRow(tx, f.table, Outcome{ID: f.id, Status: f.Status, Reason: f.Reason}, f.owner, now)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("store: %s %d: %w", f.table, f.id, ErrLeaseLost)
	}
	return f, nil
}

// committed marks f written once its transaction committed.
func committed(f *TxFinish) {
	if f != nil {
		f.Done = true
	}
}

// WithoutFinish returns ctx without a row to finish: for a handler whose
// last change comes after the store call that would otherwise finish it.
func WithoutFinish(ctx context.Context) context.Context {
	return context.WithValue(ctx, txFinishKey{}, (*TxFinish)(nil))
}
