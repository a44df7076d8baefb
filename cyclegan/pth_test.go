package cyclegan

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/safetensors"
	"github.com/doggogan/doggogan/tensor"
)

// The parity fixtures in testdata/parity come from two sides:
//
//   - doggogan_G.safetensors and doggogan_io.safetensors (input, output)
//     are written by this package: go test ./cyclegan -run TestParityFixtures -write-parity-fixtures
//   - torch_*.pth, torch_io.safetensors and doggogan_torch_out.safetensors
//     are written by PyTorch (the reference ResnetGenerator, built layer for
//     layer): /usr/bin/python3 scripts/make_parity_fixtures.py
//
// The script also loads doggogan_G.safetensors into PyTorch and records
// the difference in parity.json.
var writeParity = flag.Bool("write-parity-fixtures", false, "rewrite testdata/parity/doggogan_*.safetensors (then rerun scripts/make_parity_fixtures.py)")

const parityDir = "testdata/parity"

// parityTolerance is the largest absolute difference allowed between
// doggogan's and PyTorch's float32 outputs.
const parityTolerance = 1e-4

// randomizeParams draws every parameter, biases included, from
// normal(0, std): far from the tiny init, so outputs are not near zero.
func randomizeParams(m nn.Module, std float64, seed uint64) {
	rng := tensor.NewRNG(seed)
	for _, p := range nn.Params(m, "") {
		d := p.T.Float32s()
		for i := range d {
			d[i] = float32(std * rng.NormFloat64())
		}
	}
}

func generatorOutput(t *testing.T, g *Generator, x *tensor.Tensor) []float32 {
	t.Helper()
	var out *tensor.Tensor
	noGrad(func() { out = g.Forward(x) }, g)
	return out.Float32s()
}

func maxAbsDiff(t *testing.T, got, want []float32) (diff, spread float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d", len(got), len(want))
	}
	for i := range got {
		diff = math.Max(diff, math.Abs(float64(got[i]-want[i])))
		spread = math.Max(spread, math.Abs(float64(want[i])))
	}
	return diff, spread
}

func readFixture(t *testing.T, name string) map[string]*tensor.Tensor {
	t.Helper()
	st, _, err := ReadState(filepath.Join(parityDir, name))
	if err != nil {
		t.Fatalf("%v (regenerate the fixtures as described in pth_test.go)", err)
	}
	return st
}

