package model

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// DeliveryDelivered is a delivery the endpoint answered 2xx. Deliveries
// otherwise use the shared queue statuses: pending, processing, failed.
const DeliveryDelivered = "delivered"

var (
	// ErrEndpointDisabled refuses to replay to an endpoint that would not be sent to.
	ErrEndpointDisabled = errors.New("webhook endpoint is disabled")
	// ErrDeliveryInFlight refuses to replay a delivery a sender holds right now.
	ErrDeliveryInFlight = errors.New("delivery is being sent")
)

// WebhookEndpoint is a CRM URL that receives signed events.
type WebhookEndpoint struct {
	ID          uint64
	CorpID      string
	URL         string `gorm:"column:url"`
	Description string
	EventTypes  string // JSON list; [] subscribes to every type
	// Version is the payload schema version the endpoint receives.
	Version             int
	Enabled             bool
	Secret              string `gorm:"serializer:sealed"`
	PreviousSecret      string `gorm:"serializer:sealed"`
	PreviousSecretUntil *time.Time
	FailingSince        *time.Time
	DisabledAt          *time.Time
	DisabledReason      string
	CreatedBy           string
	CreatedAt           time.Time
	UpdatedAt           time.Time
	DeletedAt           *time.Time
}

func (WebhookEndpoint) TableName() string { return "webhook_endpoints" }

// Types returns the subscribed event types; empty means every type.
func (e *WebhookEndpoint) Types() []string {
	var out []string
	if e.EventTypes != "" {
		_ = json.Unmarshal([]byte(e.EventTypes), &out)
	}
	return out
}

// Subscribes reports whether the endpoint receives events of type t.
func (e *WebhookEndpoint) Subscribes(t string) bool {
	types := e.Types()
	if len(types) == 0 {
		return true
	}
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

// WebhookMessage is one emitted event with its frozen body.
type WebhookMessage struct {
	ID         uint64
	CorpID     string
	MsgID      string
	Type       string
	Subject    string
	Body       string `gorm:"serializer:sealed"`
	OccurredAt time.Time
	CreatedAt  time.Time
}

func (WebhookMessage) TableName() string { return "webhook_messages" }

// WebhookDelivery is one message on its way to one endpoint.
type WebhookDelivery struct {
	ID         uint64
	CorpID     string
	EndpointID uint64
	MessageID  uint64
	EventType  string
	Subject    string
	OrderKey   string
	Status     string
	Attempts   int
	// ScheduleFrom is the attempts made before the last replay: the retry
	// schedule starts over there while attempt numbers go on.
	ScheduleFrom   int
	Error          string
	LastStatusCode int
	AvailableAt    time.Time
	LeaseOwner     string
	LeaseUntil     *time.Time
	CreatedAt      time.Time
	ProcessedAt    *time.Time
}

func (WebhookDelivery) TableName() string { return "webhook_deliveries" }

// WebhookAttempt is one HTTP request of a delivery and what came back.
type WebhookAttempt struct {
	ID         uint64
	DeliveryID uint64
	EndpointID uint64
	Attempt    int
	At         time.Time
	StatusCode int
	LatencyMS  int64 `gorm:"column:latency_ms"`
	Response   string
	Error      string
}

func (WebhookAttempt) TableName() string { return "webhook_attempts" }

// --- endpoints ----------------------------------------------------------------

// CreateWebhookEndpoint stores a new endpoint.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error {
	defer s.endpointsChanged()
	now := s.Now()
	e.CreatedAt, e.UpdatedAt = now, now
	if e.EventTypes == "" {
		e.EventTypes = "[]"
	}
	if e.Version == 0 {
		e.Version = 1 // the column's default: endpoints made before versions had version 1
	}
	if err := s.db.WithContext(ctx).Create(e).Error; err != nil {
		return fmt.Errorf("store: unable to create webhook endpoint: %w", err)
	}
	return nil
}

// WebhookEndpoint returns a corp's endpoint that has not been deleted.
func (s *Store) WebhookEndpoint(ctx context.Context, corpID string, id uint64) (*WebhookEndpoint, error) {
	var e WebhookEndpoint
	err := s.db.WithContext(ctx).Where("id = ? AND corp_id = ? AND deleted_at IS NULL", id, corpID).Take(&e).Error
	if err := notFound(err, "webhook endpoint"); err != nil {
		return nil, err
	}
	return &e, nil
}

