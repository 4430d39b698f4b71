package handler

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"
)

// inlineBlock finds the inline <script> and <style> blocks of a page.
var inlineBlock = regexp.MustCompile(`(?s)<(script|style)>(.*?)</(?:script|style)>`)

// landingCSP returns the Content-Security-Policy of a landing page: nothing
// from elsewhere but images (WeCom's QR codes), no framing, and only the
// page's own inline script and style blocks, allowed by their SHA-256, so an
// injected one would not run even if escaping ever failed.
func landingCSP(page []byte) string {
	var scripts, styles []string
	for _, m := range inlineBlock.FindAllSubmatch(page, -1) {
		sum := sha256.Sum256(m[2])
		h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if string(m[1]) == "script" {
			scripts = append(scripts, h)
		} else {
			styles = append(styles, h)
		}
	}
	src := func(hashes []string) string {
		if len(hashes) == 0 {
			return "'none'"
		}
		return strings.Join(hashes, " ")
	}
	return "default-src 'none'; script-src " + src(scripts) + "; style-src " + src(styles) +
		"; img-src * data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// landingHeaders holds a landing page's answer until it is complete, then
// sends it with its CSP and the headers that keep it out of frames and
// sniffing. Landing pages are a few KiB.
func landingHeaders(c *gin.Context) {
	w := &bufferedWriter{ResponseWriter: c.Writer}
	c.Writer = w
	c.Next()
	c.Writer = w.ResponseWriter
	h := w.Header()
	if strings.HasPrefix(h.Get("Content-Type"), "text/html") || h.Get("Content-Type") == "" && w.buf.Len() > 0 {
		h.Set("Content-Security-Policy", landingCSP(w.buf.Bytes()))
	}
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if w.buf.Len() > 0 {
		_, _ = w.ResponseWriter.Write(w.buf.Bytes())
	}
}

// bufferedWriter keeps the body back so headers can still be set from it.
type bufferedWriter struct {
	gin.ResponseWriter
	buf bytes.Buffer
}

func (w *bufferedWriter) Write(b []byte) (int, error)       { return w.buf.Write(b) }
func (w *bufferedWriter) WriteString(s string) (int, error) { return w.buf.WriteString(s) }
func (w *bufferedWriter) Written() bool                     { return w.buf.Len() > 0 || w.ResponseWriter.Written() }
func (w *bufferedWriter) Size() int                         { return w.buf.Len() }
