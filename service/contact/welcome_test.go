package contact

import (
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/service/queue"
)

// An add handled after its window says what may have happened: an earlier
// attempt made while the window was open may have sent the welcome before
// its replica died (unknown); otherwise none was sent (expired).
func TestTooLateIsUnknownWhenAnEarlierAttemptWasInTime(t *testing.T) {
	at := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	deadline := at.Add(welcomeWindow - time.Second)
	for _, c := range []struct {
		attempt  int
		received time.Time
		want     string
	}{
		{1, at.Add(time.Second), "expired"},             // first attempt, late: nothing was tried
		{2, at.Add(time.Second), "unknown"},             // a crashed attempt had the window
		{3, deadline.Add(-time.Millisecond), "unknown"}, // received just in time
		{2, deadline, "expired"},                        // received too late for any attempt
		{2, at.Add(time.Hour), "expired"},
	} {
		ev := &queue.InboundEvent{Attempt: c.attempt, ReceivedAt: c.received}
		got, detail := tooLate(ev, deadline)
		if got != c.want || !strings.HasPrefix(detail, map[string]string{"expired": "welcome not sent", "unknown": "welcome outcome unknown"}[c.want]) {
			t.Errorf("attempt %d received %v: %s %q, want %s", c.attempt, c.received.Sub(at), got, detail, c.want)
		}
	}
}
