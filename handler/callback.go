package handler

import (
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/wecom"
)

// callbackHandler serves /wecom/callback/:corp. A POST is acknowledged only
// after the event is durably stored; everything else happens later, in the
// dispatcher, so WeCom's 5-second answer window is never at risk.
type callbackHandler struct {
	corps   map[string]*wecom.Crypter
	inbox   *service.Inbox
	metrics *service.Metrics
	log     *slog.Logger
	maxBody int64
}

func (h *callbackHandler) count(corp, result string, start time.Time, method string) {
	if h.metrics == nil {
		return
	}
	h.metrics.CallbackRequests.WithLabelValues(corp, result).Inc()
	h.metrics.CallbackLatency.WithLabelValues(method).Observe(time.Since(start).Seconds())
}

// corp resolves the path's corp; unknown corps share one metric label so a
// scanner cannot grow the label set.
func (h *callbackHandler) corp(c *gin.Context, start time.Time) (string, *wecom.Crypter, bool) {
	id := c.Param("corp")
	cr, ok := h.corps[id]
	if !ok {
		h.count("unknown", service.ResultUnknownCorp, start, c.Request.Method)
		abortError(c, http.StatusNotFound, "unknown_corp", "no corp is configured under this callback URL", "")
		return "", nil, false
	}
	return id, cr, true
}

// verifyURL answers WeCom's URL check: the decrypted echostr, alone.
func (h *callbackHandler) verifyURL(c *gin.Context) {
	start := time.Now()
	corp, cr, ok := h.corp(c, start)
	if !ok {
		return
	}
	q := c.Request.URL.Query()
	sig, ts, nonce, echo := q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), q.Get("echostr")
	if sig == "" || ts == "" || nonce == "" || echo == "" {
		h.count(corp, service.ResultBadRequest, start, "GET")
		abortError(c, http.StatusBadRequest, "bad_request", "msg_signature, timestamp, nonce and echostr are required", "")
		return
	}
	err := cr.Verify(sig, ts, nonce, echo)
	if err != nil && strings.Contains(echo, " ") {
		// A proxy that decoded '+' as a space broke the base64; undo it once.
		echo = strings.ReplaceAll(echo, " ", "+")
		err = cr.Verify(sig, ts, nonce, echo)
	}
	if err != nil {
		h.count(corp, service.ResultBadSignature, start, "GET")
		abortError(c, http.StatusUnauthorized, "bad_signature", "signature check failed", "")
		return
	}
	plain, err := cr.Decrypt(echo)
	if err != nil {
		h.count(corp, service.ResultBadRequest, start, "GET")
		abortError(c, http.StatusBadRequest, "bad_request", "echostr cannot be decrypted", "")
		return
	}
	h.count(corp, service.ResultVerified, start, "GET")
	c.Data(http.StatusOK, "text/plain; charset=utf-8", plain)
}

// receive stores one event.
func (h *callbackHandler) receive(c *gin.Context) {
	start := time.Now()
	corp, cr, ok := h.corp(c, start)
	if !ok {
		return
	}
	bad := func(status int, result, code, msg string) {
		h.count(corp, result, start, "POST")
		abortError(c, status, code, msg, "")
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			bad(http.StatusRequestEntityTooLarge, service.ResultBadRequest, "too_large", "callback body exceeds the size limit")
			return
		}
		bad(http.StatusBadRequest, service.ResultBadRequest, "bad_request", "callback body could not be read")
		return
	}
	var env wecom.Envelope
	if err := xml.Unmarshal(body, &env); err != nil || env.Encrypt == "" {
		bad(http.StatusBadRequest, service.ResultBadRequest, "bad_request", "body is not a WeCom callback envelope")
		return
	}
	q := c.Request.URL.Query()
	if err := cr.Verify(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), env.Encrypt); err != nil {
		bad(http.StatusUnauthorized, service.ResultBadSignature, "bad_signature", "signature check failed")
		return
	}
	plain, err := cr.Decrypt(env.Encrypt)
	if err != nil {
		bad(http.StatusBadRequest, service.ResultBadRequest, "bad_request", "payload cannot be decrypted for this corp")
		return
	}
	ev, err := wecom.ParseEvent(plain)
	if err != nil {
		bad(http.StatusBadRequest, service.ResultBadRequest, "bad_request", "decrypted payload is not a WeCom message")
		return
	}
	if ev.ToUserName != "" && ev.ToUserName != corp {
		bad(http.StatusBadRequest, service.ResultBadRequest, "bad_request", "message is addressed to another corp")
		return
	}
	dup, err := h.inbox.Accept(c.Request.Context(), corp, ev, plain)
	if err != nil {
		// Not acknowledged: WeCom sends it again.
		h.log.Error("store callback event", "request_id", c.GetString(ctxRequestID), "corp", corp, "type", ev.Type(), "err", err)
		bad(http.StatusInternalServerError, service.ResultStoreError, "store_error", "event could not be stored; send it again")
		return
	}
	result := service.ResultAccepted
	if dup {
		result = service.ResultDuplicate
	}
	h.count(corp, result, start, "POST")
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte("success"))
}
