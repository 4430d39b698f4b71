package handler

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/audit"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/explain"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/staff"
)

// leadsHandler serves leads, the funnel, scoring, tag rules and the CRM's answers.
type leadsHandler struct {
	leads *lead.Leads
	staff *staff.Directory
	rules *lead.TagRules
	tags  *livecode.TagCatalogue
	audit *audit.Log
	corps []string
	clock clock.Clock
}

func (h *leadsHandler) routes(api *gin.RouterGroup) {
	read := requireRole(auth.RoleAdmin, auth.RoleStaff, auth.RoleViewer)
	// The CRM reads leads back to reconcile: one lead, and the change feed.
	readOrCRM := requireRole(auth.RoleAdmin, auth.RoleStaff, auth.RoleViewer, auth.RoleCRM)
	admin := requireRole(auth.RoleAdmin)
	api.GET("/leads", readOrCRM, h.list)
	api.GET("/leads/:id", readOrCRM, h.get)
	api.PATCH("/leads/:id", admin, h.patch)
	api.POST("/leads/:id/stage", admin, h.stage)
	api.GET("/funnel", requireRole(auth.RoleAdmin, auth.RoleViewer), h.funnel)
	api.GET("/scoring", read, h.getScoring)
	api.PUT("/scoring", admin, h.putScoring)
	api.PATCH("/scoring", admin, h.patchScoring)
	api.POST("/tag-rules", admin, h.createRule)
	api.GET("/tag-rules", requireRole(auth.RoleAdmin, auth.RoleViewer), h.listRules)
	api.GET("/tag-rules/:id", requireRole(auth.RoleAdmin, auth.RoleViewer), h.getRule)
	api.PATCH("/tag-rules/:id", admin, h.patchRule)
	api.DELETE("/tag-rules/:id", admin, h.deleteRule)
	api.POST("/crm/leads/:id/status", requireRole(auth.RoleCRM), h.crmStatus)
	api.GET("/tags", read, h.listTags)
	api.POST("/tags", admin, h.createTags)
	api.PATCH("/tags/:id", admin, h.renameTag)
	api.DELETE("/tags/:id", admin, h.deleteTag)
}

func (h *leadsHandler) listTags(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	list, err := h.tags.List(c.Request.Context(), corp)
	reply(c, http.StatusOK, gin.H{"tags": list}, err)
}

// tagInUse reads the :id tag's name and the rules that name it.
func (h *leadsHandler) tagInUse(c *gin.Context, corp string) (string, []string, bool) {
	id := c.Param("id")
	list, err := h.tags.List(c.Request.Context(), corp)
	if err != nil {
		renderError(c, err)
		return "", nil, false
	}
	for _, t := range list {
		if t.ID == id {
			rules, err := h.rules.NamingTag(c.Request.Context(), corp, t.Name)
			if err != nil {
				renderError(c, err)
				return "", nil, false
			}
			return id, rules, true
		}
	}
	abortError(c, http.StatusNotFound, "not_found", "not found", "")
	return "", nil, false
}

func (h *leadsHandler) renameTag(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	var body struct {
		Name string `json:"name"`
	}
	if !bindJSON(c, &body) {
		return
	}
	id, rules, ok := h.tagInUse(c, corp)
	if !ok {
		return
	}
	t, err := h.tags.Rename(c.Request.Context(), corp, id, body.Name, rules)
	reply(c, http.StatusOK, t, err)
}

func (h *leadsHandler) deleteTag(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	id, rules, ok := h.tagInUse(c, corp)
	if !ok {
		return
	}
	noContent(c, h.tags.Delete(c.Request.Context(), corp, id, rules))
}

func (h *leadsHandler) createTags(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	var body struct {
		Group string   `json:"group"`
		Names []string `json:"names"`
	}
	if !bindJSON(c, &body) {
		return
	}
	list, err := h.tags.Create(c.Request.Context(), corp, body.Group, body.Names)
	reply(c, http.StatusCreated, gin.H{"tags": list}, err)
}

func renderLeadError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, lead.ErrNotLinked):
		abortError(c, http.StatusForbidden, "forbidden", err.Error(), "")
	case errors.Is(err, apierr.ErrLeadMerged):
		abortError(c, http.StatusConflict, "merged", "the lead was merged into another (same person)", "")
	default:
		renderError(c, err)
	}
}

