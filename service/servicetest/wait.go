// Package servicetest holds helpers shared by the service packages' tests.
package servicetest

import (
	"testing"
	"time"
)

// Eventually waits until cond holds, failing the test after 20 s (on the
// wall clock: an operational timeout): for what another goroutine does on its
// own (a sender's look at the outbox, a worker's claim), never in place of
// checking a result.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	timeout := time.NewTimer(20 * time.Second)
	defer timeout.Stop()
	for !cond() {
		select {
		case <-timeout.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
