package model

import (
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/leadgate/scrm-gateway/clock"
)

// subscriptionsPoll is how often, at most, the outbox reads the endpoints'
// version to learn of changes made by other replicas.
const subscriptionsPoll = time.Second

// subscriptions keeps each corp's enabled webhook endpoints (id, event
// types, version) in memory for the outbox, which otherwise reads them in
// every emitting transaction. A change made through this store clears it at
// once (after its commit); a change made by another replica is seen within
// subscriptionsPoll, when the endpoints' version (count and latest
// updated_at) moved. Every write that changes what an endpoint subscribes to
// (create, update, enable, disable, delete) sets updated_at.
type subscriptions struct {
	mu      sync.Mutex
	gen     uint64 // moves on every clear: a read begun before it is not kept
	byCorp  map[string][]WebhookEndpoint
	version string
	checked time.Time // wall clock of the last version read
}

// clear forgets every corp's endpoints.
func (c *subscriptions) clear() {
	c.mu.Lock()
	c.gen++
	c.byCorp = nil
	c.mu.Unlock()
}

// endpointsChanged is called after a committed change to webhook_endpoints.
func (s *Store) endpointsChanged() { s.subs.clear() }

// subscribed returns the enabled endpoints of a corp, from memory when it
// can, else read through tx (the emitting transaction: SQLite's one
// connection is held by it).
func (s *Store) subscribed(tx *gorm.DB, corpID string) ([]WebhookEndpoint, error) {
	c := &s.subs
	now := clock.Real{}.Now()
	c.mu.Lock()
	due := now.Sub(c.checked) >= subscriptionsPoll || now.Before(c.checked)
	if due {
		c.checked = now // one reader checks; the others use what is held
	}
	c.mu.Unlock()
	if due {
		v, err := endpointsVersion(tx)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		if v != c.version {
			c.version, c.byCorp = v, nil
			c.gen++
		}
		c.mu.Unlock()
	}
	c.mu.Lock()
	eps, ok := c.byCorp[corpID]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		return eps, nil
	}
	if err := tx.Select("id", "event_types", "version").Where("corp_id = ? AND enabled = ? AND deleted_at IS NULL", corpID, true).
		Order("id").Find(&eps).Error; err != nil {
		return nil, fmt.Errorf("store: unable to read webhook endpoints: %w", err)
	}
	c.mu.Lock()
	// Read under READ COMMITTED (MySQL) or on SQLite's one connection: a
	// change committed before the read is in it; one committed after it
	// clears the cache after its commit, so gen has moved and the read is
	// not kept.
	if c.gen == gen {
		if c.byCorp == nil {
			c.byCorp = map[string][]WebhookEndpoint{}
		}
		c.byCorp[corpID] = eps
	}
	c.mu.Unlock()
	return eps, nil
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
