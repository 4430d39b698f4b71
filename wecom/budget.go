package wecom

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Default budgets stay under WeCom's limits per corp and API (10,000 calls a
// minute, 150,000 an hour) so that the gateway never provokes 45009 itself.
// With a BudgetStore the budget, and the hold after a 45009, are shared by
// every replica of the corp; without one they are per process.
const (
	DefaultPerMinute = 9000
	DefaultPerHour   = 140000
	// DefaultHoldFirst is the first rest of an API after WeCom answered
	// 45009. A 45009 is often a momentary refusal rather than a blocked
	// minute, so the API is probed again with a single call after this long,
	// and the rest doubles with every probe WeCom refuses too.
	DefaultHoldFirst = time.Second
	// DefaultHoldFor is the longest rest: a blocked minute lasts 60 s.
	DefaultHoldFor = 60 * time.Second
	// probeGap is the least time between two probes of a held API by callers
	// whose deadline ends before the hold does (a welcome's window).
	probeGap = time.Second
	// probeTimeout is how long a probe with no answer keeps others waiting.
	probeTimeout = 5 * time.Second
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
	HoldFirst time.Duration    // first rest after a 45009; default DefaultHoldFirst
	HoldFor   time.Duration    // longest rest after repeated 45009s; default DefaultHoldFor
}

func (c BudgetConfig) validate() error {
	if c.PerMinute < 0 || c.PerHour < 0 || c.HoldFor < 0 || c.HoldFirst < 0 {
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
	// HeldFor is how long the hold has left; zero when not held.
	HeldFor time.Duration
}

// Remaining is the number of calls that may go now.
func (s BudgetStatus) Remaining() int {
	return min(s.RemainingMinute, s.RemainingHour)
}

type answerByKey struct{}

// WithAnswerBy tells the client that the caller needs its answer by t, on
// the client's clock (a welcome's window). A call to an API held after a
// 45009 whose hold outlasts t may then go as the API's probe instead of
// waiting the hold out. Without it the context's deadline counts.
func WithAnswerBy(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, answerByKey{}, t)
}

func answerBy(ctx context.Context) time.Time {
	if t, ok := ctx.Value(answerByKey{}).(time.Time); ok {
		return t
	}
	t, _ := ctx.Deadline()
	return t
}

// budget tracks every API's windows on the client's clock.
type budget struct {
	cfg       BudgetConfig
	holdFirst time.Duration
	holdMax   time.Duration
	shared    *sharedBudgets // nil: the budget is this process's alone
	holds     *sharedHolds   // nil: a 45009 holds this process only

	mu   sync.Mutex
	apis map[string]*apiBudget
}

type apiBudget struct {
	minute, hour window
	hold         hold
}

// hold is an API's rest after WeCom answered 45009. While it lasts, calls
// are refused before they are sent; when it ends, one call goes as a probe
// and the others wait for its answer. A probe WeCom refuses too doubles the
// rest (up to holdMax); any answer that is not a rate limit lifts it at once.
type hold struct {
	until   time.Time     // zero when the API is not held
	step    time.Duration // the current rest
	probing bool          // a probe is in flight
	probeAt time.Time     // when the last probe went
	gen     int64         // the last shared state applied (sharedHolds)
}

func (h *hold) active() bool { return !h.until.IsZero() }