// ListWebhookEndpoints returns a corp's endpoints by id.
func (s *Store) ListWebhookEndpoints(ctx context.Context, corpID string) ([]WebhookEndpoint, error) {
	var out []WebhookEndpoint
	err := s.db.WithContext(ctx).Where("corp_id = ? AND deleted_at IS NULL", corpID).Order("id").Limit(1000).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to list webhook endpoints: %w", err)
	}
	return out, nil
}

// UpdateWebhookEndpoint changes an endpoint under its row lock with fn.
// Disabling it fails its pending deliveries (they can be replayed once it is
// enabled again); enabling it clears the record of why it was disabled.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, corpID string, id uint64, fn func(e *WebhookEndpoint) error) (*WebhookEndpoint, error) {
	defer s.endpointsChanged()
	var out WebhookEndpoint
	err := retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			now := s.Now()
			q := tx.Where("id = ? AND corp_id = ? AND deleted_at IS NULL", id, corpID)
			if s.dialect == "mysql" {
				q = q.Clauses(clause.Locking{Strength: "UPDATE"})
			}
			var cur WebhookEndpoint
			if err := q.Take(&cur).Error; err != nil {
				return err
			}
			next := cur
			if err := fn(&next); err != nil {
				return err
			}
			switch {
			case cur.Enabled && !next.Enabled:
				next.DisabledAt = &now
				if next.DisabledReason == "" {
					next.DisabledReason = "disabled by an admin"
				}
			case !cur.Enabled && next.Enabled:
				next.DisabledAt, next.DisabledReason, next.FailingSince = nil, "", nil
			}
			next.UpdatedAt = now
			if err := tx.Model(&WebhookEndpoint{}).Where("id = ?", id).Select("*").Omit("id", "created_at").Updates(&next).Error; err != nil {
				return err
			}
			if cur.Enabled && !next.Enabled {
				if err := failPendingDeliveries(tx, id, "endpoint disabled: "+next.DisabledReason, now); err != nil {
					return err
				}
			}
			out = next
			return nil
		})
	})
	if err := notFound(err, "webhook endpoint"); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteWebhookEndpoint hides an endpoint and fails its pending deliveries;
// the rows stay so the delivery history keeps its meaning.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, corpID string, id uint64) error {
	defer s.endpointsChanged()
	err := retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			now := s.Now()
			res := tx.Model(&WebhookEndpoint{}).Where("id = ? AND corp_id = ? AND deleted_at IS NULL", id, corpID).
				Updates(map[string]any{"deleted_at": now, "enabled": false, "updated_at": now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return gorm.ErrRecordNotFound
			}
			return failPendingDeliveries(tx, id, "endpoint deleted", now)
		})
	})
	return notFound(err, "webhook endpoint")
}

func failPendingDeliveries(tx *gorm.DB, endpointID uint64, reason string, now time.Time) error {
	return tx.Model(&WebhookDelivery{}).Where("endpoint_id = ? AND status = ?", endpointID, StatusPending).
		Updates(map[string]any{"status": StatusFailed, "error": truncate(reason, 1024), "processed_at": now}).Error
}

// CountDisabledWebhookEndpoints counts endpoints that are switched off but
// not deleted, for the admin's alert.
func (s *Store) CountDisabledWebhookEndpoints(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&WebhookEndpoint{}).Where("enabled = ? AND deleted_at IS NULL", false).Count(&n).Error
	if err != nil {
		return 0, fmt.Errorf("store: unable to count webhook endpoints: %w", err)
	}
	return n, nil
}

// --- sending ---------------------------------------------------------------

// ClaimedDelivery is a leased delivery with what it takes to send it.
type ClaimedDelivery struct {
	Delivery WebhookDelivery
	Message  WebhookMessage
	// Endpoint is nil when its row is gone; it may be disabled or deleted.
	Endpoint *WebhookEndpoint
}

