package wecom

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"
)

// BudgetStore shares a corp's per-API call budgets and 45009 holds among
// the gateway's replicas, so that together they stay under WeCom's limit
// and all rest when WeCom refuses one of them (the gateway implements it on
// its database). UpdateBudget runs fn on the named state while every other
// replica waits, and stores what fn returns; BudgetStates reads the states
// whose names begin with prefix, without a lock.
type BudgetStore interface {
	UpdateBudget(ctx context.Context, name string, fn func(state []byte) ([]byte, error)) error
	BudgetStates(ctx context.Context, prefix string) (map[string][]byte, error)
}

const (
	// grantLife is how long a replica may spend calls it was granted. The
	// shared windows count them at the moment of the grant, so they count
	// grantLife (and a bucket) more than WeCom's minute: a call made up to
	// grantLife after its grant is still inside every window that counted
	// it, whatever WeCom's alignment.
	grantLife = 5 * time.Second
	// maxGrantShare: a grant is at most this share of the minute's budget.
	maxGrantShare = 60
	// minGrantShare: and at least this share (up to 16 calls), so that a
	// replica calling now and then writes to the database once per grant
	// rather than once per call.
	minGrantShare = 600
)

// grantBounds are the smallest and largest grant for a budget: grants start
// small, double while a replica spends them within their life and halve when
// they go unused, and what a grant did not spend is handed back at the next
// claim.
func grantBounds(l Limit) (lo, hi int) {
	lo = max(1, min(16, l.PerMinute/minGrantShare))
	return lo, max(lo, l.PerMinute/maxGrantShare)
}

// sharedBudgets claims calls from the shared windows in grants, one
// database write per grant rather than per call.
type sharedBudgets struct {
	store  BudgetStore
	corpID string
	log    *slog.Logger

	mu   sync.Mutex
	apis map[string]*grant
}

// grant is what one replica holds of an API's shared budget.
type grant struct {
	mu   sync.Mutex // one claim at a time per API in this process
	left int        // calls not yet spent
	size int        // calls asked for at the last claim
	at   time.Time  // when they were granted
}

// sharedState is the shared windows of one API, as stored.
type sharedState struct {
	Minute [][2]int64 `json:"m,omitempty"`
	Hour   [][2]int64 `json:"h,omitempty"`
}

func newSharedBudgets(store BudgetStore, corpID string, log *slog.Logger) *sharedBudgets {
	return &sharedBudgets{store: store, corpID: corpID, log: log, apis: map[string]*grant{}}
}

func (s *sharedBudgets) grantFor(api string) *grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.apis[api]
	if !ok {
		g = &grant{}
		s.apis[api] = g
	}
	return g
}

// take spends one call of the shared budget, claiming a new grant when this
// replica's is spent or stale. When the store cannot be reached the call
// goes on this process's own budget alone: a welcome is not refused because
// the database is slow.
func (s *sharedBudgets) take(ctx context.Context, api string, l Limit, now time.Time) error {
	g := s.grantFor(api)
	g.mu.Lock()
	defer g.mu.Unlock()
	fresh := !now.Before(g.at) && now.Sub(g.at) < grantLife
	if g.left > 0 && fresh {
		g.left--
		return nil
	}
	lo, hi := grantBounds(l)
	switch {
	case g.size == 0:
		g.size = lo
	case g.left == 0 && fresh:
		g.size = min(2*g.size, hi)
	case g.left > g.size/2:
		g.size = max(g.size/2, lo)
	}
	var granted int
	var wait time.Duration
	err := s.store.UpdateBudget(ctx, "wecom:budget:"+s.corpID+":"+api, func(state []byte) ([]byte, error) {
		var st sharedState
		if len(state) > 0 {
			if err := json.Unmarshal(state, &st); err != nil {
				st = sharedState{} // a state we cannot read is started afresh
			}
		}
		minute := newWindow(l.PerMinute, time.Second, 60+int(grantLife/time.Second))
		hour := newWindow(l.PerHour, time.Minute, 61)
		minute.load(st.Minute, now)
		hour.load(st.Hour, now)
		if g.left > 0 {
			// Hand back what the last grant did not spend.
			minute.sub(g.at, g.left)
			hour.sub(g.at, g.left)
		}
		free := min(minute.limit-minute.count(now), hour.limit-hour.count(now))
		granted = max(0, min(g.size, free))
		if granted == 0 {
			wait = max(minute.wait(now), hour.wait(now))
		} else {
			minute.addN(now, granted)
			hour.addN(now, granted)
		}
		return json.Marshal(sharedState{Minute: minute.export(), Hour: hour.export()})
	})
	if err != nil {
		s.log.Warn("wecom: shared budget unavailable, going on this process's budget", "corp_id", s.corpID, "api", api, "err", err)
		return nil
	}
	g.left, g.at = granted, now
	if granted == 0 {
		return &BudgetError{API: api, RetryAfter: max(wait, time.Millisecond)}
	}
	g.left--
	return nil
}
