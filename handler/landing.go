package handler

import (
	"embed"
	"html/template"
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
