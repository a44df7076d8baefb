package web

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/doggogan/doggogan/kernels"
	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/tensor"
)

// tinyConfig is a model that trains in well under a second a step (as in
// cyclegan's own tests).
func tinyConfig() cyclegan.Config {
	c := cyclegan.DefaultConfig()
	c.Toy = "seasons"
	c.DomainA, c.DomainB = "summer", "winter"
	c.Size, c.LoadSize = 16, 16
	c.NGF, c.NDF, c.Blocks, c.CriticLayers = 4, 4, 1, 2
	c.Steps, c.SampleEvery, c.SaveEvery = 6, 3, 3
	c.Pool = 3
	c.Seed = 9
	return c
}

// train runs a tiny training to the end in dir.
func train(t testing.TB, cfg cyclegan.Config, dir string) {
	t.Helper()
	tr, err := cyclegan.NewTrainer(cfg, dir, cyclegan.TrainerOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Run(context.Background(), cyclegan.Hooks{}); err != nil {
		t.Fatal(err)
	}
}

var (
	runOnce sync.Once
	runDir  string
	runErr  string
)

// trainedRun returns a run directory trained once for the whole package
// (tinyConfig: 6 steps, samples and checkpoints at 3 and 6).
func trainedRun(t *testing.T) string {
	t.Helper()
	runOnce.Do(func() {
		d, err := os.MkdirTemp("", "doggogan-web-run-")
		if err != nil {
			runErr = err.Error()
			return
		}
		runDir = filepath.Join(d, "seasons")
		tr, err := cyclegan.NewTrainer(tinyConfig(), runDir, cyclegan.TrainerOptions{Workers: 1})
		if err != nil {
			runErr = err.Error()
			return
		}
		defer tr.Close()
		if err := tr.Run(context.Background(), cyclegan.Hooks{}); err != nil {
			runErr = err.Error()
		}
	})
	if runErr != "" {
		t.Fatal(runErr)
	}
	return runDir
}

func TestMain(m *testing.M) {
	kernels.SetThreads(2)
	code := m.Run()
	if runDir != "" {
		os.RemoveAll(filepath.Dir(runDir))
	}
	os.Exit(code)
}

// tinyModel is an untrained (randomly initialised) model in both
// directions, named like the seasons toy.
func tinyModel() *Model {
	rng := tensor.NewRNG(5)
	gens := map[cyclegan.Direction]*cyclegan.Generator{}
	for _, d := range []cyclegan.Direction{cyclegan.A2B, cyclegan.B2A} {
		g := cyclegan.NewGenerator(4, 1)
		nn.InitNormal(g, 0.02, rng)
		gens[d] = g
	}
	cfg := tinyConfig()
	cfg.Toy, cfg.DirA, cfg.DirB = "", "/secret/data/summer", "/secret/data/winter"
	return NewModel("tiny", gens, &cfg, 42)
}

// testImage is a w×h gradient.
func testImage(w, h int) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetNRGBA(x, y, color.NRGBA{uint8(255 * x / max(w-1, 1)), uint8(255 * y / max(h-1, 1)), 128, 255})
		}
	}
	return m
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// serve starts a test server.
func serve(t *testing.T, opt Options) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); ts.Close() })
	return s, ts
}

// do sends a request and reads the whole answer.
func do(t *testing.T, method, url, contentType string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

// wantJSONError checks an error answer: the status, a JSON body
// {"error": ...} containing want, and the content type headers.
func wantJSONError(t *testing.T, res *http.Response, body []byte, status int, want string) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("status %d, want %d (body %s)", res.StatusCode, status, body)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no X-Content-Type-Options: nosniff")
	}
	var e struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	if e.Error == "" || !bytes.Contains([]byte(e.Error), []byte(want)) {
		t.Errorf("error %q does not say %q", e.Error, want)
	}
}
