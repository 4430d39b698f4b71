package handler

import (
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
