package web

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/doggogan/doggogan/nn"
)

func TestHealthz(t *testing.T) {
	_, ts := serve(t, Options{Model: tinyModel()})
	res, body := do(t, "GET", ts.URL+"/healthz", "", nil)
	if res.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Fatalf("healthz: %d %s", res.StatusCode, body)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Content-Security-Policy") == "" {
		t.Error("healthz lacks the security headers")
	}
	res, body = do(t, "POST", ts.URL+"/healthz", "", nil)
	wantJSONError(t, res, body, http.StatusMethodNotAllowed, "not allowed")
	if res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("Allow %q", res.Header.Get("Allow"))
	}
}

func TestModelInfo(t *testing.T) {
	_, ts := serve(t, Options{Model: tinyModel(), MaxPixels: 12345, MaxUploadBytes: 6789})
	res, body := do(t, "GET", ts.URL+"/api/model", "", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("%d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	var mi modelInfo
	if err := json.Unmarshal(body, &mi); err != nil {
		t.Fatal(err)
	}
	if mi.DomainA != "summer" || mi.DomainB != "winter" || mi.Size != 16 || mi.Step != 42 || mi.NGF != 4 || mi.Blocks != 1 ||
		strings.Join(mi.Directions, ",") != "a2b,b2a" || mi.MaxPixels != 12345 || mi.MaxUploadBytes != 6789 {
		t.Errorf("model info %+v", mi)
	}
	if bytes.Contains(body, []byte("/secret/")) {
		t.Errorf("the model info shows the server's data folders: %s", body)
	}
	res, body = do(t, "POST", ts.URL+"/api/model", "", nil)
	wantJSONError(t, res, body, http.StatusMethodNotAllowed, "not allowed")
}

// translated decodes a translation answer, checking its headers.
func translated(t *testing.T, res *http.Response, body []byte) image.Image {
	t.Helper()
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "image/png" {
		t.Fatalf("Content-Type %q", ct)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff")
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestTranslate(t *testing.T) {
	m := tinyModel()
	_, ts := serve(t, Options{Model: m})
	in := testImage(37, 23)
	for _, dir := range []cyclegan.Direction{cyclegan.A2B, cyclegan.B2A} {
		want, err := m.Generators[dir].Translate(in)
		if err != nil {
			t.Fatal(err)
		}
		res, body := do(t, "POST", ts.URL+"/api/translate?direction="+string(dir), "image/png", bytes.NewReader(pngBytes(t, in)))
		got := translated(t, res, body)
		if got.Bounds() != in.Bounds() {
			t.Fatalf("%s: result %v, want the input's %v", dir, got.Bounds(), in.Bounds())
		}
		if !bytes.Equal(toNRGBA(got).Pix, want.Pix) {
			t.Errorf("%s: the served translation differs from Generator.Translate", dir)
		}
	}
	// The two directions are different generators.
	_, a := do(t, "POST", ts.URL+"/api/translate?direction=a2b", "", bytes.NewReader(pngBytes(t, in)))
	_, b := do(t, "POST", ts.URL+"/api/translate?direction=b2a", "", bytes.NewReader(pngBytes(t, in)))
	if bytes.Equal(a, b) {
		t.Error("a2b and b2a gave the same image")
	}
	// JPEG works, and no direction means a2b.
	res, body := do(t, "POST", ts.URL+"/api/translate", "image/jpeg", bytes.NewReader(jpegBytes(t, in)))
	if got := translated(t, res, body); got.Bounds().Dx() != 37 || got.Bounds().Dy() != 23 {
		t.Errorf("jpeg: %v", got.Bounds())
	}
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "a2b") {
		t.Errorf("Content-Disposition %q", cd)
	}
}

// multipartBody builds a form with the given file fields and a text field.
func multipartBody(t *testing.T, files map[string][]byte) (string, *bytes.Buffer) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if err := mw.WriteField("note", "hello"); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		fw, err := mw.CreateFormFile(name, name+".png")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	mw.Close()
	return mw.FormDataContentType(), &b
}

func TestTranslateMultipart(t *testing.T) {
	_, ts := serve(t, Options{Model: tinyModel(), MaxUploadBytes: 4000})
	in := pngBytes(t, testImage(20, 12))
	for _, field := range []string{"image", "file"} {
		ct, body := multipartBody(t, map[string][]byte{field: in})
		res, out := do(t, "POST", ts.URL+"/api/translate?direction=b2a", ct, body)
		if got := translated(t, res, out); got.Bounds().Dx() != 20 || got.Bounds().Dy() != 12 {
			t.Errorf("field %s: %v", field, got.Bounds())
		}
	}
	// "image" wins over another file field, whatever the order.
	ct, body := multipartBody(t, map[string][]byte{"other": []byte("not an image"), "image": in})
	res, out := do(t, "POST", ts.URL+"/api/translate", ct, body)
	translated(t, res, out)
}

func TestTranslateBadUploads(t *testing.T) {
	_, ts := serve(t, Options{Model: tinyModel(), MaxUploadBytes: 3000, MaxPixels: 1000})
	okPNG := pngBytes(t, testImage(30, 20))
	if len(okPNG) > 3000 {
		t.Fatalf("test PNG of %d bytes is over the limit", len(okPNG))
	}
	big := pngBytes(t, noise(60, 60))
	huge := pngBytes(t, noise(150, 150)) // refused from its Content-Length
	if len(big) <= 3000 || len(huge) <= 3000+multipartSlack {
		t.Fatalf("test PNGs of %d and %d bytes are not over the limits", len(big), len(huge))
	}
	jpg := jpegBytes(t, testImage(30, 20))
	ctOK, formNoImage := multipartBody(t, nil)
	ctBig, formBig := multipartBody(t, map[string][]byte{"image": big})
	ctTrunc, formTrunc := multipartBody(t, map[string][]byte{"image": okPNG[:len(okPNG)/2]})
	cases := []struct {
		name, method, query, ct string
		body                    io.Reader
		status                  int
		want                    string
	}{
		{"not an image", "POST", "a2b", "text/plain", strings.NewReader("hello, this is text"), 415, "not an image"},
		{"truncated png", "POST", "a2b", "image/png", bytes.NewReader(okPNG[:len(okPNG)/2]), 400, "truncated PNG"},
		{"truncated jpeg", "POST", "a2b", "image/jpeg", bytes.NewReader(jpg[:len(jpg)/2]), 400, "truncated JPEG"},
		{"truncated in a form", "POST", "a2b", ctTrunc, formTrunc, 400, "truncated PNG"},
		{"too large", "POST", "a2b", "image/png", bytes.NewReader(big), 413, "over the limit of 3000 bytes"},
		{"far too large", "POST", "a2b", "image/png", bytes.NewReader(huge), 413, "over the limit of 3000 bytes"},
		{"too large, chunked", "POST", "a2b", "image/png", io.MultiReader(bytes.NewReader(big)), 413, "limit"},
		{"too large in a form", "POST", "a2b", ctBig, formBig, 413, "limit"},
		{"too many pixels", "POST", "a2b", "image/png", bytes.NewReader(pngBytes(t, testImage(40, 30))), 413, "too many pixels: 40×30 pixels is over the 1000-pixel limit"},
		{"bad direction", "POST", "sideways", "image/png", bytes.NewReader(okPNG), 400, "bad direction"},
		{"wrong method", "GET", "a2b", "", nil, 405, "use POST"},
		{"wrong method PUT", "PUT", "a2b", "image/png", bytes.NewReader(okPNG), 405, "use POST"},
		{"empty", "POST", "a2b", "image/png", bytes.NewReader(nil), 400, "empty upload"},
		{"form without an image", "POST", "a2b", ctOK, formNoImage, 400, "no image in the form"},
		{"form without a boundary", "POST", "a2b", "multipart/form-data", bytes.NewReader(okPNG), 400, "boundary"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, body := do(t, c.method, ts.URL+"/api/translate?direction="+c.query, c.ct, c.body)
			wantJSONError(t, res, body, c.status, c.want)
			if c.status == 405 && res.Header.Get("Allow") != "POST" {
				t.Errorf("Allow %q", res.Header.Get("Allow"))
			}
		})
	}
	// Two directions at once are refused too.
	res, body := do(t, "POST", ts.URL+"/api/translate?direction=a2b&direction=b2a", "image/png", bytes.NewReader(okPNG))
	wantJSONError(t, res, body, 400, "one direction")
	// And the server still works.
	res, body = do(t, "POST", ts.URL+"/api/translate?direction=a2b", "image/png", bytes.NewReader(okPNG))
	translated(t, res, body)
}

func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	g := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g.Set(x, y, img.At(x, y))
		}
	}
	return g
}

