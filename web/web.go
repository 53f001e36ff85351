// Package web is the storefront (at /) and the console (at /console): static
// pages and ES modules, no build step, embedded in the local binary. They
// call only the documented API, with the token kept in the tab's session
// storage; everything they show from the API is set as text, never parsed as
// markup, and their Content-Security-Policy forbids inline script.
package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var files embed.FS

// Static holds the pages and their assets, as deployed to S3 on AWS.
var Static, _ = fs.Sub(files, "static")

// CSP is the pages' Content-Security-Policy: scripts and styles from the
// page's own origin only (no inline script or style element), no plugins,
// frames or foreign form targets; the API is reached on connectSrc.
func CSP(connectSrc string) string {
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'" + connectSrc +
		"; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// Config is what the pages read from /config.json: where the API is and how
// to sign in ("dev": the local development sign-in; "cognito": the hosted
// sign-in with Cognito, on AWS).
type Config struct {
	APIURL  string   `json:"apiUrl"`
	SignIn  string   `json:"signIn"`
	Console bool     `json:"console"` // the console's admin API exists (the local shop)
	Cognito *Cognito `json:"cognito,omitempty"`
	// Currency is the ISO 4217 code of the shop's prices, which the pages
	// format with Intl.NumberFormat; DefaultCurrency when empty.
	Currency string `json:"currency"`
}

// DefaultCurrency is the shop's currency unless configured.
const DefaultCurrency = "USD"

// Cognito names the user pool's hosted sign-in.
type Cognito struct {
	Domain      string `json:"domain"` // https://<prefix>.auth.<region>.amazoncognito.com
	ClientID    string `json:"clientId"`
	RedirectURI string `json:"redirectUri"`
}

// Register serves the storefront at /, the console at /console, their
// assets under /assets/ and cfg at /config.json.
func Register(mux *http.ServeMux, cfg Config) {
	page := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			headers(w)
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, Static, name)
		}
	}
	mux.HandleFunc("GET /{$}", page("index.html"))
	mux.HandleFunc("GET /console", page("console.html"))
	assets := http.FileServerFS(Static)
	mux.HandleFunc("GET /assets/", func(w http.ResponseWriter, r *http.Request) {
		headers(w)
		if strings.HasSuffix(r.URL.Path, "/") { // a directory: no listing
			http.NotFound(w, r)
			return
		}
		assets.ServeHTTP(w, r)
	})
	if cfg.Currency == "" {
		cfg.Currency = DefaultCurrency
	}
	body, _ := json.Marshal(cfg)
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, _ *http.Request) {
		headers(w)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(body)
	})
}

// PermissionsPolicy turns off the browser features the pages do not use.
const PermissionsPolicy = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"

// headers are the pages' own; rest.Middleware, in front of them, sets
// nosniff on every answer.
func headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP(""))
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Permissions-Policy", PermissionsPolicy)
}
