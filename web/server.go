// Package web serves doggogan in a browser: a page that translates a
// photo dropped on it with a trained model, a dashboard that follows a
// training run (live loss curves, the latest sample grid, step, speed and
// ETA), and the HTTP API beneath them.
//
// Every asset (HTML, CSS, JavaScript, icon) is embedded in the binary and
// the pages fetch nothing from elsewhere, so they work offline. The server
// is meant to be safe to expose: uploads are limited in bytes and pixels,
// at most a set number of translations run at once (more get 503 with
// Retry-After rather than an unbounded queue), every response carries
// nosniff and a strict Content-Security-Policy, and no request parameter
// names a file.
//
// Endpoints:
//
//	GET  /                    the translate page (or the dashboard when there is no model)
//	GET  /translate           the translate page
//	GET  /dashboard           the training dashboard
//	GET  /healthz             {"status":"ok"}
//	GET  /api/info            which parts this server has: {"model":true,"run":true}
//	GET  /api/model           the model's domains, training size and step
//	POST /api/translate?direction=a2b|b2a   image in the body or a multipart field → image/png
//	GET  /api/run             the run's status: step, steps/s, ETA, checkpoints, samples
//	GET  /api/run/losses      the loss curves, averaged down to ?points=N points
//	GET  /api/run/events      server-sent events: the status whenever it changes
//	GET  /api/run/sample.png  the newest sample grid (?step=N for an earlier one)
package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Defaults for Options.
const (
	// DefaultMaxUploadBytes is the largest upload accepted: 20 MiB.
	DefaultMaxUploadBytes = 20 << 20
	// DefaultMaxPixels is the largest image translated: 4 megapixels.
	// Translation memory and time grow with the pixel count: a full-size
	// generator (ngf 64, 9 blocks) measured 1.5 GB peak at 1 megapixel
	// and 5.1 GB and 65 s at 4 megapixels on two cores.
	DefaultMaxPixels = 4_000_000
	// DefaultConcurrency is the number of translations that run at once.
	// Each already uses every core through the numeric kernels.
	DefaultConcurrency = 1
	// DefaultMaxWaiting is the number of translation requests that may
	// wait for a free slot.
	DefaultMaxWaiting = 4
	// DefaultTranslateTimeout bounds the time to translate an image and
	// send the result.
	DefaultTranslateTimeout = 5 * time.Minute
	// maxEventClients bounds the dashboards following a run at once.
	maxEventClients = 64
)

// Options configure a Server. At least one of Model and RunDir must be set.
type Options struct {
	// Model enables the translate page and /api/translate.
	Model *Model
	// RunDir enables the dashboard of the run in that directory, which
	// need not exist yet (a run about to start).
	RunDir string

	// MaxUploadBytes limits the size of an uploaded image
	// (0: DefaultMaxUploadBytes).
	MaxUploadBytes int64
	// MaxPixels limits width×height of an uploaded image, checked from
	// its header before decoding (0: DefaultMaxPixels).
	MaxPixels int64
	// Concurrency is the number of translations that may run at once
	// (0: DefaultConcurrency).
	Concurrency int
	// MaxWaiting is the number of translation requests that may wait for
	// a slot beyond those running; further ones get 503 with Retry-After
	// (0: DefaultMaxWaiting; negative: none wait).
	MaxWaiting int
	// TranslateTimeout bounds the time a translation request may take to
	// answer, extending the http.Server's write timeout for that request,
	// and the time it may wait for a slot (0: DefaultTranslateTimeout). A
	// forward pass cannot be stopped midway: one that outlasts it still
	// finishes, holding its slot, but its answer is not sent.
	TranslateTimeout time.Duration
	// Logf receives one line per failed request and per translation; nil
	// discards them.
	Logf func(format string, args ...any)
}

// Server is the web app's http.Handler.
type Server struct {
	opt      Options
	mux      *http.ServeMux
	tr       *translator
	run      *runWatcher
	events   chan struct{} // one token per event-stream client
	done     chan struct{} // closed by Close: event streams end
	doneOnce sync.Once
}