// ClaimWebhookDeliveries leases up to n due deliveries to owner, earliest
// due first, at most one at a time per (endpoint, subject).
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, owner string, lease time.Duration, n int) ([]ClaimedDelivery, error) {
	var out []ClaimedDelivery
	err := s.claimDeliveries(ctx, owner, lease, n, func(tx *gorm.DB, ds []WebhookDelivery) error {
		out = out[:0]
		sort.Slice(ds, func(a, b int) bool { return ds[a].ID < ds[b].ID })
		msgIDs := make([]uint64, 0, len(ds))
		epSet := map[uint64]bool{}
		var epIDs []uint64
		for _, d := range ds {
			msgIDs = append(msgIDs, d.MessageID)
			if !epSet[d.EndpointID] {
				epSet[d.EndpointID] = true
				epIDs = append(epIDs, d.EndpointID)
			}
		}
		var msgs []WebhookMessage
		if err := tx.Where("id IN ?", msgIDs).Find(&msgs).Error; err != nil {
			return err
		}
		var eps []WebhookEndpoint
		if err := tx.Where("id IN ?", epIDs).Find(&eps).Error; err != nil {
			return err
		}
		byMsg := make(map[uint64]*WebhookMessage, len(msgs))
		for i := range msgs {
			byMsg[msgs[i].ID] = &msgs[i]
		}
		byEP := make(map[uint64]*WebhookEndpoint, len(eps))
		for i := range eps {
			byEP[eps[i].ID] = &eps[i]
		}
		for _, d := range ds {
			c := ClaimedDelivery{Delivery: d, Endpoint: byEP[d.EndpointID]}
			if m := byMsg[d.MessageID]; m != nil {
				c.Message = *m
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: unable to claim webhook deliveries: %w", err)
	}
	return out, nil
}

// claimDeliveries is the shared claim (see queue.go) shaped for a backlog:
// it walks due deliveries in (available_at, id) order, which the claim index
// (status, available_at, id) yields without sorting, and stops at n. The
// shared claim orders by id alone, which on SQLite sorts every pending row
// for each claim and turns draining a CRM outage's backlog quadratic. Order
// per (endpoint, subject) is kept the same way: a delivery is skipped while
// an earlier one of its order key is unfinished.
func (s *Store) claimDeliveries(ctx context.Context, owner string, lease time.Duration, n int, load func(tx *gorm.DB, ds []WebhookDelivery) error) error {
	now := s.Now()
	return retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			q := `SELECT e.id FROM webhook_deliveries e
WHERE e.status = ? AND e.available_at <= ?
  AND (e.order_key = '' OR NOT EXISTS (
    SELECT 1 FROM webhook_deliveries p
    WHERE p.corp_id = e.corp_id AND p.order_key = e.order_key AND p.status IN (?, ?) AND p.id < e.id))
ORDER BY e.available_at, e.id LIMIT ?`
			var cands []uint64
			if err := tx.Raw(q, StatusPending, now, StatusPending, StatusProcessing, 2*n).Scan(&cands).Error; err != nil {
				return err
			}
			// The locking read returns the whole rows; the lease is set on
			// them as the update sets it in the table.
			ds, err := lockRows[WebhookDelivery](s, tx, cands, "available_at, id", n)
			if err != nil || len(ds) == 0 {
				return err
			}
			ids := make([]uint64, len(ds))
			for i := range ds {
				ids[i] = ds[i].ID
			}
			until := now.Add(lease)
			if err := tx.Table("webhook_deliveries").Where("id IN ?", ids).Updates(map[string]any{
				"status": StatusProcessing, "lease_owner": owner, "lease_until": until,
				"attempts": gorm.Expr("attempts + 1"),
			}).Error; err != nil {
				return err
			}
			for i := range ds {
				d := &ds[i]
				d.Status, d.LeaseOwner, d.LeaseUntil, d.Attempts = StatusProcessing, owner, &until, d.Attempts+1
			}
			return load(tx, ds)
		})
	})
}

// WebhookAttemptRecord is the outcome of one attempt and what it changes.
type WebhookAttemptRecord struct {
	DeliveryID uint64
	EndpointID uint64
	Owner      string
	// Attempt is the attempt's number; 0 records no attempt row (the
	// delivery was settled without a request, e.g. its endpoint is gone).
	Attempt    int
	At         time.Time
	StatusCode int
	Latency    time.Duration
	Response   string
	AttemptErr string

	// Status is DeliveryDelivered, StatusFailed, or StatusPending to retry at NextAt.
	Status string
	NextAt time.Time
	Reason string

	// EndpointHealthy clears the endpoint's failing_since.
	EndpointHealthy bool
	// EndpointFailing sets failing_since to At unless already set.
	EndpointFailing bool
	// Disable switches the endpoint off with this reason: at once, or,
	// with DisableIfFailingSince, only if it has been failing since then or earlier.
	Disable               string
	DisableIfFailingSince *time.Time
}

