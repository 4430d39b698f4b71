package service

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

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/wecom"
)

// EventStore is what the inbox and dispatcher need from the database.
type EventStore interface {
	InsertEvent(ctx context.Context, e *model.Event) (bool, error)
	ClaimEvents(ctx context.Context, owner string, lease time.Duration, n int) ([]model.Event, error)
	FinishEvent(ctx context.Context, id uint64, owner, status, reason string) error
	RetryEvent(ctx context.Context, id uint64, owner string, at time.Time, reason string) error
	ReleaseEvents(ctx context.Context, owner string) (int64, error)
	RecoverExpiredEvents(ctx context.Context) (int64, error)
}

// Inbox stores callbacks durably before they are acknowledged.
type Inbox struct {
	store  EventStore
	notify func()
}

// NewInbox returns an inbox that wakes notify after each new event.
func NewInbox(store EventStore, notify func()) *Inbox {
	if notify == nil {
		notify = func() {}
	}
	return &Inbox{store: store, notify: notify}
}

// Accept stores an event under its dedupe key. A repeat of a stored event
// changes nothing and reports duplicate. Only a nil error allows the caller
// to acknowledge the callback.
func (in *Inbox) Accept(ctx context.Context, corpID string, ev *wecom.Event, plain []byte) (duplicate bool, err error) {
	row := &model.Event{
		CorpID:         corpID,
		DedupeKey:      ev.DedupeKey(),
		Type:           clip(ev.Type(), 96),
		OrderKey:       orderKey(ev),
		UserID:         clip(ev.UserID, 64),
		ExternalUserID: clip(ev.ExternalUserID, 64),
		ChatID:         clip(ev.ChatID, 64),
		State:          clip(ev.State, 64),
		Payload:        string(plain),
	}
	inserted, err := in.store.InsertEvent(ctx, row)
	if err != nil {
		return false, err
	}
	if inserted {
		in.notify()
	}
	return !inserted, nil
}

// orderKey groups events that must be handled in order of arrival: those of
// one external contact, of one group chat, of one tag.
func orderKey(ev *wecom.Event) string {
	switch {
	case ev.ExternalUserID != "":
		return clip("c:"+ev.ExternalUserID, 128)
	case ev.ChatID != "":
		return clip("g:"+ev.ChatID, 128)
	case ev.Event == wecom.EventExternalTag && ev.ID != "":
		return clip("t:"+ev.ID, 128)
	}
	return ""
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// InboundEvent is a stored event handed to a handler.
type InboundEvent struct {
	ID         uint64
	CorpID     string
	Attempt    int
	ReceivedAt time.Time
	*wecom.Event
}

// EventHandler handles one event type. Return nil when done, Ignore(reason)
// when there is nothing to do, Permanent(err) when retrying cannot help; any
// other error is retried with backoff.
type EventHandler func(ctx context.Context, ev *InboundEvent) error

type ignoreError struct{ reason string }

func (e *ignoreError) Error() string { return e.reason }

// Ignore marks an event as deliberately not handled.
func Ignore(reason string) error { return &ignoreError{reason: reason} }

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks an error that retrying cannot fix.
func Permanent(err error) error { return &permanentError{err: err} }

// DispatcherOptions tune a Dispatcher.
type DispatcherOptions struct {
	Workers       int
	BatchSize     int
	SweepInterval time.Duration
	Lease         time.Duration
	MaxAttempts   int
	Now           func() time.Time
	Logger        *slog.Logger
	Metrics       *Metrics
	// DrainTimeout bounds how long a stop waits for in-flight handlers.
	DrainTimeout time.Duration
}

// Dispatcher takes stored events in order of arrival and routes them to
// handlers by "Event/ChangeType". It claims events with leases, so several
// replicas can run one each, and events left behind by a crash are picked up
// again when their lease runs out.
type Dispatcher struct {
	store    EventStore
	opts     DispatcherOptions
	owner    string
	log      *slog.Logger
	handlers map[string]EventHandler

	wake     chan struct{}
	inFlight atomic.Int64
	stopping atomic.Bool
}

// NewDispatcher builds a dispatcher; register handlers before Run.
func NewDispatcher(store EventStore, opts DispatcherOptions) *Dispatcher {
	if opts.Workers < 1 {
		opts.Workers = 8
	}
	if opts.BatchSize < 1 {
		opts.BatchSize = 64
	}
	if opts.SweepInterval <= 0 {
		opts.SweepInterval = 3 * time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.MaxAttempts < 1 {
		opts.MaxAttempts = 8
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.DrainTimeout <= 0 {
		opts.DrainTimeout = 10 * time.Second
	}
	host, _ := os.Hostname()
	return &Dispatcher{
		store:    store,
		opts:     opts,
		owner:    clip(host, 40) + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatUint(rand.Uint64()%1e6, 10),
		log:      opts.Logger.With("component", "dispatcher"),
		handlers: map[string]EventHandler{},
		wake:     make(chan struct{}, 1),
	}
}

// Handle registers h for an event type such as
// "change_external_contact/add_external_contact".
func (d *Dispatcher) Handle(eventType string, h EventHandler) { d.handlers[eventType] = h }

// Notify wakes the dispatcher; the inbox calls it after each new event.
func (d *Dispatcher) Notify() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run processes events until ctx is cancelled, then stops claiming, lets
// in-flight handlers finish (up to DrainTimeout), and hands back any event it
// claimed but did not start.
func (d *Dispatcher) Run(ctx context.Context) error {
	work := make(chan model.Event, d.opts.Workers)
	// Handlers get their own context so a stop does not cut a welcome in half.
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()
	var wg sync.WaitGroup
	for i := 0; i < d.opts.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range work {
				if !d.stopping.Load() {
					d.process(hctx, e)
				}
				d.inFlight.Add(-1)
				d.Notify()
			}
		}()
	}

	d.sweep(ctx)
	ticker := time.NewTicker(d.opts.SweepInterval)
	defer ticker.Stop()
loop:
	for {
		d.claimAndDispatch(ctx, work)
		select {
		case <-ctx.Done():
			break loop
		case <-d.wake:
		case <-ticker.C:
			d.sweep(ctx)
		}
	}

	close(work)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d.opts.DrainTimeout):
		d.log.Warn("in-flight handlers did not finish in time; their events will be retried", "timeout", d.opts.DrainTimeout)
		d.stopping.Store(true)
		hcancel()
		<-done
	}
	d.stopping.Store(true)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if n, err := d.store.ReleaseEvents(rctx, d.owner); err != nil {
		d.log.Error("release claimed events", "err", err)
	} else if n > 0 {
		d.log.Info("handed back claimed events", "count", n)
	}
	return nil
}

