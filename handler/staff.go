package handler

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/staff"
)

// staffHandler serves the staff directory.
type staffHandler struct {
	staff *staff.Directory
	corps []string
}

func (h *staffHandler) routes(api *gin.RouterGroup) {
	api.GET("/staff", requireRole(auth.RoleAdmin, auth.RoleStaff, auth.RoleViewer), h.list)
	api.POST("/staff/refresh", requireRole(auth.RoleAdmin), h.refresh)
}

func (h *staffHandler) list(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	l, err := h.staff.List(c.Request.Context(), corp)
	reply(c, http.StatusOK, l, err)
}

func (h *staffHandler) refresh(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	l, err := h.staff.Refresh(c.Request.Context(), corp)
	reply(c, http.StatusOK, l, err)
}

// knownStaff renders 400 naming the first of refs that is not a staff
// member of the corp, and reports whether all are.
func knownStaff(c *gin.Context, dir *staff.Directory, corp string, refs []staff.Ref) bool {
	if err := dir.Check(c.Request.Context(), corp, refs); err != nil {
		renderError(c, err)
		return false
	}
	return true
}