// noise is an image that PNG cannot compress much.
func noise(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	x := uint32(1)
	for i := range m.Pix {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		m.Pix[i] = uint8(x)
	}
	return m
}

// TestTranslateSaturation fills the translation slots and checks that a
// further request is turned away at once with 503 and Retry-After, and
// that one waiting request is allowed when MaxWaiting says so.
func TestTranslateSaturation(t *testing.T) {
	for _, waiting := range []int{-1, 1} {
		t.Run("waiting="+strconv.Itoa(waiting), func(t *testing.T) {
			s, ts := serve(t, Options{Model: tinyModel(), Concurrency: 1, MaxWaiting: waiting})
			entered, release := make(chan struct{}, 4), make(chan struct{})
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			t.Cleanup(free)
			s.tr.before = func() { entered <- struct{}{}; <-release }
			img := pngBytes(t, testImage(16, 16))
			client := &http.Client{Timeout: 10 * time.Second}
			post := func() (int, http.Header, []byte) {
				res, err := client.Post(ts.URL+"/api/translate?direction=a2b", "image/png", bytes.NewReader(img))
				if err != nil {
					return -1, nil, []byte(err.Error())
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, res.Header, b
			}
			var wg sync.WaitGroup
			codes := make(chan int, 2)
			wg.Add(1)
			go func() { defer wg.Done(); c, _, _ := post(); codes <- c }()
			<-entered // the first one holds the only slot
			if waiting > 0 {
				wg.Add(1)
				go func() { defer wg.Done(); c, _, _ := post(); codes <- c }()
				// Wait until the second one is admitted and waiting.
				deadline := time.Now().Add(5 * time.Second)
				for len(s.tr.admit) < 2 {
					if time.Now().After(deadline) {
						t.Fatal("the second request was not admitted")
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			start := time.Now()
			code, h, body := post()
			if code != http.StatusServiceUnavailable || !strings.Contains(string(body), `"error":"the server is busy`) {
				t.Errorf("a request over the limit got %d %s", code, body)
			} else if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 1 || h.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("Retry-After %q, Content-Type %q", h.Get("Retry-After"), h.Get("Content-Type"))
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("the refusal took %v: it queued", d)
			}
			free()
			wg.Wait()
			close(codes)
			for c := range codes {
				if c != 200 {
					t.Errorf("an admitted request got %d", c)
				}
			}
			// Slots are free again.
			s.tr.before = nil
			res, body := do(t, "POST", ts.URL+"/api/translate?direction=a2b", "image/png", bytes.NewReader(img))
			translated(t, res, body)
		})
	}
}

// TestConcurrentTranslations runs translations from many goroutines
// through the server with several slots; with -race this checks that the
// shared generators are only read.
func TestConcurrentTranslations(t *testing.T) {
	m := tinyModel()
	_, ts := serve(t, Options{Model: m, Concurrency: 4, MaxWaiting: 16})
	in := testImage(19, 13)
	want, _ := m.Generators[cyclegan.A2B].Translate(in)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Post(ts.URL+"/api/translate?direction=a2b", "image/png", bytes.NewReader(pngBytes(t, in)))
			if err != nil {
				errs <- err.Error()
				return
			}
			defer res.Body.Close()
			img, err := png.Decode(res.Body)
			if err != nil {
				errs <- err.Error()
				return
			}
			if !bytes.Equal(toNRGBA(img).Pix, want.Pix) {
				errs <- "a concurrent translation differs"
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestSingleGeneratorFile(t *testing.T) {
	g := cyclegan.NewGenerator(4, 1)
	dir := t.TempDir()
	path := filepath.Join(dir, "net_G_B.safetensors")
	if err := cyclegan.SaveModule(path, g, map[string]string{"step": "77"}); err != nil {
		t.Fatal(err)
	}
	m, err := LoadModel(path, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Generators[cyclegan.B2A]; !ok || len(m.Generators) != 1 || m.Step != 77 || m.Config != nil {
		t.Fatalf("model %+v", m)
	}
	_, ts := serve(t, Options{Model: m})
	res, body := do(t, "GET", ts.URL+"/api/model", "", nil)
	if !strings.Contains(string(body), `"directions":["b2a"]`) {
		t.Errorf("model info %s", body)
	}
	img := pngBytes(t, testImage(9, 9))
	res, body = do(t, "POST", ts.URL+"/api/translate?direction=a2b", "image/png", bytes.NewReader(img))
	wantJSONError(t, res, body, 400, "only translates b2a")
	res, body = do(t, "POST", ts.URL+"/api/translate", "image/png", bytes.NewReader(img))
	translated(t, res, body)

	// A name that does not say needs the direction given.
	other := filepath.Join(dir, "gen.safetensors")
	if err := cyclegan.SaveModule(other, g, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadModel(other, ""); err == nil || !strings.Contains(err.Error(), "gen.safetensors") {
		t.Errorf("unnamed generator: %v", err)
	}
	if m, err := LoadModel(other, cyclegan.A2B); err != nil || m.Generators[cyclegan.A2B] == nil {
		t.Errorf("with a direction: %v", err)
	}
	if _, err := LoadModel(filepath.Join(dir, "missing"), ""); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadModelFromRun(t *testing.T) {
	run := trainedRun(t)
	m, err := LoadModel(run, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Generators) != 2 || m.Step != 6 || m.Config == nil || m.Config.DomainA != "summer" || m.Name != "seasons" {
		t.Fatalf("model %+v", m)
	}
	// Loaded generators are frozen: translating writes nothing to them.
	for d, g := range m.Generators {
		for _, p := range nn.Params(g, "") {
			if p.T.RequiresGrad() {
				t.Fatalf("%s: %s requires gradients", d, p.Name)
			}
		}
	}
}

// A PyTorch generator file, and a run imported from one direction only,
// serve like any other model.
func TestLoadModelPthAndImportedRun(t *testing.T) {
	pth := filepath.Join("..", "cyclegan", "testdata", "parity", "torch_G.pth")
	m, err := LoadModel(pth, cyclegan.A2B)
	if err != nil {
		t.Fatal(err)
	}
	if g := m.Generators[cyclegan.A2B]; g == nil || len(m.Generators) != 1 || g.NGF != 8 || g.Blocks != 2 || m.Step != 0 {
		t.Fatalf("model from .pth %+v", m)
	}
	run := filepath.Join(t.TempDir(), "imported")
	if _, err := cyclegan.ImportRun(run, map[cyclegan.Direction]string{cyclegan.B2A: pth}); err != nil {
		t.Fatal(err)
	}
	m, err = LoadModel(run, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Generators) != 1 || m.Generators[cyclegan.B2A] == nil || m.Config == nil {
		t.Fatalf("model from a one-direction imported run %+v", m)
	}
	_, ts := serve(t, Options{Model: m})
	res, body := do(t, "POST", ts.URL+"/api/translate?direction=b2a", "image/png", bytes.NewReader(pngBytes(t, testImage(12, 8))))
	translated(t, res, body)
}
