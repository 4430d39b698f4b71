package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/wecom"
)

// gatedStore is the real store whose commits wait for the test to open a
// gate, and whose batch `failBatch` (1-based; 0 for none) fails.
type gatedStore struct {
	*model.Store
	gate      chan struct{}
	failBatch int

	mu      sync.Mutex
	batches []int
}

func (g *gatedStore) InsertEvents(ctx context.Context, events []*model.Event) ([]bool, error) {
	g.mu.Lock()
	g.batches = append(g.batches, len(events))
	n := len(g.batches)
	g.mu.Unlock()
	if n == 1 {
		<-g.gate
	}
	if n == g.failBatch {
		return nil, errors.New("disk full")
	}
	return g.Store.InsertEvents(ctx, events)
}

// inFlight waits until the first commit has started (and waits at the gate).
func (g *gatedStore) inFlight(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		g.mu.Lock()
		n := len(g.batches)
		g.mu.Unlock()
		if n == 1 {
			return
		}
	}
	t.Fatal("the first commit did not start")
}

func inboxEvent(ext string) *wecom.Event {
	return &wecom.Event{ToUserName: "ww1", FromUserName: "sys", CreateTime: 1700000000, MsgType: "event",
		Event: wecom.EventExternalContact, ChangeType: wecom.ChangeAddContact, UserID: "zhangsan", ExternalUserID: ext}
}

// queued waits until n callbacks wait behind the commit in flight.
func (in *Inbox) queued(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		in.writes.mu.Lock()
		q := len(in.writes.queue)
		in.writes.mu.Unlock()
		if q == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callbacks queued, want %d", q, n)
		}
		time.Sleep(time.Millisecond)
	}
}

type acceptResult struct {
	duplicate bool
	err       error
}

func acceptAsync(in *Inbox, ev *wecom.Event) <-chan acceptResult {
	out := make(chan acceptResult, 1)
	go func() {
		dup, err := in.Accept(context.Background(), "ww1", ev, []byte("<xml/>"))
		out <- acceptResult{dup, err}
	}()
	return out
}

func TestCallbacksArrivingDuringACommitAreStoredTogether(t *testing.T) {
	modeltest.Each(t, func(t *testing.T, st *model.Store) {
		g := &gatedStore{Store: st, gate: make(chan struct{})}
		notified := make(chan struct{}, 10)
		in := NewInbox(g, func() { notified <- struct{}{} })

		first := acceptAsync(in, inboxEvent("wm0"))
		g.inFlight(t)
		var waiting []<-chan acceptResult
		for i := 1; i <= 20; i++ {
			waiting = append(waiting, acceptAsync(in, inboxEvent(fmt.Sprintf("wm%d", i))))
			in.queued(t, i)
		}
		// A resend of a callback in the same batch, and of the one in flight.
		waiting = append(waiting, acceptAsync(in, inboxEvent("wm7")))
		in.queued(t, 21)
		waiting = append(waiting, acceptAsync(in, inboxEvent("wm0")))
		in.queued(t, 22)
		close(g.gate)

		if r := <-first; r.err != nil || r.duplicate {
			t.Fatalf("first: %+v", r)
		}
		for i, ch := range waiting {
			r := <-ch
			if r.err != nil || r.duplicate != (i >= 20) {
				t.Fatalf("callback %d: %+v", i, r)
			}
		}
		if fmt.Sprint(g.batches) != "[1 22]" {
			t.Fatalf("batches = %v, want [1 22]", g.batches)
		}
		if n, _ := st.CountEvents(context.Background(), model.StatusPending); n != 21 {
			t.Fatalf("stored %d events, want 21", n)
		}
		if len(notified) != 2 {
			t.Fatalf("dispatcher woken %d times, want once per commit", len(notified))
		}
	})
}

func TestAFailedCommitFailsOnlyItsOwnCallbacks(t *testing.T) {
	modeltest.Each(t, func(t *testing.T, st *model.Store) {
		g := &gatedStore{Store: st, gate: make(chan struct{}), failBatch: 2}
		in := NewInbox(g, nil)

		first := acceptAsync(in, inboxEvent("wm0"))
		g.inFlight(t)
		second := acceptAsync(in, inboxEvent("wm1"))
		third := acceptAsync(in, inboxEvent("wm2"))
		in.queued(t, 2)
		close(g.gate)
		if r := <-first; r.err != nil || r.duplicate {
			t.Fatalf("first: %+v", r)
		}
		for _, ch := range []<-chan acceptResult{second, third} {
			if r := <-ch; r.err == nil {
				t.Fatalf("a callback of the failed commit was acknowledged: %+v", r)
			}
		}
		// WeCom resends them: stored now, and nothing was lost or doubled.
		for _, ext := range []string{"wm1", "wm2", "wm0"} {
			dup, err := in.Accept(context.Background(), "ww1", inboxEvent(ext), []byte("<xml/>"))
			if err != nil || dup != (ext == "wm0") {
				t.Fatalf("resend %s: dup %v err %v", ext, dup, err)
			}
		}
		if n, _ := st.CountEvents(context.Background(), model.StatusPending); n != 3 {
			t.Fatalf("stored %d events, want 3", n)
		}
	})
}

func TestAPanickingCommitFailsItsBatchAndTheNextOneRuns(t *testing.T) {
	calls := 0
	g := NewGroupCommit(8, func(ctx context.Context, items []int) ([]int, error) {
		calls++
		if calls == 1 {
			panic("boom")
		}
		return items, nil
	})
	if _, err := g.Do(context.Background(), 1); err == nil {
		t.Fatal("the panicking batch was answered without an error")
	}
	if v, err := g.Do(context.Background(), 2); err != nil || v != 2 {
		t.Fatalf("next batch: %v %v", v, err)
	}
}
