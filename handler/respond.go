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

// renderPage renders one page of a keyset-paged list: {key: items}, and,
// when the page is full (limit items), the cursor named next ("next_after"
// or "next_before") set to the id of its last item, for the next page.
func renderPage[T any](c *gin.Context, key string, items []T, limit int, next string, id func(T) uint64) {
	resp := gin.H{key: items}
	if len(items) == limit {
		resp[next] = id(items[len(items)-1])
	}
	c.JSON(http.StatusOK, resp)
}