// RecordWebhookAttempt writes an attempt and the delivery's outcome in one
// transaction, only while owner still holds the lease. It reports whether
// the endpoint was disabled by this call (its pending deliveries are then failed).
func (s *Store) RecordWebhookAttempt(ctx context.Context, r WebhookAttemptRecord) (disabled bool, err error) {
	res, err := s.RecordWebhookAttempts(ctx, []WebhookAttemptRecord{r})
	if err != nil {
		return false, err
	}
	return res[0].Disabled, res[0].Err
}

// AttemptRecorded is what recording one attempt did.
type AttemptRecorded struct {
	// Disabled: the endpoint was disabled by this record.
	Disabled bool
	// Err wraps ErrLeaseLost when owner no longer held the delivery; nothing
	// of that record was written.
	Err error
}

// RecordWebhookAttempts writes attempts and their deliveries' outcomes in
// one transaction (the attempt rows in one insert), each only while its
// owner still holds the lease. Deliveries that were simply delivered (by
// the same owner, with the same status code) are settled by one update;
// should any of them have lost its lease, the transaction is rolled back
// and written again one delivery at a time, so that only those are left
// out. err fails them all.
func (s *Store) RecordWebhookAttempts(ctx context.Context, recs []WebhookAttemptRecord) (out []AttemptRecorded, err error) {
	write := func(group bool) error {
		return retryable(func() error {
			out = make([]AttemptRecorded, len(recs))
			return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				now := s.Now()
				var attempts []WebhookAttempt
				done := make([]bool, len(recs))
				if group {
					for _, idx := range deliveredGroups(recs) {
						if err := s.settleDelivered(tx, recs, idx, now); err != nil {
							return err
						}
						for _, i := range idx {
							done[i] = true
							attempts = append(attempts, *attemptRow(recs[i]))
						}
					}
				}
				for i, r := range recs {
					if done[i] {
						continue
					}
					disabled, a, err := s.recordAttempt(tx, r, now)
					if errors.Is(err, errLeaseLost) {
						out[i].Err = fmt.Errorf("store: webhook delivery %d: %w", r.DeliveryID, ErrLeaseLost)
						continue
					}
					if err != nil {
						return err
					}
					out[i].Disabled = disabled
					if a != nil {
						attempts = append(attempts, *a)
					}
				}
				if len(attempts) == 0 {
					return nil
				}
				return tx.Create(&attempts).Error
			})
		})
	}
	err = write(true)
	if errors.Is(err, errGroupLeaseLost) {
		err = write(false)
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to record webhook attempts: %w", err)
	}
	for _, o := range out {
		if o.Disabled {
			s.endpointsChanged()
			break
		}
	}
	return out, nil
}

// errGroupLeaseLost: a delivery settled with others had lost its lease.
var errGroupLeaseLost = errors.New("a grouped delivery lost its lease")

// deliveredGroups are the indexes of records that settle a delivery as
// delivered and change nothing else but the endpoint's failing_since,
// grouped by owner and status code; groups of one are left out (the
// one-by-one path costs the same).
func deliveredGroups(recs []WebhookAttemptRecord) [][]int {
	type key struct {
		owner string
		code  int
	}
	byKey := map[key][]int{}
	var keys []key
	for i, r := range recs {
		if r.Status != DeliveryDelivered || r.Attempt <= 0 || r.Reason != "" || r.EndpointFailing || r.Disable != "" {
			continue
		}
		k := key{r.Owner, r.StatusCode}
		if byKey[k] == nil {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], i)
	}
	var out [][]int
	for _, k := range keys {
		if len(byKey[k]) > 1 {
			out = append(out, byKey[k])
		}
	}
	return out
}

