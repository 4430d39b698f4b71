package handler

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/skip2/go-qrcode"

	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/explain"
	"github.com/leadgate/scrm-gateway/service/staff"
	"github.com/leadgate/scrm-gateway/service/storecode"
)

// storeHandler serves stores, store codes and the store landing page.
type storeHandler struct {
	stores *storecode.StoreCodes
	staff  *staff.Directory
	corps  []string
	pages  renderedPages
}

func (h *storeHandler) routes(api *gin.RouterGroup, r *gin.Engine) {
	all := requireRole(auth.RoleAdmin, auth.RoleStaff, auth.RoleViewer)
	writers := requireRole(auth.RoleAdmin, auth.RoleStaff)
	admin := requireRole(auth.RoleAdmin)
	api.POST("/stores", writers, h.createStore)
	api.POST("/stores/import", writers, h.importStores)
	api.GET("/stores", all, h.listStores)
	api.GET("/stores/:id", all, h.getStore)
	api.PATCH("/stores/:id", admin, h.updateStore)
	api.DELETE("/stores/:id", admin, h.deleteStore)
	api.POST("/store-codes", writers, h.createCode)
	api.GET("/store-codes", all, h.listCodes)
	api.GET("/store-codes/:id", all, h.getCode)
	api.PATCH("/store-codes/:id", admin, h.updateCode)
	api.DELETE("/store-codes/:id", admin, h.deleteCode)
	api.GET("/store-codes/:id/stats", all, h.stats)
	api.GET("/store-codes/:id/qr.png", all, h.qr)
	api.GET("/store-codes/:id/poster.png", all, h.poster)
	r.GET("/s/:slug", landingHeaders, h.landing)
	r.GET("/s/:slug/nearest", h.nearest)
	r.GET("/s/:slug/stores", h.inCity)
}

func (h *storeHandler) createStore(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	var spec storecode.StoreSpec
	if !bindJSON(c, &spec) {
		return
	}
	if spec.Staff != nil && !knownStaff(c, h.staff, corp, staff.RosterRefs("staff", spec.Staff)) {
		return
	}
	st, err := h.stores.CreateStore(c.Request.Context(), corp, spec)
	reply(c, http.StatusCreated, st, err)
}

// importStores takes CSV as the body (text/csv) or as multipart field "file".
func (h *storeHandler) importStores(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 8<<20)
	var body io.Reader = c.Request.Body
	if strings.HasPrefix(c.ContentType(), "multipart/") {
		fh, err := c.FormFile("file")
		if err != nil {
			abortError(c, http.StatusBadRequest, "invalid", "send the CSV as multipart form field 'file' (at most 8 MB)", "file")
			return
		}
		f, err := fh.Open()
		if err != nil {
			abortError(c, http.StatusBadRequest, "invalid", "unreadable upload", "file")
			return
		}
		defer f.Close()
		body = f
	}
	res, err := h.stores.ImportStores(c.Request.Context(), corp, body, h.staff)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			abortError(c, http.StatusRequestEntityTooLarge, "invalid", "the CSV may be at most 8 MB", "file")
			return
		}
		renderError(c, err)
		return
	}
	if wantsChinese(c) {
		for i := range res.Errors {
			res.Errors[i].Message = explain.LocalizeReason(res.Errors[i].Message, explain.LangZH)
		}
	}
	c.JSON(http.StatusOK, res)
}

func (h *storeHandler) listStores(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	f := storecode.RetailStoreQuery{CorpID: corp, City: c.Query("city"), Q: c.Query("q"), Limit: 100}
	if !pageParams(c, &f.AfterID, &f.Limit) {
		return
	}
	list, err := h.stores.ListStores(c.Request.Context(), f)
	if err != nil {
		renderError(c, err)
		return
	}
	renderPage(c, "stores", list, f.Limit, "next_after", func(v *storecode.RetailStore) uint64 { return v.ID })
}

func (h *storeHandler) getStore(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	st, err := h.stores.GetStore(c.Request.Context(), corp, id)
	reply(c, http.StatusOK, st, err)
}

func (h *storeHandler) updateStore(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	var spec storecode.StoreSpec
	if !bindJSON(c, &spec) {
		return
	}
	if spec.Staff != nil && !knownStaff(c, h.staff, corp, staff.RosterRefs("staff", spec.Staff)) {
		return
	}
	st, err := h.stores.UpdateStore(c.Request.Context(), corp, id, spec)
	reply(c, http.StatusOK, st, err)
}

func (h *storeHandler) deleteStore(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	noContent(c, h.stores.DeleteStore(c.Request.Context(), corp, id))
}

func (h *storeHandler) createCode(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	var spec storecode.StoreCodeSpec
	if !bindJSON(c, &spec) {
		return
	}
	code, err := h.stores.CreateCode(c.Request.Context(), corp, principal(c).Name, spec)
	reply(c, http.StatusCreated, code, err)
}

