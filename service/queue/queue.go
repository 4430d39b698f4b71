package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/wecom"
)

// Wake is a queue's doorbell: whoever adds rows to the queue rings it, and
// the queue's workers claim at once instead of at their next poll.
type Wake struct {
	ring chan struct{}
	// deadline says this process queued work of the deadline lane.
	deadline *atomic.Bool
}

// NewWake returns a doorbell for one queue.
func NewWake() Wake { return Wake{ring: make(chan struct{}, 1), deadline: new(atomic.Bool)} }

// Notify rings; rings while the workers are busy fold into one.
func (w Wake) Notify() {
	select {
	case w.ring <- struct{}{}:
	default:
	}
}

// NotifyDeadline rings after work of the deadline lane was queued: it is
// claimed even while the job runner gives way to an event backlog.
func (w Wake) NotifyDeadline() {
	w.deadline.Store(true)
	w.Notify()
}

// Wakes are the doorbells of the event and job queues, made before the
// services that ring them and the dispatcher and job runner that answer.
type Wakes struct {
	Events Wake
	Jobs   Wake
}

// NewWakes returns both doorbells.
func NewWakes() Wakes { return Wakes{Events: NewWake(), Jobs: NewWake()} }

// QueueItem is a claimed row of a queue table (wecom_events or jobs).
type QueueItem struct {
	ID        uint64
	CorpID    string
	Type      string
	Attempts  int
	CreatedAt time.Time
	Value     any // the typed row
}

// QueueOps adapts one queue table to the pool.
type QueueOps struct {
	// table, when set, is the queue table whose rows a handler's last
	// business transaction may finish itself (model.WithFinish).
	table string
	// Claim leases up to n items, the deadline lane first; deadlineOnly
	// claims that lane alone.
	Claim  func(ctx context.Context, owner string, lease time.Duration, n int, deadlineOnly bool) ([]QueueItem, error)
	Finish func(ctx context.Context, id uint64, owner, status, reason string) error
	// finishMany, when set, records the outcomes of items finished at the
	// same time in one transaction (lost[i] non-nil when item i's lease
	// was no longer ours); finish is then not used.
	finishMany func(ctx context.Context, owner string, outs []model.Outcome) (lost []error, err error)
	Retry      func(ctx context.Context, id uint64, owner string, at time.Time, reason string) error
	// deferItem hands an item back without counting the attempt, for work a
	// rate limit refused before it was tried (nil: retry counts it).
	deferItem func(ctx context.Context, id uint64, owner string, at time.Time, reason string) error
	Release   func(ctx context.Context, owner string) (int64, error)
	// Renew extends the leases of the items of ids the owner still holds.
	Renew          func(ctx context.Context, owner string, ids []uint64, lease time.Duration) (int64, error)
	RecoverExpired func(ctx context.Context) (int64, error)
	// Handle runs one item; see EventHandler for the meaning of its error.
	Handle func(ctx context.Context, it QueueItem) error
	// Count observes a final or retried outcome.
	Count func(it QueueItem, outcome string)
}

// PoolOptions tune a queue's workers.
type PoolOptions struct {
	Workers       int
	BatchSize     int
	SweepInterval time.Duration
	Lease         time.Duration
	MaxAttempts   int
	Logger        *slog.Logger
	Metrics       *Metrics
	// DrainTimeout bounds how long a stop waits for in-flight handlers.
	DrainTimeout time.Duration
	// RetryBase is the first retry delay; it doubles per attempt up to
	// 5 minutes (default 1s).
	RetryBase time.Duration
}

