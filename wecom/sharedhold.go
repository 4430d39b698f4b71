package wecom

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"
)

const (
	// holdViewTTL is how old a replica's view of the corp's shared holds may
	// be: a 45009 answered to one replica holds the others within this
	// (plus one read), well inside the first 1 s hold, at one read per TTL
	// per corp and replica while calls are made, not one per call.
	holdViewTTL = 500 * time.Millisecond
	// holdIOTimeout bounds a read or write of the shared holds: a slow
	// database must not hold up a welcome.
	holdIOTimeout = 2 * time.Second
)

// holdState is one API's 45009 hold as the replicas share it. Gen grows by
// one with every write, so a replica applies each state once and in order.
type holdState struct {
	Until int64 `json:"u,omitempty"` // unix nanoseconds; 0: not held
	Step  int64 `json:"s,omitempty"` // the current rest, nanoseconds
	Gen   int64 `json:"g"`
}

// sharedHolds shares a corp's 45009 holds among its replicas through the
// BudgetStore, beside the shared budget: a replica that WeCom refuses
// writes the hold (one locked write per hold begun, doubled or lifted, never
// per call), and every replica reads all of the corp's holds at most once
// per holdViewTTL, in one statement.
type sharedHolds struct {
	store  BudgetStore
	prefix string
	log    *slog.Logger

	mu      sync.Mutex
	readAt  time.Time // when the view was read, on the client's clock
	reading bool      // a read is in flight: others use the view they have
	view    map[string]holdState
	warned  time.Time
}

func newSharedHolds(store BudgetStore, corpID string, log *slog.Logger) *sharedHolds {
	return &sharedHolds{store: store, prefix: "wecom:hold:" + corpID + ":", log: log, view: map[string]holdState{}}
}

// get returns api's shared hold as last read, reading the corp's holds again
// when the view is older than holdViewTTL.
func (s *sharedHolds) get(ctx context.Context, api string, now time.Time) holdState {
	s.refresh(ctx, now)
	return s.state(api)
}

func (s *sharedHolds) state(api string) holdState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.view[api]
}

// refresh reads the corp's holds when the view is older than holdViewTTL.
// Only one caller reads; the others go on with the view they have rather
// than wait for the database.
func (s *sharedHolds) refresh(ctx context.Context, now time.Time) {
	s.mu.Lock()
	fresh := !now.Before(s.readAt) && now.Sub(s.readAt) < holdViewTTL
	if fresh || s.reading {
		s.mu.Unlock()
		return
	}
	s.reading = true
	s.mu.Unlock()

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), holdIOTimeout)
	states, err := s.store.BudgetStates(rctx, s.prefix)
	cancel()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.reading, s.readAt = false, now
	if err != nil {
		s.warn(now, "wecom: shared rate-limit holds unreadable, going on this process's own", "err", err)
		return
	}
	view := make(map[string]holdState, len(states))
	for name, raw := range states {
		var st holdState
		if json.Unmarshal(raw, &st) == nil {
			view[strings.TrimPrefix(name, s.prefix)] = st
		}
	}
	s.view = view
}

// publish writes what this replica learned of api's hold: mine.Until set,
// a hold begun or doubled (the longer of it and the stored one stands);
// zero, a probe WeCom answered, which lifts the stored hold unless another
// replica was refused since this one last looked (mine.Gen is the last
// state it applied). It returns the state stored, for the caller to apply.
func (s *sharedHolds) publish(api string, mine holdState, now time.Time) (holdState, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), holdIOTimeout)
	defer cancel()
	var stored holdState
	err := s.store.UpdateBudget(ctx, s.prefix+api, func(state []byte) ([]byte, error) {
		var cur holdState
		if len(state) > 0 {
			_ = json.Unmarshal(state, &cur) // a state we cannot read is started afresh
		}
		switch {
		case mine.Until != 0:
			stored = holdState{Until: max(mine.Until, cur.Until), Step: max(mine.Step, cur.Step)}
		case cur.Until == 0:
			stored = cur // nothing held: nothing to lift
			return state, nil
		case cur.Gen > mine.Gen && cur.Until > now.UnixNano():
			// Another replica was refused after this one's view: its hold
			// stands, and this replica takes it up.
			stored = cur
			return state, nil
		}
		stored.Gen = cur.Gen + 1
		return json.Marshal(stored)
	})
	if err != nil {
		s.mu.Lock()
		s.warn(now, "wecom: shared rate-limit hold not written, holding this process only", "api", api, "err", err)
		s.mu.Unlock()
		return holdState{}, false
	}
	s.mu.Lock()
	if stored.Gen >= s.view[api].Gen {
		s.view[api] = stored
	}
	s.mu.Unlock()
	return stored, true
}

// warn logs a store failure at most once a minute (s.mu held).
func (s *sharedHolds) warn(now time.Time, msg string, args ...any) {
	if now.Sub(s.warned) < time.Minute && !now.Before(s.warned) {
		return
	}
	s.warned = now
	s.log.Warn(msg, args...)
}
