// Package wire holds the forms values take in what the gateway writes out,
// shared by the admin API's views and the webhook payloads: Timestamp, a
// time as RFC 3339 UTC with exactly three fractional digits.
package wire
