package web

import (
	"context"
	"fmt"
	"image"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/doggogan/doggogan/data"
)

// These tests drive a real headless Chromium (Debian's chromium package).
// Without one they skip, except under CI=true, where they fail: CI must
// install it (apt-get install -y chromium).

// chromiumPath finds the browser, or skips (fails under CI=true).
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("DOGGOGAN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no chromium on PATH (install it with: apt-get install -y chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true requires the browser tests")
	}
	t.Skip(msg + "; skipping the browser test")
	return ""
}

// browser starts a headless Chromium with a fresh profile and returns a
// context for chromedp actions; it is stopped when the test ends.
func browser(t *testing.T, width, height int) context.Context {
	t.Helper()
	path := chromiumPath(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.NoSandbox, // Chromium refuses to run as root with its sandbox
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelB(); cancelA() })
	// Start the browser now, on a context without a deadline (see
	// chromedp.Run).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// within runs actions with a time limit.
func within(t *testing.T, ctx context.Context, d time.Duration, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// counting wraps a handler, counting translations by direction.
type counting struct {
	h  http.Handler
	mu sync.Mutex
	n  map[string]int
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/translate" {
		c.mu.Lock()
		c.n[r.URL.Query().Get("direction")]++
		c.mu.Unlock()
	}
	c.h.ServeHTTP(w, r)
}

func (c *counting) count(dir string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[dir]
}

// TestBrowserTranslate loads the translate page, uploads an image, waits
// for the translation and checks that it is shown at the input's size,
// with a download link; then switches the direction.
func TestBrowserTranslate(t *testing.T) {
	ctx := browser(t, 1280, 900)
	m := tinyModel()
	m.Config.DomainA, m.Config.DomainB = "cat", "dog"
	s, err := New(Options{Model: m})
	if err != nil {
		t.Fatal(err)
	}
	h := &counting{h: s, n: map[string]int{}}
	ts := httptest.NewServer(h)
	defer ts.Close()
	in := filepath.Join(t.TempDir(), "kitty.png")
	if err := os.WriteFile(in, pngBytes(t, testImage(37, 23)), 0o644); err != nil {
		t.Fatal(err)
	}

	within(t, ctx, 30*time.Second, "load the page",
		chromedp.Navigate(ts.URL+"/"),
		chromedp.Poll[chromedp.Void](`document.getElementById("dir-a2b").textContent === "cat → dog"`),
	)
	if got := eval[string](t, ctx, `document.getElementById("dir-b2a").textContent`); got != "dog → cat" {
		t.Errorf("b2a button says %q", got)
	}
	if got := eval[string](t, ctx, `document.getElementById("title").textContent`); got != "Turn a cat into a dog" {
		t.Errorf("title %q", got)
	}
	within(t, ctx, 60*time.Second, "upload and translate",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{in}),
		chromedp.Poll[chromedp.Void](`(() => { const i = document.getElementById("out-img"); return !i.hidden && i.complete && i.naturalWidth > 0; })()`),
	)
	size := eval[[]int](t, ctx, `(() => { const i = document.getElementById("out-img"); return [i.naturalWidth, i.naturalHeight]; })()`)
	if fmt.Sprint(size) != "[37 23]" {
		t.Errorf("the translation is shown at %v, want the input's 37×23", size)
	}
	if got := eval[string](t, ctx, `document.getElementById("out-dim").textContent`); got != "37×23" {
		t.Errorf("size label %q", got)
	}
	dl := eval[[]string](t, ctx, `(() => { const a = document.getElementById("download"); return [String(a.hidden), a.href, a.download]; })()`)
	if dl[0] != "false" || !strings.HasPrefix(dl[1], "blob:") || dl[2] != "kitty-cat-to-dog.png" {
		t.Errorf("download link %q", dl)
	}
	if eval[bool](t, ctx, `!document.getElementById("error").hidden`) {
		t.Errorf("error shown: %s", eval[string](t, ctx, `document.getElementById("error-text").textContent`))
	}
	if h.count("a2b") != 1 {
		t.Errorf("%d a2b translations, want 1", h.count("a2b"))
	}

	// The other direction translates the same image again.
	within(t, ctx, 60*time.Second, "switch direction",
		chromedp.Click(chromedp.ID("dir-b2a")),
		chromedp.Poll[chromedp.Void](`document.getElementById("download").download === "kitty-dog-to-cat.png" && document.getElementById("busy").hidden`),
	)
	if h.count("b2a") != 1 {
		t.Errorf("%d b2a translations, want 1", h.count("b2a"))
	}

	// A file that is not an image shows the server's error.
	bad := filepath.Join(t.TempDir(), "notes.png")
	os.WriteFile(bad, []byte("not an image at all"), 0o644)
	within(t, ctx, 30*time.Second, "upload a bad file",
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{bad}),
		chromedp.Poll[chromedp.Void](`!document.getElementById("error").hidden`),
	)
	if got := eval[string](t, ctx, `document.getElementById("error-text").textContent`); !strings.Contains(got, "not an image") {
		t.Errorf("error text %q", got)
	}
}

