package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sampleTensors covers every dtype the writer is asked to support, a scalar,
// an empty tensor and names that need JSON escaping.
func sampleTensors() []Tensor {
	w := make([]float32, 4*3*3*3)
	for i := range w {
		w[i] = float32(i)*0.125 - 3
	}
	return []Tensor{
		Float32Tensor("model.1.weight", []int{4, 3, 3, 3}, w),
		Float32Tensor("model.1.bias", []int{4}, []float32{1, -2, float32(math.Inf(1)), float32(math.Copysign(0, -1))}),
		Float64Tensor("double", []int{2, 2}, []float64{math.Pi, -1e300, 5e-324, 0}),
		Int64Tensor("step", nil, []int64{math.MinInt64}),
		Int32Tensor("i32", []int{3}, []int32{-1, math.MaxInt32, 0}),
		Uint8Tensor("odd \"name\" <&>", []int{3}, []uint8{0, 128, 255}),
		Float32Tensor("empty", []int{0, 5}, nil),
	}
}

func writeBytes(t *testing.T, ts []Tensor, meta map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, ts, meta); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readBytes(t *testing.T, b []byte) *File {
	t.Helper()
	f, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func checkSample(t *testing.T, f *File) {
	t.Helper()
	want := sampleTensors()
	names := make([]string, len(want))
	for i, w := range want {
		names[i] = w.Name
	}
	slices.Sort(names)
	if got := f.Names(); !slices.Equal(got, names) {
		t.Fatalf("names %q, want %q", got, names)
	}
	for _, w := range want {
		in, ok := f.Info(w.Name)
		if !ok {
			t.Fatalf("no info for %q", w.Name)
		}
		wantShape := w.Shape
		if wantShape == nil {
			wantShape = []int{}
		}
		if in.DType != w.DType || !slices.Equal(in.Shape, wantShape) {
			t.Errorf("%q: %s %v, want %s %v", w.Name, in.DType, in.Shape, w.DType, wantShape)
		}
		if in.End-in.Begin != int64(len(w.Data)) {
			t.Errorf("%q: %d bytes, want %d", w.Name, in.End-in.Begin, len(w.Data))
		}
		if in.Begin%int64(in.DType.Size()) != 0 {
			t.Errorf("%q: offset %d not aligned to %d", w.Name, in.Begin, in.DType.Size())
		}
		b, err := f.Bytes(w.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, w.Data) {
			t.Errorf("%q: bytes differ", w.Name)
		}
	}
	wt, err := f.Float32("model.1.weight")
	if err != nil {
		t.Fatal(err)
	}
	if len(wt) != 108 || wt[0] != -3 || wt[107] != 107*0.125-3 {
		t.Errorf("weight values wrong: len %d, %v … %v", len(wt), wt[0], wt[len(wt)-1])
	}
	bias, _ := f.Float32("model.1.bias")
	if !math.IsInf(float64(bias[2]), 1) || !math.Signbit(float64(bias[3])) {
		t.Errorf("bias %v lost inf or -0", bias)
	}
	d64, err := f.Float64("double")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d64, []float64{math.Pi, -1e300, 5e-324, 0}) {
		t.Errorf("double %v", d64)
	}
	d32, _ := f.Float32("double")
	if d32[0] != float32(math.Pi) || !math.IsInf(float64(d32[1]), -1) {
		t.Errorf("double as float32 %v", d32)
	}
	if v, err := f.Int64("step"); err != nil || !slices.Equal(v, []int64{math.MinInt64}) {
		t.Errorf("step %v %v", v, err)
	}
	if v, err := f.Int64("i32"); err != nil || !slices.Equal(v, []int64{-1, math.MaxInt32, 0}) {
		t.Errorf("i32 %v %v", v, err)
	}
	if v, err := f.Int64("odd \"name\" <&>"); err != nil || !slices.Equal(v, []int64{0, 128, 255}) {
		t.Errorf("u8 %v %v", v, err)
	}
	if v, err := f.Float32("empty"); err != nil || len(v) != 0 {
		t.Errorf("empty %v %v", v, err)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	b := writeBytes(t, sampleTensors(), map[string]string{"epoch": "7", "format": "pt"})
	f := readBytes(t, b)
	checkSample(t, f)
	m := f.Metadata()
	if m["epoch"] != "7" || m["format"] != "pt" || len(m[ChecksumKey]) != 8 {
		t.Errorf("metadata %v", m)
	}
}

func TestWriteIsDeterministicAndAligned(t *testing.T) {
	ts := sampleTensors()
	a := writeBytes(t, ts, map[string]string{"b": "2", "a": "1"})
	slices.Reverse(ts)
	b := writeBytes(t, ts, map[string]string{"a": "1", "b": "2"})
	if !bytes.Equal(a, b) {
		t.Fatal("output depends on the order of the input")
	}
	n := binary.LittleEndian.Uint64(a)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	hdr := a[8 : 8+n]
	if !bytes.HasPrefix(hdr, []byte(`{"__metadata__":{"a":"1","b":"2","doggogan.crc32c":"`)) {
		t.Errorf("header starts %q", hdr[:60])
	}
	if trimmed := bytes.TrimRight(hdr, " "); trimmed[len(trimmed)-1] != '}' || len(hdr)-len(trimmed) >= 8 {
		t.Errorf("header padding wrong: %q", hdr[len(hdr)-10:])
	}
	// The header must be plain JSON that a generic parser accepts.
	var generic map[string]any
	if err := json.Unmarshal(hdr, &generic); err != nil {
		t.Fatalf("header is not JSON: %v", err)
	}
	if len(generic) != len(ts)+1 {
		t.Errorf("header has %d entries, want %d", len(generic), len(ts)+1)
	}
}

// TestWriteExactBytes pins the layout against a hand-built byte sequence
// following the spec, so a change of format cannot go unnoticed.
func TestWriteExactBytes(t *testing.T) {
	got := writeBytes(t, []Tensor{
		Uint8Tensor("u", []int{1}, []uint8{9}),
		Float32Tensor("a", []int{2}, []float32{1, -2}),
	}, nil)
	data := []byte{0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 9} // F32 first (wider), then U8
	crc := fmt.Sprintf("%08x", crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))
	hdr := `{"__metadata__":{"doggogan.crc32c":"` + crc + `"},` +
		`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},` +
		`"u":{"dtype":"U8","shape":[1],"data_offsets":[8,9]}}`
	for len(hdr)%8 != 0 {
		hdr += " "
	}
	want := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	want = append(append(want, hdr...), data...)
	if !bytes.Equal(got, want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

// TestReadHandBuilt reads a file built by hand from the spec (no checksum,
// metadata after the tensors, no padding, F16 and BF16 data).
func TestReadHandBuilt(t *testing.T) {
	hdr := `{"b":{"dtype":"F16","shape":[3],"data_offsets":[8,14]},` +
		`"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},` +
		`"c":{"dtype":"BF16","shape":[],"data_offsets":[14,16]},` +
		`"__metadata__":{"format":"pt"}}`
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	b = append(b, hdr...)
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(0.5))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(-8))
	b = binary.LittleEndian.AppendUint16(b, 0x3c00) // 1.0
	b = binary.LittleEndian.AppendUint16(b, 0xc000) // -2.0
	b = binary.LittleEndian.AppendUint16(b, 0x0001) // smallest subnormal 2^-24
	b = binary.LittleEndian.AppendUint16(b, 0x4049) // bf16 3.140625
	f := readBytes(t, b)
	if got := f.Names(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("names %v", got)
	}
	if f.Metadata()["format"] != "pt" {
		t.Errorf("metadata %v", f.Metadata())
	}
	a, _ := f.Float32("a")
	hb, _ := f.Float32("b")
	c, _ := f.Float32("c")
	if !slices.Equal(a, []float32{0.5, -8}) || !slices.Equal(hb, []float32{1, -2, 0x1p-24}) || !slices.Equal(c, []float32{3.140625}) {
		t.Errorf("values a=%v b=%v c=%v", a, hb, c)
	}
	if _, err := f.Int64("a"); err == nil {
		t.Error("Int64 of F32 did not fail")
	}
	if _, err := f.Float32("nope"); err == nil || !strings.Contains(err.Error(), `no tensor named "nope"`) {
		t.Errorf("missing tensor: %v", err)
	}
}

