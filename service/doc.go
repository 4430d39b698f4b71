// Package service is the composition root of the gateway's business, behind
// the HTTP layer and in front of the store. It holds what ties the domains
// together, and the domains are packages of their own below it:
//
//   - the callback protocol (Callbacks: corp lookup, signature, decryption,
//     parsing, then the queue's Inbox), with the typed errors the handler
//     maps to statuses;
//   - the routing table (routes.go: for every event type and job kind, the
//     method that handles it, wherever its package is);
//   - the queue log the admin API reads (QueueLog: events, jobs, retries);
//   - the WeCom access tokens shared by replicas (SharedTokens).
//
// The domains, each importing only those before it in this list (Go refuses
// a cycle):
//
//   - service/apierr, service/wire: the errors the API maps to statuses; the
//     time form of views and payloads;
//   - service/auth: admin-API tokens, their roles and the Principal;
//   - service/queue: the inbox, the dispatcher, the job runner and the
//     leased worker pool under them, and their metrics;
//   - service/webhook: the webhook contract, signer, network policy, client
//     and retry schedule;
//   - service/livecode: the live codes' shared core (rosters, UTM, slugs,
//     geo, time windows, tags and the tag catalogue, WeCom helpers, the
//     landing cache);
//   - service/lead: leads, scoring, stages, tag rules and the leads' API;
//   - service/explain: reasons, alerts and timeline entries as messages in
//     the request's language; service/staff: the WeCom staff directory;
//     service/audit: the audit log of personal-data reads;
//   - service/channelcode, service/groupcode, service/storecode: the three
//     code families; service/webhook/outbound: endpoints, deliveries,
//     replays and the sender;
//   - service/contact: the welcome path, follow-ups, the contacts' API,
//     export and erasure.
//
// It speaks to the database through model and to WeCom through wecom, and
// knows nothing about HTTP.
package service
