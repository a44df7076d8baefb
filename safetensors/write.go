package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/doggogan/doggogan/internal/atomicfile"
)

// ChecksumKey is the __metadata__ key under which Write stores the CRC-32C
// (Castagnoli polynomial) of the data section: all bytes after the header,
// i.e. bytes [8+N, end of file). The value is 8 lowercase hexadecimal digits.
//
// Readers verify it when present and report ErrChecksum on a mismatch; files
// without the key (written by other tools) load without verification. The
// header itself is not covered by the checksum; its structure is validated
// instead (every entry must fit the data section exactly).
const ChecksumKey = "doggogan.crc32c"

// MaxHeaderSize is the largest header (the JSON part) that readers accept:
// 100 MiB, as in the reference implementation.
const MaxHeaderSize = 100 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Tensor is one named tensor to write: its dtype, its shape and its elements
// as little-endian bytes in row-major order. len(Data) must equal the product
// of Shape times DType.Size(). A tensor with an empty Shape is a scalar
// (one element).
//
// Float32Tensor, Float64Tensor, Int64Tensor, Int32Tensor and Uint8Tensor
// build a Tensor from a Go slice.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// Float32Tensor returns an F32 tensor holding a copy of data.
func Float32Tensor(name string, shape []int, data []float32) Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return Tensor{Name: name, DType: F32, Shape: slices.Clone(shape), Data: b}
}

// Float64Tensor returns an F64 tensor holding a copy of data.
func Float64Tensor(name string, shape []int, data []float64) Tensor {
	b := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return Tensor{Name: name, DType: F64, Shape: slices.Clone(shape), Data: b}
}

// Int64Tensor returns an I64 tensor holding a copy of data.
func Int64Tensor(name string, shape []int, data []int64) Tensor {
	b := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return Tensor{Name: name, DType: I64, Shape: slices.Clone(shape), Data: b}
}

// Int32Tensor returns an I32 tensor holding a copy of data.
func Int32Tensor(name string, shape []int, data []int32) Tensor {
	b := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return Tensor{Name: name, DType: I32, Shape: slices.Clone(shape), Data: b}
}

// Uint8Tensor returns a U8 tensor holding a copy of data.
func Uint8Tensor(name string, shape []int, data []uint8) Tensor {
	return Tensor{Name: name, DType: U8, Shape: slices.Clone(shape), Data: slices.Clone(data)}
}

// numel returns the element count of shape and whether it is valid: no
// negative dimension, and a product that fits in an int64 (a zero dimension
// makes the product 0 whatever the others are, as the reader accepts).
func numel(shape []int) (uint64, bool) {
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
	}
	if slices.Contains(shape, 0) {
		return 0, true
	}
	n := uint64(1)
	for _, d := range shape {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		n = lo
	}
	return n, true
}

// layout is a validated tensor with its place in the data section.
type layout struct {
	t          *Tensor
	begin, end int64
}

