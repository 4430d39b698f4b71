package handler

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/skip2/go-qrcode"

	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/groupcode"
)

// mountLiveCodes mounts the group-code and store-code routes that Deps
// carries services for.
func mountLiveCodes(api *gin.RouterGroup, r *gin.Engine, d Deps) {
	corps := d.corpIDs()
	if d.Groups != nil {
		(&groupHandler{groups: d.Groups, corps: corps, fetchQR: d.fetchQR()}).routes(api, r)
	}
	if d.Stores != nil {
		(&storeHandler{stores: d.Stores, staff: d.Staff, corps: corps}).routes(api, r)
	}
}

// groupHandler serves group codes and their landing page.
type groupHandler struct {
	groups  *groupcode.GroupCodes
	corps   []string
	fetchQR func(ctx context.Context, url string) ([]byte, error)
	pages   renderedPages
}

func (h *groupHandler) routes(api *gin.RouterGroup, r *gin.Engine) {
	all := requireRole(auth.RoleAdmin, auth.RoleStaff, auth.RoleViewer)
	writers := requireRole(auth.RoleAdmin, auth.RoleStaff)
	admin := requireRole(auth.RoleAdmin)
	api.POST("/group-codes", writers, h.create)
	api.GET("/group-codes", all, h.list)
	api.GET("/group-codes/:id", all, h.get)
	api.PATCH("/group-codes/:id", admin, h.update)
	api.DELETE("/group-codes/:id", admin, h.delete)
	api.GET("/group-codes/:id/qr.png", all, h.qr)
	api.GET("/group-codes/:id/poster.png", all, h.poster)
	api.GET("/group-codes/:id/stats", all, h.stats)
	api.POST("/group-codes/:id/sync", admin, h.sync)
	r.GET("/g/:slug", landingHeaders, h.landing)
}

// liveCorp picks the corp a request is about: ?corp=, or the only one
// configured.
func liveCorp(c *gin.Context, corps []string) (string, bool) {
	id := c.Query("corp")
	if id == "" && len(corps) == 1 {
		return corps[0], true
	}
	for _, k := range corps {
		if k == id {
			return id, true
		}
	}
	if id == "" {
		abortError(c, http.StatusBadRequest, "invalid", "several corps are configured; say which with ?corp=", "corp")
	} else {
		abortError(c, http.StatusBadRequest, "invalid", "no such corp", "corp")
	}
	return "", false
}

// liveDays reads ?from= and ?to= (YYYY-MM-DD).
func liveDays(c *gin.Context) (from, to string, ok bool) {
	for _, p := range []struct {
		name string
		dst  *string
	}{{"from", &from}, {"to", &to}} {
		if v := c.Query(p.name); v != "" {
			if _, err := time.Parse("2006-01-02", v); err != nil {
				abortError(c, http.StatusBadRequest, "invalid", "must be a date YYYY-MM-DD", p.name)
				return "", "", false
			}
			*p.dst = v
		}
	}
	if from != "" && to != "" && from > to {
		abortError(c, http.StatusBadRequest, "invalid", "must not be after to", "from")
		return "", "", false
	}
	return from, to, true
}

func (h *groupHandler) create(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	var spec groupcode.GroupCodeSpec
	if !bindJSON(c, &spec) {
		return
	}
	code, err := h.groups.Create(c.Request.Context(), corp, principal(c).Name, spec)
	reply(c, http.StatusCreated, code, err)
}

func (h *groupHandler) list(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	f := groupcode.GroupCodeQuery{CorpID: corp, Q: c.Query("q"), Limit: 100}
	if !pageParams(c, &f.AfterID, &f.Limit) {
		return
	}
	codes, err := h.groups.List(c.Request.Context(), f)
	if err != nil {
		renderError(c, err)
		return
	}
	renderPage(c, "group_codes", codes, f.Limit, "next_after", func(v *groupcode.GroupCode) uint64 { return v.ID })
}

func (h *groupHandler) get(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	code, err := h.groups.Get(c.Request.Context(), corp, id)
	reply(c, http.StatusOK, code, err)
}

func (h *groupHandler) update(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	var spec groupcode.GroupCodeSpec
	if !bindJSON(c, &spec) {
		return
	}
	code, err := h.groups.Update(c.Request.Context(), corp, id, spec)
	reply(c, http.StatusOK, code, err)
}

func (h *groupHandler) delete(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	noContent(c, h.groups.Delete(c.Request.Context(), corp, id))
}

func (h *groupHandler) sync(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	if _, err := h.groups.Get(c.Request.Context(), corp, id); err != nil {
		renderError(c, err)
		return
	}
	if err := h.groups.RequestSync(c.Request.Context(), corp, id); err != nil {
		renderError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "sync requested"})
}

// qr serves the poster QR: by default a QR of the stable landing URL (it
// survives any change of groups); ?target=join_way gives WeCom's own join
// QR, which customers can scan without the landing page.
func (h *groupHandler) qr(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	target := c.DefaultQuery("target", "landing")
	if target != "landing" && target != "join_way" {
		abortError(c, http.StatusBadRequest, "invalid", "must be landing or join_way", "target")
		return
	}
	code, err := h.groups.Get(c.Request.Context(), corp, id)
	if err != nil {
		renderError(c, err)
		return
	}
	var png []byte
	if target == "landing" {
		png, err = qrcode.Encode(code.LandingURL, qrcode.Medium, 512)
	} else {
		png, err = h.fetchQR(c.Request.Context(), code.QRCode)
	}
	if err != nil {
		abortError(c, http.StatusBadGateway, "upstream", "could not get the QR image: "+err.Error(), "")
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="group-code-%d.png"`, id))
	c.Data(http.StatusOK, "image/png", png)
}

func (h *groupHandler) stats(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	from, to, ok := liveDays(c)
	if !ok {
		return
	}
	st, err := h.groups.Stats(c.Request.Context(), corp, id, from, to)
	reply(c, http.StatusOK, st, err)
}

// landing serves /g/:slug: the current group's join QR. Browsers must not
// keep it (the group behind it changes as groups fill); the gateway keeps
// the rendered page until the service's page changes.
func (h *groupHandler) landing(c *gin.Context) {
	slug := c.Param("slug")
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Type", "text/html; charset=utf-8")
	if len(slug) > 32 {
		c.Status(http.StatusNotFound)
		_ = goneLandingPage.Execute(c.Writer, nil)
		return
	}
	l, err := h.groups.Landing(c.Request.Context(), slug)
	switch {
	case errors.Is(err, apierr.ErrNotFound):
		c.Status(http.StatusNotFound)
		_ = goneLandingPage.Execute(c.Writer, nil)
		return
	case err != nil:
		renderError(c, err)
		return
	}
	page, err := h.pages.render(slug, l, groupLandingPage)
	if err != nil {
		renderError(c, err)
		return
	}
	c.Status(http.StatusOK)
	_, _ = c.Writer.Write(page)
}
