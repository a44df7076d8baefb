package torchpth

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// expected mirrors the JSON written by scripts/make_torch_fixtures.py.
type expected struct {
	Tensors []struct {
		Name       string `json:"name"`
		DType      string `json:"dtype"`
		Shape      []int  `json:"shape"`
		Contiguous bool   `json:"contiguous"`
		Data       []any  `json:"data"`
	} `json:"tensors"`
}

func loadExpected(t *testing.T, path string) expected {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func jsonFloat(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return x
	case string:
		switch x {
		case "inf":
			return math.Inf(1)
		case "-inf":
			return math.Inf(-1)
		case "nan":
			return math.NaN()
		}
	}
	t.Fatalf("bad number %#v", v)
	return 0
}

// compare checks tensors against the expected JSON exactly: names in order,
// dtypes, shapes and every value bit for bit (NaN as NaN, -0 as -0).
func compare(t *testing.T, got []Tensor, want expected) {
	t.Helper()
	if len(got) != len(want.Tensors) {
		names := make([]string, len(got))
		for i, g := range got {
			names[i] = g.Name
		}
		t.Fatalf("%d tensors %q, want %d", len(got), names, len(want.Tensors))
	}
	for i, w := range want.Tensors {
		g := got[i]
		if g.Name != w.Name || g.DType != w.DType || !slices.Equal(g.Shape, w.Shape) {
			t.Errorf("tensor %d: %q %s %v, want %q %s %v", i, g.Name, g.DType, g.Shape, w.Name, w.DType, w.Shape)
			continue
		}
		if len(g.Data) != len(w.Data) {
			t.Errorf("%q: %d values, want %d", g.Name, len(g.Data), len(w.Data))
			continue
		}
		for j, wv := range w.Data {
			want := jsonFloat(t, wv)
			gv := float64(g.Data[j])
			if math.IsNaN(want) {
				if !math.IsNaN(gv) {
					t.Errorf("%q[%d] = %v, want NaN", g.Name, j, gv)
				}
				continue
			}
			if gv != want || math.Signbit(gv) != math.Signbit(want) {
				t.Errorf("%q[%d] = %v, want %v", g.Name, j, gv, want)
			}
		}
	}
}

func TestLoadStateDict(t *testing.T) {
	got, err := Load("testdata/state_dict.pth")
	if err != nil {
		t.Fatal(err)
	}
	want := loadExpected(t, "testdata/state_dict.json")
	compare(t, got, want)
	// The fixture must really exercise strided views.
	var views int
	for _, w := range want.Tensors {
		if !w.Contiguous {
			views++
		}
	}
	if views < 2 {
		t.Errorf("fixture has %d non-contiguous tensors, want at least 2", views)
	}
	m := ByName(got)
	if tr := m["transposed"]; !slices.Equal(tr.Shape, []int{4, 3}) || tr.Data[1] != m["transposed"].Data[1] {
		t.Errorf("ByName: %+v", tr)
	}
}

func TestLoadWrappedCheckpoint(t *testing.T) {
	got, err := Load("testdata/checkpoint.pth")
	if err != nil {
		t.Fatal(err)
	}
	compare(t, got, loadExpected(t, "testdata/state_dict.json"))
}

func TestLoadNestedStateDicts(t *testing.T) {
	got, err := Load("testdata/multi.pth")
	if err != nil {
		t.Fatal(err)
	}
	compare(t, got, loadExpected(t, "testdata/multi.json"))
}