func TestFloat16ToFloat32Exhaustive(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		sign := h >> 15
		exp := (h >> 10) & 0x1f
		mant := h & 0x3ff
		var want float64
		switch {
		case exp == 0:
			want = math.Ldexp(float64(mant), -24)
		case exp == 31 && mant == 0:
			want = math.Inf(1)
		case exp == 31:
			want = math.NaN()
		default:
			want = math.Ldexp(float64(mant|0x400), exp-25)
		}
		if sign == 1 {
			want = -want
		}
		got := Float16ToFloat32(uint16(h))
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("%#04x: got %v, want NaN", h, got)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != (sign == 1) {
			t.Fatalf("%#04x: got %v, want %v", h, got, want)
		}
	}
	if BFloat16ToFloat32(0xbf80) != -1 || BFloat16ToFloat32(0x7f80) != float32(math.Inf(1)) {
		t.Error("bfloat16 conversion")
	}
}

func TestChecksum(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	if err := WriteFile(path, sampleTensors(), nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Flip one bit in the data section.
	b[len(b)-20] ^= 0x10
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, open := range []func(string) (*File, error){Open, ReadFile} {
		_, err := open(path)
		if !errors.Is(err, ErrChecksum) {
			t.Fatalf("error %v, want ErrChecksum", err)
		}
		if want := path + ": checksum mismatch (file damaged)"; err.Error() != want {
			t.Errorf("error %q, want %q", err, want)
		}
	}
	// The same damage in a file without a checksum (another tool's file)
	// cannot be detected, and the file loads.
	var buf bytes.Buffer
	ts := sampleTensors()
	ls, err := plan(ts, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := header(ls, nil, 0)
	h = bytes.Replace(h, []byte(`"__metadata__":{"doggogan.crc32c":"00000000"},`), nil, 1)
	buf.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(h))))
	buf.Write(h)
	for _, l := range ls {
		buf.Write(l.t.Data)
	}
	nb := buf.Bytes()
	nb[len(nb)-20] ^= 0x10
	f, err := Read(bytes.NewReader(nb), int64(len(nb)))
	if err != nil {
		t.Fatalf("file without checksum: %v", err)
	}
	if f.Metadata() != nil {
		t.Errorf("metadata %v, want none", f.Metadata())
	}
	// A malformed checksum value is a format error, not a mismatch.
	bad := writeBytes(t, sampleTensors(), nil)
	i := bytes.Index(bad, []byte(ChecksumKey+`":"`)) + len(ChecksumKey) + 3
	copy(bad[i:], "zz")
	if _, err := Read(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, ErrFormat) {
		t.Errorf("malformed checksum value: %v", err)
	}
}

