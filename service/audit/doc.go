// Package audit is the record of every read, export and erasure of a
// customer's or lead's personal data by an API token (Log.Record), its
// query for the admin (Log.List) and its retention (Log.Run prunes). A read
// whose record cannot be written is not answered.
package audit