func TestParityFixtures(t *testing.T) {
	if !*writeParity {
		t.Skip("pass -write-parity-fixtures to rewrite the doggogan side of the parity fixtures")
	}
	g := NewGenerator(4, 2)
	randomizeParams(g, 0.1, 20240601)
	x := tensor.Zeros(1, 3, 32, 32)
	rng := tensor.NewRNG(20240602)
	for i, d := 0, x.Float32s(); i < len(d); i++ {
		d[i] = float32(2*rng.Float64() - 1)
	}
	y := generatorOutput(t, g, x)
	if err := os.MkdirAll(parityDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := SaveModule(filepath.Join(parityDir, "doggogan_G.safetensors"), g, map[string]string{"doggogan.fixture": "parity, ngf 4, 2 blocks, normal(0, 0.1)"}); err != nil {
		t.Fatal(err)
	}
	err := safetensors.WriteFile(filepath.Join(parityDir, "doggogan_io.safetensors"), []safetensors.Tensor{
		safetensors.Float32Tensor("input", x.Shape(), x.Float32s()),
		safetensors.Float32Tensor("output", []int{1, 3, 32, 32}, y),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("wrote", parityDir, "doggogan_*.safetensors; now run /usr/bin/python3 scripts/make_parity_fixtures.py")
}

// TestPthParity loads reference ResnetGenerator state_dicts saved by
// torch.save and matches PyTorch's outputs: plain, built with use_dropout
// (shifted block indices) and saved from nn.DataParallel ("module.").
func TestPthParity(t *testing.T) {
	io := readFixture(t, "torch_io.safetensors")
	x := io["input"]
	for _, c := range []struct {
		file, output string
		ngf, blocks  int
	}{
		{"torch_G.pth", "output_G", 8, 2},
		{"torch_G_dropout.pth", "output_G_dropout", 4, 1},
		{"torch_G_dataparallel.pth", "output_G_dataparallel", 4, 1},
	} {
		g, cfg, err := LoadGenerator(filepath.Join(parityDir, c.file), A2B)
		if err != nil {
			t.Fatal(err)
		}
		if cfg != nil || g.NGF != c.ngf || g.Blocks != c.blocks {
			t.Errorf("%s: ngf %d blocks %d (config %v), want %d, %d", c.file, g.NGF, g.Blocks, cfg, c.ngf, c.blocks)
		}
		diff, spread := maxAbsDiff(t, generatorOutput(t, g, x), io[c.output].Float32s())
		t.Logf("%s: max |doggogan − PyTorch| = %.3g (max |output| %.3f)", c.file, diff, spread)
		if diff > parityTolerance {
			t.Errorf("%s: max abs difference %.3g from PyTorch exceeds %g", c.file, diff, parityTolerance)
		}
		if spread < 0.5 {
			t.Errorf("%s: PyTorch's output is nearly zero (max %.3g); the fixture proves little", c.file, spread)
		}
	}
}

// TestSafetensorsParity checks the other direction: PyTorch ran doggogan's
// safetensors checkpoint (scripts/make_parity_fixtures.py); doggogan must
// still produce what PyTorch produced from it.
func TestSafetensorsParity(t *testing.T) {
	g, _, err := LoadGenerator(filepath.Join(parityDir, "doggogan_G.safetensors"), A2B)
	if err != nil {
		t.Fatal(err)
	}
	io := readFixture(t, "doggogan_io.safetensors")
	torchOut := readFixture(t, "doggogan_torch_out.safetensors")["output"]
	got := generatorOutput(t, g, io["input"])
	diff, spread := maxAbsDiff(t, got, torchOut.Float32s())
	t.Logf("doggogan_G.safetensors: max |doggogan − PyTorch| = %.3g (max |output| %.3f)", diff, spread)
	if diff > parityTolerance {
		t.Errorf("max abs difference %.3g from PyTorch exceeds %g", diff, parityTolerance)
	}
	if spread < 0.5 {
		t.Errorf("PyTorch's output is nearly zero (max %.3g)", spread)
	}
	if diff, _ := maxAbsDiff(t, got, io["output"].Float32s()); diff > parityTolerance {
		t.Errorf("doggogan's output moved by %.3g since the fixture was written", diff)
	}
}

// referenceState returns the state of a random generator, keyed as the
// reference names it.
func referenceState(ngf, blocks int) (*Generator, map[string]*tensor.Tensor) {
	g := NewGenerator(ngf, blocks)
	randomizeParams(g, 0.1, 7)
	st := map[string]*tensor.Tensor{}
	for _, p := range nn.Params(g, "") {
		st[p.Name] = p.T.Detach()
	}
	return g, st
}

func TestGeneratorFromStateVariants(t *testing.T) {
	ref, st := referenceState(4, 2)
	x := tensor.Zeros(1, 3, 16, 16)
	for i, d := 0, x.Float32s(); i < len(d); i++ {
		d[i] = float32(math.Sin(float64(i)))
	}
	want := generatorOutput(t, ref, x)

	prefixed := map[string]*tensor.Tensor{}
	dropout := map[string]*tensor.Tensor{}
	for k, v := range st {
		prefixed["module."+k] = v
		dropout[strings.Replace(k, ".conv_block.5.", ".conv_block.6.", 1)] = v
	}
	both := map[string]*tensor.Tensor{}
	for k, v := range dropout {
		both["module."+k] = v
	}
	// Instance norms saved by PyTorch before 0.4 carried running statistics.
	stats := map[string]*tensor.Tensor{}
	for k, v := range st {
		stats[k] = v
	}
	for _, i := range []int{2, 5, 8} {
		c := []int{4, 8, 16}[i/3]
		stats[fmt.Sprintf("model.%d.running_mean", i)] = tensor.Zeros(c)
		stats[fmt.Sprintf("model.%d.running_var", i)] = tensor.Full(tensor.Float32, 1, c)
	}
	stats["model.10.conv_block.2.num_batches_tracked"] = tensor.Zeros(1)
	for name, s := range map[string]map[string]*tensor.Tensor{
		"plain": st, "module.": prefixed, "dropout": dropout, "module.+dropout": both, "running stats": stats,
	} {
		n := len(s)
		g, err := GeneratorFromState(s)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(s) != n {
			t.Errorf("%s: the caller's map was changed", name)
		}
		if g.NGF != 4 || g.Blocks != 2 {
			t.Errorf("%s: ngf %d blocks %d", name, g.NGF, g.Blocks)
		}
		if d, _ := maxAbsDiff(t, generatorOutput(t, g, x), want); d != 0 {
			t.Errorf("%s: output differs by %g", name, d)
		}
	}
	if _, ok := dropout["model.10.conv_block.6.weight"]; !ok {
		t.Fatal("the dropout variant was not built")
	}
}

func TestGeneratorFromStateErrors(t *testing.T) {
	edit := func(f func(st map[string]*tensor.Tensor)) map[string]*tensor.Tensor {
		_, st := referenceState(4, 1)
		f(st)
		return st
	}
	for _, c := range []struct {
		name string
		st   map[string]*tensor.Tensor
		want []string
	}{
		{"unknown keys", edit(func(st map[string]*tensor.Tensor) {
			st["model.99.weight"] = tensor.Zeros(1)
			st["extra"] = tensor.Zeros(1)
		}), []string{"2 unknown", `"extra"`, `"model.99.weight"`}},
		{"missing key", edit(func(st map[string]*tensor.Tensor) { delete(st, "model.4.bias") }),
			[]string{"1 missing", `"model.4.bias" [8]`}},
		{"wrong shape", edit(func(st map[string]*tensor.Tensor) { st["model.4.weight"] = tensor.Zeros(8, 4, 5, 5) }),
			[]string{`"model.4.weight"`, "[8 4 5 5]", "[8 4 3 3]"}},
		{"batch norm", edit(func(st map[string]*tensor.Tensor) {
			st["model.2.weight"] = tensor.Zeros(4)
			st["model.2.bias"] = tensor.Zeros(4)
			st["model.2.running_mean"] = tensor.Zeros(4)
		}), []string{"norm='batch'", `"model.2.weight"`}},
		{"grey input", edit(func(st map[string]*tensor.Tensor) { st["model.1.weight"] = tensor.Zeros(4, 1, 7, 7) }),
			[]string{"3-channel", "[4 1 7 7]"}},
		{"grey output", edit(func(st map[string]*tensor.Tensor) {
			st["model.18.weight"] = tensor.Zeros(1, 4, 7, 7)
			st["model.18.bias"] = tensor.Zeros(1)
		}), []string{"output_nc 1", `"model.18.weight"`}},
		{"not a generator", map[string]*tensor.Tensor{"model.0.weight": tensor.Zeros(8, 3, 4, 4)}, []string{`"model.1.weight"`}},
	} {
		_, err := GeneratorFromState(c.st)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %s", c.name, err, w)
			}
		}
	}
}

func TestLoadBadPth(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(parityDir, "torch_G_dropout.pth"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"cut.pth", b[:len(b)/2]},
		{"empty.pth", nil},
		{"noise.pth", []byte("PK\x03\x04 this is not a zip file")},
	} {
		p := filepath.Join(dir, c.name)
		os.WriteFile(p, c.data, 0o644)
		if _, _, err := LoadGenerator(p, A2B); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v does not name the file", c.name, err)
		}
	}
	// A zip-format torch file under another extension is still recognised.
	p := filepath.Join(dir, "latest_net_G_A")
	os.WriteFile(p, b, 0o644)
	if _, _, err := LoadGenerator(p, A2B); err != nil {
		t.Errorf("extension-less .pth: %v", err)
	}
	if _, _, err := LoadGenerator(filepath.Join(dir, "absent.pth"), A2B); err == nil || !strings.Contains(err.Error(), "absent.pth") {
		t.Errorf("missing file: %v", err)
	}
}

