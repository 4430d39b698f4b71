package model

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// OutboxEvent is one event for the CRM's webhook endpoints, written to the
// outbox in the transaction of the change that caused it, so it commits or
// rolls back with that change. The business layer (service) owns the event
// types and renders the bodies; the store only decides which endpoints
// receive it and inserts the rows.
type OutboxEvent struct {
	CorpID string
	Type   string
	// Subject is the ordering key, such as "lead:42" or
	// "contact:<external_userid>": one endpoint receives the events of one
	// subject in the order they were emitted. Empty means unordered.
	Subject string
	// At is when the change happened; zero means now.
	At time.Time
	// Body renders the frozen body of one message: the event in one payload
	// schema version under its webhook-id. It is called once per version
	// that an enabled endpoint subscribed to the type is pinned to, and not
	// at all when none is, so a corp without endpoints pays one indexed
	// read. What the body needs beyond the change itself it reads through r,
	// inside the transaction.
	Body func(r OutboxReader, m OutboxMessage) ([]byte, error)
}

// OutboxMessage names the message a body is rendered for.
type OutboxMessage struct {
	// ID is the webhook-id of every attempt of this message; the body
	// carries it as the event id.
	ID      string
	Version int
	// At is the event's time in UTC (OutboxEvent.At, or now).
	At time.Time
}

// OutboxReader reads rows inside the emitting transaction for a body.
type OutboxReader struct{ tx *gorm.DB }

// Contact returns a contact by id; nil when it is gone.
func (r OutboxReader) Contact(id uint64) (*Contact, error) {
	var c Contact
	err := r.tx.Where("id = ?", id).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	return &c, err
}

// ChannelCodeLabel returns a channel code's name and folder; empty when it is gone.
func (r OutboxReader) ChannelCodeLabel(id uint64) (name, folder string, err error) {
	var code ChannelCode
	err = r.tx.Select("name", "folder").Where("id = ?", id).Take(&code).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", "", nil
	}
	return code.Name, code.Folder, err
}

// LeadIDOfCustomer returns the id of the lead of a customer known by
// external_userid, or 0 when there is none yet.
func (r OutboxReader) LeadIDOfCustomer(corpID, externalUserID string) (uint64, error) {
	var ids []uint64
	err := r.tx.Model(&Lead{}).Where("corp_id = ? AND contact_id IN (?)", corpID,
		r.tx.Session(&gorm.Session{NewDB: true}).Model(&Contact{}).Select("id").
			Where("corp_id = ? AND external_user_id = ?", corpID, externalUserID)).Limit(1).Pluck("id", &ids).Error
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[0], nil
}

// EmitWebhookNow writes an event to the outbox in a transaction of its own,
// for callers that change nothing else.
func (s *Store) EmitWebhookNow(ctx context.Context, e OutboxEvent) error {
	return s.EmitWebhooksNow(ctx, []OutboxEvent{e})
}

// EmitWebhooksNow writes many events in one transaction (imports,
// backfills): it reads each corp's endpoints once and inserts in batches.
func (s *Store) EmitWebhooksNow(ctx context.Context, es []OutboxEvent) error {
	if len(es) == 0 {
		return nil
	}
	return retryable(func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return s.emit(tx, es...) })
	})
}

// emit is the outbox insert every domain transaction calls: for each event,
// one message per payload version its subscribed endpoints are pinned to,
// and one pending delivery per subscribed endpoint. Nothing is written for
// an event no enabled endpoint subscribes to.
func (s *Store) emit(tx *gorm.DB, es ...OutboxEvent) error {
	now := s.Now()
	byCorp := map[string][]WebhookEndpoint{}
	var msgs []WebhookMessage
	var targets [][]uint64
	for _, e := range es {
		if e.CorpID == "" || e.Type == "" || e.Body == nil {
			return errors.New("store: webhook event needs a corp, a type and a body")
		}
		eps, ok := byCorp[e.CorpID]
		if !ok {
			var err error
			if eps, err = s.subscribed(tx, e.CorpID); err != nil {
				return err
			}
			byCorp[e.CorpID] = eps
		}
		// Endpoints by version, in the order the versions first appear.
		var versions []int
		byVersion := map[int][]uint64{}
		for i := range eps {
			if !eps[i].Subscribes(e.Type) {
				continue
			}
			v := eps[i].Version
			if _, seen := byVersion[v]; !seen {
				versions = append(versions, v)
			}
			byVersion[v] = append(byVersion[v], eps[i].ID)
		}
		at := e.At
		if at.IsZero() {
			at = now
		}
		at = at.UTC()
		subject := truncate(e.Subject, 128)
		for _, v := range versions {
			m := OutboxMessage{ID: NewWebhookMsgID(now), Version: v, At: at}
			body, err := e.Body(OutboxReader{tx: tx}, m)
			if err != nil {
				return fmt.Errorf("store: webhook %s v%d: %w", e.Type, v, err)
			}
			msgs = append(msgs, WebhookMessage{CorpID: e.CorpID, MsgID: m.ID, Type: e.Type, Subject: subject, Body: string(body),
				OccurredAt: at, CreatedAt: now})
			targets = append(targets, byVersion[v])
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	if err := tx.CreateInBatches(&msgs, 500).Error; err != nil {
		return fmt.Errorf("store: unable to store webhook messages: %w", err)
	}
	var rows []WebhookDelivery
	for i, m := range msgs {
		for _, id := range targets[i] {
			rows = append(rows, WebhookDelivery{CorpID: m.CorpID, EndpointID: id, MessageID: m.ID, EventType: m.Type,
				Subject: m.Subject, OrderKey: deliveryOrderKey(id, m.Subject), Status: StatusPending, AvailableAt: now, CreatedAt: now})
		}
	}
	if err := tx.CreateInBatches(&rows, 500).Error; err != nil {
		return fmt.Errorf("store: unable to store webhook deliveries: %w", err)
	}
	return nil
}

func deliveryOrderKey(endpointID uint64, subject string) string {
	if subject == "" {
		return ""
	}
	return strconv.FormatUint(endpointID, 10) + "|" + subject
}

var msgIDEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewWebhookMsgID makes a webhook-id: "msg_" and 26 characters that sort by
// creation time (milliseconds) and then by 80 random bits.
func NewWebhookMsgID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	_, _ = rand.Read(b[6:])
	return "msg_" + msgIDEncoding.EncodeToString(b[:])
}
