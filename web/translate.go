package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/doggogan/doggogan/data"
)

// translator admits translation requests: at most Concurrency translate at
// once and at most MaxWaiting more wait for a slot; the rest are turned
// away before their upload is read.
type translator struct {
	model  *Model
	opt    Options
	admit  chan struct{} // running + waiting
	run    chan struct{} // running
	mu     sync.Mutex
	avg    time.Duration // moving average of translation times, for Retry-After
	before func()        // test hook: called with a slot held, before translating
}

func newTranslator(m *Model, opt Options) *translator {
	return &translator{
		model: m,
		opt:   opt,
		admit: make(chan struct{}, opt.Concurrency+opt.MaxWaiting),
		run:   make(chan struct{}, opt.Concurrency),
		avg:   time.Second,
	}
}

// retryAfter estimates when a slot will be free, in whole seconds.
func (t *translator) retryAfter() int {
	t.mu.Lock()
	d := t.avg
	t.mu.Unlock()
	return min(max(int(math.Ceil(d.Seconds())), 1), 120)
}

func (t *translator) record(d time.Duration) {
	t.mu.Lock()
	t.avg = (3*t.avg + d) / 4
	t.mu.Unlock()
}

func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) {
	mi := s.tr.model.info()
	mi.MaxUploadBytes, mi.MaxPixels = s.opt.MaxUploadBytes, s.opt.MaxPixels
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, mi)
}

// busy answers 503 with Retry-After.
func (s *Server) busy(w http.ResponseWriter) {
	ra := s.tr.retryAfter()
	w.Header().Set("Retry-After", strconv.Itoa(ra))
	writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("the server is busy translating other images; try again in %d s", ra))
}

func (s *Server) handleTranslate(w http.ResponseWriter, r *http.Request) {
	t := s.tr
	dir, g, msg := t.direction(r.URL.Query())
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	maxBytes := s.opt.MaxUploadBytes
	if r.ContentLength > maxBytes+multipartSlack {
		s.tooLarge(w, r)
		return
	}
	select {
	case t.admit <- struct{}{}:
		defer func() { <-t.admit }()
	default:
		s.busy(w)
		return
	}
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Now().Add(s.opt.TranslateTimeout))

	body, status, msg := readUpload(w, r, maxBytes)
	if msg != "" {
		if status == http.StatusRequestEntityTooLarge {
			s.tooLarge(w, r)
			return
		}
		writeError(w, status, msg)
		return
	}
	img, _, err := data.Decode(bytes.NewReader(body), data.DecodeOptions{MaxPixels: s.opt.MaxPixels, Name: "image"})
	body = nil
	if err != nil {
		status, msg := decodeStatus(err)
		s.opt.Logf("translate: %s: %d %s", r.RemoteAddr, status, msg)
		writeError(w, status, msg)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opt.TranslateTimeout)
	defer cancel()
	select {
	case t.run <- struct{}{}:
	case <-ctx.Done():
		s.busy(w)
		return
	}
	defer func() { <-t.run }()
	if t.before != nil {
		t.before()
	}
	start := time.Now()
	out, err := g.Translate(img)
	if err != nil {
		writeError(w, http.StatusBadRequest, "cannot translate this image: "+err.Error())
		return
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, out); err != nil {
		writeError(w, http.StatusInternalServerError, "cannot encode the result: "+err.Error())
		return
	}
	took := time.Since(start)
	t.record(took)
	b := img.Bounds()
	s.opt.Logf("translate: %s: %s %d×%d in %v", r.RemoteAddr, dir, b.Dx(), b.Dy(), took.Round(time.Millisecond))
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", fmt.Sprintf(`inline; filename="translated-%s.png"`, dir))
	h.Set("X-Translate-Milliseconds", strconv.FormatInt(took.Milliseconds(), 10))
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}

