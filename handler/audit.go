package handler

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/leadgate/scrm-gateway/service/audit"
)

// audited records that the caller read (listed, exported) the subjects
// before they are answered; on failure the request is answered with the
// error instead and false is returned.
func audited(c *gin.Context, a *audit.Log, action, kind string, ids ...uint64) bool {
	if err := a.Record(c.Request.Context(), principal(c), action, kind, c.FullPath(), ids...); err != nil {
		renderError(c, err)
		return false
	}
	return true
}

// auditHandler serves GET /api/v1/audit (admin).
type auditHandler struct{ audit *audit.Log }

func (h *auditHandler) list(c *gin.Context) {
	q := audit.Query{Subject: c.Query("subject"), Limit: 100}
	if v := c.Query("token"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			abortError(c, http.StatusBadRequest, "invalid", "must be a token id", "token")
			return
		}
		q.TokenID = n
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := c.Query(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				abortError(c, http.StatusBadRequest, "invalid", "must be an RFC 3339 time, such as 2026-11-23T10:00:00Z", p.name)
				return
			}
			*p.dst = t
		}
	}
	if !beforeParam(c, "an audit entry id", &q.BeforeID) || !limitParam(c, &q.Limit) {
		return
	}
	list, err := h.audit.List(c.Request.Context(), q)
	if err != nil {
		renderError(c, err)
		return
	}
	renderPage(c, "entries", list, q.Limit, "next_before", func(e audit.Entry) uint64 { return e.ID })
}
