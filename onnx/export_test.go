package onnx

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/doggogan/doggogan/nn"
	"github.com/doggogan/doggogan/tensor"
)

// randomGenerator returns a generator with every parameter (biases
// included) drawn from normal(0, 0.1), so that its output is far from the
// trivial one of the tiny default init.
func randomGenerator(ngf, blocks int, seed uint64) *cyclegan.Generator {
	g := cyclegan.NewGenerator(ngf, blocks)
	rng := tensor.NewRNG(seed)
	for _, p := range nn.Params(g, "") {
		d := p.T.Float32s()
		for i := range d {
			d[i] = float32(0.1 * rng.NormFloat64())
		}
	}
	return g
}

func randomImage(rng *tensor.RNG, shape ...int) *tensor.Tensor {
	x := tensor.Zeros(shape...)
	d := x.Float32s()
	for i := range d {
		d[i] = float32(2*rng.Float64() - 1)
	}
	return x
}

func forward(g *cyclegan.Generator, x *tensor.Tensor) []float32 {
	ps := nn.Params(g, "")
	for _, p := range ps {
		p.T.SetRequiresGrad(false)
	}
	return g.Forward(x).Float32s()
}

func attr(n *Node, name string) *Attribute {
	for _, a := range n.Attribute {
		if a.Name == name {
			return a
		}
	}
	return nil
}

