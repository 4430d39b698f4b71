// Package service holds the gateway's business, behind the HTTP layer and in
// front of the store. It is being split by domain; what has its own package:
//
//   - service/apierr: the errors the API maps to statuses (ErrNotFound,
//     ErrConflict, ConflictError, ValidationError, UpstreamError);
//   - service/wire: Timestamp, the time form of the API and the payloads;
//   - service/queue: the inbox that stores each event once, the dispatcher,
//     the job runner and the leased worker pool under them, and the callback
//     and queue metrics;
//   - service/webhook: the webhook contract (event types, payloads with the
//     lead, source kinds), and the webhooks' signer, network policy, HTTP
//     client and retry schedule;
//   - service/livecode: the live codes' shared core: rosters, UTM, slugs,
//     geo, time windows, and tags with the mark_tag job's payload;
//   - service/auth: admin-API tokens, their roles and the Principal a
//     token resolves to;
//   - service/lead: leads, scoring, stages, tag rules and the leads' API.
//
// What is still here:
//
//   - the callback protocol (Callbacks: corp lookup, signature, decryption,
//     parsing, then the queue's Inbox) and the routing table (routes.go: for
//     every event type and job kind, its handler);
//   - live codes: channel codes with caps and the precise mode, group codes
//     and their pools, store codes with their nearest-store lookup, the
//     in-memory code cache, and the WeCom tag catalogue;
//   - contacts (adds, losses, welcomes, remarks, tags) and the webhook
//     service (endpoints, deliveries, replays) over service/webhook's
//     client;
//   - the audit log, the staff directory and shared WeCom tokens.
//
// facade.go names, for handler and cmd, what moved to a package of its own,
// so they keep importing service alone.
//
// What the admin API reads and renders is this package's too: list queries
// (queries.go), views (views.go and the types next to each domain), the
// explained messages (messages.go) and the queue log (queuelog.go).
// It speaks to the database through model and to WeCom through wecom, and
// knows nothing about HTTP.
package service
