package torchpth

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
)

// storageBytes returns the bytes of a storage, reading its record once.
// The record must hold exactly numel × element size bytes; the total read
// over all storages may not exceed the file size (so overlapping zip
// records cannot multiply the memory used).
func (l *loader) storageBytes(s *storageRef) ([]byte, error) {
	if b, ok := l.loaded[s.key]; ok {
		return b, nil
	}
	rec := "data/" + s.key
	f, ok := l.records[rec]
	if !ok {
		return nil, l.errorf("storage %q: archive has no record %q", s.key, rec)
	}
	hi, want := bits.Mul64(uint64(s.numel), uint64(s.typ.size))
	if hi != 0 || want != f.UncompressedSize64 {
		return nil, l.errorf("storage %q: pickle claims %d %s elements, record holds %d bytes",
			s.key, s.numel, s.typ.dtype, f.UncompressedSize64)
	}
	if want > uint64(l.budget) {
		return nil, l.errorf("storage %q: storages add up to more bytes than the file holds", s.key)
	}
	b, err := l.readRecord(rec, l.budget)
	if err != nil {
		return nil, err
	}
	l.budget -= int64(len(b))
	l.loaded[s.key] = b
	return b, nil
}

// materialize checks a tensor view against its storage and copies it out
// as contiguous float32.
func (l *loader) materialize(name string, t *tensorRef) (Tensor, error) {
	s := t.storage
	out := Tensor{Name: name, DType: s.typ.dtype, Shape: slices.Clone(t.shape)}
	// A zero dimension gives an empty tensor whatever the other dimensions
	// and strides are.
	if slices.Contains(t.shape, 0) {
		out.Data = []float32{}
		return out, nil
	}
	n := uint64(1) // element count, overflow-checked
	for _, d := range t.shape {
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt64 {
			return Tensor{}, l.errorf("tensor %q: shape %v is too large", name, t.shape)
		}
		n = lo
	}
	// The last element the view touches must lie inside the storage:
	// offset + Σ (size_i − 1) × stride_i < numel, overflow-checked.
	last := uint64(t.offset)
	for i, d := range t.shape {
		hi, lo := bits.Mul64(uint64(d-1), uint64(t.stride[i]))
		var carry uint64
		last, carry = bits.Add64(last, lo, 0)
		if hi != 0 || carry != 0 {
			return Tensor{}, l.errorf("tensor %q: view (offset %d, shape %v, stride %v) overflows", name, t.offset, t.shape, t.stride)
		}
	}
	if last >= uint64(s.numel) {
		return Tensor{}, l.errorf("tensor %q: view (offset %d, shape %v, stride %v) reaches element %d of a storage of %d",
			name, t.offset, t.shape, t.stride, last, s.numel)
	}
	// Now n ≤ numel unless the view overlaps itself (a zero or small
	// stride, as from expand()); the output budget bounds that case.
	if n > uint64(l.outLeft) {
		return Tensor{}, l.errorf("tensor %q: %d elements exceed what a file of %d bytes can hold", name, n, l.size)
	}
	l.outLeft -= int64(n)
	raw, err := l.storageBytes(s)
	if err != nil {
		return Tensor{}, err
	}
	out.Data = make([]float32, n)
	get := decoder(s.typ.dtype, raw)
	gather(out.Data, get, t.offset, t.shape, t.stride)
	return out, nil
}

// gather copies the strided view into dst in row-major order.
func gather(dst []float32, get func(int) float32, offset int, shape, stride []int) {
	if len(shape) == 0 {
		dst[0] = get(offset)
		return
	}
	// Iterate over all but the last dimension with an index counter; the
	// last dimension is the inner loop.
	inner, istride := shape[len(shape)-1], stride[len(stride)-1]
	outer := shape[:len(shape)-1]
	idx := make([]int, len(outer))
	base := offset
	for k := 0; k < len(dst); k += inner {
		p := base
		for j := 0; j < inner; j++ {
			dst[k+j] = get(p)
			p += istride
		}
		// Advance the multi-index over the outer dimensions.
		for d := len(outer) - 1; d >= 0; d-- {
			idx[d]++
			base += stride[d]
			if idx[d] < outer[d] {
				break
			}
			base -= idx[d] * stride[d]
			idx[d] = 0
		}
	}
}

// decoder returns a function reading element i of a little-endian storage
// as float32.
func decoder(dtype string, b []byte) func(int) float32 {
	le := binary.LittleEndian
	switch dtype {
	case "float32":
		return func(i int) float32 { return math.Float32frombits(le.Uint32(b[4*i:])) }
	case "float64":
		return func(i int) float32 { return float32(math.Float64frombits(le.Uint64(b[8*i:]))) }
	case "float16":
		return func(i int) float32 { return float16(le.Uint16(b[2*i:])) }
	case "bfloat16":
		return func(i int) float32 { return math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16) }
	case "int64":
		return func(i int) float32 { return float32(int64(le.Uint64(b[8*i:]))) }
	case "int32":
		return func(i int) float32 { return float32(int32(le.Uint32(b[4*i:]))) }
	case "int16":
		return func(i int) float32 { return float32(int16(le.Uint16(b[2*i:]))) }
	case "int8":
		return func(i int) float32 { return float32(int8(b[i])) }
	default: // uint8, bool
		return func(i int) float32 { return float32(b[i]) }
	}
}

// float16 converts an IEEE 754 binary16 bit pattern to float32 (exact).
func float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0: // zero or subnormal: mant × 2^-24
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(math.Float32bits(v) | sign)
	case 0x1f: // infinity or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}