// settleDelivered marks the deliveries of recs[idx] delivered in one
// update (all of one owner and status code), or fails with
// errGroupLeaseLost when not all of them were still held.
func (s *Store) settleDelivered(tx *gorm.DB, recs []WebhookAttemptRecord, idx []int, now time.Time) error {
	ids := make([]uint64, len(idx))
	for n, i := range idx {
		ids[n] = recs[i].DeliveryID
	}
	r := recs[idx[0]]
	res := tx.Model(&WebhookDelivery{}).Where("id IN ? AND status = ? AND lease_owner = ?", ids, StatusProcessing, r.Owner).
		Updates(map[string]any{"status": DeliveryDelivered, "error": "", "lease_owner": "", "lease_until": nil,
			"last_status_code": r.StatusCode, "processed_at": now})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != int64(len(ids)) {
		return errGroupLeaseLost
	}
	for _, i := range idx {
		if recs[i].EndpointHealthy {
			if err := markEndpointHealthy(tx, recs[i].EndpointID); err != nil {
				return err
			}
		}
	}
	return nil
}

// attemptRow is the attempt row of a record that made a request.
func attemptRow(r WebhookAttemptRecord) *WebhookAttempt {
	return &WebhookAttempt{DeliveryID: r.DeliveryID, EndpointID: r.EndpointID, Attempt: r.Attempt, At: r.At.UTC(),
		StatusCode: r.StatusCode, LatencyMS: r.Latency.Milliseconds(), Response: r.Response, Error: truncate(r.AttemptErr, 512)}
}

// markEndpointHealthy clears an endpoint's failing_since.
func markEndpointHealthy(tx *gorm.DB, endpointID uint64) error {
	return tx.Model(&WebhookEndpoint{}).Where("id = ? AND failing_since IS NOT NULL", endpointID).Update("failing_since", nil).Error
}

// recordAttempt writes one record's outcome in tx and returns its attempt
// row for the caller to insert.
func (s *Store) recordAttempt(tx *gorm.DB, r WebhookAttemptRecord, now time.Time) (disabled bool, attempt *WebhookAttempt, err error) {
	upd := map[string]any{"status": r.Status, "error": truncate(r.Reason, 1024), "lease_owner": "", "lease_until": nil}
	if r.Attempt > 0 {
		upd["last_status_code"] = r.StatusCode
	}
	if r.Status == StatusPending {
		upd["available_at"] = r.NextAt.UTC()
	} else {
		upd["processed_at"] = now
	}
	res := tx.Model(&WebhookDelivery{}).Where("id = ? AND status = ? AND lease_owner = ?", r.DeliveryID, StatusProcessing, r.Owner).Updates(upd)
	if res.Error != nil {
		return false, nil, res.Error
	}
	if res.RowsAffected == 0 {
		return false, nil, errLeaseLost
	}
	if r.Attempt > 0 {
		attempt = attemptRow(r)
	}
	switch {
	case r.EndpointHealthy:
		if err := markEndpointHealthy(tx, r.EndpointID); err != nil {
			return false, nil, err
		}
	case r.EndpointFailing:
		if err := tx.Model(&WebhookEndpoint{}).Where("id = ? AND failing_since IS NULL", r.EndpointID).Update("failing_since", r.At.UTC()).Error; err != nil {
			return false, nil, err
		}
	}
	if r.Disable != "" {
		q := tx.Model(&WebhookEndpoint{}).Where("id = ? AND enabled = ?", r.EndpointID, true)
		if r.DisableIfFailingSince != nil {
			q = q.Where("failing_since IS NOT NULL AND failing_since <= ?", r.DisableIfFailingSince.UTC())
		}
		res = q.Updates(map[string]any{"enabled": false, "disabled_at": now, "disabled_reason": truncate(r.Disable, 512), "updated_at": now})
		if res.Error != nil {
			return false, nil, res.Error
		}
		if res.RowsAffected > 0 {
			return true, attempt, failPendingDeliveries(tx, r.EndpointID, "endpoint disabled: "+r.Disable, now)
		}
	}
	if r.Status != StatusPending {
		return false, attempt, nil
	}
	// The endpoint may have been disabled while this attempt was in
	// flight, after its pending deliveries were failed: fail this one
	// too rather than leave it waiting for nothing.
	var cur WebhookEndpoint
	if err := tx.Select("enabled", "disabled_reason").Where("id = ?", r.EndpointID).Take(&cur).Error; err != nil {
		return false, nil, err
	}
	if cur.Enabled {
		return false, attempt, nil
	}
	return false, attempt, tx.Model(&WebhookDelivery{}).Where("id = ?", r.DeliveryID).Updates(map[string]any{
		"status": StatusFailed, "error": truncate("endpoint disabled: "+cur.DisabledReason, 1024), "processed_at": now}).Error
}

