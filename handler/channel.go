package handler

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/skip2/go-qrcode"

	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/audit"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/staff"
)

// channelHandler serves channel codes, media, contacts, jobs and the
// precise-mode landing page.
type channelHandler struct {
	codes    *channelcode.ChannelCodes
	contacts *contact.Contacts
	audit    *audit.Log
	staff    *staff.Directory
	corps    []string
	fetchQR  func(ctx context.Context, url string) ([]byte, error)
}

func (h *channelHandler) routes(api *gin.RouterGroup, r *gin.Engine) {
	all := requireRole(auth.RoleAdmin, auth.RoleStaff, auth.RoleViewer)
	writers := requireRole(auth.RoleAdmin, auth.RoleStaff)
	admin := requireRole(auth.RoleAdmin)
	api.POST("/channel-codes", writers, h.create)
	api.GET("/channel-codes", all, h.list)
	api.GET("/channel-codes/:id", all, h.get)
	api.PATCH("/channel-codes/:id", admin, h.update)
	api.DELETE("/channel-codes/:id", admin, h.delete)
	api.GET("/channel-codes/:id/qr.png", all, h.qr)
	api.GET("/channel-codes/:id/poster.png", all, h.poster)
	api.GET("/channel-codes/:id/stats", all, h.stats)
	api.POST("/channel-codes/:id/sync", admin, h.sync)
	api.POST("/media", writers, h.upload)
	api.GET("/media/:id/image", all, h.image)
	api.GET("/contacts", all, h.listContacts)
	api.GET("/contacts/:id", all, h.getContact)
	api.GET("/contacts/:id/export", admin, h.exportContact)
	api.POST("/contacts/:id/erase", admin, h.eraseContact)
	r.GET("/c/:slug", landingHeaders, h.landing)
}

func pathID(c *gin.Context) (uint64, bool) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil || id == 0 {
		abortError(c, http.StatusBadRequest, "invalid", "must be a positive integer id", "id")
		return 0, false
	}
	return id, true
}

func (h *channelHandler) create(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	var spec channelcode.ChannelCodeSpec
	if !bindJSON(c, &spec) || !knownStaff(c, h.staff, corp, staff.RosterRefs("roster", spec.Roster)) {
		return
	}
	code, err := h.codes.Create(c.Request.Context(), corp, principal(c).Name, spec)
	reply(c, http.StatusCreated, code, err)
}

func (h *channelHandler) list(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	f := channelcode.ChannelCodeQuery{CorpID: corp, Folder: c.Query("folder"), Q: c.Query("q"), Limit: 100}
	if !pageParams(c, &f.AfterID, &f.Limit) {
		return
	}
	codes, err := h.codes.List(c.Request.Context(), f)
	if err != nil {
		renderError(c, err)
		return
	}
	renderPage(c, "channel_codes", codes, f.Limit, "next_after", func(v *channelcode.ChannelCode) uint64 { return v.ID })
}

// pageParams reads ?after= and ?limit= (1..500).
func pageParams(c *gin.Context, after *uint64, limit *int) bool {
	if v := c.Query("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			abortError(c, http.StatusBadRequest, "invalid", "must be an id", "after")
			return false
		}
		*after = n
	}
	return limitParam(c, limit)
}

func (h *channelHandler) get(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	code, err := h.codes.Get(c.Request.Context(), corp, id)
	reply(c, http.StatusOK, code, err)
}

func (h *channelHandler) update(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	var spec channelcode.ChannelCodeSpec
	if !bindJSON(c, &spec) || !knownStaff(c, h.staff, corp, staff.RosterRefs("roster", spec.Roster)) {
		return
	}
	code, err := h.codes.Update(c.Request.Context(), corp, id, spec)
	reply(c, http.StatusOK, code, err)
}

func (h *channelHandler) delete(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	noContent(c, h.codes.Delete(c.Request.Context(), corp, id))
}

func (h *channelHandler) sync(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	if _, err := h.codes.Get(c.Request.Context(), corp, id); err != nil {
		renderError(c, err)
		return
	}
	if err := h.codes.RequestSync(c.Request.Context(), corp, id); err != nil {
		renderError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "sync requested"})
}