func TestExportStructure(t *testing.T) {
	const ngf, blocks = 4, 3
	g := randomGenerator(ngf, blocks, 1)
	m, err := FromGenerator(g, Options{Metadata: map[string]string{"doggogan.direction": "a2b"}})
	if err != nil {
		t.Fatal(err)
	}
	back, err := Unmarshal(m.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if back.IRVersion != IRVersion || len(back.OpsetImport) != 1 || back.OpsetImport[0].Version != Opset || back.OpsetImport[0].Domain != "" {
		t.Fatalf("ir %d opsets %+v", back.IRVersion, back.OpsetImport)
	}
	if back.ProducerName != "doggogan" {
		t.Errorf("producer %q", back.ProducerName)
	}
	meta := map[string]string{}
	for _, e := range back.MetadataProps {
		meta[e.Key] = e.Value
	}
	if meta["doggogan.ngf"] != "4" || meta["doggogan.blocks"] != "3" || meta["doggogan.direction"] != "a2b" {
		t.Errorf("metadata %v", meta)
	}
	gr := back.Graph
	if len(gr.Input) != 1 || len(gr.Output) != 1 {
		t.Fatalf("%d inputs, %d outputs", len(gr.Input), len(gr.Output))
	}
	for _, vi := range []*ValueInfo{gr.Input[0], gr.Output[0]} {
		want := []Dim{{Param: "N"}, {Value: 3}, {Param: "H"}, {Param: "W"}}
		if vi.Type == nil || vi.Type.ElemType != Float || len(vi.Type.Shape) != 4 {
			t.Fatalf("%s: type %+v", vi.Name, vi.Type)
		}
		for i, d := range vi.Type.Shape {
			if d != want[i] {
				t.Errorf("%s: dim %d is %+v, want %+v", vi.Name, i, d, want[i])
			}
		}
	}
	if gr.Input[0].Name != InputName || gr.Output[0].Name != OutputName {
		t.Errorf("input %q output %q", gr.Input[0].Name, gr.Output[0].Name)
	}

	// Operators: the reference layer list, with one Add per block.
	count := map[string]int{}
	for _, n := range gr.Node {
		count[n.OpType]++
	}
	want := map[string]int{
		"Pad": 2 + 2*blocks, "Conv": 4 + 2*blocks, "ConvTranspose": 2,
		"InstanceNormalization": 5 + 2*blocks, "Relu": 5 + blocks, "Add": blocks, "Tanh": 1,
	}
	for op, n := range want {
		if count[op] != n {
			t.Errorf("%d %s nodes, want %d", count[op], op, n)
		}
	}
	total := 0
	for _, n := range want {
		total += n
	}
	if len(gr.Node) != total {
		t.Errorf("%d nodes in all, want %d", len(gr.Node), total)
	}
	if last := gr.Node[len(gr.Node)-1]; last.OpType != "Tanh" || last.Output[0] != OutputName {
		t.Errorf("last node %s → %v", last.OpType, last.Output)
	}
	// Every node input is the graph input, an initializer or an earlier
	// node's output (topological order).
	known := map[string]bool{InputName: true}
	inits := map[string]*Tensor{}
	for _, in := range gr.Initializer {
		if known[in.Name] {
			t.Errorf("duplicate initializer %q", in.Name)
		}
		known[in.Name] = true
		inits[in.Name] = in
	}
	for _, n := range gr.Node {
		for _, in := range n.Input {
			if !known[in] {
				t.Errorf("node %s (%s) reads %q before it is made", n.Name, n.OpType, in)
			}
		}
		for _, o := range n.Output {
			if known[o] {
				t.Errorf("value %q is made twice", o)
			}
			known[o] = true
		}
	}
	// Attributes of the layers whose semantics matter.
	for _, n := range gr.Node {
		switch n.OpType {
		case "Pad":
			if a := attr(n, "mode"); a == nil || string(a.S) != "reflect" || a.Type != AttrString {
				t.Errorf("%s: mode %+v", n.Name, a)
			}
		case "ConvTranspose":
			if a := attr(n, "output_padding"); a == nil || len(a.Ints) != 2 || a.Ints[0] != 1 || a.Ints[1] != 1 {
				t.Errorf("%s: output_padding %+v", n.Name, a)
			}
			if a := attr(n, "strides"); a == nil || a.Ints[0] != 2 {
				t.Errorf("%s: strides %+v", n.Name, a)
			}
		case "InstanceNormalization":
			if a := attr(n, "epsilon"); a == nil || a.F != float32(1e-5) || a.Type != AttrFloat {
				t.Errorf("%s: epsilon %+v", n.Name, a)
			}
			sc, _ := inits[n.Input[1]].Float32s()
			bi, _ := inits[n.Input[2]].Float32s()
			for i := range sc {
				if sc[i] != 1 || bi[i] != 0 {
					t.Fatalf("%s: scale %v bias %v", n.Name, sc, bi)
				}
			}
		}
	}
	// The weights are the generator's, under their state_dict names.
	for _, p := range nn.Params(g, "") {
		in, ok := inits[p.Name]
		if !ok {
			t.Errorf("no initializer %q", p.Name)
			continue
		}
		v, err := in.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range p.T.Float32s() {
			if v[i] != x {
				t.Fatalf("%s[%d] = %v, want %v", p.Name, i, v[i], x)
			}
		}
		for i, d := range p.T.Shape() {
			if in.Dims[i] != int64(d) {
				t.Errorf("%s dims %v, want %v", p.Name, in.Dims, p.T.Shape())
			}
		}
	}
	pads, _ := inits["pads_reflect_3"].Int64s()
	if len(pads) != 8 || pads[2] != 3 || pads[7] != 3 || pads[0] != 0 || pads[4] != 0 {
		t.Errorf("pads %v", pads)
	}
	// Deterministic bytes.
	if m2, _ := FromGenerator(g, Options{Metadata: map[string]string{"doggogan.direction": "a2b"}}); !bytes.Equal(m2.Marshal(), m.Marshal()) {
		t.Error("two exports of one generator differ")
	}
}

func TestUnmarshalMalformed(t *testing.T) {
	g := randomGenerator(2, 1, 2)
	m, err := FromGenerator(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := m.Marshal()
	// Cutting a valid model short inside a length-delimited field must give
	// an error, never a panic.
	fails := 0
	for _, n := range []int{1, 2, 5, 17, len(b) / 3, len(b) / 2, len(b) - 1} {
		if _, err := Unmarshal(b[:n]); err != nil {
			fails++
			if !strings.HasPrefix(err.Error(), "onnx: ") {
				t.Errorf("error %q", err)
			}
		}
	}
	if fails == 0 {
		t.Error("no truncation was detected")
	}
	for _, bad := range [][]byte{{0xff}, {0x3a, 0x05, 0x0a}, {0x0a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}} {
		if _, err := Unmarshal(bad); err == nil {
			t.Errorf("% x: no error", bad)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	m, _ := FromGenerator(randomGenerator(1, 1, 3), Options{})
	f.Add(m.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := Unmarshal(b); err == nil {
			Unmarshal(m.Marshal())
		}
	})
}

func TestExportRejectsUnknownLayer(t *testing.T) {
	g := randomGenerator(2, 1, 4)
	g.Model.Layers = append(g.Model.Layers, nn.Func(tensor.Sigmoid))
	_, err := FromGenerator(g, Options{})
	if err == nil || !strings.Contains(err.Error(), "model.") || !strings.Contains(err.Error(), "nn.Func") {
		t.Fatalf("error %v", err)
	}
}

func TestWriteReadFile(t *testing.T) {
	m, err := FromGenerator(randomGenerator(2, 1, 5), Options{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "g.onnx")
	if err := WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Marshal(), m.Marshal()) {
		t.Error("the file does not read back to the same model")
	}
	os.WriteFile(path, []byte{0x0a, 0x09}, 0o644)
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v does not name the file", err)
	}
}

// ortRunner finds node and onnxruntime-node. It skips the test when either
// is missing, except under CI=true, where that is a failure.
func ortRunner(t *testing.T) (node, script string) {
	t.Helper()
	script, _ = filepath.Abs(filepath.Join("testdata", "run_ort.js"))
	dir := os.Getenv("DOGGOGAN_ORT_DIR")
	if dir == "" {
		dir = filepath.Join("testdata", "ort")
	}
	missing := func(what string) {
		msg := what + `: the ONNX Runtime test needs node and onnxruntime-node; install them with
	apt-get install nodejs npm && npm install --prefix onnx/testdata/ort --ignore-scripts --no-audit --no-fund onnxruntime-node
(or point DOGGOGAN_ORT_DIR at a folder holding node_modules/onnxruntime-node)`
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		missing("onnxruntime-node is not installed in " + dir)
	}
	return node, script
}

func writeFloats(t *testing.T, path string, v []float32) {
	t.Helper()
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFloats(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

type ortRun struct {
	Input  string `json:"input"`
	Dims   []int  `json:"dims"`
	Output string `json:"output"`
}

// runORT runs model in ONNX Runtime on each input and returns the outputs
// with their dims, and the runtime's version.
func runORT(t *testing.T, model string, inputs []*tensor.Tensor) (outs [][]float32, dims [][]int, version string) {
	t.Helper()
	node, script := ortRunner(t)
	dir := t.TempDir()
	var runs []ortRun
	for i, x := range inputs {
		r := ortRun{Input: filepath.Join(dir, fmt.Sprintf("in%d.bin", i)), Dims: x.Shape(), Output: filepath.Join(dir, fmt.Sprintf("out%d.bin", i))}
		writeFloats(t, r.Input, x.Float32s())
		runs = append(runs, r)
	}
	job, _ := json.Marshal(map[string]any{"model": model, "runs": runs})
	jobPath := filepath.Join(dir, "job.json")
	if err := os.WriteFile(jobPath, job, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, script, jobPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("onnxruntime: %v\n%s", err, stderr.String())
	}
	var res struct {
		ORT  string `json:"ort"`
		Runs []struct {
			Dims []int `json:"dims"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Runs) != len(inputs) {
		t.Fatalf("bad runner output %q: %v", out, err)
	}
	for i, r := range runs {
		outs = append(outs, readFloats(t, r.Output))
		dims = append(dims, res.Runs[i].Dims)
	}
	return outs, dims, res.ORT
}

func compare(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	maxDiff, spread := 0.0, 0.0
	for j := range got {
		maxDiff = math.Max(maxDiff, math.Abs(float64(got[j]-want[j])))
		spread = math.Max(spread, math.Abs(float64(want[j])))
	}
	t.Logf("%s: max abs difference %.3g (max |output| %.3f)", what, maxDiff, spread)
	if maxDiff > 1e-4 {
		t.Errorf("%s: max abs difference %.3g exceeds 1e-4", what, maxDiff)
	}
	if spread < 0.5 {
		t.Errorf("%s: output is nearly zero (max %.3g); the test would prove little", what, spread)
	}
}

// TestONNXRuntimeParity runs one exported file in ONNX Runtime at two image
// sizes (and two batch sizes) and compares with doggogan's own forward pass.
func TestONNXRuntimeParity(t *testing.T) {
	g := randomGenerator(8, 2, 6)
	m, err := FromGenerator(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "g.onnx")
	if err := WriteFile(model, m); err != nil {
		t.Fatal(err)
	}
	rng := tensor.NewRNG(7)
	inputs := []*tensor.Tensor{randomImage(rng, 1, 3, 32, 32), randomImage(rng, 2, 3, 24, 40)}
	outs, dims, version := runORT(t, model, inputs)
	for i, x := range inputs {
		s := x.Shape()
		if d := dims[i]; len(d) != 4 || d[0] != s[0] || d[1] != 3 || d[2] != s[2] || d[3] != s[3] {
			t.Errorf("input %v: ONNX Runtime gave dims %v", s, d)
			continue
		}
		compare(t, fmt.Sprintf("ONNX Runtime %s vs doggogan, input %v", version, s), outs[i], forward(g, x))
	}
}

// TestONNXRuntimeMatchesPyTorch closes the loop: a generator trained in
// PyTorch (reference ResnetGenerator state_dict), exported by doggogan and
// run by ONNX Runtime gives what PyTorch gave.
func TestONNXRuntimeMatchesPyTorch(t *testing.T) {
	fix := filepath.Join("..", "cyclegan", "testdata", "parity")
	g, _, err := cyclegan.LoadGenerator(filepath.Join(fix, "torch_G.pth"), cyclegan.A2B)
	if err != nil {
		t.Fatal(err)
	}
	io, _, err := cyclegan.ReadState(filepath.Join(fix, "torch_io.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := FromGenerator(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "torch_G.onnx")
	if err := WriteFile(model, m); err != nil {
		t.Fatal(err)
	}
	outs, _, version := runORT(t, model, []*tensor.Tensor{io["input"]})
	compare(t, "ONNX Runtime "+version+" (torch_G.pth exported) vs PyTorch", outs[0], io["output_G"].Float32s())
}