func TestImportRun(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	a2b := filepath.Join(parityDir, "torch_G.pth")
	cfg, err := ImportRun(run, map[Direction]string{A2B: a2b})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.NGF != 8 || cfg.Blocks != 2 || cfg.Imported == nil || !strings.HasSuffix(cfg.Imported.A2B, "torch_G.pth") || cfg.Imported.B2A != "" {
		t.Fatalf("config %+v imported %+v", cfg, cfg.Imported)
	}
	saved, err := ReadConfig(filepath.Join(run, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if saved.Imported == nil || saved.NGF != 8 || saved.Blocks != 2 {
		t.Errorf("config.json: %+v", saved)
	}
	// translate/serve/export read the run like a trained one, with the
	// same weights as the .pth.
	g, rcfg, err := LoadGenerator(run, A2B)
	if err != nil {
		t.Fatal(err)
	}
	if rcfg == nil || rcfg.Imported == nil {
		t.Error("LoadGenerator did not return the imported config")
	}
	direct, _, err := LoadGenerator(a2b, A2B)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.Zeros(1, 3, 8, 8)
	for i, d := 0, x.Float32s(); i < len(d); i++ {
		d[i] = float32(math.Cos(float64(i)))
	}
	if d, _ := maxAbsDiff(t, generatorOutput(t, g, x), generatorOutput(t, direct, x)); d != 0 {
		t.Errorf("imported run differs from the .pth by %g", d)
	}
	// The direction that was not imported is reported as such.
	if _, _, err := LoadGenerator(run, B2A); err == nil || !strings.Contains(err.Error(), "no G_B generator") {
		t.Errorf("b2a: %v", err)
	}
	// Training refuses it, resumed or not.
	if _, err := NewTrainer(Config{}, run, TrainerOptions{Resume: true}); !errors.Is(err, ErrImportedRun) {
		t.Errorf("resume: %v", err)
	}
	toy := DefaultConfig()
	toy.Toy = "seasons"
	if _, err := NewTrainer(toy, run, TrainerOptions{}); !errors.Is(err, ErrRunExists) {
		t.Errorf("new run over the import: %v", err)
	}
	// And a second import does not overwrite it.
	if _, err := ImportRun(run, map[Direction]string{B2A: a2b}); !errors.Is(err, ErrRunExists) {
		t.Errorf("second import: %v", err)
	}
}

func TestImportRunBothDirections(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	_, err := ImportRun(run, map[Direction]string{A2B: filepath.Join(parityDir, "torch_G_dropout.pth"), B2A: filepath.Join(parityDir, "torch_G_dataparallel.pth")})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []Direction{A2B, B2A} {
		if _, _, err := LoadGenerator(run, d); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	// Two architectures cannot share a run.
	_, err = ImportRun(filepath.Join(t.TempDir(), "mixed"), map[Direction]string{A2B: filepath.Join(parityDir, "torch_G.pth"), B2A: filepath.Join(parityDir, "torch_G_dropout.pth")})
	if err == nil || !strings.Contains(err.Error(), "one architecture") {
		t.Errorf("mixed: %v", err)
	}
}

// Load a generator saved by the PyTorch CycleGAN reference
// (torch.save(netG.state_dict(), "latest_net_G_A.pth")); its architecture is
// read off the tensor shapes.
func ExampleLoadGenerator_pth() {
	g, _, err := LoadGenerator("testdata/parity/torch_G.pth", A2B)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("ngf %d, %d residual blocks\n", g.NGF, g.Blocks)
	// Output: ngf 8, 2 residual blocks
}