func TestLegacyFormatRefused(t *testing.T) {
	_, err := Load("testdata/legacy.pth")
	if !errors.Is(err, ErrLegacyFormat) {
		t.Fatalf("error %v, want ErrLegacyFormat", err)
	}
	if !strings.HasPrefix(err.Error(), "testdata/legacy.pth: legacy (pre-1.6") || !strings.Contains(err.Error(), "save it again") {
		t.Errorf("error %q", err)
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "junk.pth")
	if err := os.WriteFile(path, []byte("this is not a checkpoint"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), path+": not a loadable PyTorch state_dict: not a zip archive") {
		t.Errorf("error %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.pth")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(dir); !errors.Is(err, ErrFormat) {
		t.Errorf("directory: %v", err)
	}
}

// TestTruncatedFiles cuts a real checkpoint at every length: each must give
// an error, never a panic.
func TestTruncatedFiles(t *testing.T) {
	b, err := os.ReadFile("testdata/state_dict.pth")
	if err != nil {
		t.Fatal(err)
	}
	step := 1
	if testing.Short() {
		step = 7
	}
	for n := 0; n < len(b); n += step {
		if _, err := Read(bytes.NewReader(b[:n]), int64(n)); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(b))
		}
	}
}

// TestCorruptedBytes flips bytes of a real checkpoint; the zip CRC-32 or the
// structure checks must catch each (or the result must be well-formed).
func TestCorruptedBytes(t *testing.T) {
	b, err := os.ReadFile("testdata/state_dict.pth")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(b); i += 3 {
		c := slices.Clone(b)
		c[i] ^= 0x5a
		ts, err := Read(bytes.NewReader(c), int64(len(c)))
		if err == nil {
			checkWellFormed(t, ts)
		}
	}
}

func checkWellFormed(t *testing.T, ts []Tensor) {
	t.Helper()
	for _, x := range ts {
		n := 1
		for _, d := range x.Shape {
			n *= d
		}
		if n != len(x.Data) {
			t.Fatalf("%q: shape %v but %d values", x.Name, x.Shape, len(x.Data))
		}
	}
}

// ---- hand-built archives and pickles ----

// pk builds pickles opcode by opcode.
type pk struct{ bytes.Buffer }

func (p *pk) op(b ...byte) *pk { p.Write(b); return p }

func (p *pk) str(s string) *pk {
	p.WriteByte('X')
	p.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(s))))
	p.WriteString(s)
	return p
}

func (p *pk) int(n int64) *pk {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		p.WriteByte('J')
		p.Write(binary.LittleEndian.AppendUint32(nil, uint32(int32(n))))
		return p
	}
	p.op(0x8a, 8)
	p.Write(binary.LittleEndian.AppendUint64(nil, uint64(n)))
	return p
}

func (p *pk) global(mod, name string) *pk {
	p.WriteString("c" + mod + "\n" + name + "\n")
	return p
}

func (p *pk) ints(xs []int64) *pk {
	p.op('(')
	for _, x := range xs {
		p.int(x)
	}
	return p.op('t')
}

// spec describes one tensor entry of a hand-built state_dict.
type spec struct {
	name          string
	class         string // e.g. FloatStorage
	key           string
	numel         int64
	offset        int64
	shape, stride []int64
}

// tensor appends _rebuild_tensor_v2((storage pid), offset, shape, stride,
// False, OrderedDict()).
func (p *pk) tensor(s spec) *pk {
	p.global("torch._utils", "_rebuild_tensor_v2")
	p.op('(')
	p.op('(').str("storage").global("torch", s.class).str(s.key).str("cpu").int(s.numel).op('t', 'Q')
	p.int(s.offset).ints(s.shape).ints(s.stride).op(0x89)
	p.global("collections", "OrderedDict").op(')', 'R')
	return p.op('t', 'R')
}

func stateDictPickle(specs ...spec) []byte {
	var p pk
	p.op(0x80, 2)
	p.global("collections", "OrderedDict").op(')', 'R')
	p.op('(')
	for _, s := range specs {
		p.str(s.name).tensor(s)
	}
	p.op('u', '.')
	return p.Bytes()
}

