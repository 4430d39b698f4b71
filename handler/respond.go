package handler

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/leadgate/scrm-gateway/service/explain"
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

// loadItem reads an item route's corp and :id and loads that item with get.
// When any of it fails the request has been answered and ok is false.
func loadItem[T any](c *gin.Context, corps []string, get func(context.Context, string, uint64) (T, error)) (item T, ok bool) {
	corp, id, ok := corpAndID(c, corps)
	if !ok {
		return item, false
	}
	item, err := get(c.Request.Context(), corp, id)
	if err != nil {
		renderError(c, err)
		return item, false
	}
	return item, true
}

// reply renders the outcome of a service call: err in the API's error shape
// (see renderError), or else v as JSON with status.
func reply(c *gin.Context, status int, v any, err error) {
	if err != nil {
		renderError(c, err)
		return
	}
	renderJSON(c, status, v)
}

// renderJSON renders v as JSON with the text of every message in it in the
// language the request asks for (Accept-Language; Chinese by default).
func renderJSON(c *gin.Context, status int, v any) {
	explain.Localize(v, explain.Lang(c.GetHeader("Accept-Language")))
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
	renderJSON(c, http.StatusOK, resp)
}

// limitParam reads ?limit=, an integer from 1 to 500, into limit; without
// it limit keeps its default.
func limitParam(c *gin.Context, limit *int) bool {
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			abortError(c, http.StatusBadRequest, "invalid", "must be an integer from 1 to 500", "limit")
			return false
		}
		*limit = n
	}
	return true
}

// beforeParam reads ?before=, the id that a newest-first page starts below,
// into before; what names the id in the error ("an event id").
func beforeParam(c *gin.Context, what string, before *uint64) bool {
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			abortError(c, http.StatusBadRequest, "invalid", "must be "+what, "before")
			return false
		}
		*before = n
	}
	return true
}
