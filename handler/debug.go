package handler

import (
	"net/http"
	"net/http/pprof"

	"github.com/gin-gonic/gin"
	"github.com/leadgate/scrm-gateway/service/auth"
)

// mountProfiling serves Go's profiles under /api/v1/debug/pprof/ to admins,
// so a slow deployment can be profiled where it runs (docs/API.md).
func mountProfiling(api *gin.RouterGroup) {
	serve := func(c *gin.Context) {
		name := c.Param("name")
		// pprof.Index reads the profile's name from a /debug/pprof/ path.
		c.Request.URL.Path = "/debug/pprof/" + name
		var h http.HandlerFunc
		switch name {
		case "profile":
			h = pprof.Profile
		case "trace":
			h = pprof.Trace
		case "symbol":
			h = pprof.Symbol
		case "cmdline":
			h = pprof.Cmdline
		default:
			h = pprof.Index
		}
		h(c.Writer, c.Request)
	}
	api.GET("/debug/pprof/", requireRole(auth.RoleAdmin), serve)
	api.GET("/debug/pprof/:name", requireRole(auth.RoleAdmin), serve)
}
