package handler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/explain"
	"github.com/leadgate/scrm-gateway/service/lead"
)

const (
	ctxRequestID = "request_id"
	ctxPrincipal = "principal"
)

// requestID takes a sane X-Request-Id from the caller or makes one, and
// echoes it back.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if !saneID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Set(ctxRequestID, id)
		c.Header("X-Request-Id", id)
		c.Next()
	}
}

func saneID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// accessLog writes one line per request: at debug level when it succeeded
// (a line per callback and landing-page hit costs more than the request
// at thousands per second), info for 4xx, error for 5xx. The query string is
// left out: WeCom callbacks carry signatures there and the admin API may
// carry search terms.
func accessLog(log *slog.Logger, clk clock.Clock) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := clk.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelDebug
		switch {
		case status >= 500:
			level = slog.LevelError
		case status >= 400:
			level = slog.LevelInfo
		}
		ctx := c.Request.Context()
		if !log.Enabled(ctx, level) {
			return
		}
		log.Log(ctx, level, "http",
			"request_id", c.GetString(ctxRequestID), "method", c.Request.Method, "path", c.Request.URL.Path,
			"status", status, "elapsed_ms", float64(clock.Since(clk, start).Microseconds())/1000, "remote", c.ClientIP())
	}
}

func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic in handler", "request_id", c.GetString(ctxRequestID), "panic", r, "stack", string(debug.Stack()))
				abortError(c, http.StatusInternalServerError, "internal", "internal error", "")
			}
		}()
		c.Next()
	}
}

// errorBody is the one JSON error shape of the API.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// MessageCode is the message's own stable code (see explain.ReasonCode),
	// the same in every language.
	MessageCode string `json:"message_code,omitempty"`
	Field       string `json:"field,omitempty"`
}

// wantsChinese reports whether the request asks for Chinese by name, as
// the console does (Accept-Language: zh-CN).
func wantsChinese(c *gin.Context) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(c.GetHeader("Accept-Language"))), "zh")
}

// abortError renders the one error shape. The message is English unless
// the request asks for Chinese by name (Accept-Language: zh-CN, as the
// console does): the common reasons have a Chinese text.
func abortError(c *gin.Context, status int, code, message, field string) {
	mc := explain.ReasonCode(message)
	if wantsChinese(c) {
		message = explain.LocalizeReason(message, explain.LangZH)
	}
	c.AbortWithStatusJSON(status, errorBody{Error: errorDetail{Code: code, Message: message, MessageCode: mc, Field: field}})
}

// statusClientClosed is logged for a request whose client went away
// before the answer (nginx's 499).
const statusClientClosed = 499

// renderError maps a service error to a status and the error shape.
func renderError(c *gin.Context, err error) {
	var ve *apierr.ValidationError
	var ue *apierr.UpstreamError
	var ce *apierr.ConflictError
	switch {
	case errors.As(err, &ve):
		abortError(c, http.StatusBadRequest, "invalid", ve.Reason, ve.Field)
	case errors.As(err, &ce):
		abortError(c, http.StatusConflict, "conflict", ce.Reason, ce.Field)
	case errors.Is(err, apierr.ErrNotFound):
		abortError(c, http.StatusNotFound, "not_found", "not found", "")
	case errors.Is(err, lead.ErrNotLinked):
		abortError(c, http.StatusForbidden, "forbidden", err.Error(), "")
	case errors.Is(err, lead.ErrForbidden):
		abortError(c, http.StatusForbidden, "forbidden", "this token may see only its own staff member's customers", "")
	case errors.Is(err, apierr.ErrConflict):
		abortError(c, http.StatusConflict, "conflict", "already exists", "")
	case errors.As(err, &ue):
		slog.Default().Warn("upstream failure", "request_id", c.GetString(ctxRequestID), "err", err)
		abortError(c, http.StatusBadGateway, "upstream", ue.Error(), "")
	case errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil:
		// The client went away (a visitor closed the page): nothing failed
		// here and nobody reads the answer; 499 as proxies log it.
		c.AbortWithStatus(statusClientClosed)
	default:
		slog.Default().Error("request failed", "request_id", c.GetString(ctxRequestID), "err", err)
		abortError(c, http.StatusInternalServerError, "internal", "internal error", "")
	}
}

// authenticate resolves the bearer token. A client (its address, or the
// forwarded one when the peer is a trusted proxy) that keeps presenting
// invalid tokens is answered 429 for the rest of the throttle's window.
func authenticate(tokens *auth.Auth, throttle *authThrottle) gin.HandlerFunc {
	return func(c *gin.Context) {
		client := c.ClientIP()
		if wait, after := throttle.blocked(client); wait {
			c.Header("Retry-After", after)
			abortError(c, http.StatusTooManyRequests, "too_many_failures", "too many invalid tokens from this address; try again later", "")
			return
		}
		h := c.GetHeader("Authorization")
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			c.Header("WWW-Authenticate", `Bearer realm="gateway"`)
			abortError(c, http.StatusUnauthorized, "unauthenticated", "missing bearer token", "")
			return
		}
		p, err := tokens.Authenticate(c.Request.Context(), strings.TrimSpace(token))
		if errors.Is(err, auth.ErrUnauthenticated) {
			throttle.failed(client)
			c.Header("WWW-Authenticate", `Bearer realm="gateway", error="invalid_token"`)
			abortError(c, http.StatusUnauthorized, "unauthenticated", err.Error(), "")
			return
		}
		if err != nil {
			renderError(c, err)
			return
		}
		p.Client, p.RequestID = client, c.GetString(ctxRequestID)
		c.Set(ctxPrincipal, p)
		c.Next()
	}
}

func requireRole(roles ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principal(c)
		for _, r := range roles {
			if p != nil && p.Role == r {
				c.Next()
				return
			}
		}
		abortError(c, http.StatusForbidden, "forbidden", "this token's role may not do this", "")
	}
}

func principal(c *gin.Context) *auth.Principal {
	v, _ := c.Get(ctxPrincipal)
	p, _ := v.(*auth.Principal)
	return p
}
