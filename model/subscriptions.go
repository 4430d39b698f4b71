package model

import (
	"fmt"

	"gorm.io/gorm"
)

// subscriptions keeps each corp's enabled webhook endpoints (id, event
// types, version) in memory for the outbox, which otherwise reads them in
// every emitting transaction (pollCache). Every write that changes what an
// endpoint subscribes to (create, update, enable, disable, delete) sets
// updated_at.
type subscriptions = pollCache[[]WebhookEndpoint]

// endpointsChanged is called after a committed change to webhook_endpoints.
func (s *Store) endpointsChanged() { s.subs.clear() }

// subscribed returns the enabled endpoints of a corp, from memory when it
// can, else read through tx (the emitting transaction: SQLite's one
// connection is held by it).
func (s *Store) subscribed(tx *gorm.DB, corpID string) ([]WebhookEndpoint, error) {
	return s.subs.get(corpID, func() (string, error) { return endpointsVersion(tx) }, func() ([]WebhookEndpoint, error) {
		var eps []WebhookEndpoint
		if err := tx.Select("id", "event_types", "version").Where("corp_id = ? AND enabled = ? AND deleted_at IS NULL", corpID, true).
			Order("id").Find(&eps).Error; err != nil {
			return nil, fmt.Errorf("store: unable to read webhook endpoints: %w", err)
		}
		return eps, nil
	})
}

// endpointsVersion is a cheap fingerprint of webhook_endpoints that moves
// with every change to what endpoints subscribe to.
func endpointsVersion(tx *gorm.DB) (string, error) {
	var v struct {
		N    int64
		Last *string
	}
	if err := tx.Raw(`SELECT COUNT(*) AS n, CAST(MAX(updated_at) AS CHAR) AS last FROM webhook_endpoints`).Scan(&v).Error; err != nil {
		return "", fmt.Errorf("store: unable to read the webhook endpoints' version: %w", err)
	}
	last := ""
	if v.Last != nil {
		last = *v.Last
	}
	return fmt.Sprintf("%d/%s", v.N, last), nil
}