func (o *PoolOptions) defaults() {
	if o.Workers < 1 {
		o.Workers = 8
	}
	if o.BatchSize < 1 {
		o.BatchSize = 64
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = 3 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.MaxAttempts < 1 {
		o.MaxAttempts = 8
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 10 * time.Second
	}
	if o.RetryBase <= 0 {
		o.RetryBase = time.Second
	}
}

// Pool claims items from one queue table with leases and runs them on a
// fixed set of workers. Several replicas can each run a pool on one table.
type Pool struct {
	ops   QueueOps
	opts  PoolOptions
	clock clock.Clock
	Owner string
	log   *slog.Logger

	wake     Wake
	finishes *GroupCommit[model.Outcome, error]
	InFlight atomic.Int64
	// held is what this pool has claimed and not yet finished or handed
	// back, with when its lease was last set: the heartbeat renews the
	// leases that have run a third of their length.
	heldMu sync.Mutex
	held   map[uint64]time.Time
	// Looks counts finished claim passes, so a test can wait until the pool
	// has looked at its table since it moved the clock.
	Looks    atomic.Int64
	stopping atomic.Bool

	// backlog: the last claim came back full, so ready items are waiting.
	backlog atomic.Bool
	// drained is called when a backlog clears.
	drained func()
	// yieldTo is another pool whose backlog this one gives way to, for at
	// most maxYield in a row.
	yieldTo      *Pool
	yieldingFrom atomic.Int64 // unix nanoseconds; 0 while not yielding
	// While yielding, the deadline lane is claimed when this process queued
	// deadline work (the wake's deadline hint) and otherwise once a second
	// (other replicas' work), not on every wake-up: each claim is a
	// transaction.
	lastDeadlineClaim atomic.Int64 // unix nanoseconds
}

// deadlineClaimDue reports whether a yielding pool should claim its
// deadline lane now.
func (p *Pool) deadlineClaimDue() bool {
	now := p.clock.Now().UnixNano()
	if !p.wake.deadline.Swap(false) && time.Duration(now-p.lastDeadlineClaim.Load()) < time.Second {
		return false
	}
	p.lastDeadlineClaim.Store(now)
	return true
}

// maxYield bounds how long a pool gives way to another's backlog, so a
// sustained overload delays its work but never starves it.
const maxYield = 30 * time.Second

// yielding reports whether the pool should leave the machine to the pool it
// gives way to.
func (p *Pool) yielding() bool {
	if p.yieldTo == nil || !p.yieldTo.backlog.Load() {
		p.yieldingFrom.Store(0)
		return false
	}
	now := p.clock.Now().UnixNano()
	since := p.yieldingFrom.Load()
	if since == 0 {
		p.yieldingFrom.Store(now)
		return true
	}
	return time.Duration(now-since) < maxYield
}

// NewPool builds a pool over one queue table: the dispatcher's, the job
// runner's and the webhook sender's.
func NewPool(name string, ops QueueOps, clk clock.Clock, wake Wake, opts PoolOptions) *Pool {
	opts.defaults()
	host, _ := os.Hostname()
	p := &Pool{
		ops:   ops,
		opts:  opts,
		clock: clk,
		Owner: Clip(host, 40) + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatUint(rand.Uint64()%1e6, 10),
		log:   opts.Logger.With("component", name),
		wake:  wake,
		held:  map[uint64]time.Time{},
	}
	if ops.finishMany != nil {
		// Outcomes of items that finish while another outcome is being
		// committed share the next commit.
		p.finishes = NewGroupCommit(2*opts.Workers, func(ctx context.Context, outs []model.Outcome) ([]error, error) {
			return ops.finishMany(ctx, p.Owner, outs)
		})
	}
	return p
}

// finish records an item's outcome while its lease is still ours.
func (p *Pool) finish(ctx context.Context, it QueueItem, status, reason string) error {
	if p.finishes == nil {
		return p.ops.Finish(ctx, it.ID, p.Owner, status, reason)
	}
	lost, err := p.finishes.Do(ctx, model.Outcome{ID: it.ID, Status: status, Reason: reason})
	if err != nil {
		return err
	}
	return lost
}

// hold records an item claimed with a lease set no earlier than at.
func (p *Pool) hold(id uint64, at time.Time) {
	p.heldMu.Lock()
	p.held[id] = at
	p.heldMu.Unlock()
}

func (p *Pool) drop(id uint64) {
	p.heldMu.Lock()
	delete(p.held, id)
	p.heldMu.Unlock()
}

// heartbeat renews, every quarter of a lease, the leases of what the pool
// has held for a quarter of a lease or more (work done sooner costs no
// renewal): a lease is renewed at the latest half-way, which leaves half a
// lease for the statement to land. So a lease can be short (a dead
// replica's work is taken over within seconds) while a handler that runs
// longer keeps its items.
func (p *Pool) heartbeat(ctx context.Context) {
	t := time.NewTicker(p.opts.Lease / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := p.clock.Now()
		p.heldMu.Lock()
		var ids []uint64
		for id, set := range p.held {
			if now.Sub(set) >= p.opts.Lease/4 {
				ids = append(ids, id)
				p.held[id] = now
			}
		}
		p.heldMu.Unlock()
		if len(ids) == 0 {
			continue
		}
		n, err := p.ops.Renew(ctx, p.Owner, ids, p.opts.Lease)
		switch {
		case err != nil && ctx.Err() == nil:
			p.log.Error("renew leases", "err", err)
		case err == nil && n < int64(len(ids)):
			// Finished in the meantime, or taken over after a stall.
			p.log.Debug("leases renewed", "held", len(ids), "renewed", n)
		}
	}
}

// Notify wakes the pool to claim now.
func (p *Pool) Notify() { p.wake.Notify() }

// Run processes items until ctx is cancelled, then stops claiming, lets
// in-flight handlers finish (up to DrainTimeout), and hands back any item it
// claimed but did not start.
func (p *Pool) Run(ctx context.Context) {
	work := make(chan QueueItem, p.opts.Workers)
	// Handlers get their own context so a stop does not cut a welcome in half.
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()
	var wg sync.WaitGroup
	for i := 0; i < p.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				if !p.stopping.Load() {
					p.process(hctx, it)
				}
				p.drop(it.ID)
				p.InFlight.Add(-1)
				p.Notify()
			}
		}()
	}

	// The heartbeat outlives the claim loop: it keeps the leases of what
	// the workers still run while a stop drains them.
	bctx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	beat := make(chan struct{})
	go func() { defer close(beat); p.heartbeat(bctx) }()
	defer func() { stopBeat(); <-beat }()

	p.sweep(ctx)
	ticker := time.NewTicker(p.opts.SweepInterval)
	defer ticker.Stop()
