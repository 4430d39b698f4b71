package handler

import (
	"bytes"
	"embed"
	"html/template"
	"sync"
)

// landingFiles are the public landing pages behind live codes: phone pages
// for WeChat's in-app browser, system fonts, plain ES5, nothing to download
// but the QR images. style.css.tmpl is the style the group and store pages
// share.
//
//go:embed landing
var landingFiles embed.FS

var landingPages = template.Must(template.ParseFS(landingFiles, "landing/*.html", "landing/*.tmpl"))

var (
	// landingPage is the precise-mode page of a channel code (/c/:slug).
	landingPage = landingPages.Lookup("channel.html")
	// groupLandingPage shows a group code's current group (/g/:slug).
	groupLandingPage = landingPages.Lookup("group.html")
	// storeLandingPage asks the browser for its position, shows the nearest
	// store's own code, and falls back to a city picker when the position is
	// refused, unavailable, or the gateway rejects it (/s/:slug).
	storeLandingPage = landingPages.Lookup("store.html")
	// goneLandingPage answers a group or store code that does not exist.
	goneLandingPage = landingPages.Lookup("gone.html")
)

// renderedPages keeps each slug's rendered landing page with the value it
// was rendered from. The service hands back the same value (pointer) for a
// slug until the code changes, so while it does the bytes are written again
// without rendering.
type renderedPages struct {
	mu    sync.Mutex
	pages map[string]renderedPage
}

type renderedPage struct {
	from any
	html []byte
}

// render returns t rendered with from, as rendered before when slug's page
// was last rendered from the same value.
func (r *renderedPages) render(slug string, from any, t *template.Template) ([]byte, error) {
	r.mu.Lock()
	p, ok := r.pages[slug]
	r.mu.Unlock()
	if ok && p.from == from {
		return p.html, nil
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, from); err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.pages == nil {
		r.pages = map[string]renderedPage{}
	}
	r.pages[slug] = renderedPage{from: from, html: buf.Bytes()}
	r.mu.Unlock()
	return buf.Bytes(), nil
}
