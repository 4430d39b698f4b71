package handler

import (
	"testing"
	"time"
)

func TestAuthThrottleBlocksUntilTheWindowEnds(t *testing.T) {
	now := time.Unix(1700000000, 0)
	th := newAuthThrottle(func() time.Time { return now })
	for i := 0; i < authFailLimit; i++ {
		if wait, _ := th.blocked("a"); wait {
			t.Fatalf("blocked after %d failures", i)
		}
		th.failed("a")
	}
	if wait, after := th.blocked("a"); !wait || after != "300" {
		t.Fatalf("after %d failures: %v %q", authFailLimit, wait, after)
	}
	if wait, _ := th.blocked("b"); wait {
		t.Fatal("another client is blocked")
	}
	now = now.Add(authFailWindow - time.Second)
	if wait, after := th.blocked("a"); !wait || after != "1" {
		t.Fatalf("a second before the end: %v %q", wait, after)
	}
	now = now.Add(time.Second)
	if wait, _ := th.blocked("a"); wait {
		t.Fatal("still blocked after the window")
	}
	th.failed("a")
	if wait, _ := th.blocked("a"); wait {
		t.Fatal("one failure in a new window blocks")
	}
}
