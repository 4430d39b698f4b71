package webhook

import (
	"net/http"
	"testing"
	"time"
)

func noJitter(d time.Duration) time.Duration { return d }

func TestRetrySchedule(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	want := []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}
	for i, w := range want {
		at, ok := NextAttempt(now, i+1, 0, noJitter)
		if !ok || at.Sub(now) != w {
			t.Errorf("after attempt %d: %v %v, want +%v", i+1, at.Sub(now), ok, w)
		}
	}
	if _, ok := NextAttempt(now, 8, 0, noJitter); ok {
		t.Error("an 8th failure must be final")
	}
	cases := []struct {
		attempt    int
		retryAfter time.Duration
		want       time.Duration
	}{
		{1, 2 * time.Minute, 2 * time.Minute},   // later than the schedule: honoured
		{2, time.Second, 5 * time.Minute},       // earlier: the schedule stands
		{1, 100 * time.Hour, 24 * time.Hour},    // capped
		{3, 30 * time.Minute, 30 * time.Minute}, // equal
	}
	for _, c := range cases {
		at, _ := NextAttempt(now, c.attempt, c.retryAfter, noJitter)
		if at.Sub(now) != c.want {
			t.Errorf("attempt %d, Retry-After %v: +%v, want +%v", c.attempt, c.retryAfter, at.Sub(now), c.want)
		}
	}
	for i := 0; i < 1000; i++ {
		for _, base := range want {
			d := DefaultJitter(base)
			if d < base*9/10 || d > base*11/10 {
				t.Fatalf("jitter of %v gave %v", base, d)
			}
		}
	}
	for _, c := range []struct {
		v    string
		want time.Duration
	}{{"120", 2 * time.Minute}, {"0", 0}, {"-3", 0}, {"soon", 0}, {now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second}} {
		if got := parseRetryAfter(c.v, now); got != c.want {
			t.Errorf("Retry-After %q = %v, want %v", c.v, got, c.want)
		}
	}
}
