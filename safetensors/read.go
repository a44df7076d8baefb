package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// ErrFormat is wrapped by every error about a malformed file: use
// errors.Is(err, ErrFormat) to tell bad input from I/O errors.
var ErrFormat = errors.New("not a valid safetensors file")

// ErrChecksum is wrapped by the error reported when the data section does not
// match the checksum stored under ChecksumKey. Its message reads
// "FILE: checksum mismatch (file damaged)".
var ErrChecksum = errors.New("checksum mismatch (file damaged)")

// Info describes one tensor of a file.
type Info struct {
	DType DType
	Shape []int
	// Begin and End are the tensor's byte offsets within the data section,
	// as stored in the header's data_offsets.
	Begin, End int64
}

// Numel returns the number of elements (1 for a scalar, 0 when a
// dimension is 0).
func (in Info) Numel() int {
	if in.DType.Size() == 0 {
		return 0
	}
	return elems(in)
}

// File is an opened safetensors file: its validated header, with tensor data
// read on demand. A File is safe for concurrent use by multiple goroutines.
type File struct {
	name    string // path, for error messages; "" when read from a reader
	r       io.ReaderAt
	closer  io.Closer
	dataOff int64 // offset of the data section in r: 8 + header length
	infos   map[string]Info
	names   []string // sorted
	meta    map[string]string
}

// Open opens the safetensors file at path, validates its header and, if it
// carries a checksum (see ChecksumKey), verifies the data section. Tensor
// data is read from the file on demand; call Close when done.
// Errors name the file.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		fh.Close()
		return nil, fmt.Errorf("%s: %w: not a regular file", path, ErrFormat)
	}
	f, err := read(fh, st.Size(), path)
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.closer = fh
	return f, nil
}

// ReadFile reads the whole safetensors file at path into memory and
// validates it as Open does. The returned File needs no Close (it is a
// no-op). Errors name the file.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return read(bytes.NewReader(b), int64(len(b)), path)
}

// Read validates a safetensors file of the given size held by r, as Open
// does. r must stay readable while the File is used. Errors start with
// "safetensors: ".
//
// Read is safe on hostile input: the header length is checked against size
// and MaxHeaderSize before anything is allocated, every tensor entry must
// have a known dtype, a shape whose byte size (computed without overflow)
// equals its data_offsets range, and the ranges must cover the data section
// exactly, without overlaps or holes (as the format requires). Duplicate
// names are refused. No allocation exceeds a small multiple of size.
func Read(r io.ReaderAt, size int64) (*File, error) {
	return read(r, size, "")
}

func (f *File) prefix() string {
	if f.name == "" {
		return "safetensors"
	}
	return f.name
}

// formatErr returns an error wrapping ErrFormat.
func formatErr(name, format string, args ...any) error {
	if name == "" {
		name = "safetensors"
	}
	return fmt.Errorf("%s: %w: %s", name, ErrFormat, fmt.Sprintf(format, args...))
}

