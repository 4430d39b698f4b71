package handler

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/webhook/outbound"
)

// webhookHandler serves webhook endpoints and the delivery log (admin only).
type webhookHandler struct {
	hooks *outbound.Webhooks
	corps []string
}

// mountWebhooks adds the webhook routes when the service is wired.
func mountWebhooks(api *gin.RouterGroup, d Deps) {
	if d.Webhooks == nil {
		return
	}
	h := &webhookHandler{hooks: d.Webhooks, corps: d.corpIDs()}
	admin := requireRole(auth.RoleAdmin)
	api.POST("/webhook-endpoints", admin, h.create)
	api.GET("/webhook-endpoints", admin, h.list)
	api.GET("/webhook-endpoints/:id", admin, h.get)
	api.PATCH("/webhook-endpoints/:id", admin, h.update)
	api.DELETE("/webhook-endpoints/:id", admin, h.delete)
	api.POST("/webhook-endpoints/:id/rotate-secret", admin, h.rotate)
	api.POST("/webhook-endpoints/:id/test", admin, h.test)
	api.GET("/webhook-deliveries", admin, h.deliveries)
	api.GET("/webhook-deliveries/:id", admin, h.delivery)
	api.POST("/webhook-deliveries/:id/replay", admin, h.replay)
	api.POST("/webhook-deliveries/replay", admin, h.replayMatching)
}

func bindEndpoint(c *gin.Context) (outbound.WebhookEndpointSpec, bool) {
	var spec outbound.WebhookEndpointSpec
	return spec, decodeJSON(c, &spec, 64<<10)
}

func (h *webhookHandler) create(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	spec, ok := bindEndpoint(c)
	if !ok {
		return
	}
	ep, err := h.hooks.CreateEndpoint(c.Request.Context(), corp, principal(c).Name, spec)
	reply(c, http.StatusCreated, ep, err)
}

func (h *webhookHandler) list(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	eps, err := h.hooks.ListEndpoints(c.Request.Context(), corp)
	reply(c, http.StatusOK, gin.H{"webhook_endpoints": eps}, err)
}

func (h *webhookHandler) get(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	ep, err := h.hooks.GetEndpoint(c.Request.Context(), corp, id)
	reply(c, http.StatusOK, ep, err)
}

func (h *webhookHandler) update(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	spec, ok := bindEndpoint(c)
	if !ok {
		return
	}
	ep, err := h.hooks.UpdateEndpoint(c.Request.Context(), corp, id, spec)
	reply(c, http.StatusOK, ep, err)
}

func (h *webhookHandler) delete(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	noContent(c, h.hooks.DeleteEndpoint(c.Request.Context(), corp, id))
}

func (h *webhookHandler) rotate(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	ep, err := h.hooks.RotateSecret(c.Request.Context(), corp, id)
	reply(c, http.StatusOK, ep, err)
}

// test sends a signed webhook.test event to the endpoint and answers what
// came back (200 whatever the endpoint answered; ok says if it was 2xx).
func (h *webhookHandler) test(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	res, err := h.hooks.SendTest(c.Request.Context(), corp, id)
	reply(c, http.StatusOK, res, err)
}

// deliveryFilterParams are the delivery filter's names, read from the query
// (GET) or, for a bulk replay, from a JSON body.
type deliveryFilterParams struct {
	Endpoint idParam `json:"endpoint"`
	Status   string  `json:"status"`
	Lead     idParam `json:"lead"`
	Contact  string  `json:"contact"`
	Subject  string  `json:"subject"`
	Type     string  `json:"type"`
}

// idParam is an id given as a JSON number or string.
type idParam string

func (p *idParam) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*p = idParam(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*p = idParam(n.String())
	return nil
}

func queryFilter(c *gin.Context) deliveryFilterParams {
	return deliveryFilterParams{Endpoint: idParam(c.Query("endpoint")), Status: c.Query("status"), Lead: idParam(c.Query("lead")),
		Contact: c.Query("contact"), Subject: c.Query("subject"), Type: c.Query("type")}
}

func (h *webhookHandler) filter(c *gin.Context, p deliveryFilterParams) (outbound.DeliveryQuery, bool) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return outbound.DeliveryQuery{}, false
	}
	f := outbound.DeliveryQuery{CorpID: corp, Status: p.Status, EventType: p.Type, Subject: p.Subject}
	if p.Endpoint != "" {
		n, err := strconv.ParseUint(string(p.Endpoint), 10, 64)
		if err != nil || n == 0 {
			abortError(c, http.StatusBadRequest, "invalid", "must be an endpoint id", "endpoint")
			return f, false
		}
		f.EndpointID = n
	}
	subjects := 0
	if p.Subject != "" {
		subjects++
	}
	if p.Lead != "" {
		n, err := strconv.ParseUint(string(p.Lead), 10, 64)
		if err != nil || n == 0 {
			abortError(c, http.StatusBadRequest, "invalid", "must be a lead id", "lead")
			return f, false
		}
		f.Subject = "lead:" + string(p.Lead)
		subjects++
	}
	if p.Contact != "" {
		f.Subject = "contact:" + p.Contact
		subjects++
	}
	if subjects > 1 {
		abortError(c, http.StatusBadRequest, "invalid", "give at most one of lead, contact and subject", "subject")
		return f, false
	}
	if err := outbound.CheckDeliveryQuery(f); err != nil {
		renderError(c, err)
		return f, false
	}
	return f, true
}

func (h *webhookHandler) deliveries(c *gin.Context) {
	f, ok := h.filter(c, queryFilter(c))
	if !ok {
		return
	}
	f.Limit = 50
	if !limitParam(c, &f.Limit) || !beforeParam(c, "a delivery id", &f.BeforeID) {
		return
	}
	ds, err := h.hooks.ListDeliveries(c.Request.Context(), f)
	if err != nil {
		renderError(c, err)
		return
	}
	renderPage(c, "deliveries", ds, f.Limit, "next_before", func(v outbound.WebhookDelivery) uint64 { return v.ID })
}

func (h *webhookHandler) delivery(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	d, err := h.hooks.GetDelivery(c.Request.Context(), corp, id)
	reply(c, http.StatusOK, d, err)
}

func (h *webhookHandler) replay(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	err := h.hooks.Replay(c.Request.Context(), corp, id)
	if outbound.IsReplayConflict(err) {
		abortError(c, http.StatusConflict, "conflict", err.Error(), "")
		return
	}
	if err != nil {
		renderError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "queued"})
}

func (h *webhookHandler) replayMatching(c *gin.Context) {
	p := queryFilter(c)
	if c.Request.ContentLength != 0 {
		if !decodeJSON(c, &p, 64<<10) {
			return
		}
	}
	f, ok := h.filter(c, p)
	if !ok {
		return
	}
	n, err := h.hooks.ReplayMatching(c.Request.Context(), f)
	reply(c, http.StatusAccepted, gin.H{"replayed": n}, err)
}
