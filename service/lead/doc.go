// Package lead owns the leads domain: a lead's life from the contact's
// first activity (Activity, queued as a lead_activity job by contacts,
// follow-ups and group joins; RunActivity applies it), merging by unionid,
// scoring with its breakdown (ScoringConfig, Score, Qualify) and the stage
// machine (raw, MQL, SQL, handed off, ...), the tag rules (TagRules,
// TagRuleSpec: conditions, actions, the once-per-lead-and-event marker),
// re-scoring (RunRescore), and the admin API's and the CRM's side of it
// (List, Get, Patch, SetStage, the change feed, the funnel, the CRM's
// answers).
//
// The lead's shape and its webhook events are the contract's
// (service/webhook: Lead, LeadEventData, LeadEvent); a change to a lead
// writes its events in the same transaction. What it needs from outside it
// declares here: Store and RuleStore (the database, which model.Store
// satisfies) and Codes (a channel code's name, tags and UTM by id, which the
// code cache satisfies). It imports the service packages below it (apierr,
// wire, queue, webhook, livecode, auth) and none above.
package lead
