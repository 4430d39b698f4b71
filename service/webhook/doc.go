// Package webhook is the HTTP side of the outbound webhooks: the Standard
// Webhooks signer (Sign, NewSecret: whsec_ secrets, v1
// HMAC-SHA256 signatures, two during a rotation), the network policy that
// says which URLs may be sent to (NetworkPolicy, CheckURL when an endpoint is
// saved, and the client's dialer, which checks every address it connects
// to against the same policy), and the
// sender's client (Client.Post: one signed request, the answer's status,
// first KiB, latency and Retry-After) with the retry schedule (RetrySchedule,
// NextAttempt, DisableAfter, the 24 h cap on a Retry-After).
//
// It also holds the webhook contract the CRM codes against (contract.go,
// lead.go): the event types, the envelope, every payload shape (the lead
// among them, which the admin API shows too), the source kinds, and the
// functions that make each event's outbox entry (ContactAddedEvent,
// LeadEvent, ...) for the domains' store writes.
//
// The webhook service itself (endpoints, the outbox's deliveries, replays,
// the sender's loop) is service/webhook/outbound, above the leads and the
// messages. This package imports no other service package but apierr and
// wire; of the rest, model (the outbox entry) and clock.
package webhook