// archive builds a zip like torch.save's: records under "archive/", stored.
func archive(t *testing.T, records map[string][]byte, method uint16) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(records))
	for k := range records {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "archive/" + k, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(records[k]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func f32bytes(xs ...float32) []byte {
	var b []byte
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func readArchive(b []byte) ([]Tensor, error) {
	return Read(bytes.NewReader(b), int64(len(b)))
}

func TestHandBuiltArchive(t *testing.T) {
	// A 2x3 storage read as itself, as its transpose, and as a strided
	// slice with an offset; plus a parameter-wrapped tensor.
	data := f32bytes(0, 1, 2, 3, 4, 5)
	pkl := stateDictPickle(
		spec{"w", "FloatStorage", "0", 6, 0, []int64{2, 3}, []int64{3, 1}},
		spec{"wt", "FloatStorage", "0", 6, 0, []int64{3, 2}, []int64{1, 3}},
		spec{"col", "FloatStorage", "0", 6, 1, []int64{2}, []int64{3}},
		spec{"s", "FloatStorage", "0", 6, 5, nil, nil},
	)
	ts, err := readArchive(archive(t, map[string][]byte{"data.pkl": pkl, "data/0": data, "version": []byte("3\n")}, zip.Store))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float32{
		"w":   {0, 1, 2, 3, 4, 5},
		"wt":  {0, 3, 1, 4, 2, 5},
		"col": {1, 4},
		"s":   {5},
	}
	if len(ts) != 4 || ts[0].Name != "w" || ts[1].Name != "wt" || ts[2].Name != "col" || ts[3].Name != "s" {
		t.Fatalf("tensors %+v", ts)
	}
	for _, x := range ts {
		if !slices.Equal(x.Data, want[x.Name]) {
			t.Errorf("%q = %v, want %v", x.Name, x.Data, want[x.Name])
		}
	}
	if len(ts[3].Shape) != 0 {
		t.Errorf("scalar shape %v", ts[3].Shape)
	}
}

func TestHostileArchives(t *testing.T) {
	data := f32bytes(0, 1, 2, 3, 4, 5)
	good := spec{"w", "FloatStorage", "0", 6, 0, []int64{2, 3}, []int64{3, 1}}
	with := func(mod func(*spec)) []byte {
		s := good
		mod(&s)
		return stateDictPickle(s)
	}
	rec := func(pkl []byte, extra ...string) map[string][]byte {
		m := map[string][]byte{"data.pkl": pkl, "data/0": data}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = []byte(extra[i+1])
		}
		return m
	}
	// Pickle fragments.
	hugeBytes := append([]byte{0x80, 2, 0x8e}, binary.LittleEndian.AppendUint64(nil, 1<<62)...)
	var listKey pk // an OrderedDict keyed by a bytes object: unhashable in Go
	listKey.op(0x80, 3).global("collections", "OrderedDict").op(')', 'R').op('C', 1, 'x').op('N', 's', '.')
	var cyclic pk // d = {}; d["self"] = d
	cyclic.op(0x80, 2, '}', 'q', 0).str("self").op('h', 0, 's', '.')
	var deepMarks pk
	deepMarks.op(0x80, 2)
	for i := 0; i < 300; i++ {
		deepMarks.op('(')
	}
	var collide pk // {"a.b": t, "a": OrderedDict(b=t)}
	collide.op(0x80, 2, '}', '(').str("a.b").tensor(good).str("a")
	collide.global("collections", "OrderedDict").op(')', 'R', '(').str("b").tensor(good).op('u', 'u', '.')
	var listObj pk
	listObj.op(0x80, 2, ']', '.')

	cases := []struct {
		name string
		zip  []byte
		want string
	}{
		{"not a zip", []byte("PK\x03\x04 garbage"), "not a zip archive"},
		{"no data.pkl", archive(t, map[string][]byte{"data/0": data}, zip.Store), "no data.pkl"},
		{"torchscript", archive(t, rec(stateDictPickle(good), "constants.pkl", "x"), zip.Store), "TorchScript"},
		{"big endian", archive(t, rec(stateDictPickle(good), "byteorder", "big"), zip.Store), `"big"-endian`},
		{"compressed", archive(t, rec(stateDictPickle(good)), zip.Deflate), "compressed"},
		{"missing storage", archive(t, map[string][]byte{"data.pkl": stateDictPickle(good)}, zip.Store), `no record "data/0"`},
		{"storage shorter than claimed", archive(t, rec(with(func(s *spec) { s.numel = 7 })), zip.Store), "claims 7 float32 elements, record holds 24 bytes"},
		{"storage numel overflow", archive(t, rec(with(func(s *spec) { s.numel = 1 << 62 })), zip.Store), "claims 4611686018427387904"},
		{"view past storage", archive(t, rec(with(func(s *spec) { s.offset = 1 })), zip.Store), "reaches element 6 of a storage of 6"},
		{"huge shape", archive(t, rec(with(func(s *spec) { s.shape = []int64{1 << 40, 1 << 40}; s.stride = []int64{0, 0} })), zip.Store), "too large"},
		{"stride overflow", archive(t, rec(with(func(s *spec) { s.shape = []int64{5, 2}; s.stride = []int64{1 << 62, 1} })), zip.Store), "overflows"},
		{"expand blows up", archive(t, rec(with(func(s *spec) { s.shape = []int64{1 << 30}; s.stride = []int64{0} })), zip.Store), "exceed what a file"},
		{"negative shape", archive(t, rec(with(func(s *spec) { s.shape = []int64{-1, 3} })), zip.Store), "not a non-negative int"},
		{"rank mismatch", archive(t, rec(with(func(s *spec) { s.stride = []int64{1} })), zip.Store), "size has 2 dimensions, stride 1"},
		{"unsupported storage", archive(t, rec(with(func(s *spec) { s.class = "ComplexFloatStorage" })), zip.Store), "unsupported storage type torch.ComplexFloatStorage"},
		{"huge BINBYTES8 claim", archive(t, rec(hugeBytes), zip.Store), "claims 4611686018427387904 bytes"},
		{"unknown opcode", archive(t, rec([]byte{0x80, 2, 0xff}), zip.Store), "unknown pickle opcode 0xff"},
		{"no STOP", archive(t, rec([]byte{0x80, 2, '}'}), zip.Store), "without STOP"},
		{"empty stack", archive(t, rec([]byte{0x80, 2, 's', '.'}), zip.Store), "data.pkl"},
		{"unhashable key", archive(t, rec(listKey.Bytes()), zip.Store), "data.pkl"},
		{"cycle", archive(t, rec(cyclic.Bytes()), zip.Store), "contains itself"},
		{"deep marks", archive(t, rec(deepMarks.Bytes()), zip.Store), "nests deeper than 256"},
		{"not a dict", archive(t, rec(listObj.Bytes()), zip.Store), "holds a list"},
		{"colliding names", archive(t, rec(collide.Bytes()), zip.Store), `tensor name "a.b" occurs twice`},
		{"no tensors", archive(t, rec([]byte{0x80, 2, '}', '.'}), zip.Store), "no tensors found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := readArchive(tc.zip)
			if err == nil {
				t.Fatalf("accepted: %+v", ts)
			}
			if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), "torchpth: ") {
				t.Errorf("error %v does not wrap ErrFormat", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

// TestMutatedPickles rewrites single bytes of a real data.pkl (keeping the
// archive consistent, so the CRC does not catch it) and loads the result:
// errors are fine, panics and malformed tensors are not.
func TestMutatedPickles(t *testing.T) {
	records := fixtureRecords(t, "testdata/state_dict.pth")
	pkl := records["data.pkl"]
	// Byte values that are lengths or opcodes that change the structure.
	values := []byte{0, 0xff, '(', ')', '.', 'R', 't', 0x95}
	step := 2
	if testing.Short() {
		step = 7
	}
	for i := 0; i < len(pkl); i += step {
		for _, v := range values {
			m := slices.Clone(pkl)
			m[i] = v
			records["data.pkl"] = m
			ts, err := readArchive(archive(t, records, zip.Store))
			if err == nil {
				checkWellFormed(t, ts)
			}
		}
	}
}
