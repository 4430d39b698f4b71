// Package clock is the one source of time for the gateway. Every
// constructor that reads the time, sets a deadline or schedules a retry takes
// a Clock, so that production runs on the wall clock and a test can walk a
// welcome's 20 s window or a webhook's 10 h retry without sleeping.
//
// It imports nothing of ours, so every package may import it.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and waits on it.
type Clock interface {
	Now() time.Time
	// After sends the clock's time on the channel once d has passed on it.
	After(d time.Duration) <-chan time.Time
}

// Real is the wall clock.
type Real struct{}

// Now returns the current time.
func (Real) Now() time.Time { return time.Now() }

// After waits d of real time.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Since returns the time elapsed on c since t.
func Since(c Clock, t time.Time) time.Duration { return c.Now().Sub(t) }

// WithDeadline returns a context cancelled when c reaches at (or when ctx is
// done), like context.WithDeadline on c's time instead of the wall clock.
// On another clock than Real the context carries no Deadline (a dialer would
// read it as wall-clock time); its cause is context.DeadlineExceeded.
func WithDeadline(ctx context.Context, c Clock, at time.Time) (context.Context, context.CancelFunc) {
	if _, ok := c.(Real); ok {
		return context.WithDeadline(ctx, at)
	}
	cctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-c.After(at.Sub(c.Now())):
			cancel(context.DeadlineExceeded)
		case <-cctx.Done():
		}
	}()
	return cctx, func() { cancel(context.Canceled) }
}

// Elapsed is the wall-clock time passed since start, for a start read by a
// library from the wall clock (GORM's query timer). Our own code measures
// latencies on its Clock.
func Elapsed(start time.Time) time.Duration { return time.Since(start) }
