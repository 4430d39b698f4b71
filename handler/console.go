package handler

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// consoleFiles is the web console: plain HTML, CSS and JavaScript modules,
// served as they are (no build step, nothing loaded from elsewhere).
//
//go:embed console
var consoleFiles embed.FS

// consoleCSP allows the console's own files and API calls only: no inline
// script or style, no other origin, no framing. Poster previews are blob: URLs.
const consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// consoleTypes are the content types of the console's files, by extension.
var consoleTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
}

type consoleAsset struct {
	body  []byte
	ctype string
	etag  string
}

// registerConsole serves the console under /console/. Every file is sent
// with a strong ETag and "no-cache", so a browser revalidates (a 304 when
// nothing changed) and never runs a page from one release with modules from
// another.
func registerConsole(r *gin.Engine) {
	assets := map[string]consoleAsset{}
	root, err := fs.Sub(consoleFiles, "console")
	if err != nil {
		panic(err)
	}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ctype, ok := consoleTypes[path.Ext(p)]
		if !ok {
			return nil
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		assets[p] = consoleAsset{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic(err)
	}

	serve := func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", consoleCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		name := strings.TrimPrefix(c.Param("file"), "/")
		if name == "" {
			name = "index.html"
		}
		a, ok := assets[name]
		if !ok || path.Clean(name) != name {
			abortError(c, http.StatusNotFound, "not_found", "no such console file", "")
			return
		}
		h.Set("Content-Type", a.ctype)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(a.body))
	}
	r.GET("/console", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/console/") })
	r.GET("/console/*file", serve)
	r.HEAD("/console/*file", serve)
}
