// Package livecode is the shared core of the live codes (channel, group and
// store codes): what the three families use alike, so each says it once.
//
//   - Roster: the staff of a code or store by shift, weekday and time zone,
//     daily caps and backups, who is eligible at a moment (Eligible), when
//     that changes (NextChange), the pick among them (Pick, the strategies)
//     and its validation;
//   - UTM: a code's campaign (ValidateUTM, EncodeUTM, DecodeUTM, UTMView),
//     which leads first seen through the code carry;
//   - RandomSlug: a new code's slug, its landing path and, with the
//     family's prefix, its WeCom state;
//   - geo: GCJ-02 conversion and great-circle distance for the store codes'
//     nearest-store lookup;
//   - time windows: ParseClock ("HH:MM", shared by shifts, welcome variants
//     and tag rules) and InWindow (weekdays and a time of day, across
//     midnight), by which welcome variants and tag rules choose;
//   - tags: TagRef, and the mark_tag job (JobMarkTag, its payload TagJob on
//     a RelationRef) that codes' follow-ups and tag rules queue for the
//     contacts service; the corp's tag catalogue as WeCom keeps it
//     (TagCatalogue: the sync_tags job, the change_external_tag events, and
//     the admin's create, rename and delete);
//   - speaking to WeCom alike: Clients, AdminError and JobError (how a WeCom
//     failure reaches an admin or the job runner), IsWayGone and IsChatGone,
//     the alert of a failing sync (SyncFailedAlert), WayUsers (the list a
//     contact way carries for an eligibility), the stored chat lists, a
//     stats query's day range;
//   - LandingCache: the public landing pages of a family (/g/, /s/) by slug,
//     cleared on a change and polled for other replicas' changes.
//
// The families are packages of their own above this one: channelcode,
// groupcode and storecode. The leads (service/lead) import this package for
// tags, UTM and time windows, so it imports no service package above the
// leaves (apierr, wire) but queue (job payloads and outcomes).
package livecode