// plan validates the tensors and metadata and lays them out: data ordered
// by element size (largest first, so every tensor is aligned to its element
// size when the data section is) and then by name, as the reference Python
// implementation does; the header lists the entries sorted by name.
func plan(tensors []Tensor, metadata map[string]string) ([]layout, error) {
	seen := make(map[string]bool, len(tensors))
	ls := make([]layout, len(tensors))
	for i := range tensors {
		t := &tensors[i]
		switch {
		case t.Name == "__metadata__":
			return nil, fmt.Errorf("tensor name %q is reserved", t.Name)
		case !utf8.ValidString(t.Name):
			return nil, fmt.Errorf("tensor name %q is not valid UTF-8", t.Name)
		case seen[t.Name]:
			return nil, fmt.Errorf("duplicate tensor name %q", t.Name)
		case t.DType.Size() == 0:
			return nil, fmt.Errorf("tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		seen[t.Name] = true
		n, ok := numel(t.Shape)
		if !ok {
			return nil, fmt.Errorf("tensor %q: invalid shape %v", t.Name, t.Shape)
		}
		hi, want := bits.Mul64(n, uint64(t.DType.Size()))
		if hi != 0 || want != uint64(len(t.Data)) {
			return nil, fmt.Errorf("tensor %q: shape %v of %s needs %d elements, data holds %d bytes",
				t.Name, t.Shape, t.DType, n, len(t.Data))
		}
		ls[i].t = t
	}
	for k, v := range metadata {
		if k == ChecksumKey {
			return nil, fmt.Errorf("metadata key %q is reserved for the checksum", k)
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, fmt.Errorf("metadata %q: not valid UTF-8", k)
		}
	}
	slices.SortFunc(ls, func(a, b layout) int {
		if sa, sb := a.t.DType.Size(), b.t.DType.Size(); sa != sb {
			return sb - sa
		}
		return strings.Compare(a.t.Name, b.t.Name)
	})
	var off int64
	for i := range ls {
		ls[i].begin = off
		off += int64(len(ls[i].t.Data))
		ls[i].end = off
	}
	return ls, nil
}

// quote returns s as a JSON string without HTML escaping.
func quote(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // cannot fail for a string
	buf.Truncate(buf.Len() - 1) // drop the newline Encode adds
}

// header builds the padded JSON header.
func header(ls []layout, metadata map[string]string, crc uint32) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"__metadata__":{`)
	keys := make([]string, 0, len(metadata)+1)
	for k := range metadata {
		keys = append(keys, k)
	}
	keys = append(keys, ChecksumKey)
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		quote(&buf, k)
		buf.WriteByte(':')
		if k == ChecksumKey {
			fmt.Fprintf(&buf, `"%08x"`, crc)
		} else {
			quote(&buf, metadata[k])
		}
	}
	buf.WriteByte('}')
	byName := slices.Clone(ls)
	slices.SortFunc(byName, func(a, b layout) int { return strings.Compare(a.t.Name, b.t.Name) })
	for _, l := range byName {
		buf.WriteByte(',')
		quote(&buf, l.t.Name)
		buf.WriteString(`:{"dtype":"`)
		buf.WriteString(string(l.t.DType))
		buf.WriteString(`","shape":[`)
		for i, d := range l.t.Shape {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.WriteString(strconv.Itoa(d))
		}
		fmt.Fprintf(&buf, `],"data_offsets":[%d,%d]}`, l.begin, l.end)
	}
	buf.WriteByte('}')
	// Pad with spaces so that the data section starts 8-byte aligned.
	for buf.Len()%8 != 0 {
		buf.WriteByte(' ')
	}
	return buf.Bytes()
}

// Write writes tensors and metadata to w in the safetensors format.
//
// Tensor names must be unique, valid UTF-8 and not "__metadata__"; each
// tensor's Data must match its shape and dtype. The header lists tensors
// sorted by name; the data section holds them ordered by element size
// (largest first) and then by name, so the output depends only on the input
// and every tensor is aligned to its element size. The header is padded with
// spaces to a multiple of 8 bytes. metadata (may be nil) is stored in
// __metadata__ together with the CRC-32C of the data section under
// ChecksumKey, which metadata must not contain.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	ls, err := plan(tensors, metadata)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	var crc uint32
	for _, l := range ls {
		crc = crc32.Update(crc, castagnoli, l.t.Data)
	}
	h := header(ls, metadata, crc)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(h)))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(h); err != nil {
		return err
	}
	for _, l := range ls {
		if _, err := w.Write(l.t.Data); err != nil {
			return err
		}
	}
	return nil
}

// WriteFile writes tensors and metadata to path (see Write) atomically: the
// file is written to a temporary file in the same directory, fsync-ed, read
// back and verified (structure, tensor index and checksum), and only then
// renamed over path. On any failure the previous file at path is unchanged
// and the error names path and the cause, e.g.
// "runs/x/ckpt.safetensors: no space left on device". The file is created
// with permissions 0644.
func WriteFile(path string, tensors []Tensor, metadata map[string]string) error {
	ls, err := plan(tensors, metadata)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	write := func(w io.Writer) error { return Write(w, tensors, metadata) }
	verify := func(r io.ReaderAt, size int64) error {
		f, err := Read(r, size)
		if err != nil {
			return err
		}
		if len(f.names) != len(ls) {
			return errors.New("tensor index differs from what was written")
		}
		for _, l := range ls {
			in, ok := f.infos[l.t.Name]
			if !ok || in.DType != l.t.DType || !slices.Equal(in.Shape, l.t.Shape) ||
				in.Begin != l.begin || in.End != l.end {
				return fmt.Errorf("tensor %q differs from what was written", l.t.Name)
			}
		}
		return nil
	}
	return atomicfile.WriteFileVerified(path, 0o644, write, verify)
}
