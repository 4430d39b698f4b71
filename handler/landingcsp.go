package handler

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/gin-gonic/gin"
)

// inlineBlocks calls fn with the kind ("script" or "style") and content of
// each inline <script> or <style> block of a page: from the opening tag to
// the first closing tag of either kind after it. A linear scan: a regular
// expression with a lazy `.*?` backtracked over every byte of a large page
// (the store page lists its stores) and cost more than the rest of the
// request.
func inlineBlocks(page []byte, fn func(kind string, content []byte)) {
	opens := [][]byte{[]byte("<script>"), []byte("<style>")}
	closes := [][]byte{[]byte("</script>"), []byte("</style>")}
	for {
		at, kind := -1, 0
		for k, o := range opens {
			if i := bytes.Index(page, o); i >= 0 && (at < 0 || i < at) {
				at, kind = i, k
			}
		}
		if at < 0 {
			return
		}
		body := page[at+len(opens[kind]):]
		end, endLen := -1, 0
		for _, c := range closes {
			if i := bytes.Index(body, c); i >= 0 && (end < 0 || i < end) {
				end, endLen = i, len(c)
			}
		}
		if end < 0 {
			return
		}
		fn(strings.Trim(string(opens[kind]), "<>"), body[:end])
		page = body[end+endLen:]
	}
}

// landingCSP returns the Content-Security-Policy of a landing page: nothing
// from elsewhere but images (WeCom's QR codes), no framing, and only the
// page's own inline script and style blocks, allowed by their SHA-256, so an
// injected one would not run even if escaping ever failed.
func landingCSP(page []byte) string {
	var scripts, styles []string
	inlineBlocks(page, func(kind string, content []byte) {
		sum := sha256.Sum256(content)
		h := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		if kind == "script" {
			scripts = append(scripts, h)
		} else {
			styles = append(styles, h)
		}
	})
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
