package model

import (
	"context"
	"database/sql"
	"strings"
	"sync/atomic"

	"gorm.io/gorm"
)

// StatementOps are the kinds of statement the store counts, in the order of
// the fields of StatementCounts. "other" is everything else the store sends
// (savepoints, PRAGMA, DDL).
var StatementOps = []string{"select", "insert", "update", "delete", "other"}

// StatementCounts is what the store has sent to the database since it was
// opened.
type StatementCounts struct {
	// Transactions counts each BEGIN, and each write sent outside a
	// transaction (it commits on its own, with its own fsync). A read
	// outside a transaction is not counted: it commits nothing.
	Transactions int64
	// Statements counts every statement by op (StatementOps).
	Statements map[string]int64
}

// statementCounter counts at the connection pool, below GORM, so raw SQL,
// claims and migrations are counted as well as GORM's own statements.
type statementCounter struct {
	tx  atomic.Int64
	ops [5]atomic.Int64
}

func (c *statementCounter) snapshot() StatementCounts {
	out := StatementCounts{Transactions: c.tx.Load(), Statements: make(map[string]int64, len(StatementOps))}
	for i, op := range StatementOps {
		out.Statements[op] = c.ops[i].Load()
	}
	return out
}

// count records one statement; inTx says whether it runs inside a
// transaction already counted.
func (c *statementCounter) count(query string, inTx bool) {
	op := statementOp(query)
	c.ops[op].Add(1)
	if !inTx && op >= 1 && op <= 3 {
		c.tx.Add(1)
	}
}

// statementOp returns the index in StatementOps of a statement's verb. A
// statement that starts with WITH is a read here: the store writes none.
func statementOp(query string) int {
	q := strings.TrimLeft(query, " \t\r\n(")
	verb := q
	if i := strings.IndexAny(q, " \t\r\n("); i >= 0 {
		verb = q[:i]
	}
	switch {
	case strings.EqualFold(verb, "SELECT"), strings.EqualFold(verb, "WITH"):
		return 0
	case strings.EqualFold(verb, "INSERT"), strings.EqualFold(verb, "REPLACE"):
		return 1
	case strings.EqualFold(verb, "UPDATE"):
		return 2
	case strings.EqualFold(verb, "DELETE"):
		return 3
	}
	return 4
}

// Statements reports what the store has sent to the database.
func (s *Store) Statements() StatementCounts { return s.counter.snapshot() }

// countingPool is the *sql.DB as GORM sees it, counting each statement and
// each transaction it begins.
type countingPool struct {
	db *sql.DB
	c  *statementCounter
}

var (
	_ gorm.ConnPool         = (*countingPool)(nil)
	_ gorm.ConnPoolBeginner = (*countingPool)(nil)
	_ gorm.GetDBConnector   = (*countingPool)(nil)
	_ gorm.TxCommitter      = (*countingTx)(nil)
)

func (p *countingPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.db.PrepareContext(ctx, query)
}

func (p *countingPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	p.c.count(query, false)
	return p.db.ExecContext(ctx, query, args...)
}

func (p *countingPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	p.c.count(query, false)
	return p.db.QueryContext(ctx, query, args...)
}

func (p *countingPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	p.c.count(query, false)
	return p.db.QueryRowContext(ctx, query, args...)
}

func (p *countingPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	p.c.tx.Add(1)
	return &countingTx{tx: tx, db: p.db, c: p.c}, nil
}

func (p *countingPool) GetDBConn() (*sql.DB, error) { return p.db, nil }

// countingTx is a transaction as GORM sees it.
type countingTx struct {
	tx *sql.Tx
	db *sql.DB
	c  *statementCounter
}

func (t *countingTx) GetDBConn() (*sql.DB, error) { return t.db, nil }

func (t *countingTx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, query)
}

func (t *countingTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.c.count(query, true)
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *countingTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.c.count(query, true)
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *countingTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	t.c.count(query, true)
	return t.tx.QueryRowContext(ctx, query, args...)
}

func (t *countingTx) StmtContext(ctx context.Context, stmt *sql.Stmt) *sql.Stmt {
	return t.tx.StmtContext(ctx, stmt)
}

func (t *countingTx) Commit() error   { return t.tx.Commit() }
func (t *countingTx) Rollback() error { return t.tx.Rollback() }
