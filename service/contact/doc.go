// Package contact is the customers: the welcome path and what follows an
// add. Contacts handles the change_external_contact events (OnAdd: the
// welcome within WeCom's 20-second window first, then the contact, the
// relation, the day's counts and one follow-up job; the losses and edits),
// the follow_up job (FollowUps: the profile, remark, tags and the lead's
// activity in one job, with fetch_profile, remark and mark_tag as jobs of
// their own when a step fails), the contacts' API (lists, detail with the
// timeline, scoped to a staff token's own customers), and a customer's
// export and erasure (with the retention of lost customers).
//
// It sits above the code families: a scan's state is looked up in the
// channel codes' cache and the store codes' states.
package contact
