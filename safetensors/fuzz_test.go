package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
)

var writeCorpus = flag.Bool("write-corpus", false,
	"rewrite testdata/fuzz/FuzzRead from the cases of TestReadMalformed and TestReadValidSeeds")

// file builds a safetensors byte sequence from a header string and data.
func file(hdr string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(hdr)))
	return append(append(b, hdr...), data...)
}

// withLen is a file whose header length field claims n.
func withLen(n uint64, rest string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, n), rest...)
}

func f32(n int) []byte { return make([]byte, 4*n) }

type malformedCase struct {
	name  string
	data  []byte
	want  string // substring of the error
	isSum bool   // ErrChecksum instead of ErrFormat
}

func malformedCases() []malformedCase {
	good := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`
	withCRC := func() []byte {
		var buf bytes.Buffer
		_ = Write(&buf, []Tensor{Float32Tensor("a", []int{3}, []float32{1, 2, 3})}, nil)
		b := buf.Bytes()
		b[len(b)-1] ^= 1
		return b
	}
	return []malformedCase{
		{"empty_file", nil, "too short", false},
		{"too_short", []byte{1, 2, 3}, "too short", false},
		{"header_len_past_end", withLen(1000, good), "runs past the end of the file", false},
		{"header_len_huge", withLen(1<<62, good), "exceeds the limit", false},
		{"header_len_max_uint64", withLen(^uint64(0), good), "exceeds the limit", false},
		{"header_len_over_cap", withLen(MaxHeaderSize+1, good), "exceeds the limit", false},
		{"header_len_zero", withLen(0, good), "too short for a JSON object", false},
		{"bad_json_truncated", file(`{"a":{"dtype":"F32",`, nil), "header JSON at byte 20: unexpected end", false},
		{"bad_json_garbage", file(`{"a":{"dtype":F32}}`, nil), "dtype is not a string", false},
		{"bad_json_missing_colon", file(`{"a" {"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, f32(1)), "found '{', want ':'", false},
		{"bad_json_missing_comma", file(`{"a":{"dtype":"F32" "shape":[],"data_offsets":[0,4]}}`, f32(1)), "want '}'", false},
		{"bad_json_trailing_comma", file(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],}}`, f32(1)), "want '\"'", false},
		{"bad_json_leading_zero", file(`{"a":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}`, f32(1)), "want ']'", false},
		{"bad_json_bad_escape", file(`{"a\q":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, f32(1)), `bad escape \q`, false},
		{"bad_json_bad_unicode_escape", file(`{"a\u12":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}`, f32(1)), `bad \u escape`, false},
		{"bad_json_control_char", file("{\"a\n\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", f32(1)), "control character", false},
		{"bad_json_unterminated", file(`{"a`, nil), "unterminated string", false},
		{"bad_json_literal", file(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":nul}}`, f32(1)), "invalid value", false},
		{"bad_json_number", file(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":1.}}`, f32(1)), "invalid number", false},
		{"deep_nesting", file(`{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":`+strings.Repeat("[", 200)+strings.Repeat("]", 200)+`}}`, f32(1)), "nested deeper than 128", false},
		{"rank_too_big", file(`{"a":{"dtype":"F32","shape":[`+strings.Repeat("1,", 64)+`1],"data_offsets":[0,4]}}`, f32(1)), "shape has more than 64 numbers", false},
		{"duplicate_field", file(`{"a":{"dtype":"F32","shape":[],"shape":[],"data_offsets":[0,4]}}`, f32(1)), `duplicate field "shape"`, false},
		{"not_an_object", file(`[1, 2, 3]`, nil), "does not start with '{'", false},
		{"trailing_garbage", file(good+` xyz`, f32(2)), "not white space", false},
		{"invalid_utf8", file("{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", f32(1)), "UTF-8", false},
		{"entry_not_object", file(`{"a":5}`, nil), "entry is not an object", false},
		{"missing_offsets", file(`{"a":{"dtype":"F32","shape":[2]}}`, f32(2)), "needs dtype, shape and data_offsets", false},
		{"missing_dtype", file(`{"a":{"shape":[2],"data_offsets":[0,8]}}`, f32(2)), "needs dtype", false},
		{"null_shape", file(`{"a":{"dtype":"F32","shape":null,"data_offsets":[0,8]}}`, f32(2)), "shape is not an array", false},
		{"unknown_dtype", file(`{"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}`, f32(2)), `unknown dtype "F33"`, false},
		{"subbyte_dtype", file(`{"a":{"dtype":"F4","shape":[2],"data_offsets":[0,1]}}`, []byte{0}), `unknown dtype "F4"`, false},
		{"shape_size_disagree", file(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, f32(2)), "does not match data_offsets", false},
		{"offsets_out_of_range", file(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, f32(2)), "data_offsets: 16 is not an integer in [0, 8]", false},
		{"offsets_three", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,16]}}`, f32(2)), "data_offsets has more than 2 numbers", false},
		{"offsets_reversed", file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}`, f32(2)), "end before they begin", false},
		{"overlapping_offsets", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, f32(3)), "overlap", false},
		{"same_offsets_twice", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, f32(2)), "overlap", false},
		{"hole", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, f32(3)), "hole", false},
		{"trailing_data", file(good, f32(3)), "bytes after the last tensor", false},
		{"negative_shape", file(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, f32(2)), "-2 is not an integer", false},
		{"negative_offset", file(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}`, f32(2)), "-8 is not an integer", false},
		{"fractional_shape", file(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}`, f32(2)), "1.5 is not an integer", false},
		{"exponent_shape", file(`{"a":{"dtype":"F32","shape":[2e0],"data_offsets":[0,8]}}`, f32(2)), "2e0 is not an integer", false},
		{"shape_too_big", file(`{"a":{"dtype":"F32","shape":[99999999999999999999999],"data_offsets":[0,8]}}`, f32(2)), "is not an integer", false},
		// 2^62 × 4 × 4 bytes wraps to 0 in 64 bits: must not pass as an empty tensor.
		{"shape_overflow_wraps_to_zero", file(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}`, nil), "does not match", false},
		{"shape_overflow_huge", file(`{"a":{"dtype":"F64","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}`, f32(2)), "does not match", false},
		{"shape_not_numbers", file(`{"a":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}`, f32(2)), `shape: element 0 is not a number`, false},
		{"duplicate_names", file(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f32(2)), `duplicate tensor name "a"`, false},
		{"duplicate_metadata", file(`{"__metadata__":{},"__metadata__":{}}`, nil), "duplicate __metadata__", false},
		{"duplicate_metadata_key", file(`{"__metadata__":{"k":"1","k":"2"}}`, nil), `duplicate key "k"`, false},
		{"metadata_not_string", file(`{"__metadata__":{"k":1}}`, nil), "not a string", false},
		{"metadata_array", file(`{"__metadata__":[1]}`, nil), "not an object of strings", false},
		{"checksum_not_hex", file(`{"__metadata__":{"doggogan.crc32c":"xyz"}}`, nil), "is not 8 hex digits", false},
		{"checksum_mismatch", withCRC(), "checksum mismatch (file damaged)", true},
	}
}

func TestReadMalformed(t *testing.T) {
	for _, tc := range malformedCases() {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Read(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err == nil {
				t.Fatalf("accepted; names %v", f.Names())
			}
			want := ErrFormat
			if tc.isSum {
				want = ErrChecksum
			}
			if !errors.Is(err, want) {
				t.Errorf("error %v does not wrap %v", err, want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "safetensors: ") {
				t.Errorf("error %q, want it to contain %q", err, tc.want)
			}
		})
	}
	if *writeCorpus {
		for _, tc := range malformedCases() {
			writeSeed(t, "malformed_"+tc.name, tc.data)
		}
	}
}

// validSeeds are files the reader must accept.
func validSeeds(t *testing.T) map[string][]byte {
	var sample, small bytes.Buffer
	if err := Write(&sample, sampleTensors(), map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&small, []Tensor{
		Float32Tensor("w", []int{2, 2}, []float32{1, 2, 3, 4}),
		{Name: "h", DType: F16, Shape: []int{2}, Data: []byte{0, 0x3c, 0, 0xc0}},
		{Name: "b", DType: BF16, Shape: []int{1}, Data: []byte{0x49, 0x40}},
		Int64Tensor("n", nil, []int64{7}),
	}, nil); err != nil {
		t.Fatal(err)
	}
	py, err := os.ReadFile("testdata/python_written.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{
		"valid_sample":         sample.Bytes(),
		"valid_small":          small.Bytes(),
		"valid_python":         py,
		"valid_empty":          file(`{}`, nil),
		"valid_metadata_only":  file(`{"__metadata__":{"a":"b"}}`, nil),
		"valid_metadata_null":  file(`{"__metadata__":null,"a":{"dtype":"U8","shape":[0,99999999],"data_offsets":[0,0]}}`, nil),
		"valid_zero_size_pair": file(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"c":{"dtype":"I8","shape":[0],"data_offsets":[0,0]}}`, f32(1)),
		"valid_unknown_field":  file(`{"a":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2],"extra":[1,{"x":null}]}}   `, []byte{1, 0}),
		"valid_escaped_names": file(`{"a\u00e9\ud83d\ude00\ud800x\n\/\"":{"dtype":"I8","shape":[1],"data_offsets":[0,1]},`+
			`"__metadata__":{"k\u0000":"v\t\ude00"},"\u0061":{"dtype":"U8","shape":[],"data_offsets":[1,2]},"é😀":{"dtype":"U8","shape":[1, 1],"data_offsets":[2,3]}}`, []byte{1, 2, 3}),
		"valid_unsorted_offset": file(`{"z":{"dtype":"U16","shape":[1],"data_offsets":[0,2]},"a":{"dtype":"I16","shape":[1],"data_offsets":[2,4]}}`, []byte{1, 2, 3, 4}),
	}
}

func TestReadValidSeeds(t *testing.T) {
	for name, b := range validSeeds(t) {
		t.Run(name, func(t *testing.T) {
			checkReadable(t, b)
		})
		if *writeCorpus {
			writeSeed(t, name, b)
		}
	}
}

func writeSeed(t *testing.T, name string, data []byte) {
	t.Helper()
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkReadable reads b, which must be valid, and checks the invariants the
// fuzzer checks: every tensor decodes to the size its info states, and
// writing the tensors back gives a file that reads the same.
func checkReadable(t *testing.T, b []byte) {
	t.Helper()
	f, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, f)
	crossCheckJSON(t, b, f)
}

// crossCheckJSON checks the header parser against encoding/json: a header
// that Read accepted must be valid JSON with the same names and metadata.
func crossCheckJSON(t *testing.T, data []byte, f *File) {
	t.Helper()
	hdr := data[8:f.dataOff]
	var m map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &m); err != nil {
		t.Fatalf("accepted header is not JSON for encoding/json: %v", err)
	}
	var names []string
	for k, v := range m {
		if k != "__metadata__" {
			names = append(names, k)
			continue
		}
		var meta map[string]string
		if err := json.Unmarshal(v, &meta); err != nil {
			t.Fatalf("__metadata__: %v", err)
		}
		if !maps.Equal(meta, f.Metadata()) {
			t.Fatalf("metadata %q, encoding/json says %q", f.Metadata(), meta)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, f.Names()) {
		t.Fatalf("names %q, encoding/json says %q", f.Names(), names)
	}
}

func checkInvariants(t *testing.T, f *File) {
	t.Helper()
	var ts []Tensor
	for _, name := range f.Names() {
		in, ok := f.Info(name)
		if !ok {
			t.Fatalf("Info(%q) missing", name)
		}
		raw, err := f.Bytes(name)
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(raw)) != in.End-in.Begin || len(raw) != in.Numel()*in.DType.Size() {
			t.Fatalf("%q: %d bytes for %+v", name, len(raw), in)
		}
		if in.DType.isFloat() {
			v, err := f.Float32(name)
			if err != nil || len(v) != in.Numel() {
				t.Fatalf("%q: Float32 gave %d values, %v", name, len(v), err)
			}
		}
		if in.DType.isInt() {
			v, err := f.Int64(name)
			if err == nil && len(v) != in.Numel() {
				t.Fatalf("%q: Int64 gave %d values", name, len(v))
			}
		}
		ts = append(ts, Tensor{Name: name, DType: in.DType, Shape: in.Shape, Data: raw})
	}
	meta := f.Metadata()
	delete(meta, ChecksumKey)
	var buf bytes.Buffer
	if err := Write(&buf, ts, meta); err != nil {
		t.Fatalf("rewriting a valid file: %v", err)
	}
	g, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("reading a rewritten file: %v", err)
	}
	if !slices.Equal(g.Names(), f.Names()) {
		t.Fatalf("rewritten names %q, want %q", g.Names(), f.Names())
	}
	for _, tt := range ts {
		in, _ := g.Info(tt.Name)
		b, _ := g.Bytes(tt.Name)
		if in.DType != tt.DType || !slices.Equal(in.Shape, tt.Shape) || !bytes.Equal(b, tt.Data) {
			t.Fatalf("%q changed on rewrite", tt.Name)
		}
	}
}

var allocSample = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}

func allocated() uint64 {
	metrics.Read(allocSample)
	return allocSample[0].Value.Uint64()
}

// FuzzRead feeds arbitrary bytes to Read. It must never panic, valid files
// must satisfy the invariants of checkInvariants, and reading plus decoding
// every tensor (including a rewrite) must not allocate more than a small
// multiple of the input size. Seeds: testdata/fuzz/FuzzRead (valid files and
// the malformed cases of TestReadMalformed; regenerate with
// go test -run 'TestRead(Malformed|ValidSeeds)' -write-corpus).
func FuzzRead(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		before := allocated()
		file, err := Read(bytes.NewReader(data), int64(len(data)))
		if err == nil {
			checkInvariants(t, file)
			crossCheckJSON(t, data, file)
		} else if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrChecksum) {
			t.Fatalf("error %v is neither ErrFormat nor ErrChecksum", err)
		}
		// The allocation counter advances in whole spans, hence the slack.
		used := allocated() - before
		if limit := 64*uint64(len(data)) + 1<<20; used > limit {
			t.Fatalf("allocated %d bytes for a %d-byte input", used, len(data))
		}
	})
}
