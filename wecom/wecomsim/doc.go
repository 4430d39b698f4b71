// Package wecomsim is an in-memory WeCom for tests, the demo and benchmarks.
//
// It owns a real HTTP server surface that speaks WeCom's wire formats: the
// server API under /cgi-bin/ (same paths, JSON field names and errcode/errmsg
// as qyapi.weixin.qq.com) and encrypted, signed callbacks POSTed to the
// gateway with WeCom's timeout and resend rules. A control API under /sim/ plays
// the customers (scan a code, join a group, delete a staff member), the
// console (edit a remark, change the tag catalogue) and the operator (inject
// faults, move the clock, read the call log).
//
// The simulator reproduces WeCom's limits and failures so that a gateway bug
// shows up here before it shows up in production: the 20-second single-use
// welcome_code, token expiry and early invalidation, the per-API rate limit,
// contact-way validation, group capacity, and resends of unacknowledged
// callbacks. It only depends on the wecom package's callback crypto and event
// types, never on the API client, so that a mistake in one is caught by the
// other.
package wecomsim