func (h *leadsHandler) list(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	if c.Query("updated_after") != "" || lead.IsFeedCursor(c.Query("cursor")) {
		if principal(c).Role == auth.RoleStaff {
			abortError(c, http.StatusForbidden, "forbidden", "the change feed is for the crm, admin and viewer roles", "")
			return
		}
		h.changes(c, corp)
		return
	}
	if principal(c).Role == auth.RoleCRM {
		abortError(c, http.StatusForbidden, "forbidden", "the crm role reads leads through the change feed (updated_after) or one by id", "")
		return
	}
	f := lead.LeadQuery{CorpID: corp, Stage: c.Query("stage"), Owner: c.Query("owner"), Tag: c.Query("tag"), Q: c.Query("q"), Limit: 50}
	if f.Stage != "" && !lead.ValidStage(f.Stage) {
		abortError(c, http.StatusBadRequest, "invalid", "unknown stage", "stage")
		return
	}
	if v := c.Query("min_score"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			abortError(c, http.StatusBadRequest, "invalid", "must be an integer", "min_score")
			return
		}
		f.MinScore = &n
	}
	if v := c.Query("cursor"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			abortError(c, http.StatusBadRequest, "invalid", "must be the next_cursor of the previous page", "cursor")
			return
		}
		f.BeforeID = n
	}
	if v := c.Query("contact"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			abortError(c, http.StatusBadRequest, "invalid", "must be a contact id", "contact")
			return
		}
		f.ContactID = n
	}
	var after uint64
	if !pageParams(c, &after, &f.Limit) {
		return
	}
	list, err := h.leads.List(c.Request.Context(), principal(c), f)
	if err != nil {
		renderLeadError(c, err)
		return
	}
	ids := make([]uint64, len(list))
	explained := make([]*explain.ExplainedLead, len(list))
	for i, l := range list {
		ids[i] = l.ID
		explained[i] = explain.Lead(l)
	}
	if !audited(c, h.audit, audit.List, audit.Lead, ids...) {
		return
	}
	resp := gin.H{"leads": explained}
	if len(list) == f.Limit {
		resp["next_cursor"] = strconv.FormatUint(list[len(list)-1].ID, 10)
	}
	renderJSON(c, http.StatusOK, resp)
}

// changes serves the change feed: ?updated_after= (RFC 3339) or the feed's
// ?cursor=, and ?limit=.
func (h *leadsHandler) changes(c *gin.Context, corp string) {
	var after time.Time
	if v := c.Query("updated_after"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			abortError(c, http.StatusBadRequest, "invalid", "must be an RFC 3339 time, such as 2026-11-23T10:00:00.000Z", "updated_after")
			return
		}
		after = t
	}
	limit := 100
	if !limitParam(c, &limit) {
		return
	}
	feed, err := h.leads.Changes(c.Request.Context(), corp, after, c.Query("cursor"), limit)
	if err == nil {
		ids := make([]uint64, len(feed.Leads))
		for i, l := range feed.Leads {
			ids[i] = l.ID
		}
		if !audited(c, h.audit, audit.List, audit.Lead, ids...) {
			return
		}
	}
	reply(c, http.StatusOK, feed, err)
}

func (h *leadsHandler) get(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	l, err := h.leads.Get(c.Request.Context(), principal(c), corp, id)
	if err != nil {
		renderLeadError(c, err)
		return
	}
	if !audited(c, h.audit, audit.Read, audit.Lead, l.ID) {
		return
	}
	renderJSON(c, http.StatusOK, explain.Lead(l))
}

func (h *leadsHandler) patch(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	var p lead.LeadPatch
	if !bindJSON(c, &p) {
		return
	}
	if p.Owner != nil && *p.Owner != "" && !knownStaff(c, h.staff, corp, []staff.Ref{{Field: "owner", UserID: *p.Owner}}) {
		return
	}
	l, err := h.leads.Patch(c.Request.Context(), corp, id, p, principal(c).Name)
	if err != nil {
		renderLeadError(c, err)
		return
	}
	renderJSON(c, http.StatusOK, explain.Lead(l))
}

func (h *leadsHandler) stage(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	var body struct {
		Stage  string `json:"stage"`
		Reason string `json:"reason"`
	}
	if !bindJSON(c, &body) {
		return
	}
	l, err := h.leads.SetStage(c.Request.Context(), corp, id, body.Stage, body.Reason, principal(c).Name)
	if err != nil {
		renderLeadError(c, err)
		return
	}
	renderJSON(c, http.StatusOK, explain.Lead(l))
}