func (d *Dispatcher) sweep(ctx context.Context) {
	n, err := d.store.RecoverExpiredEvents(ctx)
	if err != nil && ctx.Err() == nil {
		d.log.Error("recover expired events", "err", err)
		return
	}
	if n > 0 {
		d.log.Warn("recovered events whose lease ran out", "count", n)
	}
}

// claimAndDispatch claims as many events as there are idle workers.
func (d *Dispatcher) claimAndDispatch(ctx context.Context, work chan<- model.Event) {
	for ctx.Err() == nil {
		free := int64(d.opts.Workers)*2 - d.inFlight.Load()
		if free <= 0 {
			return
		}
		n := min(int(free), d.opts.BatchSize)
		batch, err := d.store.ClaimEvents(ctx, d.owner, d.opts.Lease, n)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Error("claim events", "err", err)
			}
			return
		}
		for _, e := range batch {
			d.inFlight.Add(1)
			if d.opts.Metrics != nil {
				d.opts.Metrics.DispatchInFlight.Set(float64(d.inFlight.Load()))
			}
			work <- e
		}
		if len(batch) < n {
			return
		}
	}
}

func (d *Dispatcher) process(ctx context.Context, row model.Event) {
	log := d.log.With("event_id", row.ID, "type", row.Type, "corp", row.CorpID)
	status, reason := EventProcessed, ""
	var retryErr error

	ev, err := wecom.ParseEvent([]byte(row.Payload))
	if err != nil {
		status, reason = model.EventFailed, err.Error()
	} else if h, ok := d.handlers[row.Type]; !ok {
		status, reason = model.EventIgnored, "no handler for "+row.Type
	} else {
		err := safeCall(ctx, h, &InboundEvent{ID: row.ID, CorpID: row.CorpID, Attempt: row.Attempts, ReceivedAt: row.ReceivedAt, Event: ev})
		var ign *ignoreError
		var perm *permanentError
		switch {
		case err == nil:
		case errors.As(err, &ign):
			status, reason = model.EventIgnored, ign.reason
		case errors.As(err, &perm):
			status, reason = model.EventFailed, err.Error()
		case row.Attempts >= d.opts.MaxAttempts:
			status, reason = model.EventFailed, fmt.Sprintf("gave up after %d attempts: %v", row.Attempts, err)
		default:
			retryErr = err
		}
	}

	// The outcome is written even when the process is stopping.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if retryErr != nil {
		at := d.opts.Now().Add(backoff(row.Attempts))
		log.Warn("event handler failed; will retry", "attempt", row.Attempts, "retry_at", at, "err", retryErr)
		if err := d.store.RetryEvent(wctx, row.ID, d.owner, at, retryErr.Error()); err != nil {
			log.Error("requeue event", "err", err)
		}
		d.count(row, "retried")
		return
	}
	if err := d.store.FinishEvent(wctx, row.ID, d.owner, status, reason); err != nil {
		log.Error("record event outcome", "err", err)
		return
	}
	if status == model.EventFailed {
		log.Error("event failed", "reason", reason)
	}
	d.count(row, status)
}

func (d *Dispatcher) count(row model.Event, outcome string) {
	if d.opts.Metrics == nil {
		return
	}
	d.opts.Metrics.Events.WithLabelValues(row.Type, outcome).Inc()
	if outcome != "retried" {
		d.opts.Metrics.EventLatency.WithLabelValues(row.Type).Observe(d.opts.Now().Sub(row.ReceivedAt).Seconds())
	}
}

// safeCall turns a handler panic into a retryable error, so one bad event
// cannot take the process down.
func safeCall(ctx context.Context, h EventHandler, ev *InboundEvent) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return h(ctx, ev)
}

// backoff is 2^attempt seconds capped at 5 minutes, with ±25% jitter.
func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt, 9)
	if d > 5*time.Minute {
		d = 5 * time.Minute
	}
	j := time.Duration(rand.Int64N(int64(d)/2)) - d/4
	return d + j
}

// The status names are the model's; re-exported for handlers and tests.
const (
	EventProcessed = model.EventProcessed
	EventIgnored   = model.EventIgnored
	EventFailed    = model.EventFailed
)
