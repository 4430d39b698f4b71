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
//     contacts service.
//
// The code families themselves (ChannelCodes, GroupCodes, StoreCodes, the
// precise mode and the code cache) are still in package service; they move
// here once the lead code no longer reaches into them. This
// package imports no other service package but apierr.
package livecode