var errLeaseLost = errors.New("lease lost")

// FinishWebhookDelivery records a claimed delivery's final status.
func (s *Store) FinishWebhookDelivery(ctx context.Context, id uint64, owner, status, reason string) error {
	return s.finish(ctx, "webhook_deliveries", id, owner, status, reason)
}

// RetryWebhookDelivery hands a claimed delivery back, due at `at`.
func (s *Store) RetryWebhookDelivery(ctx context.Context, id uint64, owner string, at time.Time, reason string) error {
	return s.retry(ctx, "webhook_deliveries", id, owner, at, reason)
}

// ReleaseWebhookDeliveries hands back every delivery owner holds (graceful stop).
func (s *Store) ReleaseWebhookDeliveries(ctx context.Context, owner string) (int64, error) {
	return s.release(ctx, "webhook_deliveries", owner)
}

// RenewWebhookDeliveryLeases extends owner's leases on the deliveries of ids
// it still holds.
func (s *Store) RenewWebhookDeliveryLeases(ctx context.Context, owner string, ids []uint64, lease time.Duration) (int64, error) {
	return s.renew(ctx, "webhook_deliveries", owner, ids, lease)
}

// RecoverExpiredWebhookDeliveries returns deliveries whose lease ran out to the queue.
func (s *Store) RecoverExpiredWebhookDeliveries(ctx context.Context) (int64, error) {
	return s.recoverExpired(ctx, "webhook_deliveries")
}

// --- history and replay ------------------------------------------------------

// WebhookDeliveryFilter selects deliveries.
type WebhookDeliveryFilter struct {
	CorpID     string
	EndpointID uint64
	Status     string
	Subject    string
	EventType  string
	BeforeID   uint64
	Limit      int
}

func (f WebhookDeliveryFilter) apply(q *gorm.DB) *gorm.DB {
	if f.CorpID != "" {
		q = q.Where("corp_id = ?", f.CorpID)
	}
	if f.EndpointID > 0 {
		q = q.Where("endpoint_id = ?", f.EndpointID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Subject != "" {
		q = q.Where("subject = ?", f.Subject)
	}
	if f.EventType != "" {
		q = q.Where("event_type = ?", f.EventType)
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	return q
}

// DeliveryWithAttempts is a delivery with its message id and attempts.
type DeliveryWithAttempts struct {
	WebhookDelivery
	WebhookID string
	Attempts  []WebhookAttempt
}

// ListWebhookDeliveries returns deliveries newest first with their attempts.
func (s *Store) ListWebhookDeliveries(ctx context.Context, f WebhookDeliveryFilter) ([]DeliveryWithAttempts, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	db := s.db.WithContext(ctx)
	var ds []WebhookDelivery
	if err := f.apply(db.Model(&WebhookDelivery{})).Order("id DESC").Limit(f.Limit).Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("store: unable to list webhook deliveries: %w", err)
	}
	return s.withAttempts(db, ds)
}

// WebhookDelivery returns one delivery of a corp with its attempts and message.
func (s *Store) WebhookDelivery(ctx context.Context, corpID string, id uint64) (*DeliveryWithAttempts, *WebhookMessage, error) {
	db := s.db.WithContext(ctx)
	var d WebhookDelivery
	if err := notFound(db.Where("id = ? AND corp_id = ?", id, corpID).Take(&d).Error, "webhook delivery"); err != nil {
		return nil, nil, err
	}
	out, err := s.withAttempts(db, []WebhookDelivery{d})
	if err != nil {
		return nil, nil, err
	}
	var m WebhookMessage
	if err := notFound(db.Where("id = ?", d.MessageID).Take(&m).Error, "webhook message"); err != nil {
		return nil, nil, err
	}
	return &out[0], &m, nil
}

func (s *Store) withAttempts(db *gorm.DB, ds []WebhookDelivery) ([]DeliveryWithAttempts, error) {
	out := make([]DeliveryWithAttempts, len(ds))
	if len(ds) == 0 {
		return out, nil
	}
	ids := make([]uint64, len(ds))
	msgIDs := make([]uint64, len(ds))
	for i, d := range ds {
		ids[i], msgIDs[i] = d.ID, d.MessageID
	}
	var as []WebhookAttempt
	if err := db.Where("delivery_id IN ?", ids).Order("id").Find(&as).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read webhook attempts: %w", err)
	}
	var msgs []WebhookMessage
	if err := db.Select("id", "msg_id").Where("id IN ?", msgIDs).Find(&msgs).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read webhook messages: %w", err)
	}
	byDelivery := map[uint64][]WebhookAttempt{}
	for _, a := range as {
		byDelivery[a.DeliveryID] = append(byDelivery[a.DeliveryID], a)
	}
	msgID := map[uint64]string{}
	for _, m := range msgs {
		msgID[m.ID] = m.MsgID
	}
	for i, d := range ds {
		out[i] = DeliveryWithAttempts{WebhookDelivery: d, WebhookID: msgID[d.MessageID], Attempts: byDelivery[d.ID]}
		if out[i].Attempts == nil {
			out[i].Attempts = []WebhookAttempt{}
		}
	}
	return out, nil
}

