package handler

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// corpAndID reads what an item route is about: the corp (see liveCorp) and
// the :id path parameter. It renders the first that is wrong, so a request
// gets one error body, and reports whether both are good.
func corpAndID(c *gin.Context, corps []string) (string, uint64, bool) {
	corp, ok := liveCorp(c, corps)
	if !ok {
		return "", 0, false
	}
	id, ok := pathID(c)
	return corp, id, ok
}

// reply renders the outcome of a service call: err in the API's error shape
// (see renderError), or else v as JSON with status.
func reply(c *gin.Context, status int, v any, err error) {
	if err != nil {
		renderError(c, err)
		return
	}
	c.JSON(status, v)
}

// noContent renders the outcome of a service call that returns nothing: err
// in the API's error shape, or else 204 No Content with no body.
func noContent(c *gin.Context, err error) {
	if err != nil {
		renderError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
