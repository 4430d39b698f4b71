package handler

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/service/auth"
)

// queueHandler serves the inbox's events and the side-effect jobs.
type queueHandler struct {
	log *service.QueueLog
}

func (h *queueHandler) routes(api *gin.RouterGroup) {
	admin := requireRole(auth.RoleAdmin)
	api.GET("/events", admin, h.listEvents)
	api.GET("/events/:id", admin, h.getEvent)
	api.GET("/jobs", admin, h.listJobs)
	api.POST("/jobs/retry", admin, h.retryJobs)
	api.POST("/jobs/:id/retry", admin, h.retryJob)
}

// retryJob serves POST /api/v1/jobs/:id/retry: a failed or ignored job runs again.
func (h *queueHandler) retryJob(c *gin.Context) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		abortError(c, http.StatusBadRequest, "invalid", "must be a job id", "id")
		return
	}
	j, err := h.log.RetryJob(c.Request.Context(), id)
	reply(c, http.StatusOK, j, err)
}

// retryJobs serves POST /api/v1/jobs/retry {"status", "kind"}: every job the
// filter selects (failed ones by default) runs again.
func (h *queueHandler) retryJobs(c *gin.Context) {
	var f service.JobRetryFilter
	if c.Request.ContentLength != 0 && !bindJSON(c, &f) {
		return
	}
	n, err := h.log.RetryJobs(c.Request.Context(), f)
	reply(c, http.StatusOK, gin.H{"retried": n}, err)
}

// listEvents serves GET /api/v1/events?status=&type=&corp=&before=&limit=, newest first.
func (h *queueHandler) listEvents(c *gin.Context) {
	q := service.EventQuery{Status: c.Query("status"), Type: c.Query("type"), CorpID: c.Query("corp"), Limit: 50}
	if !limitParam(c, &q.Limit) || !beforeParam(c, "an event id", &q.BeforeID) {
		return
	}
	list, err := h.log.Events(c.Request.Context(), q)
	if err != nil {
		renderError(c, err)
		return
	}
	renderPage(c, "events", list, q.Limit, "next_before", func(v service.EventView) uint64 { return v.ID })
}

// getEvent serves GET /api/v1/events/:id with the decrypted XML and the outcome.
func (h *queueHandler) getEvent(c *gin.Context) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		abortError(c, http.StatusBadRequest, "invalid", "must be an event id", "id")
		return
	}
	e, err := h.log.Event(c.Request.Context(), id)
	reply(c, http.StatusOK, e, err)
}

// listJobs serves GET /api/v1/jobs?corp=&kind=&status=&before=&limit=, newest first.
func (h *queueHandler) listJobs(c *gin.Context) {
	q := service.JobQuery{CorpID: c.Query("corp"), Kind: c.Query("kind"), Status: c.Query("status"), Limit: 100}
	if !beforeParam(c, "a job id", &q.BeforeID) || !limitParam(c, &q.Limit) {
		return
	}
	list, err := h.log.Jobs(c.Request.Context(), q)
	if err != nil {
		renderError(c, err)
		return
	}
	renderPage(c, "jobs", list, q.Limit, "next_before", func(v service.JobView) uint64 { return v.ID })
}
