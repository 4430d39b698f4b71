// Package handler is the gateway's HTTP surface: the WeCom callback, the
// admin API under /api/v1, the landing pages behind live codes, the web
// console, health and metrics. Handlers bind and validate the request, call
// one service, map its errors to the one JSON error shape and render its
// views; the callback protocol and every business rule live in service.
// This package imports service and neither model nor wecom
// (TestHandlerTalksToServiceOnly holds that).
package handler
