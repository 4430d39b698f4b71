package queue

import (
	"context"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/wecom"
)

// InboundEvent is a stored event handed to a handler.
type InboundEvent struct {
	ID         uint64
	CorpID     string
	Attempt    int
	ReceivedAt time.Time
	*wecom.Event
}

// OccurredAt is when WeCom created the event (a welcome's window starts
// then), or when it was received when WeCom gave no time.
func (ev *InboundEvent) OccurredAt() time.Time {
	if ev.CreateTime > 0 {
		return time.Unix(ev.CreateTime, 0).UTC()
	}
	return ev.ReceivedAt
}

// EventHandler handles one event type. Return nil when done, Ignore(reason)
// when there is nothing to do, Permanent(err) when retrying cannot help; any
// other error is retried with backoff (or after its RetryAfter).
type EventHandler func(ctx context.Context, ev *InboundEvent) error

// DispatcherOptions tune a Dispatcher.
type DispatcherOptions = PoolOptions

// Dispatcher takes stored events in order of arrival and routes them to
// handlers by "Event/ChangeType" (the Events of Routes). It claims events with leases, so several
// replicas can run one each, and events left behind by a crash are picked up
// again when their lease runs out.
type Dispatcher struct {
	pool     *Pool
	handlers map[string]EventHandler
}

// NewDispatcher builds a dispatcher that runs handlers, answers
// wakes.Events and rings wakes.Jobs when its backlog clears.
func NewDispatcher(store EventStore, handlers map[string]EventHandler, wakes Wakes, clk clock.Clock, opts DispatcherOptions) *Dispatcher {
	d := &Dispatcher{handlers: handlers}
	d.pool = NewPool("dispatcher", QueueOps{
		table: model.TableEvents,
		Claim: func(ctx context.Context, owner string, lease time.Duration, n int, _ bool) ([]QueueItem, error) {
			rows, err := store.ClaimEvents(ctx, owner, lease, n)
			items := make([]QueueItem, len(rows))
			for i := range rows {
				r := &rows[i]
				items[i] = QueueItem{ID: r.ID, CorpID: r.CorpID, Type: r.Type, Attempts: r.Attempts, CreatedAt: r.ReceivedAt, Value: r}
			}
			return items, err
		},
		finishMany:     store.FinishEvents,
		Retry:          store.RetryEvent,
		deferItem:      store.DeferEvent,
		Release:        store.ReleaseEvents,
		RecoverExpired: store.RecoverExpiredEvents,
		Renew:          store.RenewEventLeases,
		Handle:         d.handle,
		Count: func(it QueueItem, outcome string) {
			if m := opts.Metrics; m != nil {
				m.Events.WithLabelValues(it.Type, outcome).Inc()
				if outcome != "retried" {
					m.EventLatency.WithLabelValues(it.Type).Observe(d.pool.clock.Now().Sub(it.CreatedAt).Seconds())
				}
			}
		},
	}, clk, wakes.Events, opts)
	d.pool.drained = wakes.Jobs.Notify
	return d
}

// Notify wakes the dispatcher; the inbox calls it after each new event.
func (d *Dispatcher) Notify() { d.pool.Notify() }

// Run processes events until ctx is cancelled, then stops claiming, lets
// in-flight handlers finish, and hands back events it claimed but did not start.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.pool.Run(ctx)
	return nil
}

func (d *Dispatcher) handle(ctx context.Context, it QueueItem) error {
	row := it.Value.(*model.Event)
	ev, err := wecom.ParseEvent([]byte(row.Payload))
	if err != nil {
		return Permanent(err)
	}
	h, ok := d.handlers[row.Type]
	if !ok {
		return Ignore("no handler for " + row.Type)
	}
	return h(ctx, &InboundEvent{ID: row.ID, CorpID: row.CorpID, Attempt: row.Attempts, ReceivedAt: row.ReceivedAt, Event: ev})
}
