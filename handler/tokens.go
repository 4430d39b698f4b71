package handler

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/leadgate/scrm-gateway/service/auth"
)

// tokensHandler lets an admin issue, list and revoke API tokens.
type tokensHandler struct {
	auth *auth.Auth
}

func (h *tokensHandler) routes(api *gin.RouterGroup) {
	admin := requireRole(auth.RoleAdmin)
	api.POST("/tokens", admin, h.create)
	api.GET("/tokens", admin, h.list)
	api.DELETE("/tokens/:id", admin, h.revoke)
}

func (h *tokensHandler) create(c *gin.Context) {
	var s auth.TokenSpec
	if !bindJSON(c, &s) {
		return
	}
	t, err := h.auth.IssueToken(c.Request.Context(), s)
	reply(c, http.StatusCreated, t, err)
}

func (h *tokensHandler) list(c *gin.Context) {
	list, err := h.auth.ListTokens(c.Request.Context())
	reply(c, http.StatusOK, gin.H{"tokens": list}, err)
}

func (h *tokensHandler) revoke(c *gin.Context) {
	id, ok := pathID(c)
	if !ok {
		return
	}
	noContent(c, h.auth.RevokeToken(c.Request.Context(), id))
}
