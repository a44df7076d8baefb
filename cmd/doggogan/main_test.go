package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/doggogan/doggogan/data"
)

// runCLI runs the command line in-process.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

var (
	modelOnce sync.Once
	modelDir  string
	modelErr  error
)

// tinyModel trains a tiny model once for the package's tests.
func tinyModel(t *testing.T) string {
	t.Helper()
	modelOnce.Do(func() {
		dir, err := os.MkdirTemp("", "doggogan-cli-model")
		if err != nil {
			modelErr = err
			return
		}
		c := cyclegan.DefaultConfig()
		c.Toy, c.Size, c.LoadSize = "seasons", 16, 16
		c.NGF, c.NDF, c.Blocks, c.CriticLayers = 4, 4, 1, 2
		c.Steps, c.SampleEvery, c.SaveEvery = 2, 0, 0
		tr, err := cyclegan.NewTrainer(c, dir, cyclegan.TrainerOptions{})
		if err != nil {
			modelErr = err
			return
		}
		defer tr.Close()
		modelErr = tr.Run(context.Background(), cyclegan.Hooks{})
		modelDir = dir
	})
	if modelErr != nil {
		t.Fatal(modelErr)
	}
	return modelDir
}

func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(x * 7), uint8(y * 11), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// assertOneLineError checks a failed command's output: a non-zero status
// and one line naming what is wrong, with no Go stack trace.
func assertOneLineError(t *testing.T, code int, stderr string, mentions ...string) {
	t.Helper()
	if code == 0 {
		t.Fatalf("exit status 0, want an error; stderr %q", stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "doggogan: ") {
		t.Fatalf("want one 'doggogan: ' line, got %q", stderr)
	}
	for _, bad := range []string{"panic", "goroutine ", ".go:"} {
		if strings.Contains(stderr, bad) {
			t.Fatalf("stderr looks like a stack trace: %q", stderr)
		}
	}
	for _, m := range mentions {
		if !strings.Contains(stderr, m) {
			t.Fatalf("error %q does not mention %q", stderr, m)
		}
	}
}

func TestTranslateKeepsSize(t *testing.T) {
	model := tinyModel(t)
	dir := t.TempDir()
	for _, wh := range [][2]int{{37, 23}, {16, 16}, {5, 9}} {
		in := filepath.Join(dir, "in.png")
		writePNG(t, in, wh[0], wh[1])
		for _, out := range []string{filepath.Join(dir, "out.png"), filepath.Join(dir, "sub", "out.jpg")} {
			code, _, stderr := runCLI("translate", "--model", model, "--direction", "b2a", "--in", in, "--out", out)
			if code != 0 {
				t.Fatalf("translate: %s", stderr)
			}
			img, err := data.DecodeFile(out, data.DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != wh[0] || b.Dy() != wh[1] {
				t.Fatalf("%v input gave a %v output", wh, b.Size())
			}
		}
	}
}

func TestTranslateFolder(t *testing.T) {
	model := tinyModel(t)
	in, out := t.TempDir(), t.TempDir()
	writePNG(t, filepath.Join(in, "a.png"), 20, 12)
	os.MkdirAll(filepath.Join(in, "sub"), 0o755)
	writePNG(t, filepath.Join(in, "sub", "b.png"), 8, 8)
	os.WriteFile(filepath.Join(in, "broken.jpg"), []byte("\xff\xd8\xff\xe0 not really"), 0o644)
	code, stdout, stderr := runCLI("translate", "--model", model, "--in", in, "--out", out)
	if code == 0 {
		t.Fatalf("a broken file in the folder should make the exit status non-zero")
	}
	if !strings.Contains(stderr, "broken.jpg") || !strings.Contains(stderr, "1 of 3 images") {
		t.Fatalf("stderr %q", stderr)
	}
	for _, p := range []string{"a.png", filepath.Join("sub", "b.png")} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Errorf("%s not written (stdout %q)", p, stdout)
		}
	}
}