// direction reads ?direction=; without one, the model's first direction.
func (t *translator) direction(q map[string][]string) (cyclegan.Direction, *cyclegan.Generator, string) {
	vals := q["direction"]
	if len(vals) > 1 {
		return "", nil, "give one direction (a2b or b2a)"
	}
	if len(vals) == 0 || vals[0] == "" {
		for _, d := range []cyclegan.Direction{cyclegan.A2B, cyclegan.B2A} {
			if g, ok := t.model.Generators[d]; ok {
				return d, g, ""
			}
		}
	}
	d, err := cyclegan.ParseDirection(vals[0])
	if err != nil {
		return "", nil, fmt.Sprintf("bad direction %.40q: want a2b or b2a", vals[0])
	}
	g, ok := t.model.Generators[d]
	if !ok {
		return "", nil, fmt.Sprintf("this model only translates %s (it is a single generator)", t.model.info().Directions[0])
	}
	return d, g, ""
}

func (s *Server) tooLarge(w http.ResponseWriter, r *http.Request) {
	// The rest of a large body is not worth reading: close the connection.
	w.Header().Set("Connection", "close")
	writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the upload is over the limit of %s", formatBytes(s.opt.MaxUploadBytes)))
}

// multipartSlack is allowed beyond the image size for a multipart
// envelope (boundaries, part headers, small fields).
const multipartSlack = 64 << 10

// readUpload reads the image of a request: the body itself, or the first
// file field of a multipart/form-data body (the field "image" if there is
// one). It answers a status and a message when it cannot.
func readUpload(w http.ResponseWriter, r *http.Request, maxBytes int64) ([]byte, int, string) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBytes))
		return uploadErr(b, err)
	}
	if params["boundary"] == "" {
		return nil, http.StatusBadRequest, "multipart body without a boundary"
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, maxBytes+multipartSlack), params["boundary"])
	var found []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, http.StatusRequestEntityTooLarge, "too large"
			}
			return nil, http.StatusBadRequest, "malformed multipart body: " + err.Error()
		}
		isFile := p.FileName() != "" || p.FormName() == "image"
		if !isFile || (found != nil && p.FormName() != "image") {
			if _, err := io.Copy(io.Discard, p); err != nil {
				return uploadErr(nil, err)
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, maxBytes+1))
		if err == nil && int64(len(b)) > maxBytes {
			return nil, http.StatusRequestEntityTooLarge, "too large"
		}
		if _, st, msg := uploadErr(b, err); msg != "" {
			return nil, st, msg
		}
		found = b
		if p.FormName() == "image" {
			break
		}
	}
	if found == nil {
		return nil, http.StatusBadRequest, `no image in the form: send it as a file field named "image"`
	}
	return uploadErr(found, nil)
}

func uploadErr(b []byte, err error) ([]byte, int, string) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, http.StatusRequestEntityTooLarge, "too large"
	case err != nil:
		return nil, http.StatusBadRequest, "cannot read the upload: " + err.Error()
	case len(b) == 0:
		return nil, http.StatusBadRequest, "empty upload: send an image (JPEG, PNG, GIF, BMP, WebP or TIFF) as the body or as a file field named \"image\""
	}
	return b, 0, ""
}

// decodeStatus maps a decoding error to a status and a message.
func decodeStatus(err error) (int, string) {
	var de *data.DecodeError
	msg := err.Error()
	if errors.As(err, &de) {
		msg = de.Reason
	}
	switch {
	case errors.Is(err, data.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "too many pixels: " + msg
	case errors.Is(err, data.ErrUnknownFormat):
		return http.StatusUnsupportedMediaType, "not an image: send a JPEG, PNG, GIF, BMP, WebP or TIFF file"
	case errors.Is(err, data.ErrUnsupported):
		return http.StatusUnsupportedMediaType, msg
	case errors.Is(err, data.ErrTruncated):
		return http.StatusBadRequest, msg + ": the image is cut short (an incomplete upload or a damaged file)"
	case errors.Is(err, data.ErrEmpty):
		return http.StatusBadRequest, "empty upload"
	}
	return http.StatusBadRequest, msg
}

// formatBytes writes a byte count for people: "20 MB" for 20 MiB.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d kB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
