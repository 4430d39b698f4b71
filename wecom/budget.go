package wecom

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Default budgets stay under WeCom's limits per corp and API (10,000 calls a
// minute, 150,000 an hour) so that the gateway never provokes 45009 itself.
// The budget is per process: with several replicas, give each its share.
const (
	DefaultPerMinute = 9000
	DefaultPerHour   = 140000
	// DefaultHoldFor is how long an API rests after WeCom answered 45009: a
	// blocked minute lasts 60 s.
	DefaultHoldFor = 60 * time.Second
)

// Limit is a per-API call budget. Zero fields take the BudgetConfig defaults.
type Limit struct {
	PerMinute int
	PerHour   int
}

// BudgetConfig sets the calls we allow ourselves per API. Every API, the
// welcome message included, has a budget of its own, so tagging or profile
// fetches can never use up the welcome's share.
type BudgetConfig struct {
	PerMinute int              // default DefaultPerMinute
	PerHour   int              // default DefaultPerHour
	PerAPI    map[string]Limit // overrides by API name (APISendWelcomeMsg, ...)
	HoldFor   time.Duration    // default DefaultHoldFor
}

func (c BudgetConfig) validate() error {
	if c.PerMinute < 0 || c.PerHour < 0 || c.HoldFor < 0 {
		return errors.New("wecom: budget values must not be negative")
	}
	for api, l := range c.PerAPI {
		if l.PerMinute < 0 || l.PerHour < 0 {
			return fmt.Errorf("wecom: budget for %s must not be negative", api)
		}
	}
	return nil
}

func (c BudgetConfig) limitFor(api string) Limit {
	l := c.PerAPI[api]
	if l.PerMinute == 0 {
		l.PerMinute = c.PerMinute
	}
	if l.PerMinute == 0 {
		l.PerMinute = DefaultPerMinute
	}
	if l.PerHour == 0 {
		l.PerHour = c.PerHour
	}
	if l.PerHour == 0 {
		l.PerHour = DefaultPerHour
	}
	return l
}

// BudgetStatus is one API's budget at a moment, for metrics.
type BudgetStatus struct {
	API             string
	PerMinute       int
	PerHour         int
	RemainingMinute int
	RemainingHour   int
	// HeldUntil is when a 45009 hold ends; zero when the API is not held.
	HeldUntil time.Time
}

// Remaining is the number of calls that may go now.
func (s BudgetStatus) Remaining() int {
	return min(s.RemainingMinute, s.RemainingHour)
}

// budget tracks every API's windows on the client's clock.
type budget struct {
	cfg     BudgetConfig
	holdFor time.Duration

	mu   sync.Mutex
	apis map[string]*apiBudget
}

type apiBudget struct {
	minute, hour window
	heldUntil    time.Time
}

func newBudget(cfg BudgetConfig) *budget {
	hold := cfg.HoldFor
	if hold == 0 {
		hold = DefaultHoldFor
	}
	return &budget{cfg: cfg, holdFor: hold, apis: map[string]*apiBudget{}}
}

func (b *budget) api(name string) *apiBudget {
	a, ok := b.apis[name]
	if !ok {
		l := b.cfg.limitFor(name)
		a = &apiBudget{
			minute: newWindow(l.PerMinute, time.Second, 60),
			hour:   newWindow(l.PerHour, time.Minute, 60),
		}
		b.apis[name] = a
	}
	return a
}

// take spends one call of api's budget, or says how long to wait.
func (b *budget) take(api string, now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.api(api)
	if now.Before(a.heldUntil) {
		return &BudgetError{API: api, RetryAfter: a.heldUntil.Sub(now), Held: true}
	}
	wait := max(a.minute.wait(now), a.hour.wait(now))
	if wait > 0 {
		return &BudgetError{API: api, RetryAfter: wait}
	}
	a.minute.add(now)
	a.hour.add(now)
	return nil
}

