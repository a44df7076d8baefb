package main

import (
	"bytes"
	"image"
	"image/color"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/doggogan/doggogan/data"
	"github.com/doggogan/doggogan/onnx"
)

// parityFixture is a reference ResnetGenerator (ngf 8, 2 blocks) saved by
// torch.save; see scripts/make_parity_fixtures.py.
func parityFixture(name string) string {
	return filepath.Join("..", "..", "cyclegan", "testdata", "parity", name)
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runCLI(args...)
	if code != 0 {
		t.Fatalf("doggogan %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// mustFail runs a command that must fail with a one-line message holding
// every want.
func mustFail(t *testing.T, args []string, want ...string) {
	t.Helper()
	code, _, errOut := runCLI(args...)
	if code == 0 {
		t.Fatalf("doggogan %s: succeeded", strings.Join(args, " "))
	}
	if strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.HasPrefix(errOut, "doggogan: ") {
		t.Errorf("doggogan %s: message is not one line: %q", strings.Join(args, " "), errOut)
	}
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			t.Errorf("doggogan %s: %q does not mention %q", strings.Join(args, " "), errOut, w)
		}
	}
}

func samePixels(t *testing.T, a, b string) {
	t.Helper()
	ia, err := data.DecodeFile(a, data.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ib, err := data.DecodeFile(b, data.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ia.Bounds() != ib.Bounds() {
		t.Fatalf("%s is %v, %s is %v", a, ia.Bounds(), b, ib.Bounds())
	}
	r := ia.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if ia.At(x, y) != ib.At(x, y) {
				t.Fatalf("%s and %s differ at (%d, %d)", a, b, x, y)
			}
		}
	}
}

func TestImportTranslateExport(t *testing.T) {
	pth := parityFixture("torch_G.pth")
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	out := mustRun(t, "import", "--from", pth, "--out", run)
	if !strings.Contains(out, "ngf 8, 2 residual blocks") || !strings.Contains(out, "--model "+run) {
		t.Errorf("import said %q", out)
	}

	img := image.NewNRGBA(image.Rect(0, 0, 21, 13)) // not a multiple of 4
	for y := 0; y < 13; y++ {
		for x := 0; x < 21; x++ {
			img.Set(x, y, color.NRGBA{uint8(12 * x), uint8(19 * y), uint8(7 * (x + y)), 255})
		}
	}
	in := filepath.Join(dir, "in.png")
	if err := data.SaveImage(in, img); err != nil {
		t.Fatal(err)
	}
	fromRun, fromPth := filepath.Join(dir, "run.png"), filepath.Join(dir, "pth.png")
	mustRun(t, "translate", "--model", run, "--in", in, "--out", fromRun)
	mustRun(t, "translate", "--model", pth, "--in", in, "--out", fromPth)
	samePixels(t, fromRun, fromPth)
	// The translation is the generator's, not a copy of the input.
	g, _, err := cyclegan.LoadGenerator(pth, cyclegan.A2B)
	if err != nil {
		t.Fatal(err)
	}
	res, err := g.Translate(img)
	if err != nil {
		t.Fatal(err)
	}
	direct := filepath.Join(dir, "direct.png")
	data.SaveImage(direct, res)
	samePixels(t, fromPth, direct)

	mustFail(t, []string{"translate", "--model", run, "--direction", "b2a", "--in", in, "--out", filepath.Join(dir, "x.png")}, "no G_B generator")
	mustFail(t, []string{"train", "--resume", "--out", run}, "imported", "cannot be trained")
	mustFail(t, []string{"import", "--from", pth, "--out", run}, "already holds checkpoints")
	mustFail(t, []string{"import", "--from", filepath.Join(dir, "absent.pth"), "--out", filepath.Join(dir, "r2")}, "absent.pth")
	mustFail(t, []string{"import", "--from", in, "--out", filepath.Join(dir, "r3")}, "in.png")
	mustFail(t, []string{"import", "--out", filepath.Join(dir, "r4")}, "--from")

	// Export from the run and from the .pth: the same weights.
	fromRunONNX, fromPthONNX := filepath.Join(dir, "run.onnx"), filepath.Join(dir, "sub", "pth.onnx")
	out = mustRun(t, "export", "--model", run, "--onnx", fromRunONNX)
	if !strings.Contains(out, "opset 18") || !strings.Contains(out, "multiples of 4") {
		t.Errorf("export said %q", out)
	}
	mustRun(t, "export", "--model", pth, "--direction", "a2b", "--onnx", fromPthONNX)
	ma, err := onnx.ReadFile(fromRunONNX)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := onnx.ReadFile(fromPthONNX)
	if err != nil {
		t.Fatal(err)
	}
	if len(ma.Graph.Initializer) != len(mb.Graph.Initializer) || len(ma.Graph.Node) != len(mb.Graph.Node) {
		t.Fatalf("run export has %d initializers and %d nodes, .pth export %d and %d",
			len(ma.Graph.Initializer), len(ma.Graph.Node), len(mb.Graph.Initializer), len(mb.Graph.Node))
	}
	for i, in := range ma.Graph.Initializer {
		if in.Name != mb.Graph.Initializer[i].Name || !bytes.Equal(in.RawData, mb.Graph.Initializer[i].RawData) {
			t.Errorf("initializer %q differs", in.Name)
		}
	}
	meta := map[string]string{}
	for _, e := range mb.MetadataProps {
		meta[e.Key] = e.Value
	}
	if meta["doggogan.direction"] != "a2b" || meta["doggogan.source"] != "torch_G.pth" || meta["doggogan.ngf"] != "8" {
		t.Errorf("metadata %v", meta)
	}
	if ma.OpsetImport[0].Version != onnx.Opset {
		t.Errorf("opset %v", ma.OpsetImport)
	}
	mustFail(t, []string{"export", "--model", run}, "--onnx")
	mustFail(t, []string{"export", "--model", run, "--direction", "sideways", "--onnx", fromRunONNX}, "sideways")
}

func TestImportBothDirections(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	out := mustRun(t, "import", "--direction", "b2a", "--from", parityFixture("torch_G_dropout.pth"),
		"--reverse", parityFixture("torch_G_dataparallel.pth"), "--out", run)
	if !strings.Contains(out, "(a2b)") || !strings.Contains(out, "(b2a)") || !strings.Contains(out, "ngf 4, 1 residual blocks") {
		t.Errorf("import said %q", out)
	}
	cfg, err := cyclegan.ReadConfig(filepath.Join(run, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(cfg.Imported.B2A, "torch_G_dropout.pth") || !strings.HasSuffix(cfg.Imported.A2B, "torch_G_dataparallel.pth") {
		t.Errorf("imported %+v", cfg.Imported)
	}
	for _, d := range []string{"a2b", "b2a"} {
		mustRun(t, "export", "--model", run, "--direction", d, "--onnx", filepath.Join(filepath.Dir(run), d+".onnx"))
	}
}