// qr serves the poster QR: WeCom's own code image for random mode, a QR of
// the landing URL for precise mode.
func (h *channelHandler) qr(c *gin.Context) {
	code, ok := loadItem(c, h.corps, h.codes.Get)
	if !ok {
		return
	}
	var png []byte
	var err error
	if code.Mode == channelcode.ModePrecise {
		png, err = qrcode.Encode(code.LandingURL, qrcode.Medium, 512)
	} else {
		png, err = h.fetchQR(c.Request.Context(), code.QRCode)
	}
	if err != nil {
		abortError(c, http.StatusBadGateway, "upstream", "could not get the QR image: "+err.Error(), "")
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="channel-code-%d.png"`, code.ID))
	c.Data(http.StatusOK, "image/png", png)
}

func (h *channelHandler) stats(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	// Empty means the last 30 days in the code's roster time zone.
	from, to, ok := liveDays(c)
	if !ok {
		return
	}
	st, err := h.codes.Stats(c.Request.Context(), principal(c), corp, id, from, to)
	reply(c, http.StatusOK, st, err)
}

func (h *channelHandler) upload(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 3<<20)
	fh, err := c.FormFile("file")
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		abortError(c, http.StatusRequestEntityTooLarge, "too_large", "images may be at most 2 MB (WeCom's limit)", "file")
		return
	case err != nil:
		abortError(c, http.StatusBadRequest, "invalid", "send the image as multipart form field 'file' (at most 2 MB)", "file")
		return
	}
	f, err := fh.Open()
	if err != nil {
		abortError(c, http.StatusBadRequest, "invalid", "unreadable upload", "file")
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 2<<20+1))
	if err != nil {
		abortError(c, http.StatusBadRequest, "invalid", "unreadable upload", "file")
		return
	}
	if len(data) > 2<<20 {
		abortError(c, http.StatusRequestEntityTooLarge, "too_large", "images may be at most 2 MB (WeCom's limit)", "file")
		return
	}
	a, err := h.codes.UploadImage(c.Request.Context(), corp, fh.Filename, http.DetectContentType(data), data)
	reply(c, http.StatusCreated, a, err)
}

// image serves an uploaded welcome image, for the console's preview.
func (h *channelHandler) image(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	data, contentType, err := h.codes.Image(c.Request.Context(), corp, id)
	if err != nil {
		renderError(c, err)
		return
	}
	c.Header("Cache-Control", "private, max-age=3600")
	c.Data(http.StatusOK, contentType, data)
}

func (h *channelHandler) listContacts(c *gin.Context) {
	corp, ok := liveCorp(c, h.corps)
	if !ok {
		return
	}
	f := contact.ContactQuery{CorpID: corp, UserID: c.Query("staff"), Tag: c.Query("tag"), Q: c.Query("q"), Limit: 50}
	if v := c.Query("code"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			abortError(c, http.StatusBadRequest, "invalid", "must be a channel code id", "code")
			return
		}
		f.CodeID = n
	}
	if !pageParams(c, &f.AfterID, &f.Limit) {
		return
	}
	list, err := h.contacts.List(c.Request.Context(), principal(c), f)
	if err != nil {
		renderError(c, err)
		return
	}
	ids := make([]uint64, len(list))
	for i, v := range list {
		ids[i] = v.ID
	}
	if !audited(c, h.audit, audit.List, audit.Contact, ids...) {
		return
	}
	renderPage(c, "contacts", list, f.Limit, "next_after", func(v contact.ContactView) uint64 { return v.ID })
}

func (h *channelHandler) getContact(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	d, err := h.contacts.Get(c.Request.Context(), principal(c), corp, id)
	if err != nil {
		renderError(c, err)
		return
	}
	if !audited(c, h.audit, audit.Read, audit.Contact, d.Contact.ID) {
		return
	}
	renderJSON(c, http.StatusOK, d)
}

// exportContact answers a customer's request for their data: everything
// held about them, as one JSON document (a download).
func (h *channelHandler) exportContact(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	x, err := h.contacts.Export(c.Request.Context(), corp, id)
	if err != nil {
		renderError(c, err)
		return
	}
	if !audited(c, h.audit, audit.Export, audit.Contact, id) {
		return
	}
	if x.Lead != nil && !audited(c, h.audit, audit.Export, audit.Lead, x.Lead.ID) {
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="contact-%d.json"`, id))
	c.Header("Cache-Control", "no-store")
	renderJSON(c, http.StatusOK, x)
}

// eraseContact erases a customer's personal data (idempotent).
func (h *channelHandler) eraseContact(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	res, err := h.contacts.Erase(c.Request.Context(), corp, id)
	if err != nil {
		renderError(c, err)
		return
	}
	if res.Erased && !audited(c, h.audit, audit.Erase, audit.Contact, id) {
		return
	}
	renderJSON(c, http.StatusOK, res)
}

// landing serves /c/:slug: the precise-mode page that shows one staff
// member's own code. A visitor keeps their assignment for the day (cookie),
// so reloading the page does not use up another staff member's capacity.
func (h *channelHandler) landing(c *gin.Context) {
	slug := c.Param("slug")
	if len(slug) > 32 {
		c.Status(http.StatusNotFound)
		return
	}
	c.Header("Cache-Control", "no-store")
	cookie := "gw_c_" + slug
	if v, err := c.Cookie(cookie); err == nil {
		if uid, qr, ok := strings.Cut(v, "|"); ok && strings.HasPrefix(qr, "http") {
			c.Status(http.StatusOK)
			_ = landingPage.Execute(c.Writer, gin.H{"Title": "添加顾问", "QR": qr, "Staff": uid})
			return
		}
	}
	a, err := h.codes.Pick(c.Request.Context(), slug)
	switch {
	case errors.Is(err, apierr.ErrNotFound):
		c.Status(http.StatusNotFound)
		_ = landingPage.Execute(c.Writer, gin.H{"Title": "二维码已失效", "Message": "这个活码不存在或已停用。"})
		return
	case errors.Is(err, channelcode.ErrNobodyOnDuty):
		c.Status(http.StatusServiceUnavailable)
		_ = landingPage.Execute(c.Writer, gin.H{"Title": "暂无顾问在线", "Message": "当前没有顾问值班，请稍后再试。"})
		return
	case err != nil:
		renderError(c, err)
		return
	}
	c.SetSameSite(http.SameSiteLaxMode)
	c.SetCookie(cookie, a.UserID+"|"+a.QRCode, int((12 * time.Hour).Seconds()), "/c/"+slug, "", false, true)
	c.Status(http.StatusOK)
	_ = landingPage.Execute(c.Writer, gin.H{"Title": a.CodeName, "QR": a.QRCode, "Staff": a.UserID})
}