func TestBadInputsGiveOneClearLine(t *testing.T) {
	model := tinyModel(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.png")
	writePNG(t, good, 10, 10)
	notImage := filepath.Join(dir, "notes.txt")
	os.WriteFile(notImage, []byte("hello, this is text\n"), 0o644)
	truncated := filepath.Join(dir, "cut.png")
	b, _ := os.ReadFile(good)
	os.WriteFile(truncated, b[:len(b)/2], 0o644)
	empty := filepath.Join(dir, "empty.jpg")
	os.WriteFile(empty, nil, 0o644)
	emptyDir := t.TempDir()

	// A damaged model: a copy of the run with one network file cut short.
	damaged := t.TempDir()
	copyTree(t, model, damaged)
	files, _ := filepath.Glob(filepath.Join(damaged, "checkpoints", "*", "net_G_A.safetensors"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		os.WriteFile(f, b[:len(b)-100], 0o644)
	}
	garbage := filepath.Join(dir, "model.safetensors")
	os.WriteFile(garbage, []byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":1}"), 0o644)

	out := filepath.Join(dir, "out.png")
	cases := []struct {
		name     string
		args     []string
		mentions []string
	}{
		{"not an image", []string{"translate", "--model", model, "--in", notImage, "--out", out}, []string{"notes.txt"}},
		{"truncated", []string{"translate", "--model", model, "--in", truncated, "--out", out}, []string{"cut.png"}},
		{"zero bytes", []string{"translate", "--model", model, "--in", empty, "--out", out}, []string{"empty.jpg"}},
		{"missing input", []string{"translate", "--model", model, "--in", filepath.Join(dir, "nope.png"), "--out", out}, []string{"nope.png"}},
		{"bad output format", []string{"translate", "--model", model, "--in", good, "--out", filepath.Join(dir, "x.xyz")}, []string{"x.xyz"}},
		{"missing model", []string{"translate", "--model", filepath.Join(dir, "norun"), "--in", good, "--out", out}, []string{"norun"}},
		{"damaged model", []string{"translate", "--model", damaged, "--in", good, "--out", out}, []string{"net_G_A.safetensors"}},
		{"garbage model", []string{"translate", "--model", garbage, "--in", good, "--out", out}, []string{"model.safetensors"}},
		{"bad direction", []string{"translate", "--model", model, "--direction", "sideways", "--in", good, "--out", out}, []string{"sideways"}},
		{"empty folder", []string{"train", "--a", emptyDir, "--b", emptyDir, "--out", filepath.Join(dir, "run")}, []string{emptyDir}},
		{"missing folder", []string{"train", "--a", filepath.Join(dir, "cats"), "--b", emptyDir, "--out", filepath.Join(dir, "run")}, []string{"cats"}},
		{"unknown flag", []string{"train", "--frobnicate"}, []string{"frobnicate"}},
		{"bad size", []string{"train", "--toy", "seasons", "--size", "30", "--out", filepath.Join(dir, "run")}, []string{"size 30"}},
		{"unknown toy", []string{"demo", "--toy", "whales"}, []string{"whales"}},
		{"resume nothing", []string{"train", "--resume", "--out", filepath.Join(dir, "none")}, []string{filepath.Join("none", "config.json")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(c.args...)
			assertOneLineError(t, code, stderr, c.mentions...)
		})
	}
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Corrupt files in a training folder are skipped with a warning, counted at
// the end, and training goes on.
func TestTrainSkipsCorruptFiles(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for i, d := range []string{a, b} {
		writePNG(t, filepath.Join(d, "one.png"), 20+i, 18)
		writePNG(t, filepath.Join(d, "two.png"), 17, 24)
	}
	os.WriteFile(filepath.Join(a, "bad.png"), []byte("\x89PNG\r\n\x1a\n garbage"), 0o644)
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCLI("train", "--a", a, "--b", b, "--out", out, "--size", "16", "--load-size", "18",
		"--ngf", "4", "--ndf", "4", "--blocks", "1", "--critic-layers", "2", "--steps", "4", "--sample-every", "0", "--save-every", "0")
	if code != 0 {
		t.Fatalf("train failed: %s", stderr)
	}
	if !strings.Contains(stderr, "bad.png") || !strings.Contains(stderr, "skipped 1 unreadable image(s)") {
		t.Fatalf("no warning or count for the corrupt file: %q", stderr)
	}
	if !strings.Contains(stdout, "trained 4 steps") {
		t.Fatalf("stdout %q", stdout)
	}
}

func TestTrainMaxPixelsSkipsLargeImages(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for i, d := range []string{a, b} {
		writePNG(t, filepath.Join(d, "one.png"), 20+i, 18)
	}
	writePNG(t, filepath.Join(a, "huge.png"), 80, 60) // 4800 pixels
	out := filepath.Join(t.TempDir(), "run")
	code, _, stderr := runCLI("train", "--a", a, "--b", b, "--out", out, "--size", "16", "--load-size", "18",
		"--ngf", "4", "--ndf", "4", "--blocks", "1", "--critic-layers", "2", "--steps", "3", "--sample-every", "0", "--save-every", "0",
		"--max-pixels", "1000")
	if code != 0 {
		t.Fatalf("train failed: %s", stderr)
	}
	if !strings.Contains(stderr, "huge.png") || !strings.Contains(stderr, "skipped 1 unreadable image(s)") {
		t.Fatalf("the image over --max-pixels was not skipped and counted: %q", stderr)
	}
	code, _, stderr = runCLI("train", "--a", a, "--b", b, "--out", out, "--max-pixels", "0")
	assertOneLineError(t, code, stderr, "--max-pixels")
}

func TestTrainDefaultsToSeasons(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runCLI("train", "--out", out, "--size", "16",
		"--ngf", "4", "--ndf", "4", "--blocks", "1", "--critic-layers", "2", "--steps", "2", "--sample-every", "0", "--save-every", "0")
	if code != 0 {
		t.Fatalf("train without data failed: %s", stderr)
	}
	if !strings.Contains(stdout, "trained 2 steps") {
		t.Fatalf("stdout %q", stdout)
	}
	cfg, err := os.ReadFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cfg), `"seasons"`) {
		t.Fatalf("config.json does not name the seasons toy: %s", cfg)
	}
}