func read(r io.ReaderAt, size int64, name string) (*File, error) {
	if size < 8 {
		return nil, formatErr(name, "file is %d bytes, too short for the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if err := readAt(r, lenBuf[:], 0); err != nil {
		return nil, ioErr(name, err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > MaxHeaderSize {
		return nil, formatErr(name, "header length %d exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	if n > uint64(size-8) {
		return nil, formatErr(name, "header length %d runs past the end of the file (%d bytes)", n, size)
	}
	if n < 2 {
		return nil, formatErr(name, "header length %d is too short for a JSON object", n)
	}
	hdr := make([]byte, n)
	if err := readAt(r, hdr, 8); err != nil {
		return nil, ioErr(name, err)
	}
	f := &File{name: name, r: r, dataOff: 8 + int64(n)}
	dataSize := size - f.dataOff
	if err := f.parseHeader(hdr, dataSize); err != nil {
		return nil, err
	}
	if err := f.checkCoverage(dataSize); err != nil {
		return nil, err
	}
	if err := f.verifyChecksum(dataSize); err != nil {
		return nil, err
	}
	return f, nil
}

func ioErr(name string, err error) error {
	if name == "" {
		name = "safetensors"
	}
	return fmt.Errorf("%s: %w", name, err)
}

// readAt fills b from r at off; a short read is io.ErrUnexpectedEOF (the
// reader holds less than the size it was said to have).
func readAt(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// checkCoverage checks that the tensors' byte ranges tile the data section:
// no overlap, no hole, nothing left over.
func (f *File) checkCoverage(dataSize int64) error {
	type span struct {
		name       string
		begin, end int64
	}
	spans := make([]span, 0, len(f.infos))
	for k, in := range f.infos {
		spans = append(spans, span{k, in.Begin, in.End})
	}
	slices.SortFunc(spans, func(a, b span) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), strings.Compare(a.name, b.name))
	})
	var pos int64
	prev := ""
	for _, s := range spans {
		switch {
		case s.begin < pos:
			return formatErr(f.name, "tensors %q and %q overlap (bytes %d to %d)", prev, s.name, s.begin, pos)
		case s.begin > pos:
			return formatErr(f.name, "data section has a hole at bytes %d to %d (before tensor %q)", pos, s.begin, s.name)
		}
		pos, prev = s.end, s.name
	}
	if pos != dataSize {
		return formatErr(f.name, "data section has %d bytes after the last tensor", dataSize-pos)
	}
	return nil
}

func (f *File) verifyChecksum(dataSize int64) error {
	want, ok := f.meta[ChecksumKey]
	if !ok {
		return nil
	}
	w, err := strconv.ParseUint(want, 16, 32)
	if err != nil || len(want) != 8 {
		return formatErr(f.name, "__metadata__ %q: %q is not 8 hex digits", ChecksumKey, want)
	}
	buf := make([]byte, min(dataSize, 1<<20))
	var crc uint32
	for off := int64(0); off < dataSize; {
		n := min(int64(len(buf)), dataSize-off)
		if err := readAt(f.r, buf[:n], f.dataOff+off); err != nil {
			return ioErr(f.name, err)
		}
		crc = crc32.Update(crc, castagnoli, buf[:n])
		off += n
	}
	if crc != uint32(w) {
		return fmt.Errorf("%s: %w", f.prefix(), ErrChecksum)
	}
	return nil
}

// Close releases the file opened by Open. It is a no-op for files from
// ReadFile or Read.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	err := f.closer.Close()
	f.closer = nil
	return err
}

// Names returns the tensor names, sorted.
func (f *File) Names() []string { return slices.Clone(f.names) }

// Info returns the dtype, shape and offsets of the named tensor.
func (f *File) Info(name string) (Info, bool) {
	in, ok := f.infos[name]
	in.Shape = slices.Clone(in.Shape)
	return in, ok
}

// Metadata returns a copy of the __metadata__ map (nil when the file has
// none), including ChecksumKey when present.
func (f *File) Metadata() map[string]string {
	if f.meta == nil {
		return nil
	}
	m := make(map[string]string, len(f.meta))
	for k, v := range f.meta {
		m[k] = v
	}
	return m
}

func (f *File) lookup(name string) (Info, error) {
	in, ok := f.infos[name]
	if !ok {
		return in, fmt.Errorf("%s: no tensor named %q", f.prefix(), name)
	}
	return in, nil
}

// Bytes returns the raw little-endian data of the named tensor.
func (f *File) Bytes(name string) ([]byte, error) {
	in, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	return f.raw(name, in)
}

func (f *File) raw(name string, in Info) ([]byte, error) {
	b := make([]byte, in.End-in.Begin)
	if len(b) == 0 {
		return b, nil
	}
	if err := readAt(f.r, b, f.dataOff+in.Begin); err != nil {
		return nil, fmt.Errorf("%s: tensor %q: %w", f.prefix(), name, err)
	}
	return b, nil
}

// elems returns the element count of in, derived from the validated byte
// range (so it cannot overflow, unlike the product of the shape when a
// dimension is zero).
func elems(in Info) int { return int((in.End - in.Begin) / int64(in.DType.Size())) }

// Float32 returns the named tensor's elements as float32. F32 is returned
// as stored; F64 is rounded to nearest; F16 and BF16 are converted exactly.
// Other dtypes give an error.
func (f *File) Float32(name string) ([]float32, error) {
	in, b, err := f.rawOf(name, DType.isFloat, "a floating-point")
	if err != nil {
		return nil, err
	}
	out := make([]float32, elems(in))
	decodeFloat(in.DType, b, out)
	return out, nil
}

// Float64 returns the named tensor's elements as float64 (exact for F64,
// F32, F16 and BF16). Other dtypes give an error.
func (f *File) Float64(name string) ([]float64, error) {
	in, b, err := f.rawOf(name, DType.isFloat, "a floating-point")
	if err != nil {
		return nil, err
	}
	out := make([]float64, elems(in))
	decodeFloat(in.DType, b, out)
	return out, nil
}

// Int64 returns the named tensor's elements as int64, for the integer dtypes
// and BOOL. A U64 value above math.MaxInt64 gives an error.
func (f *File) Int64(name string) ([]int64, error) {
	in, b, err := f.rawOf(name, DType.isInt, "an integer")
	if err != nil {
		return nil, err
	}
	out := make([]int64, elems(in))
	if i := decodeInt64(in.DType, b, out); i >= 0 {
		return nil, fmt.Errorf("%s: tensor %q: element %d does not fit in int64", f.prefix(), name, i)
	}
	return out, nil
}

// rawOf looks up a tensor whose dtype passes ok and reads its bytes; kind
// names the dtypes ok accepts, for the error.
func (f *File) rawOf(name string, ok func(DType) bool, kind string) (Info, []byte, error) {
	in, err := f.lookup(name)
	if err != nil {
		return Info{}, nil, err
	}
	if !ok(in.DType) {
		return Info{}, nil, fmt.Errorf("%s: tensor %q is %s, not %s dtype", f.prefix(), name, in.DType, kind)
	}
	b, err := f.raw(name, in)
	return in, b, err
}
