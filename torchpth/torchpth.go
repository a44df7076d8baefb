// Package torchpth loads PyTorch state_dicts saved with torch.save, so that
// doggogan can start from weights trained with the PyTorch CycleGAN
// reference.
//
// It reads the zip format written by PyTorch 1.6 and later: a zip archive
// with one top folder (its name varies) holding data.pkl, a pickle of the
// object, and data/N, the raw little-endian bytes of each storage. The
// pickle is decoded with github.com/nlpodyssey/gopickle's unpickler; the
// torch-specific parts (persistent storages, _rebuild_tensor_v2, strided
// views) are handled here. No Python code runs: unknown classes become inert
// placeholders.
//
// Tensors come out contiguous (row-major) as float32, whatever their dtype
// and strides in the file. The pre-1.6 (non-zip) format and TorchScript
// archives are refused with an error saying what to do.
//
// Every file is treated as hostile: malformed archives and pickles give an
// error (never a panic), and nothing is allocated on the file's say-so
// beyond what the file's real size supports.
package torchpth

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Tensor is one tensor of a state_dict.
type Tensor struct {
	// Name is the state_dict key, e.g. "model.1.weight". Tensors of nested
	// dicts are named with the keys joined by dots.
	Name string
	// DType is the tensor's dtype in the file, as torch spells it without
	// the "torch." prefix: float32, float16, bfloat16, float64, int64,
	// int32, int16, int8, uint8 or bool.
	DType string
	// Shape is the tensor's size; empty for a 0-d (scalar) tensor.
	Shape []int
	// Data holds the elements in row-major order, converted to float32:
	// exact for float32, float16 and bfloat16, rounded to nearest for
	// float64, exact for integers up to 2^24 in magnitude.
	Data []float32
}

// ErrFormat is wrapped by every error about a file that is not a loadable
// PyTorch state_dict (as opposed to I/O errors).
var ErrFormat = errors.New("not a loadable PyTorch state_dict")

// ErrLegacyFormat is wrapped by the error for files in the pre-1.6 torch.save
// format, which this package does not read.
var ErrLegacyFormat = errors.New("legacy (pre-1.6, non-zip) torch.save format is not supported; " +
	"load the file with PyTorch 1.6 or newer and save it again with torch.save(obj, path)")

// MaxPickleSize is the largest data.pkl accepted: 16 MiB, far more than the
// pickle of a state_dict needs (the tensors' bytes are stored outside it).
// It bounds the unpickler's memory, which is a constant multiple of the
// pickle's size.
const MaxPickleSize = 16 << 20

// legacyMagic starts a pre-1.6 torch.save file: pickle protocol 2 and the
// LONG1 magic number 0x1950a86a20f9469cfc6c.
var legacyMagic = []byte{0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// Load reads the state_dict saved by torch.save at path. See Read.
// Errors name the file.
func Load(path string) ([]Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: not a regular file", path, ErrFormat)
	}
	return read(f, st.Size(), path)
}

// Read reads a torch.save file of the given size from r and returns its
// tensors in the order of the file's state_dict.
//
// The object saved may be a state_dict (an OrderedDict or dict of tensors),
// or a dict wrapping one under the key "state_dict" (other keys, such as an
// epoch number, are ignored). Nested dicts of tensors (e.g. {"netG_A": sd1,
// "netD_A": sd2}) are flattened with dotted names ("netG_A.model.1.weight").
// Values that are not tensors or dicts, and a state_dict's _metadata, are
// ignored. nn.Parameter values are read as their tensors.
//
// Errors start with "torchpth: ".
func Read(r io.ReaderAt, size int64) ([]Tensor, error) {
	return read(r, size, "")
}

// ByName indexes tensors by name.
func ByName(ts []Tensor) map[string]Tensor {
	m := make(map[string]Tensor, len(ts))
	for _, t := range ts {
		m[t.Name] = t
	}
	return m
}

// loader holds the state of one Read.
type loader struct {
	name    string // file path for errors, or ""
	size    int64
	records map[string]*zip.File // by name relative to the top folder
	loaded  map[string][]byte    // storage key -> bytes
	budget  int64                // storage bytes that may still be loaded
	outLeft int64                // output float32 elements that may still be made
}

func (l *loader) errorf(format string, args ...any) error {
	name := l.name
	if name == "" {
		name = "torchpth"
	}
	return fmt.Errorf("%s: %w: %s", name, ErrFormat, fmt.Sprintf(format, args...))
}

