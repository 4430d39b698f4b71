// Package service holds the gateway's business, behind the HTTP layer and in
// front of the store:
//
//   - the callback protocol (Callbacks: corp lookup, signature, decryption,
//     parsing) and the inbox that stores each event once (Inbox);
//   - the queues: the dispatcher that routes stored events to their handlers
//     and the job runner for side effects, on one leased worker pool;
//   - live codes: channel codes with rosters, caps and the precise mode, group
//     codes and their pools, store codes with geo lookup, the in-memory code
//     cache, UTM and the WeCom tag catalogue;
//   - contacts (adds, losses, welcomes, remarks, tags), leads with scoring and
//     tag rules, and the webhook contract, outbox rendering and sender;
//   - admin-API tokens and their roles (Auth), and the Prometheus metrics.
//
// What the admin API reads and renders is this package's too: list queries
// (queries.go), views (views.go and the types next to each domain) and the
// errors the API maps to statuses (errors.go, ValidationError, UpstreamError).
// It speaks to the database through model and to WeCom through wecom, and
// knows nothing about HTTP.
package service