// TestBrowserDashboard opens the dashboard of a run before it starts,
// trains a tiny model, and checks that the page follows it live: the
// step, the chart's points and the sample grid.
func TestBrowserDashboard(t *testing.T) {
	ctx := browser(t, 1280, 1000)
	dir := filepath.Join(t.TempDir(), "live")
	_, ts := serve(t, Options{RunDir: dir})
	within(t, ctx, 30*time.Second, "load the dashboard",
		chromedp.Navigate(ts.URL+"/dashboard"),
		chromedp.Poll[chromedp.Void](`document.getElementById("state").textContent === "waiting"`),
	)
	cfg := tinyConfig()
	cfg.Steps, cfg.SampleEvery, cfg.SaveEvery = 8, 4, 4
	train(t, cfg, dir)
	within(t, ctx, 60*time.Second, "follow the run",
		chromedp.Poll[chromedp.Void](`document.getElementById("state").textContent === "finished" &&
			document.getElementById("s-step").textContent === "8 / 8" &&
			+(document.querySelector('canvas[data-chart="cycle_A"]') || {dataset: {}}).dataset.points === 16`),
	)
	within(t, ctx, 30*time.Second, "show the sample grid",
		chromedp.Poll[chromedp.Void](`(() => { const i = document.getElementById("sample"); return i.complete && i.naturalWidth > 0 && i.dataset.step === "8"; })()`),
	)
	if got := eval[string](t, ctx, `document.getElementById("s-ckpt").textContent`); got != "step 8" {
		t.Errorf("checkpoint %q", got)
	}
	// Every chart of a WGAN-GP run with identity loss has its 2×8 points.
	pts := eval[[]string](t, ctx, `[...document.querySelectorAll("canvas[data-chart]")].map(c => c.dataset.chart + ":" + c.dataset.points)`)
	if len(pts) != 6 {
		t.Errorf("charts %v", pts)
	}
	for _, p := range pts {
		if !strings.HasSuffix(p, ":16") {
			t.Errorf("chart %s, want 16 points", p)
		}
	}
	if got := eval[string](t, ctx, `document.getElementById("row-a").textContent`); got != "summer → winter → summer" {
		t.Errorf("row label %q", got)
	}
}

// TestScreenshots writes the README's screenshots of both pages. It is a
// tool, not a check: it runs only when DOGGOGAN_SCREENSHOTS names the
// output folder and DOGGOGAN_SCREENSHOT_RUN a trained run of the pets toy
// (or any run; DOGGOGAN_SCREENSHOT_IMAGE then names the image to translate).
//
//	DOGGOGAN_SCREENSHOTS=$PWD/docs DOGGOGAN_SCREENSHOT_RUN=runs/pets go test -run Screenshots ./web
func TestScreenshots(t *testing.T) {
	out, run := os.Getenv("DOGGOGAN_SCREENSHOTS"), os.Getenv("DOGGOGAN_SCREENSHOT_RUN")
	if out == "" || run == "" {
		t.Skip("set DOGGOGAN_SCREENSHOTS and DOGGOGAN_SCREENSHOT_RUN to write the screenshots")
	}
	m, err := LoadModel(run, "")
	if err != nil {
		t.Fatal(err)
	}
	in := os.Getenv("DOGGOGAN_SCREENSHOT_IMAGE")
	if in == "" {
		in = filepath.Join(t.TempDir(), "cat.png")
		if err := os.WriteFile(in, pngBytes(t, toyImage(t, "pets", 0, 32, 1^0xe7a1e7a1e7a1e7a1, 2)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, ts := serve(t, Options{Model: m, RunDir: run})
	shot := func(ctx context.Context, name string) {
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := browser(t, 1280, 780)
	within(t, ctx, 60*time.Second, "translate",
		chromedp.Navigate(ts.URL+"/"),
		chromedp.Poll[chromedp.Void](`document.getElementById("model-meta").textContent.includes("step")`),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{in}),
		chromedp.Poll[chromedp.Void](`(() => { const i = document.getElementById("out-img"); return !i.hidden && i.complete && i.naturalWidth > 0 && document.getElementById("busy").hidden; })()`),
	)
	shot(ctx, "serve-translate.png")
	ctx = browser(t, 1280, 1000)
	within(t, ctx, 60*time.Second, "dashboard",
		chromedp.Navigate(ts.URL+"/dashboard"),
		chromedp.Poll[chromedp.Void](`+(document.querySelector('canvas[data-chart="cycle_A"]') || {dataset: {}}).dataset.points > 0 &&
			(() => { const i = document.getElementById("sample"); return i.complete && i.naturalWidth > 0; })()`),
		chromedp.Sleep(500*time.Millisecond),
	)
	shot(ctx, "serve-dashboard.png")
}

// toyImage renders one scene of a built-in toy: the one at position pos of
// the paired stream with the given seed (the trainer's sample grids use
// seed^0xe7a1e7a1e7a1e7a1, positions 0 to 3).
func toyImage(t *testing.T, name string, domain, size int, seed uint64, pos int64) *image.NRGBA {
	t.Helper()
	toy, err := data.ToyByName(name)
	if err != nil {
		t.Fatal(err)
	}
	src, err := data.NewToySource(toy, data.ToySourceOptions{Domain: domain, Size: size, Seed: seed, Paired: true, Start: pos})
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, src.SampleLen())
	if err := src.Next(v); err != nil {
		t.Fatal(err)
	}
	return data.FromCHW(v, size, size)
}
