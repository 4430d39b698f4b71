package wecom

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// memBudgets is a BudgetStore in memory, as the database plays it for
// replicas: one state per name, updates serialized.
type memBudgets struct {
	mu    sync.Mutex
	rows  map[string][]byte
	reads int
}

func newMemBudgets() *memBudgets { return &memBudgets{rows: map[string][]byte{}} }

func (m *memBudgets) UpdateBudget(_ context.Context, name string, fn func([]byte) ([]byte, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	next, err := fn(m.rows[name])
	if err != nil {
		return err
	}
	m.rows[name] = next
	return nil
}

func (m *memBudgets) BudgetStates(_ context.Context, prefix string) (map[string][]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	out := map[string][]byte{}
	for k, v := range m.rows {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out, nil
}

func (m *memBudgets) readCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reads
}

// Two replicas of a corp share one store: a 45009 answered to one holds the
// other too (once its view of the shared holds is refreshed, within
// holdViewTTL), without a call of its own reaching WeCom; the view is read
// once per TTL, not per call; and a probe answered on one replica lifts the
// hold on the other.
func TestHoldIsSharedByReplicas(t *testing.T) {
	f := newFakeWeCom(t)
	store := newMemBudgets()
	const hold = 10 * time.Second
	a := newTestClient(t, func(c *ClientConfig) { c.BudgetStore, c.Budget.HoldFirst = store, hold })
	b := newTestClient(t, func(c *ClientConfig) { c.BudgetStore, c.Budget.HoldFirst, c.Now = store, hold, a.clock.Now })
	clock := a.clock

	if err := markTag(t, b); err != nil {
		t.Fatal(err)
	}
	f.errcode(APIMarkTag, CodeFrequencyLimit)
	if err := markTag(t, a); !errors.As(err, new(*APIError)) {
		t.Fatalf("replica a: %v, want WeCom's 45009", err)
	}
	sent := len(f.callsTo(APIMarkTag))

	clock.Advance(holdViewTTL)
	var be *BudgetError
	if err := markTag(t, b); !errors.As(err, &be) || !be.Held || be.RetryAfter != hold-holdViewTTL {
		t.Fatalf("replica b after a's 45009: %v, want held for %v", err, hold-holdViewTTL)
	}
	if s := b.Budget(APIMarkTag); s.HeldUntil.IsZero() {
		t.Fatalf("replica b's status: %+v, want held", s)
	}
	// Held calls and calls to other APIs within the TTL read nothing more.
	reads := store.readCount()
	for range 20 {
		_ = markTag(t, b)
		if _, err := b.GetGroupChat(ctxT(t), "wr1", false); err != nil {
			t.Fatal(err)
		}
	}
	if got := store.readCount(); got != reads {
		t.Fatalf("%d reads of the shared holds within one TTL, want none", got-reads)
	}
	if got := len(f.callsTo(APIMarkTag)); got != sent {
		t.Fatalf("%d calls reached WeCom during the shared hold", got-sent)
	}

	// A caller on b whose answer is due before the hold ends goes as the
	// probe; WeCom answers, and the hold is lifted for a too.
	clock.Advance(time.Second)
	if err := b.MarkTag(WithAnswerBy(ctxT(t), clock.Now().Add(2*time.Second)), "u1", "wm1", []string{"et1"}, nil); err != nil {
		t.Fatalf("b's probe: %v", err)
	}
	clock.Advance(holdViewTTL)
	if err := markTag(t, a); err != nil {
		t.Fatalf("replica a after b's probe lifted the hold: %v", err)
	}
}

// A replica refused while another's longer hold is stored takes the longer
// one; a probe answered on a replica that had not seen a newer refusal
// elsewhere does not lift it.
func TestSharedHoldKeepsTheLongerRest(t *testing.T) {
	store := newMemBudgets()
	h := newSharedHolds(store, "ww1", slog.New(slog.DiscardHandler))
	now := time.Unix(1_800_000_000, 0)
	long, ok := h.publish(APIMarkTag, holdState{Until: now.Add(8 * time.Second).UnixNano(), Step: int64(8 * time.Second)}, now)
	if !ok || long.Gen != 1 {
		t.Fatalf("first hold: %+v %v", long, ok)
	}
	st, _ := h.publish(APIMarkTag, holdState{Until: now.Add(time.Second).UnixNano(), Step: int64(time.Second)}, now)
	if st.Until != long.Until || st.Step != long.Step || st.Gen != 2 {
		t.Fatalf("a shorter hold replaced the longer one: %+v", st)
	}
	// A lift from a replica whose last view was gen 1 leaves gen 2's hold.
	if st, _ := h.publish(APIMarkTag, holdState{Gen: 1}, now.Add(2*time.Second)); st.Until != long.Until {
		t.Fatalf("a stale lift removed a newer hold: %+v", st)
	}
	if st, _ := h.publish(APIMarkTag, holdState{Gen: 2}, now.Add(2*time.Second)); st.Until != 0 || st.Gen != 3 {
		t.Fatalf("lift: %+v", st)
	}
}