// hold rests api after WeCom answered 45009 and returns how long.
func (b *budget) hold(api string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.api(api)
	if until := now.Add(b.holdFor); until.After(a.heldUntil) {
		a.heldUntil = until
	}
	return a.heldUntil.Sub(now)
}

func (b *budget) status(api string, now time.Time) BudgetStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.statusLocked(api, now)
}

func (b *budget) statusLocked(api string, now time.Time) BudgetStatus {
	a := b.api(api)
	s := BudgetStatus{
		API:             api,
		PerMinute:       a.minute.limit,
		PerHour:         a.hour.limit,
		RemainingMinute: max(0, a.minute.limit-a.minute.count(now)),
		RemainingHour:   max(0, a.hour.limit-a.hour.count(now)),
	}
	if now.Before(a.heldUntil) {
		s.HeldUntil = a.heldUntil
		s.RemainingMinute, s.RemainingHour = 0, 0
	}
	return s
}

// statuses reports every API in names plus any other API used so far.
func (b *budget) statuses(names []string, now time.Time) []BudgetStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := map[string]bool{}
	var all []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			all = append(all, n)
		}
	}
	for n := range b.apis {
		if !seen[n] {
			seen[n] = true
			all = append(all, n)
		}
	}
	sort.Strings(all)
	out := make([]BudgetStatus, 0, len(all))
	for _, n := range all {
		out = append(out, b.statusLocked(n, now))
	}
	return out
}

// window is a sliding window of n buckets. It counts n+1 buckets (the current,
// partly elapsed one and n whole ones behind it), so it may count a bucket's
// worth of calls that have already left the window but never misses one that
// has not: whatever WeCom's window alignment, we stay under the limit.
type window struct {
	limit  int
	bucket time.Duration
	counts []int
	ids    []int64 // bucket number held in each slot
}

func newWindow(limit int, bucket time.Duration, n int) window {
	return window{limit: limit, bucket: bucket, counts: make([]int, n+1), ids: make([]int64, n+1)}
}

func (w *window) id(t time.Time) int64 {
	return t.UnixNano() / int64(w.bucket)
}

// live reports whether slot i holds a bucket still inside the window at cur.
// Buckets from the future (the clock went back) count too, conservatively.
func (w *window) live(i int, cur int64) bool {
	return w.counts[i] > 0 && w.ids[i] > cur-int64(len(w.ids))
}

func (w *window) count(now time.Time) int {
	cur := w.id(now)
	n := 0
	for i := range w.counts {
		if w.live(i, cur) {
			n += w.counts[i]
		}
	}
	return n
}

func (w *window) add(now time.Time) {
	cur := w.id(now)
	i := int(((cur % int64(len(w.ids))) + int64(len(w.ids))) % int64(len(w.ids)))
	if w.ids[i] != cur {
		w.ids[i], w.counts[i] = cur, 0
	}
	w.counts[i]++
}

// wait is how long until one more call fits, zero when it fits now.
func (w *window) wait(now time.Time) time.Duration {
	cur := w.id(now)
	type slot struct {
		id    int64
		count int
	}
	var live []slot
	total := 0
	for i := range w.counts {
		if w.live(i, cur) {
			live = append(live, slot{w.ids[i], w.counts[i]})
			total += w.counts[i]
		}
	}
	if total < w.limit {
		return 0
	}
	sort.Slice(live, func(i, j int) bool { return live[i].id < live[j].id })
	excess := total - w.limit + 1
	for _, s := range live {
		excess -= s.count
		if excess <= 0 {
			// The bucket leaves the count once the current bucket number
			// reaches s.id + n + 1.
			leaves := time.Unix(0, (s.id+int64(len(w.ids)))*int64(w.bucket))
			if d := leaves.Sub(now); d > 0 {
				return d
			}
			return w.bucket
		}
	}
	// Only buckets from the future remain (the clock went back): wait a whole
	// window rather than guess.
	return time.Duration(len(w.ids)) * w.bucket
}
