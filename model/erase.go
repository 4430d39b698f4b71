package model

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ErasedDelivery is the error a pending delivery about an erased customer
// ends with.
const ErasedDelivery = "not sent: the customer's personal data was erased"

// EraseContact removes a customer's personal data everywhere it is held, in
// one transaction: the contact's profile, the relations' remarks, the lead's
// profile copy and BANT answers (its score stays), its stage changes'
// reasons and the CRM's answers, the timeline's details, the payloads of finished callbacks
// about them, the bodies of webhook messages about them (deliveries not yet
// made end failed) and the answers stored with their attempts. Ids, counts
// and statistics stay, so reports keep adding up. event builds the webhook
// emitted in the same transaction. A contact erased before changes nothing
// and reports erased false.
func (s *Store) EraseContact(ctx context.Context, corpID string, id uint64, event func(c *Contact, leadID uint64) OutboxEvent) (erased bool, leadID uint64, err error) {
	now := s.Now()
	err = retryable(func() error {
		erased, leadID = false, 0
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var c Contact
			err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ? AND corp_id = ?", id, corpID).First(&c).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotFound
			}
			if err != nil {
				return err
			}
			var lead Lead
			err = tx.Select("id").Where("corp_id = ? AND contact_id = ?", corpID, id).Order("id").First(&lead).Error
			if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
			leadID = lead.ID
			if c.ErasedAt != nil {
				return nil
			}
			leads := tx.Model(&Lead{}).Select("id").Where("corp_id = ? AND contact_id = ?", corpID, id)
			steps := []*gorm.DB{
				tx.Model(&Contact{}).Where("id = ?", id).Updates(map[string]any{"name": "", "avatar": "", "corp_name": "",
					"union_id": "", "erased_at": now, "updated_at": now}),
				tx.Model(&Relation{}).Where("corp_id = ? AND contact_id = ?", corpID, id).Update("remark", ""),
				tx.Model(&Lead{}).Where("corp_id = ? AND contact_id = ?", corpID, id).Updates(map[string]any{"name": "",
					"corp_name": "", "mobile": "", "mobile_index": "", "mobile_valid": false, "union_id": "", "bant": "{}", "updated_at": now}),
				// Free text about the person: stage-change reasons (a CRM's
				// rejection reason among them) and the CRM's stored answers.
				tx.Model(&LeadTransition{}).Where("corp_id = ? AND lead_id IN (?)", corpID, leads).Update("reason", ""),
				tx.Model(&CRMStatus{}).Where("corp_id = ? AND lead_id IN (?)", corpID, leads).Updates(map[string]any{"result": "", "reason_digest": ""}),
				tx.Model(&TimelineEntry{}).Where("corp_id = ? AND contact_id = ?", corpID, id).Update("detail", ""),
				tx.Model(&Event{}).Where("corp_id = ? AND external_user_id = ? AND status IN ?", corpID, c.ExternalUserID,
					[]string{StatusProcessed, StatusIgnored, StatusFailed}).Update("payload", ""),
			}
			for _, st := range steps {
				if st.Error != nil {
					return st.Error
				}
			}
			subjects := []string{"contact:" + c.ExternalUserID}
			if leadID != 0 {
				subjects = append(subjects, "lead:"+strconv.FormatUint(leadID, 10))
			}
			msgs := tx.Model(&WebhookMessage{}).Select("id").Where("corp_id = ? AND subject IN ?", corpID, subjects)
			deliveries := tx.Model(&WebhookDelivery{}).Select("id").Where("message_id IN (?)", msgs)
			for _, st := range []*gorm.DB{
				tx.Model(&WebhookDelivery{}).Where("message_id IN (?) AND status = ?", msgs, StatusPending).
					Updates(map[string]any{"status": StatusFailed, "error": ErasedDelivery}),
				tx.Model(&WebhookAttempt{}).Where("delivery_id IN (?)", deliveries).Update("response", ""),
				tx.Model(&WebhookMessage{}).Where("corp_id = ? AND subject IN ?", corpID, subjects).Update("body", "{}"),
			} {
				if st.Error != nil {
					return st.Error
				}
			}
			c.ErasedAt = &now
			erased = true
			return s.emit(tx, event(&c, leadID))
		})
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("store: unable to erase contact: %w", err)
	}
	return erased, leadID, err
}

// ContactRef names one contact of a corp.
type ContactRef struct {
	CorpID string
	ID     uint64
}

// LostContactsBefore lists up to limit contacts not yet erased whose every
// relation ended (lost, deleted) before `before`: customers no staff member
// follows any more.
func (s *Store) LostContactsBefore(ctx context.Context, before time.Time, limit int) ([]ContactRef, error) {
	var out []ContactRef
	err := s.db.WithContext(ctx).Model(&Contact{}).Select("contacts.corp_id, contacts.id").
		Where("contacts.erased_at IS NULL").
		Where("EXISTS (SELECT 1 FROM relations r WHERE r.contact_id = contacts.id)").
		Where("NOT EXISTS (SELECT 1 FROM relations r WHERE r.contact_id = contacts.id AND (r.status = ? OR r.lost_at IS NULL OR r.lost_at >= ?))",
			RelationActive, before).
		Order("contacts.id").Limit(limit).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: unable to list lost contacts: %w", err)
	}
	return out, nil
}
