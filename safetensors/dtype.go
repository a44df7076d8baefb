package safetensors

import (
	"encoding/binary"
	"math"
)

// DType is a safetensors element type, spelled as in the file header.
type DType string

// The element types of the safetensors format. All are little-endian.
const (
	F64     DType = "F64"     // IEEE 754 binary64
	F32     DType = "F32"     // IEEE 754 binary32
	F16     DType = "F16"     // IEEE 754 binary16
	BF16    DType = "BF16"    // bfloat16: the upper half of a binary32
	F8E4M3  DType = "F8_E4M3" // 8-bit float (raw bytes only)
	F8E5M2  DType = "F8_E5M2" // 8-bit float (raw bytes only)
	I64     DType = "I64"
	I32     DType = "I32"
	I16     DType = "I16"
	I8      DType = "I8"
	U64     DType = "U64"
	U32     DType = "U32"
	U16     DType = "U16"
	U8      DType = "U8"
	BOOL    DType = "BOOL" // one byte per element, 0 or 1
	unknown DType = ""
)

// Size returns the number of bytes of one element, or 0 for a dtype this
// package does not know.
func (d DType) Size() int {
	switch d {
	case F64, I64, U64:
		return 8
	case F32, I32, U32:
		return 4
	case F16, BF16, I16, U16:
		return 2
	case F8E4M3, F8E5M2, I8, U8, BOOL:
		return 1
	}
	return 0
}

// isFloat reports whether Float32 and Float64 can convert d.
func (d DType) isFloat() bool {
	switch d {
	case F64, F32, F16, BF16:
		return true
	}
	return false
}

// isInt reports whether Int64 can convert d.
func (d DType) isInt() bool {
	switch d {
	case I64, I32, I16, I8, U64, U32, U16, U8, BOOL:
		return true
	}
	return false
}

// Float16ToFloat32 converts an IEEE 754 binary16 bit pattern to float32.
// The conversion is exact (every binary16 value is a binary32 value),
// including subnormals, infinities and NaN payloads.
func Float16ToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch exp {
	case 0:
		// Zero or subnormal: mant × 2^-24, exact in float32.
		v := float32(mant) * (1.0 / (1 << 24))
		return math.Float32frombits(math.Float32bits(v) | sign)
	case 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// BFloat16ToFloat32 converts a bfloat16 bit pattern to float32 (exact).
func BFloat16ToFloat32(b uint16) float32 {
	return math.Float32frombits(uint32(b) << 16)
}

// decodeFloat converts little-endian raw data of floating-point dtype d to
// float32 or float64 (F64 to float32 rounds to nearest; all else is exact).
func decodeFloat[T float32 | float64](d DType, raw []byte, out []T) {
	le := binary.LittleEndian
	switch d {
	case F32:
		for i := range out {
			out[i] = T(math.Float32frombits(le.Uint32(raw[4*i:])))
		}
	case F64:
		for i := range out {
			out[i] = T(math.Float64frombits(le.Uint64(raw[8*i:])))
		}
	case F16:
		for i := range out {
			out[i] = T(Float16ToFloat32(le.Uint16(raw[2*i:])))
		}
	case BF16:
		for i := range out {
			out[i] = T(BFloat16ToFloat32(le.Uint16(raw[2*i:])))
		}
	}
}

// decodeInt64 converts little-endian raw data of integer dtype d to int64.
// It reports the index of the first U64 value that does not fit, or -1.
func decodeInt64(d DType, raw []byte, out []int64) int {
	le := binary.LittleEndian
	switch d {
	case I64:
		for i := range out {
			out[i] = int64(le.Uint64(raw[8*i:]))
		}
	case U64:
		for i := range out {
			v := le.Uint64(raw[8*i:])
			if v > math.MaxInt64 {
				return i
			}
			out[i] = int64(v)
		}
	case I32:
		for i := range out {
			out[i] = int64(int32(le.Uint32(raw[4*i:])))
		}
	case U32:
		for i := range out {
			out[i] = int64(le.Uint32(raw[4*i:]))
		}
	case I16:
		for i := range out {
			out[i] = int64(int16(le.Uint16(raw[2*i:])))
		}
	case U16:
		for i := range out {
			out[i] = int64(le.Uint16(raw[2*i:]))
		}
	case I8:
		for i := range out {
			out[i] = int64(int8(raw[i]))
		}
	case U8, BOOL:
		for i := range out {
			out[i] = int64(raw[i])
		}
	}
	return -1
}
