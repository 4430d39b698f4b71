package model

import (
	"sync"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
)

// cachePoll is how often, at most, a pollCache reads its table's version to
// learn of changes made by other replicas.
const cachePoll = time.Second

// pollCache keeps a small per-corp read in memory. A change made through
// this store clears it at once (after its commit); a change made by another
// replica is seen within cachePoll, when the version (a cheap fingerprint
// of the table: counts, latest updated_at) moved.
type pollCache[T any] struct {
	fill    sync.Mutex // one read at a time: concurrent misses wait for it
	mu      sync.Mutex
	gen     uint64 // moves on every clear: a read begun before it is not kept
	byCorp  map[string]T
	version string
	checked time.Time // wall clock of the last version read
}

// clear forgets every corp's value.
func (c *pollCache[T]) clear() {
	c.mu.Lock()
	c.gen++
	c.byCorp = nil
	c.mu.Unlock()
}

// get returns corpID's value, from memory when it can, else from read.
// version reads the fingerprint (at most once per cachePoll).
func (c *pollCache[T]) get(corpID string, version func() (string, error), read func() (T, error)) (T, error) {
	now := clock.Real{}.Now()
	c.mu.Lock()
	due := now.Sub(c.checked) >= cachePoll || now.Before(c.checked)
	if due {
		c.checked = now // one reader checks; the others use what is held
	}
	c.mu.Unlock()
	if due {
		v, err := version()
		if err != nil {
			var zero T
			return zero, err
		}
		c.mu.Lock()
		if v != c.version {
			c.version, c.byCorp = v, nil
			c.gen++
		}
		c.mu.Unlock()
	}
	lookup := func() (T, uint64, bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		v, ok := c.byCorp[corpID]
		return v, c.gen, ok
	}
	if v, _, ok := lookup(); ok {
		return v, nil
	}
	c.fill.Lock()
	defer c.fill.Unlock()
	v, gen, ok := lookup()
	if ok {
		return v, nil // read by the miss this one waited for
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	// Read under READ COMMITTED (MySQL) or on SQLite's one connection: a
	// change committed before the read is in it; one committed after it
	// clears the cache after its commit, so gen has moved and the read is
	// not kept.
	if c.gen == gen {
		if c.byCorp == nil {
			c.byCorp = map[string]T{}
		}
		c.byCorp[corpID] = v
	}
	c.mu.Unlock()
	return v, nil
}
