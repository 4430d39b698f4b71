package audit

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/wire"
)

// Store is what the audit needs from the database.
type Store interface {
	RecordAudit(ctx context.Context, entries []model.AuditEntry) error
	ListAudit(ctx context.Context, f model.AuditFilter) ([]model.AuditEntry, error)
	PruneAudit(ctx context.Context, before time.Time, limit int) (int64, error)
}

// Log records every read, export and erasure of a customer's or lead's
// personal data by an API token, and keeps the record for a retention period.
// A read whose record cannot be written is not answered: the record comes
// first.
type Log struct {
	store     Store
	clock     clock.Clock
	retention time.Duration
}

// DefaultRetention is how long audit entries are kept when not configured.
const DefaultRetention = 365 * 24 * time.Hour

// New builds the audit; retention 0 is DefaultRetention.
func New(store Store, clk clock.Clock, retention time.Duration) *Log {
	if retention <= 0 {
		retention = DefaultRetention
	}
	return &Log{store: store, clock: clk, retention: retention}
}

// Audit actions and subject kinds.
const (
	Read    = model.AuditRead
	List    = model.AuditList
	Export  = model.AuditExport
	Erase   = model.AuditErase
	Contact = model.AuditContact
	Lead    = model.AuditLead
)

// Record notes that p did action on the subjects of kind through route.
func (a *Log) Record(ctx context.Context, p *auth.Principal, action, kind, route string, ids ...uint64) error {
	if a == nil || len(ids) == 0 {
		return nil
	}
	at := a.clock.Now()
	entries := make([]model.AuditEntry, len(ids))
	for i, id := range ids {
		e := model.AuditEntry{At: at, Action: action, SubjectKind: kind, SubjectID: id, Route: queue.Clip(route, 128)}
		if p != nil {
			e.TokenID, e.TokenName, e.Role = p.TokenID, queue.Clip(p.Name, 128), p.Role
			e.Client, e.RequestID = queue.Clip(p.Client, 64), queue.Clip(p.RequestID, 64)
		}
		entries[i] = e
	}
	return a.store.RecordAudit(ctx, entries)
}

// Query selects audit entries: a subject ("contact:12", "lead:5"), a
// token id, a time range [From, To), and a page before an entry id.
type Query struct {
	Subject  string
	TokenID  uint64
	From, To time.Time
	BeforeID uint64
	Limit    int
}

// Entry is the API's view of one audit entry.
type Entry struct {
	ID        uint64         `json:"id"`
	At        wire.Timestamp `json:"at"`
	TokenID   uint64         `json:"token_id"`
	TokenName string         `json:"token_name"`
	Role      string         `json:"role"`
	Action    string         `json:"action"`
	Subject   string         `json:"subject"`
	Route     string         `json:"route"`
	Client    string         `json:"client"`
	RequestID string         `json:"request_id,omitempty"`
}

// List returns audit entries newest first.
func (a *Log) List(ctx context.Context, q Query) ([]Entry, error) {
	f := model.AuditFilter{TokenID: q.TokenID, From: q.From, To: q.To, BeforeID: q.BeforeID, Limit: q.Limit}
	if q.Subject != "" {
		kind, id, ok := strings.Cut(q.Subject, ":")
		n, err := strconv.ParseUint(id, 10, 64)
		if !ok || err != nil || n == 0 || (kind != Contact && kind != Lead) {
			return nil, &apierr.ValidationError{Field: "subject", Reason: "must be contact:<id> or lead:<id>"}
		}
		f.SubjectKind, f.SubjectID = kind, n
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return nil, &apierr.ValidationError{Field: "to", Reason: "must be after from"}
	}
	rows, err := a.store.ListAudit(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(rows))
	for i, r := range rows {
		out[i] = Entry{ID: r.ID, At: wire.At(r.At), TokenID: r.TokenID, TokenName: r.TokenName, Role: r.Role, Action: r.Action,
			Subject: r.SubjectKind + ":" + strconv.FormatUint(r.SubjectID, 10), Route: r.Route, Client: r.Client, RequestID: r.RequestID}
	}
	return out, nil
}

// Prune deletes the entries older than the retention period and reports how
// many went. Every replica may run it; the deletes do not conflict.
func (a *Log) Prune(ctx context.Context) (int64, error) {
	before := a.clock.Now().Add(-a.retention)
	var total int64
	for {
		n, err := a.store.PruneAudit(ctx, before, 5000)
		total += n
		if err != nil || n < 5000 {
			return total, err
		}
	}
}

// Run prunes at once and then every interval, on the audit's clock (so a
// test that moves the clock sees the period end), until ctx ends.
func (a *Log) Run(ctx context.Context, every time.Duration) {
	for {
		_, _ = a.Prune(ctx)
		select {
		case <-ctx.Done():
			return
		case <-a.clock.After(every):
		}
	}
}
