package handler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	_ "image/jpeg" // WeCom serves some QR images as JPEG
	_ "image/png"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/skip2/go-qrcode"

	"github.com/leadgate/scrm-gateway/handler/poster"
	"github.com/leadgate/scrm-gateway/service/channelcode"
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

// posterCache keeps the last posters drawn, by what they show: drawing and
// encoding one at 300 dpi is the slow part of the request.
var posterCache = struct {
	sync.Mutex
	byKey map[string][]byte
	order []string
}{byKey: map[string][]byte{}}

const posterCacheSize = 32

// servePoster renders p as the A5 poster PNG named file, or the error. qrKey
// identifies the QR (its URL, or a hash of WeCom's image).
func servePoster(c *gin.Context, p poster.Poster, qrKey string, qrErr error, file string) {
	if qrErr != nil {
		abortError(c, http.StatusBadGateway, "upstream", "could not get the QR image: "+qrErr.Error(), "")
		return
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{p.Title, p.Text, p.Instruction, p.Footer, qrKey}, "\x00")))
	key := hex.EncodeToString(sum[:])
	posterCache.Lock()
	out, ok := posterCache.byKey[key]
	posterCache.Unlock()
	if !ok {
		var err error
		if out, err = poster.Render(p); err != nil {
			renderError(c, err)
			return
		}
		posterCache.Lock()
		if _, dup := posterCache.byKey[key]; !dup {
			posterCache.byKey[key] = out
			posterCache.order = append(posterCache.order, key)
			if len(posterCache.order) > posterCacheSize {
				delete(posterCache.byKey, posterCache.order[0])
				posterCache.order = posterCache.order[1:]
			}
		}
		posterCache.Unlock()
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename=%q`, file))
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "image/png", out)
}

// poster serves a channel code's poster: WeCom's own QR in random mode, the
// landing page's in precise mode.
func (h *channelHandler) poster(c *gin.Context) {
	code, ok := loadItem(c, h.corps, h.codes.Get)
	if !ok {
		return
	}
	var qr image.Image
	var err error
	qrKey := code.LandingURL
	if code.Mode == channelcode.ModePrecise {
		qr, err = urlQR(code.LandingURL)
	} else {
		var raw []byte
		if raw, err = h.fetchQR(c.Request.Context(), code.QRCode); err == nil {
			sum := sha256.Sum256(raw)
			qrKey = hex.EncodeToString(sum[:])
			qr, _, err = image.Decode(bytes.NewReader(raw))
		}
	}
	servePoster(c, poster.Poster{Title: code.Name, Text: code.Description, Instruction: scanChannel,
		Footer: fmt.Sprintf("渠道活码 #%d", code.ID), QR: qr}, qrKey, err, fmt.Sprintf("channel-code-%d-poster.png", code.ID))
}

// poster serves a group code's poster, with the QR of its landing page
// (stable while the pool's groups change).
func (h *groupHandler) poster(c *gin.Context) {
	code, ok := loadItem(c, h.corps, h.groups.Get)
	if !ok {
		return
	}
	qr, err := urlQR(code.LandingURL)
	servePoster(c, poster.Poster{Title: orName(code.Title, code.Name), Text: code.Text, Instruction: scanGroup,
		Footer: fmt.Sprintf("群活码 #%d", code.ID), QR: qr}, code.LandingURL, err, fmt.Sprintf("group-code-%d-poster.png", code.ID))
}

// poster serves a store code's poster, with the QR of its landing page
// (which finds the nearest store).
func (h *storeHandler) poster(c *gin.Context) {
	code, ok := loadItem(c, h.corps, h.stores.GetCode)
	if !ok {
		return
	}
	instr := scanStore
	if code.Offer == "group" {
		instr = scanStoreGroup
	}
	qr, err := urlQR(code.LandingURL)
	servePoster(c, poster.Poster{Title: orName(code.Title, code.Name), Instruction: instr,
		Footer: fmt.Sprintf("门店活码 #%d", code.ID), QR: qr}, code.LandingURL, err, fmt.Sprintf("store-code-%d-poster.png", code.ID))
}

func orName(title, name string) string {
	if title != "" {
		return title
	}
	return name
}