// New returns a Server for the given options.
func New(opt Options) (*Server, error) {
	if opt.Model == nil && opt.RunDir == "" {
		return nil, errors.New("web: nothing to serve: give a model, a run directory or both")
	}
	if opt.MaxUploadBytes == 0 {
		opt.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if opt.MaxPixels == 0 {
		opt.MaxPixels = DefaultMaxPixels
	}
	if opt.Concurrency == 0 {
		opt.Concurrency = DefaultConcurrency
	}
	if opt.MaxWaiting == 0 {
		opt.MaxWaiting = DefaultMaxWaiting
	}
	opt.MaxWaiting = max(opt.MaxWaiting, 0)
	if opt.TranslateTimeout == 0 {
		opt.TranslateTimeout = DefaultTranslateTimeout
	}
	if opt.MaxUploadBytes < 0 || opt.MaxPixels < 0 || opt.Concurrency < 0 || opt.TranslateTimeout < 0 {
		return nil, errors.New("web: negative limit")
	}
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	s := &Server{opt: opt, mux: http.NewServeMux(), events: make(chan struct{}, maxEventClients), done: make(chan struct{})}
	if opt.Model != nil {
		s.tr = newTranslator(opt.Model, opt)
	}
	if opt.RunDir != "" {
		s.run = newRunWatcher(opt.RunDir)
	}
	s.routes()
	return s, nil
}

// Close ends the event streams of connected dashboards, so that an
// http.Server's Shutdown need not wait for them. Register it with
// http.Server.RegisterOnShutdown (NewHTTPServer does).
func (s *Server) Close() { s.doneOnce.Do(func() { close(s.done) }) }

// ServeHTTP serves the pages and the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "+
		"connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() {
	m := s.mux
	static, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	get := func(pattern string, h http.HandlerFunc) { m.Handle(pattern, only(http.MethodGet, h)) }
	get("/static/", http.StripPrefix("/static/", noDirListing(http.FileServerFS(static))).ServeHTTP)
	get("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	get("/api/info", s.handleInfo)
	get("/{$}", func(w http.ResponseWriter, r *http.Request) {
		if s.tr != nil {
			s.page(w, r, "translate.html")
		} else {
			s.page(w, r, "dashboard.html")
		}
	})
	if s.tr != nil {
		get("/translate", func(w http.ResponseWriter, r *http.Request) { s.page(w, r, "translate.html") })
		get("/api/model", s.handleModel)
		m.Handle("/api/translate", only(http.MethodPost, s.handleTranslate))
	} else {
		m.HandleFunc("/api/translate", s.unavailable("no model is loaded: start the server with --model"))
		m.HandleFunc("/api/model", s.unavailable("no model is loaded: start the server with --model"))
	}
	if s.run != nil {
		get("/dashboard", func(w http.ResponseWriter, r *http.Request) { s.page(w, r, "dashboard.html") })
		get("/api/run", s.handleRun)
		get("/api/run/losses", s.handleLosses)
		get("/api/run/events", s.handleEvents)
		get("/api/run/sample.png", s.handleSample)
	} else {
		m.HandleFunc("/api/run/", s.unavailable("no run is followed: start the server with --run"))
		m.HandleFunc("/api/run", s.unavailable("no run is followed: start the server with --run"))
	}
	// Everything else: JSON under /api/, a plain 404 elsewhere.
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
			return
		}
		http.NotFound(w, r)
	})
}

// only answers 405 with an Allow header to requests with another method
// (HEAD is allowed where GET is).
func only(method string, h http.HandlerFunc) http.Handler {
	allow := method
	if method == http.MethodGet {
		allow = "GET, HEAD"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			methodNotAllowed(w, r, allow)
			return
		}
		h(w, r)
	})
}

// noDirListing answers 404 for folders instead of listing them.
func noDirListing(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) unavailable(msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { writeError(w, http.StatusNotFound, msg) }
}

// page serves an embedded HTML page.
func (s *Server) page(w http.ResponseWriter, r *http.Request, name string) {
	b, err := fs.ReadFile(assets, "static/"+name)
	if err != nil {
		http.Error(w, "missing page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// handleInfo tells the pages which parts are available.
func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]bool{"model": s.tr != nil, "run": s.run != nil})
}

// apiError is the body of every error answer of the API.
type apiError struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, code, apiError{msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"cannot encode the answer"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// methodNotAllowed answers 405 with an Allow header.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed here; use %s", r.Method, allow))
}

// Timeouts of the http.Server made by NewHTTPServer. Handlers that need
// longer (a translation, an event stream) extend their own deadlines.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 2 * time.Minute // a 20 MiB upload at 175 kB/s
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10
)

// NewHTTPServer returns an http.Server for h on addr with read, write and
// idle timeouts. When h is a *Server, its Close is registered to run at
// Shutdown.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	hs := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
	}
	if s, ok := h.(*Server); ok {
		hs.RegisterOnShutdown(s.Close)
	}
	return hs
}
