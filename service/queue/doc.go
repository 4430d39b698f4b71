// Package queue is the gateway's durable work: the inbox that stores each
// WeCom callback once (Inbox, with group commit), the dispatcher that routes
// stored events to their handlers in order (Dispatcher, EventHandler,
// InboundEvent), the job runner for side effects (JobRunner, JobHandler, job
// payloads), and the leased worker pool under all three and the webhook
// sender (Pool, QueueOps, Wake and Wakes, Ignore and Permanent outcomes,
// the Status* names). Metrics are the callback and queue Prometheus
// collectors. (What the admin API reads back of events and jobs, QueueLog,
// is still in service: its views carry the explained messages.)
//
// It knows no event type or job kind: the handlers come from the routing
// table (service.NewRoutes). It needs from the store only what EventStore
// and JobStore declare, and imports no other service package.
package queue
