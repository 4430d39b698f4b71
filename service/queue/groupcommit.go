package queue

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// GroupCommit writes concurrent requests together: those that arrive while
// a commit is in flight wait and go in the next one, so many requests share
// one transaction and one fsync. There is no timer: a lone request is
// committed at once.
type GroupCommit[T, R any] struct {
	// commit writes a batch in one transaction and answers each item, or
	// fails the whole batch.
	commit func(ctx context.Context, items []T) ([]R, error)
	max    int

	mu       sync.Mutex
	queue    []*groupWrite[T, R]
	flushing bool
}

type groupWrite[T, R any] struct {
	item T
	done chan groupResult[R]
}

type groupResult[R any] struct {
	val R
	err error
}

// NewGroupCommit commits at most max items per transaction with commit.
func NewGroupCommit[T, R any](max int, commit func(ctx context.Context, items []T) ([]R, error)) *GroupCommit[T, R] {
	return &GroupCommit[T, R]{commit: commit, max: max}
}

// Do queues item and waits for the commit that writes it. A caller that
// gives up (ctx) leaves its item queued: it may still be written.
func (g *GroupCommit[T, R]) Do(ctx context.Context, item T) (R, error) {
	w := &groupWrite[T, R]{item: item, done: make(chan groupResult[R], 1)}
	g.mu.Lock()
	g.queue = append(g.queue, w)
	lead := !g.flushing
	g.flushing = true
	g.mu.Unlock()
	if lead {
		go g.flush()
	}
	select {
	case r := <-w.done:
		return r.val, r.err
	case <-ctx.Done():
		var zero R
		return zero, ctx.Err()
	}
}

// flush commits batch after batch until the queue is empty. Its context is
// its own: one caller giving up must not fail the others' writes.
func (g *GroupCommit[T, R]) flush() {
	for {
		g.mu.Lock()
		n := min(len(g.queue), g.max)
		if n == 0 {
			g.flushing = false
			g.mu.Unlock()
			return
		}
		batch := g.queue[:n:n]
		g.queue = g.queue[n:]
		if len(g.queue) == 0 {
			g.queue = nil
		}
		g.mu.Unlock()

		items := make([]T, len(batch))
		for i, w := range batch {
			items[i] = w.item
		}
		vals, err := g.commitSafely(items)
		for i, w := range batch {
			r := groupResult[R]{err: err}
			if err == nil {
				r.val = vals[i]
			}
			w.done <- r
		}
	}
}

// commitSafely runs commit with its own deadline, turning a panic into the
// batch's error so the queue never stalls.
func (g *GroupCommit[T, R]) commitSafely(items []T) (vals []R, err error) {
	defer func() {
		if r := recover(); r != nil {
			vals, err = nil, fmt.Errorf("group commit panic: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vals, err = g.commit(ctx, items)
	if err == nil && len(vals) != len(items) {
		err = fmt.Errorf("group commit: %d answers for %d items", len(vals), len(items))
	}
	return vals, err
}
