package handler

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/leadgate/scrm-gateway/service"
)

// callbackHandler serves /wecom/callback/:corp. The protocol (signature,
// decryption, parsing, storing) is service.Callbacks'; this maps its outcome
// to HTTP. A POST is acknowledged only after the event is durably stored;
// everything else happens later, in the dispatcher, so WeCom's 5-second answer
// window is never at risk.
type callbackHandler struct {
	callbacks *service.Callbacks
	log       *slog.Logger
}

func callbackQuery(c *gin.Context) service.CallbackQuery {
	q := c.Request.URL.Query()
	return service.CallbackQuery{MsgSignature: q.Get("msg_signature"), Timestamp: q.Get("timestamp"),
		Nonce: q.Get("nonce"), EchoStr: q.Get("echostr")}
}

// verifyURL answers WeCom's URL check: the decrypted echostr, alone.
func (h *callbackHandler) verifyURL(c *gin.Context) {
	plain, err := h.callbacks.VerifyURL(c.Request.Context(), c.Param("corp"), callbackQuery(c))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "text/plain; charset=utf-8", plain)
}

// receive stores one event.
func (h *callbackHandler) receive(c *gin.Context) {
	_, err := h.callbacks.Receive(c.Request.Context(), c.Param("corp"), callbackQuery(c), c.Request.Body)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte("success"))
}

// fail maps a callback error to its status and the API's error shape.
func (h *callbackHandler) fail(c *gin.Context, err error) {
	var bad *service.CallbackRequestError
	switch {
	case errors.Is(err, service.ErrUnknownCorp):
		abortError(c, http.StatusNotFound, "unknown_corp", err.Error(), "")
	case errors.Is(err, service.ErrBadSignature):
		abortError(c, http.StatusUnauthorized, "bad_signature", err.Error(), "")
	case errors.Is(err, service.ErrCallbackTooLarge):
		abortError(c, http.StatusRequestEntityTooLarge, "too_large", err.Error(), "")
	case errors.Is(err, service.ErrCallbacksBusy):
		c.Header("Retry-After", "1")
		abortError(c, http.StatusServiceUnavailable, "busy", err.Error(), "")
	case errors.As(err, &bad):
		abortError(c, http.StatusBadRequest, "bad_request", bad.Reason, "")
	default:
		// Not acknowledged: WeCom sends it again.
		h.log.Error("store callback event", "request_id", c.GetString(ctxRequestID), "corp", c.Param("corp"), "err", err)
		abortError(c, http.StatusInternalServerError, "store_error", service.ErrNotStored.Error(), "")
	}
}