func newBudget(cfg BudgetConfig) *budget {
	hold := cfg.HoldFor
	if hold == 0 {
		hold = DefaultHoldFor
	}
	first := cfg.HoldFirst
	if first == 0 {
		first = DefaultHoldFirst
	}
	return &budget{cfg: cfg, holdFirst: min(first, hold), holdMax: hold, apis: map[string]*apiBudget{}}
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

// take spends one call of api's budget, or says how long to wait. deadline
// is when the caller must have its answer (zero: none). A caller whose
// deadline ends before a hold does may go as the probe, at most one a
// second, so that a welcome never waits out a rest longer than its window.
// probe reports that the call is the held API's probe: its answer must be
// passed to answered.
func (b *budget) take(ctx context.Context, api string, now, deadline time.Time) (probe bool, err error) {
	if b.holds != nil {
		st := b.holds.get(ctx, api, now)
		b.mu.Lock()
		b.adopt(b.api(api), st, now)
		b.mu.Unlock()
	}
	if probe, err = b.takeLocal(api, now, deadline); err != nil || b.shared == nil {
		return probe, err
	}
	if err := b.shared.take(ctx, api, b.cfg.limitFor(api), now); err != nil {
		b.mu.Lock()
		a := b.api(api)
		a.minute.sub(now, 1)
		a.hour.sub(now, 1)
		if probe {
			a.hold.probing = false
		}
		b.mu.Unlock()
		return false, err
	}
	return probe, nil
}

func (b *budget) takeLocal(api string, now, deadline time.Time) (probe bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.api(api)
	if h := &a.hold; h.active() {
		if h.probing && now.Sub(h.probeAt) < probeTimeout {
			return false, &BudgetError{API: api, RetryAfter: max(h.until.Sub(now), probeGap/4), Held: true}
		}
		early := !deadline.IsZero() && !deadline.After(h.until) && now.Sub(h.probeAt) >= probeGap
		if now.Before(h.until) && !early {
			return false, &BudgetError{API: api, RetryAfter: h.until.Sub(now), Held: true}
		}
		probe = true
	}
	wait := max(a.minute.wait(now), a.hour.wait(now))
	if wait > 0 {
		return false, &BudgetError{API: api, RetryAfter: wait}
	}
	a.minute.add(now)
	a.hour.add(now)
	if probe {
		a.hold.probing, a.hold.probeAt = true, now
	}
	return probe, nil
}

// answered applies what WeCom said to a call of api: a rate limit (45009)
// starts a hold, or doubles it when the call was the probe; any other answer
// to a probe lifts the hold. noAnswer: the call got no answer at all. With
// shared holds, a hold begun, doubled or lifted is written for the other
// replicas before the caller hears of it.
func (b *budget) answered(api string, probe, limited, noAnswer bool, now time.Time) (retryAfter time.Duration) {
	b.mu.Lock()
	a := b.api(api)
	h := &a.hold
	changed := true
	switch {
	case limited && !h.active():
		h.step, h.until = b.holdFirst, now.Add(b.holdFirst)
	case limited && probe:
		h.step = min(2*h.step, b.holdMax)
		h.until, h.probing = now.Add(h.step), false
	case limited:
		// A call that left before the hold began: the hold stands.
		changed = false
	case probe && noAnswer:
		h.probing = false
		changed = false
	case h.active() && !noAnswer:
		*h = hold{gen: h.gen}
	default:
		changed = false
	}
	mine := holdState{Gen: h.gen}
	if h.active() {
		mine.Until, mine.Step = h.until.UnixNano(), int64(h.step)
	}
	b.mu.Unlock()
	if changed && b.holds != nil {
		if st, ok := b.holds.publish(api, mine, now); ok {
			b.mu.Lock()
			b.adopt(a, st, now)
			b.mu.Unlock()
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if h.active() {
		return max(h.until.Sub(now), 0)
	}
	return 0
}

// adopt applies a shared hold state this process has not applied yet (b.mu
// held): a longer hold than its own is taken up (a hold already over is
// not: this replica finds out for itself with its next call), and a hold
// lifted by another replica's probe is lifted here too.
func (b *budget) adopt(a *apiBudget, st holdState, now time.Time) {
	h := &a.hold
	if st.Gen <= h.gen {
		return
	}
	h.gen = st.Gen
	if st.Until == 0 {
		if h.active() {
			*h = hold{gen: h.gen}
		}
		return
	}
	if until := time.Unix(0, st.Until); until.After(now) && until.After(h.until) {
		h.until = until
		h.step = max(h.step, time.Duration(st.Step), b.holdFirst)
	}
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
	if a.hold.active() && now.Before(a.hold.until) {
		s.HeldUntil, s.HeldFor = a.hold.until, a.hold.until.Sub(now)
		s.RemainingMinute, s.RemainingHour = 0, 0
	}
	return s
}

// statuses reports every API in names plus any other API used so far,
// with the holds other replicas shared.
func (b *budget) statuses(names []string, now time.Time) []BudgetStatus {
	if b.holds != nil {
		b.holds.refresh(context.Background(), now)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.holds != nil {
		for _, n := range names {
			b.adopt(b.api(n), b.holds.state(n), now)
		}
	}
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

func (w *window) add(now time.Time) { w.addN(now, 1) }

func (w *window) slot(id int64) int {
	n := int64(len(w.ids))
	return int(((id % n) + n) % n)
}

func (w *window) addN(now time.Time, n int) {
	cur := w.id(now)
	i := w.slot(cur)
	if w.ids[i] != cur {
		w.ids[i], w.counts[i] = cur, 0
	}
	w.counts[i] += n
}

// sub takes back n calls counted at `at` (granted, then not made).
func (w *window) sub(at time.Time, n int) {
	id := w.id(at)
	if i := w.slot(id); w.ids[i] == id {
		w.counts[i] = max(0, w.counts[i]-n)
	}
}

// export lists the window's buckets with calls as (bucket number, count).
func (w *window) export() [][2]int64 {
	var out [][2]int64
	for i, c := range w.counts {
		if c > 0 {
			out = append(out, [2]int64{w.ids[i], int64(c)})
		}
	}
	return out
}

// load puts exported buckets back; those older than the window at now are
// dropped.
func (w *window) load(buckets [][2]int64, now time.Time) {
	cur := w.id(now)
	for _, b := range buckets {
		if b[0] <= cur-int64(len(w.ids)) {
			continue
		}
		i := w.slot(b[0])
		if w.ids[i] != b[0] {
			w.ids[i], w.counts[i] = b[0], 0
		}
		w.counts[i] += int(b[1])
	}
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