func (h *storeHandler) listCodes(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	var after uint64
	limit := 100
	if !pageParams(c, &after, &limit) {
		return
	}
	codes, err := h.stores.ListCodes(c.Request.Context(), corp, after, limit)
	if err != nil {
		renderError(c, err)
		return
	}
	renderPage(c, "store_codes", codes, limit, "next_after", func(v *storecode.StoreCode) uint64 { return v.ID })
}

func (h *storeHandler) getCode(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	code, err := h.stores.GetCode(c.Request.Context(), corp, id)
	reply(c, http.StatusOK, code, err)
}

func (h *storeHandler) updateCode(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	var spec storecode.StoreCodeSpec
	if !bindJSON(c, &spec) {
		return
	}
	code, err := h.stores.UpdateCode(c.Request.Context(), corp, id, spec)
	reply(c, http.StatusOK, code, err)
}

func (h *storeHandler) deleteCode(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	noContent(c, h.stores.DeleteCode(c.Request.Context(), corp, id))
}

func (h *storeHandler) stats(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	from, to, ok := liveDays(c)
	if !ok {
		return
	}
	st, err := h.stores.Stats(c.Request.Context(), corp, id, from, to)
	reply(c, http.StatusOK, st, err)
}

// qr serves the poster: a QR of the landing URL (each store's own code is
// shown by the page once it knows where the customer is).
func (h *storeHandler) qr(c *gin.Context) {
	code, ok := loadItem(c, h.corps, h.stores.GetCode)
	if !ok {
		return
	}
	png, err := qrcode.Encode(code.LandingURL, qrcode.Medium, 512)
	if err != nil {
		renderError(c, err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="store-code-%d.png"`, code.ID))
	c.Data(http.StatusOK, "image/png", png)
}

// coordinate parses one of ?lat= / ?lng= strictly: present, a finite
// number, and within range.
func coordinate(c *gin.Context, name string, limit float64) (float64, bool) {
	raw := c.Query(name)
	if raw == "" {
		abortError(c, http.StatusBadRequest, "invalid", "is required (the browser's position, or pick a city)", name)
		return 0, false
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		abortError(c, http.StatusBadRequest, "invalid", "must be a number in degrees", name)
		return 0, false
	}
	if v < -limit || v > limit {
		abortError(c, http.StatusBadRequest, "invalid", fmt.Sprintf("must be from %v to %v degrees", -limit, limit), name)
		return 0, false
	}
	return v, true
}

func validSlug(c *gin.Context) (string, bool) {
	slug := c.Param("slug")
	if slug == "" || len(slug) > 32 {
		abortError(c, http.StatusNotFound, "not_found", "no such store code", "")
		return "", false
	}
	return slug, true
}

// nearest answers GET /s/:slug/nearest?lat=&lng=[&coord=wgs84|gcj02]: the
// code's stores within its radius, nearest first, or its fallback store.
func (h *storeHandler) nearest(c *gin.Context) {
	slug, ok := validSlug(c)
	if !ok {
		return
	}
	lat, ok := coordinate(c, "lat", 90)
	if !ok {
		return
	}
	lng, ok := coordinate(c, "lng", 180)
	if !ok {
		return
	}
	coord := c.DefaultQuery("coord", "gcj02")
	if coord != "gcj02" && coord != "wgs84" {
		abortError(c, http.StatusBadRequest, "invalid", "must be gcj02 (WeChat's positions, the default) or wgs84 (a browser's GPS)", "coord")
		return
	}
	res, err := h.stores.Nearest(c.Request.Context(), slug, lat, lng, coord == "wgs84")
	if err != nil {
		renderError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, res)
}

// inCity answers GET /s/:slug/stores?city=: the city picker's stores.
func (h *storeHandler) inCity(c *gin.Context) {
	slug, ok := validSlug(c)
	if !ok {
		return
	}
	city := strings.TrimSpace(c.Query("city"))
	if city == "" || len(city) > 128 {
		abortError(c, http.StatusBadRequest, "invalid", "is required: one of the landing page's cities", "city")
		return
	}
	res, err := h.stores.InCity(c.Request.Context(), slug, city)
	if err != nil {
		renderError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, res)
}

// landing serves /s/:slug.
func (h *storeHandler) landing(c *gin.Context) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	slug := c.Param("slug")
	if len(slug) > 32 {
		c.Status(http.StatusNotFound)
		_ = goneLandingPage.Execute(c.Writer, nil)
		return
	}
	l, err := h.stores.Landing(c.Request.Context(), slug)
	switch {
	case errors.Is(err, apierr.ErrNotFound):
		c.Status(http.StatusNotFound)
		_ = goneLandingPage.Execute(c.Writer, nil)
		return
	case err != nil:
		renderError(c, err)
		return
	}
	page, err := h.pages.render(slug, l, storeLandingPage)
	if err != nil {
		renderError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	_, _ = c.Writer.Write(page)
}
