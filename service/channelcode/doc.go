// Package channelcode is the channel live codes (渠道活码): one poster, many
// staff. ChannelCodes creates, changes and deletes codes and keeps each
// code's WeCom contact way in step with its roster (the sync_way job, the one
// writer of a way; the cron tick rewrites ways whose eligible staff changed),
// checks and uploads welcome images (upload_media), and answers a code's
// stats. In precise mode (Pick, precise.go) the landing page picks the exact
// staff member, holding a daily-cap place until the add arrives, and shows
// their own single-user way.
//
// CodeCache (codecache.go) is every code as the welcome path reads it,
// in memory and polled for other replicas' changes: a scan's state finds its
// code, its welcome (by variant and time window), its remark template
// (FillRemark) and tags without a database read.
//
// It imports the shared core (livecode), the leads (the lead.Codes view the
// cache gives them), the messages (explain) and the leaves below them.
package channelcode