// replayable is the set of deliveries a replay may touch: finished ones
// whose endpoint is enabled.
func replayable(tx *gorm.DB) *gorm.DB {
	return tx.Where("status IN ? AND endpoint_id IN (?)", []string{DeliveryDelivered, StatusFailed},
		tx.Session(&gorm.Session{NewDB: true}).Model(&WebhookEndpoint{}).Select("id").Where("enabled = ? AND deleted_at IS NULL", true))
}

func replayUpdate(now time.Time) map[string]any {
	// The replay gets the whole retry schedule, counted from the attempts
	// made so far; attempt numbers and the history go on.
	return map[string]any{"status": StatusPending, "available_at": now, "schedule_from": gorm.Expr("attempts"), "error": "",
		"processed_at": nil, "lease_owner": "", "lease_until": nil}
}

// ReplayWebhookDelivery sends a finished delivery again, with the same
// webhook-id and body; a pending one is made due now.
func (s *Store) ReplayWebhookDelivery(ctx context.Context, corpID string, id uint64) error {
	return retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			now := s.Now()
			res := replayable(tx.Model(&WebhookDelivery{}).Where("id = ? AND corp_id = ?", id, corpID)).Updates(replayUpdate(now))
			if res.Error != nil || res.RowsAffected > 0 {
				return res.Error
			}
			var d WebhookDelivery
			if err := tx.Where("id = ? AND corp_id = ?", id, corpID).Take(&d).Error; err != nil {
				return notFound(err, "webhook delivery")
			}
			switch d.Status {
			case StatusProcessing:
				return ErrDeliveryInFlight
			case StatusPending:
				return tx.Model(&WebhookDelivery{}).Where("id = ? AND status = ?", id, StatusPending).Update("available_at", now).Error
			}
			return ErrEndpointDisabled
		})
	})
}

// ReplayWebhookDeliveries replays every finished delivery matching f whose
// endpoint is enabled, in chunks so no statement locks the whole table.
func (s *Store) ReplayWebhookDeliveries(ctx context.Context, f WebhookDeliveryFilter) (int64, error) {
	var total int64
	var after uint64
	f.BeforeID = 0
	for {
		var ids []uint64
		db := s.db.WithContext(ctx)
		q := replayable(f.apply(db.Model(&WebhookDelivery{})))
		if err := q.Where("id > ?", after).Order("id").Limit(1000).Pluck("id", &ids).Error; err != nil {
			return total, fmt.Errorf("store: unable to select deliveries to replay: %w", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		after = ids[len(ids)-1]
		var res *gorm.DB
		err := retryable(func() error {
			res = replayable(db.Model(&WebhookDelivery{}).Where("id IN ?", ids)).Updates(replayUpdate(s.Now()))
			return res.Error
		})
		if err != nil {
			return total, fmt.Errorf("store: unable to replay deliveries: %w", err)
		}
		total += res.RowsAffected
	}
}

// CountWebhookDeliveries counts deliveries by status (any when empty).
func (s *Store) CountWebhookDeliveries(ctx context.Context, status string) (int64, error) {
	var n int64
	q := s.db.WithContext(ctx).Model(&WebhookDelivery{})
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if err := q.Count(&n).Error; err != nil {
		return 0, fmt.Errorf("store: unable to count webhook deliveries: %w", err)
	}
	return n, nil
}