func TestWriteFileAtomicAndVerified(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	if err := WriteFile(path, sampleTensors(), map[string]string{"epoch": "1"}); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	checkSample(t, f)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path)

	bad := []struct {
		name string
		ts   []Tensor
		meta map[string]string
		want string
	}{
		{"duplicate", []Tensor{Float32Tensor("a", []int{1}, []float32{1}), Float32Tensor("a", []int{1}, []float32{2})}, nil, `duplicate tensor name "a"`},
		{"short data", []Tensor{Float32Tensor("a", []int{2}, []float32{1})}, nil, `shape [2] of F32 needs 2 elements, data holds 4 bytes`},
		{"negative dim", []Tensor{Float32Tensor("a", []int{-1}, nil)}, nil, `invalid shape [-1]`},
		{"unknown dtype", []Tensor{{Name: "a", DType: "F33", Data: []byte{1}}}, nil, `unknown dtype "F33"`},
		{"reserved name", []Tensor{Float32Tensor("__metadata__", nil, []float32{1})}, nil, `reserved`},
		{"reserved key", nil, map[string]string{ChecksumKey: "x"}, `reserved for the checksum`},
		{"bad utf8", []Tensor{Float32Tensor("a\xff", nil, []float32{1})}, nil, `not valid UTF-8`},
	}
	for _, tc := range bad {
		err := WriteFile(path, tc.ts, tc.meta)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
	now, _ := os.ReadFile(path)
	if !bytes.Equal(old, now) {
		t.Error("a failed WriteFile changed the file")
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("directory has %d entries, want 1", len(es))
	}
	// An unwritable destination reports the path and the cause.
	err = WriteFile(filepath.Join(path, "x.safetensors"), sampleTensors(), nil)
	if err == nil || !strings.HasSuffix(err.Error(), "not a directory") {
		t.Errorf("error %v", err)
	}
}

func TestOpenErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.safetensors")
	if err := os.WriteFile(path, []byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":1}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, open := range []func(string) (*File, error){Open, ReadFile} {
		_, err := open(path)
		if !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), path+": not a valid safetensors file: ") {
			t.Errorf("error %v", err)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrFormat) {
		t.Errorf("directory: %v", err)
	}
}

// pythonFixture mirrors python_written.json.
type pythonFixture struct {
	Metadata map[string]string `json:"metadata"`
	Tensors  []struct {
		Name  string `json:"name"`
		DType DType  `json:"dtype"`
		Shape []int  `json:"shape"`
		Data  []any  `json:"data"`
	} `json:"tensors"`
}

func jsonNumber(t *testing.T, v any) float64 {
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
	t.Fatalf("bad number %v", v)
	return 0
}

// TestReadPythonFixture reads a file written in Python by
// scripts/make_torch_fixtures.py (an independent implementation of the
// spec), with the expected values written alongside.
func TestReadPythonFixture(t *testing.T) {
	var want pythonFixture
	js, err := os.ReadFile("testdata/python_written.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	if err := dec.Decode(&want); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile("testdata/python_written.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Names()) != len(want.Tensors) {
		t.Fatalf("%d tensors, want %d", len(f.Names()), len(want.Tensors))
	}
	for k, v := range want.Metadata {
		if f.Metadata()[k] != v {
			t.Errorf("metadata %q = %q, want %q", k, f.Metadata()[k], v)
		}
	}
	for _, w := range want.Tensors {
		in, ok := f.Info(w.Name)
		if !ok || in.DType != w.DType || !slices.Equal(in.Shape, w.Shape) {
			t.Errorf("%q: %+v, want %s %v", w.Name, in, w.DType, w.Shape)
			continue
		}
		if in.DType.isFloat() {
			got, err := f.Float64(w.Name)
			if err != nil {
				t.Fatal(err)
			}
			g32, _ := f.Float32(w.Name)
			if len(got) != len(w.Data) {
				t.Fatalf("%q: %d values, want %d", w.Name, len(got), len(w.Data))
			}
			for i := range got {
				wv := jsonNumber(t, w.Data[i])
				if got[i] != wv {
					t.Errorf("%q[%d] = %v, want %v", w.Name, i, got[i], wv)
				}
				if in.DType != F64 && float64(g32[i]) != wv {
					t.Errorf("%q[%d] float32 = %v, want %v", w.Name, i, g32[i], wv)
				}
			}
			continue
		}
		got, err := f.Int64(w.Name)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if float64(got[i]) != jsonNumber(t, w.Data[i]) {
				t.Errorf("%q[%d] = %v, want %v", w.Name, i, got[i], w.Data[i])
			}
		}
	}
}
