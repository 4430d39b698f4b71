package livecode

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// LandingCache holds what the public landing pages of one kind of code
// (/g/, /s/) show, by slug, so that a poster's scanners cost no database
// read: the first request of a slug loads it, the others are served from
// memory. A change made through this process clears it (Clear, called after
// the change committed); a change made by another replica is seen within
// the poll, when the version of the tables the pages read moved (Run).
type LandingCache[V any] struct {
	name string
	// version fingerprints the tables the pages read.
	version func(ctx context.Context) (string, error)

	mu     sync.Mutex
	gen    uint64 // moves on every clear: a load begun before it is not kept
	bySlug map[string]V
	seen   string // the version last polled
}

// NewLandingCache builds an empty cache; name labels its log lines and
// version fingerprints the tables its pages read.
func NewLandingCache[V any](name string, version func(ctx context.Context) (string, error)) *LandingCache[V] {
	return &LandingCache[V]{name: name, version: version, bySlug: map[string]V{}}
}

// Get returns slug's page, loading it on a miss. Errors (not found
// included) are not kept.
func (c *LandingCache[V]) Get(ctx context.Context, slug string, load func(ctx context.Context) (V, error)) (V, error) {
	c.mu.Lock()
	v, ok := c.bySlug[slug]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := load(ctx)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.bySlug[slug] = v
	}
	c.mu.Unlock()
	return v, nil
}

// Clear forgets every page, after a change.
func (c *LandingCache[V]) Clear() {
	c.mu.Lock()
	c.gen++
	clear(c.bySlug)
	c.mu.Unlock()
}

// Poll reads the version once and clears the pages when it moved.
func (c *LandingCache[V]) Poll(ctx context.Context) error {
	v, err := c.version(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	moved := v != c.seen
	c.seen = v
	c.mu.Unlock()
	if moved {
		c.Clear()
	}
	return nil
}

// Run polls every interval until ctx ends.
func (c *LandingCache[V]) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := c.Poll(ctx); err != nil && ctx.Err() == nil {
			log.Error("poll landing pages' version", "pages", c.name, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