loop:
	for {
		p.claimAndDispatch(ctx, work)
		select {
		case <-ctx.Done():
			break loop
		case <-p.wake.ring:
		case <-ticker.C:
			p.sweep(ctx)
		}
	}

	close(work)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(p.opts.DrainTimeout):
		p.log.Warn("in-flight handlers did not finish in time; their items will be retried", "timeout", p.opts.DrainTimeout)
		p.stopping.Store(true)
		hcancel()
		<-done
	}
	p.stopping.Store(true)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if n, err := p.ops.Release(rctx, p.Owner); err != nil {
		p.log.Error("release claimed items", "err", err)
	} else if n > 0 {
		p.log.Info("handed back claimed items", "count", n)
	}
}

func (p *Pool) sweep(ctx context.Context) {
	n, err := p.ops.RecoverExpired(ctx)
	if err != nil && ctx.Err() == nil {
		p.log.Error("recover expired items", "err", err)
		return
	}
	if n > 0 {
		p.log.Warn("recovered items whose lease ran out", "count", n)
	}
}

// claimAndDispatch claims as many items as there are idle workers (and a
// batch's worth queued behind them).
func (p *Pool) claimAndDispatch(ctx context.Context, work chan<- QueueItem) {
	defer p.Looks.Add(1)
	capacity := int64(p.opts.Workers) * 2
	for ctx.Err() == nil {
		busy := p.InFlight.Load()
		free := capacity - busy
		// A claim is a transaction: while workers are busy, wait until half
		// the capacity is free and claim a batch, rather than one row per
		// finished item.
		if free <= 0 || (busy > 0 && free < capacity/2) {
			return
		}
		// While yielding, only work with a deadline is claimed.
		yielding := p.yielding()
		if yielding && !p.deadlineClaimDue() {
			return
		}
		n := min(int(free), p.opts.BatchSize)
		claimedAt := p.clock.Now()
		batch, err := p.ops.Claim(ctx, p.Owner, p.opts.Lease, n, yielding)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Error("claim", "err", err)
			}
			return
		}
		if full := len(batch) == n; !yielding && p.backlog.Swap(full) && !full && p.drained != nil {
			p.drained()
		}
		for _, it := range batch {
			p.InFlight.Add(1)
			p.hold(it.ID, claimedAt)
			work <- it
		}
		if len(batch) < n || yielding {
			return
		}
	}
}

