package model

import (
	"context"
	"fmt"
	"time"
)

// Audit actions and subject kinds.
const (
	AuditRead   = "read"
	AuditList   = "list"
	AuditExport = "export"
	AuditErase  = "erase"

	AuditContact = "contact"
	AuditLead    = "lead"
)

// AuditEntry records that a token read (or listed, exported, erased) one
// customer's or lead's personal data: who, what, when and from where.
type AuditEntry struct {
	ID          uint64
	At          time.Time
	TokenID     uint64
	TokenName   string
	Role        string
	Action      string
	SubjectKind string
	SubjectID   uint64
	Route       string
	Client      string
	RequestID   string
}

func (AuditEntry) TableName() string { return "audit_log" }

// RecordAudit writes entries in one statement.
func (s *Store) RecordAudit(ctx context.Context, entries []AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := s.db.WithContext(ctx).CreateInBatches(entries, 500).Error; err != nil {
		return fmt.Errorf("store: unable to record audit entries: %w", err)
	}
	return nil
}

// AuditFilter selects audit entries, newest first.
type AuditFilter struct {
	SubjectKind string
	SubjectID   uint64
	TokenID     uint64
	From, To    time.Time // To is exclusive; zero: unbounded
	BeforeID    uint64
	Limit       int
}

// ListAudit returns audit entries newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	q := s.db.WithContext(ctx).Model(&AuditEntry{})
	if f.SubjectKind != "" {
		q = q.Where("subject_kind = ? AND subject_id = ?", f.SubjectKind, f.SubjectID)
	}
	if f.TokenID > 0 {
		q = q.Where("token_id = ?", f.TokenID)
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From)
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To)
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []AuditEntry
	if err := q.Order("id DESC").Limit(f.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list audit entries: %w", err)
	}
	return out, nil
}

// PruneAudit deletes entries older than before, at most limit at a time
// (so a first prune of a long history does not hold one huge transaction),
// and reports how many went.
func (s *Store) PruneAudit(ctx context.Context, before time.Time, limit int) (int64, error) {
	n, err := s.deleteFirst(ctx, &AuditEntry{}, limit, "at < ?", before)
	if err != nil {
		return 0, fmt.Errorf("store: unable to prune audit entries: %w", err)
	}
	return n, nil
}

// deleteFirst deletes the first limit rows (by id) of row's table that match
// the condition, in one statement, and reports how many went.
func (s *Store) deleteFirst(ctx context.Context, row any, limit int, cond string, args ...any) (int64, error) {
	sub := s.db.Model(row).Select("id").Where(cond, args...).Order("id").Limit(limit)
	// MySQL refuses LIMIT inside IN (subquery); one more level of derived
	// table makes it a materialized set on both stores.
	res := s.db.WithContext(ctx).Where("id IN (?)", s.db.Table("(?) AS old", sub).Select("id")).Delete(row)
	return res.RowsAffected, res.Error
}
