// Package outbound is the webhook service: the CRM's endpoints (create,
// change, rotate the secret with a grace period, delete), the deliveries
// the business writes to the outbox with its own transactions, the sender's
// loop that claims and posts them per endpoint and subject in order (with
// the retry schedule and the disable after three days of failure from
// service/webhook), replays, and test sends.
//
// It sits above the contract (service/webhook) because its views carry
// explained messages (service/explain).
package outbound
