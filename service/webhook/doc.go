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
// The webhook service itself (endpoints, the outbox's deliveries, replays)
// and the contract (event types and payload shapes) are still in package
// service: the lead payloads are the API's lead view. This package imports
// no other service package but apierr.
package webhook
