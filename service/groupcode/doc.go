// Package groupcode is the group live codes (群活码): one stable code that
// leads into a group with room. GroupCodes keeps a pool of customer groups
// per code, writes the WeCom join way with the first groups under the
// code's threshold (sync_join_way, the one writer; reconcile_join_way
// re-reads the listed groups in case an event was lost), adopts the groups
// WeCom creates for an auto-create pool, and answers the group landing page
// (/g/) from memory and a code's join stats.
//
// The change_external_chat events (OnChatUpdate, OnChatCreate,
// OnChatDismiss; see service/routes.go) keep the pool's counts and record
// joins through a code, which reach the contact's lead as activity.
package groupcode
