package web

import "embed"

// assets holds the pages, styles, scripts and icon, so that the binary
// serves them with nothing fetched from elsewhere.
//
//go:embed static
var assets embed.FS