func read(r io.ReaderAt, size int64, name string) ([]Tensor, error) {
	l := &loader{name: name, size: size, budget: size, loaded: map[string][]byte{}}
	// Output is bounded by a multiple of the input: two float32 elements
	// (8 bytes) per input byte plus 1 Mi elements. float16 doubles in
	// size and views may share a storage (weight tying); this leaves room
	// for both while refusing expand()-style views that would blow up.
	l.outLeft = 2*size + 1<<20
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, l.notZip(r, size, err)
	}
	if err := l.index(zr); err != nil {
		return nil, err
	}
	pkl, err := l.readRecord("data.pkl", MaxPickleSize)
	if err != nil {
		return nil, err
	}
	obj, err := l.unpickle(pkl)
	if err != nil {
		return nil, err
	}
	refs, err := l.collect(obj)
	if err != nil {
		return nil, err
	}
	out := make([]Tensor, 0, len(refs))
	for _, nr := range refs {
		t, err := l.materialize(nr.name, nr.ref)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// notZip explains why a file that is not a zip archive cannot be read.
func (l *loader) notZip(r io.ReaderAt, size int64, zerr error) error {
	head := make([]byte, min(size, int64(len(legacyMagic))))
	n, _ := r.ReadAt(head, 0)
	if bytes.Equal(head[:n], legacyMagic) {
		name := l.name
		if name == "" {
			name = "torchpth"
		}
		return fmt.Errorf("%s: %w", name, ErrLegacyFormat)
	}
	return l.errorf("not a zip archive as written by torch.save (%v)", zerr)
}

// index finds the archive's top folder (the one holding data.pkl) and maps
// the records under it.
func (l *loader) index(zr *zip.Reader) error {
	top := ""
	found := false
	for _, f := range zr.File {
		dir, base := path.Split(f.Name)
		if base == "data.pkl" && strings.Count(dir, "/") <= 1 {
			if found && dir != top {
				return l.errorf("archive has more than one data.pkl (%q and %q)", top+"data.pkl", f.Name)
			}
			top, found = dir, true
		}
	}
	if !found {
		return l.errorf("archive has no data.pkl: not a file written by torch.save")
	}
	l.records = make(map[string]*zip.File)
	for _, f := range zr.File {
		if rest, ok := strings.CutPrefix(f.Name, top); ok {
			if _, dup := l.records[rest]; dup {
				return l.errorf("archive has two records named %q", f.Name)
			}
			l.records[rest] = f
		}
	}
	if _, ok := l.records["constants.pkl"]; ok {
		return l.errorf("this is a TorchScript archive (torch.jit.save); save model.state_dict() with torch.save instead")
	}
	if _, ok := l.records["byteorder"]; ok { // written by PyTorch 2.1 and later
		b, err := l.readRecord("byteorder", 16)
		if err != nil {
			return err
		}
		if s := string(b); s != "little" {
			return l.errorf("storages are %q-endian; only little-endian files are supported", s)
		}
	}
	return nil
}

// readRecord reads a whole record under the top folder. Records must be
// stored uncompressed, as torch.save writes them; their size is then bounded
// by the file's, and at most max bytes are accepted. Reading to the end makes
// archive/zip verify the record's CRC-32.
func (l *loader) readRecord(name string, max int64) ([]byte, error) {
	f, ok := l.records[name]
	if !ok {
		return nil, l.errorf("archive has no record %q", name)
	}
	if f.Method != zip.Store {
		return nil, l.errorf("record %q is compressed (method %d); torch.save stores records uncompressed", name, f.Method)
	}
	n := f.UncompressedSize64
	if n != f.CompressedSize64 || n > uint64(l.size) {
		return nil, l.errorf("record %q claims %d bytes in a %d-byte file", name, n, l.size)
	}
	if n > uint64(max) {
		return nil, l.errorf("record %q is %d bytes, more than the limit of %d", name, n, max)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, l.errorf("record %q: %v", name, err)
	}
	defer rc.Close()
	b := make([]byte, n)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, l.errorf("record %q: %v", name, err)
	}
	// Reading past the end triggers archive/zip's CRC-32 check.
	var one [1]byte
	if k, err := rc.Read(one[:]); k != 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = errors.New("longer than its header says")
		}
		return nil, l.errorf("record %q: %v", name, err)
	}
	return b, nil
}
