// Package wecom owns everything that speaks WeCom: callback crypto and event
// types, and the server-API client built on silenceper/wechat/v2 (token
// handling, rate budget, retries and error mapping). It knows nothing about the
// gateway's tables.
package wecom
