package handler

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // WeCom serves some QR images as JPEG
	_ "image/png"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/skip2/go-qrcode"

	"github.com/leadgate/scrm-gateway/handler/poster"
	"github.com/leadgate/scrm-gateway/service"
)

// The scan instruction under each kind of code's QR.
const (
	scanChannel    = "微信扫一扫，添加专属顾问"
	scanGroup      = "微信扫一扫，加入群聊"
	scanStore      = "微信扫一扫，添加离您最近的门店顾问"
	scanStoreGroup = "微信扫一扫，加入离您最近的门店群"
)

// urlQR is a QR image of url, one pixel per module with the quiet zone, for
// the poster to scale.
func urlQR(url string) (image.Image, error) {
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	return q.Image(-1), nil
}

// servePoster renders p as the A5 poster PNG named file, or the error.
func servePoster(c *gin.Context, p poster.Poster, qrErr error, file string) {
	if qrErr != nil {
		abortError(c, http.StatusBadGateway, "upstream", "could not get the QR image: "+qrErr.Error(), "")
		return
	}
	out, err := poster.Render(p)
	if err != nil {
		renderError(c, err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename=%q`, file))
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "image/png", out)
}

// poster serves a channel code's poster: WeCom's own QR in random mode, the
// landing page's in precise mode.
func (h *channelHandler) poster(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	code, err := h.codes.Get(c.Request.Context(), corp, id)
	if err != nil {
		renderError(c, err)
		return
	}
	var qr image.Image
	if code.Mode == service.ModePrecise {
		qr, err = urlQR(code.LandingURL)
	} else {
		var raw []byte
		if raw, err = h.fetchQR(c.Request.Context(), code.QRCode); err == nil {
			qr, _, err = image.Decode(bytes.NewReader(raw))
		}
	}
	servePoster(c, poster.Poster{Title: code.Name, Text: code.Description, Instruction: scanChannel,
		Footer: fmt.Sprintf("渠道活码 #%d", code.ID), QR: qr}, err, fmt.Sprintf("channel-code-%d-poster.png", id))
}

// poster serves a group code's poster, with the QR of its landing page
// (stable while the pool's groups change).
func (h *groupHandler) poster(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	code, err := h.groups.Get(c.Request.Context(), corp, id)
	if err != nil {
		renderError(c, err)
		return
	}
	qr, err := urlQR(code.LandingURL)
	servePoster(c, poster.Poster{Title: orName(code.Title, code.Name), Text: code.Text, Instruction: scanGroup,
		Footer: fmt.Sprintf("群活码 #%d", code.ID), QR: qr}, err, fmt.Sprintf("group-code-%d-poster.png", id))
}

// poster serves a store code's poster, with the QR of its landing page
// (which finds the nearest store).
func (h *storeHandler) poster(c *gin.Context) {
	corp, id, ok := corpAndID(c, h.corps)
	if !ok {
		return
	}
	code, err := h.stores.GetCode(c.Request.Context(), corp, id)
	if err != nil {
		renderError(c, err)
		return
	}
	instr := scanStore
	if code.Offer == "group" {
		instr = scanStoreGroup
	}
	qr, err := urlQR(code.LandingURL)
	servePoster(c, poster.Poster{Title: orName(code.Title, code.Name), Instruction: instr,
		Footer: fmt.Sprintf("门店活码 #%d", code.ID), QR: qr}, err, fmt.Sprintf("store-code-%d-poster.png", id))
}

func orName(title, name string) string {
	if title != "" {
		return title
	}
	return name
}