func (p *Pool) process(ctx context.Context, it QueueItem) {
	status, reason := StatusProcessed, ""
	var retryErr error
	deferred := false
	hctx, fin := ctx, (*model.TxFinish)(nil)
	if p.ops.table != "" {
		hctx, fin = model.WithFinish(ctx, p.ops.table, it.ID, p.Owner)
	}
	err := p.safeHandle(hctx, it)
	if fin != nil && fin.Done {
		// The handler's last transaction wrote the outcome with its work.
		if err != nil {
			p.log.Warn("handler failed after its outcome was recorded", "id", it.ID, "type", it.Type, "err", err)
		}
		if fin.Status == StatusFailed {
			p.log.Error("failed", "id", it.ID, "type", it.Type, "reason", fin.Reason)
		}
		p.ops.Count(it, fin.Status)
		return
	}
	var ign *ignoreError
	var perm *permanentError
	switch {
	case err == nil:
	case errors.As(err, &ign):
		status, reason = StatusIgnored, ign.reason
	case errors.As(err, &perm):
		status, reason = StatusFailed, err.Error()
	case wecom.Classify(err) == wecom.ActionDefer && p.ops.deferItem != nil:
		// A rate limit refused the call (ours or WeCom's): nothing was
		// tried, so it is no attempt, and the item waits out the limit
		// however many times that takes.
		retryErr, deferred = err, true
	case it.Attempts >= p.opts.MaxAttempts:
		status, reason = StatusFailed, fmt.Sprintf("gave up after %d attempts: %v", it.Attempts, err)
	default:
		retryErr = err
	}

	log := p.log.With("id", it.ID, "type", it.Type, "corp", it.CorpID)
	// The outcome is written even when the process is stopping.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if retryErr != nil {
		at := p.clock.Now().Add(retryDelay(retryErr, it.Attempts, p.opts.RetryBase))
		requeue := p.ops.Retry
		if deferred {
			requeue = p.ops.deferItem
			log.Info("rate limited; deferred", "retry_at", at, "err", retryErr)
		} else {
			log.Warn("handler failed; will retry", "attempt", it.Attempts, "retry_at", at, "err", retryErr)
		}
		if err := requeue(wctx, it.ID, p.Owner, at, retryErr.Error()); err != nil {
			log.Error("requeue", "err", err)
		}
		p.ops.Count(it, "retried")
		return
	}
	if err := p.finish(wctx, it, status, reason); err != nil {
		log.Error("record outcome", "err", err)
		return
	}
	if status == StatusFailed {
		log.Error("failed", "reason", reason)
	}
	p.ops.Count(it, status)
}

// safeHandle turns a handler panic into a retryable error, so one bad item
// cannot take the process down.
func (p *Pool) safeHandle(ctx context.Context, it QueueItem) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return p.ops.Handle(ctx, it)
}

// retryDelay honours WeCom's retry-after (rate limits, our own budget),
// else backs off base·2^attempt capped at 5 minutes, with ±25% jitter.
func retryDelay(err error, attempt int, base time.Duration) time.Duration {
	if d, ok := wecom.RetryAfter(err); ok && d > 0 {
		// Up to a quarter later, so that what one limit held back does not
		// come back all at once.
		return d + time.Duration(rand.Int64N(int64(d)/4+1))
	}
	b := base << min(attempt, 9)
	if b > 5*time.Minute {
		b = 5 * time.Minute
	}
	return b + time.Duration(rand.Int64N(int64(b)/2)) - b/4
}

type ignoreError struct{ reason string }

func (e *ignoreError) Error() string { return e.reason }

// Ignore marks an item as deliberately not handled.
func Ignore(reason string) error { return &ignoreError{reason: reason} }

// IgnoreIfGone is Ignore(reason) when err says the row the item was about
// is gone (model.ErrNotFound): work for a deleted code, way or contact has
// nothing left to do. Any other error is returned as it is.
func IgnoreIfGone(err error, reason string) error {
	if errors.Is(err, model.ErrNotFound) {
		return Ignore(reason)
	}
	return err
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks an error that retrying cannot fix.
func Permanent(err error) error { return &permanentError{err: err} }

// Statuses of the event and job queues: the store's values, named once in
// model and re-exported for the business and the API.
const (
	StatusPending    = model.StatusPending
	StatusProcessing = model.StatusProcessing
	StatusProcessed  = model.StatusProcessed
	StatusIgnored    = model.StatusIgnored
	StatusFailed     = model.StatusFailed
)
