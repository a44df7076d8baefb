package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// pySpecReader reads a safetensors file with the Python standard library
// only, following the spec: an implementation independent of this package.
// It also checks the 8-byte header alignment, that the tensors tile the data
// section, and the CRC-32C under doggogan.crc32c (computed bitwise here).
// It prints the tensors with floats as float.hex() strings, which are exact.
const pySpecReader = `
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
n, = struct.unpack('<Q', b[:8])
assert n % 8 == 0, 'header not padded to 8 bytes'
h = json.loads(b[8:8 + n].decode('utf-8'))
data = b[8 + n:]
meta = h.pop('__metadata__', None) or {}
spans = sorted(tuple(v['data_offsets']) for v in h.values())
pos = 0
for s, e in spans:
    assert s == pos, 'hole or overlap'
    pos = e
assert pos == len(data), 'trailing data'
def crc32c(buf):
    crc = 0xffffffff
    for byte in buf:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff
if 'doggogan.crc32c' in meta:
    assert int(meta['doggogan.crc32c'], 16) == crc32c(data), 'crc mismatch'
codes = {'F64': 'd', 'F32': 'f', 'F16': 'e', 'I64': 'q', 'I32': 'i', 'I16': 'h',
         'I8': 'b', 'U8': 'B', 'BOOL': '?'}
out = {'metadata': meta, 'tensors': {}}
for k, v in h.items():
    s, e = v['data_offsets']
    c = codes[v['dtype']]
    cnt = (e - s) // struct.calcsize(c)
    vals = struct.unpack('<%d%s' % (cnt, c), data[s:e])
    out['tensors'][k] = {'dtype': v['dtype'], 'shape': v['shape'],
                         'values': [float(x).hex() if c in 'dfe' else str(int(x)) for x in vals]}
print(json.dumps(out))
`

// pyLibReader reads the file with the Python safetensors package (exit 77
// when it is not installed) and prints the same JSON as pySpecReader.
const pyLibReader = `
import json, sys
try:
    from safetensors.numpy import load_file, safe_open
except ImportError:
    sys.exit(77)
d = load_file(sys.argv[1])
with safe_open(sys.argv[1], framework='np') as f:
    meta = f.metadata() or {}
names = {'float64': 'F64', 'float32': 'F32', 'float16': 'F16', 'int64': 'I64', 'int32': 'I32',
         'int16': 'I16', 'int8': 'I8', 'uint8': 'U8', 'bool': 'BOOL'}
out = {'metadata': meta, 'tensors': {}}
for k, a in d.items():
    flat = a.reshape(-1).tolist()
    isf = a.dtype.kind == 'f'
    out['tensors'][k] = {'dtype': names[str(a.dtype)], 'shape': list(a.shape),
                         'values': [float(x).hex() if isf else str(int(x)) for x in flat]}
print(json.dumps(out))
`

type pyOutput struct {
	Metadata map[string]string `json:"metadata"`
	Tensors  map[string]struct {
		DType  DType    `json:"dtype"`
		Shape  []int    `json:"shape"`
		Values []string `json:"values"`
	} `json:"tensors"`
}

func python(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found; skipping the Python interoperability check")
	}
	return py
}

// decodeWant returns the elements of a written tensor as strings in the
// format the Python readers print.
func decodeWant(t *testing.T, tt Tensor) []string {
	t.Helper()
	n := len(tt.Data) / tt.DType.Size()
	out := make([]string, n)
	le := binary.LittleEndian
	for i := range out {
		switch tt.DType {
		case F64:
			out[i] = strconv.FormatFloat(math.Float64frombits(le.Uint64(tt.Data[8*i:])), 'x', -1, 64)
		case F32:
			out[i] = strconv.FormatFloat(float64(math.Float32frombits(le.Uint32(tt.Data[4*i:]))), 'x', -1, 64)
		case I64:
			out[i] = strconv.FormatInt(int64(le.Uint64(tt.Data[8*i:])), 10)
		case I32:
			out[i] = strconv.FormatInt(int64(int32(le.Uint32(tt.Data[4*i:]))), 10)
		case U8:
			out[i] = strconv.Itoa(int(tt.Data[i]))
		default:
			t.Fatalf("dtype %s not covered", tt.DType)
		}
	}
	return out
}

// sameFloat compares a Go hex float with Python's float.hex() output, which
// spells exponents and zeros differently but parses to the same value.
func sameValue(t *testing.T, dt DType, got, want string) bool {
	t.Helper()
	if dt != F64 && dt != F32 {
		return got == want
	}
	g, err1 := strconv.ParseFloat(got, 64)
	w, err2 := strconv.ParseFloat(want, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("unparsable floats %q %q", got, want)
	}
	if math.IsNaN(w) {
		return math.IsNaN(g)
	}
	return g == w && math.Signbit(g) == math.Signbit(w)
}

func checkPythonOutput(t *testing.T, stdout []byte, ts []Tensor, meta map[string]string) {
	t.Helper()
	var out pyOutput
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("python output: %v\n%s", err, stdout)
	}
	for k, v := range meta {
		if out.Metadata[k] != v {
			t.Errorf("python sees metadata %q = %q, want %q", k, out.Metadata[k], v)
		}
	}
	if len(out.Tensors) != len(ts) {
		t.Fatalf("python sees %d tensors, want %d", len(out.Tensors), len(ts))
	}
	for _, tt := range ts {
		got, ok := out.Tensors[tt.Name]
		if !ok {
			t.Fatalf("python does not see %q", tt.Name)
		}
		shape := tt.Shape
		if shape == nil {
			shape = []int{}
		}
		if got.DType != tt.DType || !slices.Equal(got.Shape, shape) {
			t.Errorf("%q: python sees %s %v, want %s %v", tt.Name, got.DType, got.Shape, tt.DType, shape)
		}
		want := decodeWant(t, tt)
		if len(got.Values) != len(want) {
			t.Fatalf("%q: python sees %d values, want %d", tt.Name, len(got.Values), len(want))
		}
		for i := range want {
			if !sameValue(t, tt.DType, got.Values[i], want[i]) {
				t.Errorf("%q[%d]: python sees %s, want %s", tt.Name, i, got.Values[i], want[i])
			}
		}
	}
}

func writeForPython(t *testing.T) (string, []Tensor, map[string]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "from_go.safetensors")
	ts := sampleTensors()
	meta := map[string]string{"format": "pt", "note": "écrit par Go"}
	if err := WriteFile(path, ts, meta); err != nil {
		t.Fatal(err)
	}
	return path, ts, meta
}

// TestPythonSpecReaderReadsOurFile checks a file written here with an
// independent plain-Python reader (including the CRC-32C).
func TestPythonSpecReaderReadsOurFile(t *testing.T) {
	py := python(t)
	path, ts, meta := writeForPython(t)
	cmd := exec.Command(py, "-c", pySpecReader, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python reader failed: %v\n%s", err, stderr.Bytes())
	}
	checkPythonOutput(t, stdout, ts, meta)
}

// TestPythonSafetensorsLoadsOurFile checks a file written here with the
// reference Python package; it skips when the package is not installed
// (Debian 12 does not package it).
func TestPythonSafetensorsLoadsOurFile(t *testing.T) {
	py := python(t)
	path, ts, meta := writeForPython(t)
	cmd := exec.Command(py, "-c", pyLibReader, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 77 {
		t.Skip("Python package safetensors not installed")
	}
	if err != nil {
		t.Fatalf("python safetensors failed: %v\n%s", err, stderr.Bytes())
	}
	checkPythonOutput(t, stdout, ts, meta)
}
