package handler

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/wecom"
)

type eventsHandler struct {
	events EventReader
}

var eventStatuses = map[string]bool{
	model.EventPending: true, model.EventProcessing: true, model.EventProcessed: true,
	model.EventIgnored: true, model.EventFailed: true,
}

// list serves GET /api/v1/events?status=&type=&corp=&before=&limit=, newest first.
func (h *eventsHandler) list(c *gin.Context) {
	f := model.EventFilter{Status: c.Query("status"), Type: c.Query("type"), CorpID: c.Query("corp"), Limit: 50}
	if f.Status != "" && !eventStatuses[f.Status] {
		abortError(c, http.StatusBadRequest, "invalid", "must be one of pending, processing, processed, ignored, failed", "status")
		return
	}
	if !limitParam(c, &f.Limit) || !beforeParam(c, "an event id", &f.BeforeID) {
		return
	}
	rows, err := h.events.ListEvents(c.Request.Context(), f)
	if err != nil {
		renderError(c, err)
		return
	}
	out := make([]eventView, 0, len(rows))
	for i := range rows {
		out = append(out, viewEvent(&rows[i], false))
	}
	renderPage(c, "events", out, f.Limit, "next_before", func(v eventView) uint64 { return v.ID })
}

// get serves GET /api/v1/events/:id with the decrypted XML and the outcome.
func (h *eventsHandler) get(c *gin.Context) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		abortError(c, http.StatusBadRequest, "invalid", "must be an event id", "id")
		return
	}
	e, err := h.events.GetEvent(c.Request.Context(), id)
	if err != nil {
		renderError(c, err)
		return
	}
	c.JSON(http.StatusOK, viewEvent(e, true))
}

type eventView struct {
	ID             uint64       `json:"id"`
	CorpID         string       `json:"corp_id"`
	Type           string       `json:"type"`
	Status         string       `json:"status"`
	Attempts       int          `json:"attempts"`
	Error          string       `json:"error,omitempty"`
	UserID         string       `json:"user_id,omitempty"`
	ExternalUserID string       `json:"external_user_id,omitempty"`
	ChatID         string       `json:"chat_id,omitempty"`
	State          string       `json:"state,omitempty"`
	ReceivedAt     time.Time    `json:"received_at"`
	ProcessedAt    *time.Time   `json:"processed_at,omitempty"`
	XML            string       `json:"xml,omitempty"`
	Event          *wecom.Event `json:"event,omitempty"`
}

func viewEvent(e *model.Event, full bool) eventView {
	v := eventView{
		ID: e.ID, CorpID: e.CorpID, Type: e.Type, Status: e.Status, Attempts: e.Attempts, Error: e.Error,
		UserID: e.UserID, ExternalUserID: e.ExternalUserID, ChatID: e.ChatID, State: e.State,
		ReceivedAt: e.ReceivedAt, ProcessedAt: e.ProcessedAt,
	}
	if full {
		v.XML = e.Payload
		if ev, err := wecom.ParseEvent([]byte(e.Payload)); err == nil {
			v.Event = ev
		}
	}
	return v
}