func (h *leadsHandler) crmStatus(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	var a lead.CRMAnswer
	if !bindJSON(c, &a) {
		return
	}
	res, err := h.leads.ApplyCRMAnswer(c.Request.Context(), corp, id, a, principal(c).Name)
	if err != nil {
		renderLeadError(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

func (h *leadsHandler) funnel(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	to := h.clock.Now().UTC()
	from := to.AddDate(0, 0, -30)
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if v := c.Query(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				if d, err2 := time.Parse("2006-01-02", v); err2 == nil {
					t = d
				} else {
					abortError(c, http.StatusBadRequest, "invalid", "must be a date (YYYY-MM-DD) or RFC 3339 time", p.name)
					return
				}
			}
			*p.dst = t
		}
	}
	if !from.Before(to) {
		abortError(c, http.StatusBadRequest, "invalid", "must be before to", "from")
		return
	}
	var code uint64
	if v := c.Query("code"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			abortError(c, http.StatusBadRequest, "invalid", "must be a channel code id", "code")
			return
		}
		code = n
	}
	f, err := h.leads.Funnel(c.Request.Context(), corp, from, to, code)
	reply(c, http.StatusOK, f, err)
}

func (h *leadsHandler) getScoring(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	cfg, version, err := h.leads.Scoring(c.Request.Context(), corp)
	if err != nil {
		renderError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"version": version, "config": cfg})
}

func (h *leadsHandler) putScoring(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	// The whole config: a field left out would otherwise fall back to its
	// default, and the re-score would move leads for good.
	body, ok := readBody(c, maxJSONBody)
	if !ok {
		return
	}
	var cfg lead.ScoringConfig
	if !decodeBody(c, body, &cfg) || !requireFields(c, body, cfg) {
		return
	}
	h.saveScoring(c, corp, cfg)
}

// patchScoring changes only the fields the body names; bant and tags
// entries are merged into the current ones.
func (h *leadsHandler) patchScoring(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	cfg, _, err := h.leads.Scoring(c.Request.Context(), corp)
	if err != nil {
		renderError(c, err)
		return
	}
	if !bindJSON(c, &cfg) {
		return
	}
	h.saveScoring(c, corp, cfg)
}

func (h *leadsHandler) saveScoring(c *gin.Context, corp string, cfg lead.ScoringConfig) {
	version, err := h.leads.SetScoring(c.Request.Context(), corp, cfg)
	reply(c, http.StatusAccepted, gin.H{"version": version, "config": cfg, "rescoring": "started in the background"}, err)
}

func (h *leadsHandler) createRule(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	var spec lead.TagRuleSpec
	if !bindJSON(c, &spec) {
		return
	}
	spec.ID = 0
	r, err := h.rules.Save(c.Request.Context(), corp, spec)
	reply(c, http.StatusCreated, r, err)
}

func (h *leadsHandler) listRules(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	list, err := h.rules.List(c.Request.Context(), corp)
	reply(c, http.StatusOK, gin.H{"tag_rules": list}, err)
}

func (h *leadsHandler) getRule(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	r, err := h.rules.Get(c.Request.Context(), corp, id)
	reply(c, http.StatusOK, r, err)
}

// patchRule replaces the fields given; the rule is validated whole.
func (h *leadsHandler) patchRule(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	cur, err := h.rules.Get(c.Request.Context(), corp, id)
	if err != nil {
		renderError(c, err)
		return
	}
	// Top-level fields absent from the body keep their value; conditions and
	// actions, when present, are replaced whole. Decoding into the stored
	// rule would merge them, and a set_bant entry could never be dropped.
	body, ok := readBody(c, maxJSONBody)
	if !ok {
		return
	}
	var present map[string]json.RawMessage
	if err := json.Unmarshal(body, &present); err != nil {
		abortError(c, http.StatusBadRequest, "invalid", "the body must be a JSON object", "")
		return
	}
	if _, ok := present["conditions"]; ok {
		cur.Conditions = lead.RuleConditions{}
	}
	if _, ok := present["actions"]; ok {
		cur.Actions = lead.RuleActions{}
	}
	if !decodeBody(c, body, cur) {
		return
	}
	cur.ID = id
	r, err := h.rules.Save(c.Request.Context(), corp, *cur)
	reply(c, http.StatusOK, r, err)
}

func (h *leadsHandler) deleteRule(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	noContent(c, h.rules.Delete(c.Request.Context(), corp, id))
}
