// Package tensor provides n-dimensional arrays and define-by-run reverse-mode
// automatic differentiation with higher-order gradients.
//
// Tensors are contiguous and row-major, hold float32 (the working precision)
// or float64 (used to verify gradients against finite differences), and
// images are laid out NCHW. Every operation records, when one of its inputs
// requires a gradient, a node in a graph built as the program runs; Grad and
// Backward walk that graph backwards. The backward pass of every operation is
// itself written with differentiable operations, so with createGraph a
// gradient can be differentiated again, as the WGAN-GP gradient penalty
// needs.
//
// Tensors are immutable once created, except through the few documented
// in-place methods used by optimizers (AddScaled_, Fill_, CopyFrom_).
// Operations never change their inputs.
package tensor

import (
	"fmt"
	"math"
	"strings"
)

// DType is the element type of a tensor.
type DType uint8

const (
	// Float32 is the working precision.
	Float32 DType = iota
	// Float64 is used to verify gradients.
	Float64
)

// String returns "float32" or "float64".
func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Tensor is an n-dimensional array that may take part in automatic
// differentiation. The zero value is not usable; create tensors with New,
// Zeros, FromFloat32 and friends.
type Tensor struct {
	shape []int
	dtype DType
	f32   []float32
	f64   []float64

	arena *Arena // owner of the storage, if any

	leafGrad bool    // a leaf the user asked gradients for
	grad     *Tensor // accumulated by Backward on leaves
	node     *node   // the operation that made this tensor, if recorded
}

// numel returns the number of elements a shape holds.
func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

func checkShape(shape []int) {
	n := 1
	for _, s := range shape {
		if s < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in shape %v", shape))
		}
		if s > 0 && n > math.MaxInt32*64/s {
			panic(fmt.Sprintf("tensor: shape %v is too large", shape))
		}
		n *= s
	}
}

// New returns a zero-filled tensor of the given element type and shape.
func New(dt DType, shape ...int) *Tensor {
	checkShape(shape)
	t := &Tensor{shape: append([]int(nil), shape...), dtype: dt}
	n := numel(shape)
	switch dt {
	case Float32:
		t.f32 = make([]float32, n)
	case Float64:
		t.f64 = make([]float64, n)
	default:
		panic("tensor: unknown dtype")
	}
	return t
}

// Zeros returns a zero-filled float32 tensor.
func Zeros(shape ...int) *Tensor { return New(Float32, shape...) }

// ZerosLike returns a zero-filled tensor with x's type and shape.
func ZerosLike(x *Tensor) *Tensor { return New(x.dtype, x.shape...) }

// Full returns a tensor of the given type and shape filled with v.
func Full(dt DType, v float64, shape ...int) *Tensor {
	t := New(dt, shape...)
	t.Fill_(v)
	return t
}

// Scalar returns a 0-dimensional tensor holding v.
func Scalar(dt DType, v float64) *Tensor { return Full(dt, v) }

// FromFloat32 returns a float32 tensor of the given shape that uses data as
// its storage (no copy). It panics if len(data) does not match the shape.
func FromFloat32(data []float32, shape ...int) *Tensor {
	checkShape(shape)
	if len(data) != numel(shape) {
		panic(fmt.Sprintf("tensor: %d values for shape %v", len(data), shape))
	}
	return &Tensor{shape: append([]int(nil), shape...), dtype: Float32, f32: data}
}

// FromFloat64 returns a float64 tensor of the given shape that uses data as
// its storage (no copy). It panics if len(data) does not match the shape.
func FromFloat64(data []float64, shape ...int) *Tensor {
	checkShape(shape)
	if len(data) != numel(shape) {
		panic(fmt.Sprintf("tensor: %d values for shape %v", len(data), shape))
	}
	return &Tensor{shape: append([]int(nil), shape...), dtype: Float64, f64: data}
}

// Shape returns the tensor's dimensions. The caller must not change it.
func (t *Tensor) Shape() []int { return t.shape }

// Dim returns the size of dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	return t.shape[i]
}

// Rank returns the number of dimensions.
func (t *Tensor) Rank() int { return len(t.shape) }

// Numel returns the number of elements.
func (t *Tensor) Numel() int { return numel(t.shape) }

// DType returns the element type.
func (t *Tensor) DType() DType { return t.dtype }

// Float32s returns the storage of a float32 tensor (nil for float64). Writes
// to it change the tensor; do that only to tensors no graph depends on.
func (t *Tensor) Float32s() []float32 { return t.f32 }

// Float64s returns the storage of a float64 tensor (nil for float32).
func (t *Tensor) Float64s() []float64 { return t.f64 }

// At returns the element at the given index as a float64.
func (t *Tensor) At(idx ...int) float64 {
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("tensor: At with %d indices on a rank-%d tensor", len(idx), len(t.shape)))
	}
	off := 0
	for i, v := range idx {
		if v < 0 || v >= t.shape[i] {
			panic(fmt.Sprintf("tensor: index %v out of range for shape %v", idx, t.shape))
		}
		off = off*t.shape[i] + v
	}
	return t.get(off)
}

func (t *Tensor) get(i int) float64 {
	if t.dtype == Float32 {
		return float64(t.f32[i])
	}
	return t.f64[i]
}

// Item returns the value of a one-element tensor.
func (t *Tensor) Item() float64 {
	if t.Numel() != 1 {
		panic(fmt.Sprintf("tensor: Item on a tensor of shape %v", t.shape))
	}
	return t.get(0)
}

// Values returns a copy of the elements as float64s.
func (t *Tensor) Values() []float64 {
	out := make([]float64, t.Numel())
	if t.dtype == Float64 {
		copy(out, t.f64)
	} else {
		for i, v := range t.f32 {
			out[i] = float64(v)
		}
	}
	return out
}

// Clone returns a copy of t's values with no graph attached, on the heap
// (never in an arena).
func (t *Tensor) Clone() *Tensor {
	c := New(t.dtype, t.shape...)
	copy(c.f32, t.f32)
	copy(c.f64, t.f64)
	return c
}

// Detach returns a tensor sharing t's storage that takes no part in
// automatic differentiation.
func (t *Tensor) Detach() *Tensor {
	return &Tensor{shape: t.shape, dtype: t.dtype, f32: t.f32, f64: t.f64, arena: t.arena}
}

// SetRequiresGrad marks a tensor with no recorded history (a leaf, such as a
// parameter) as needing gradients, or not. It returns t.
func (t *Tensor) SetRequiresGrad(b bool) *Tensor {
	if t.node != nil {
		panic("tensor: SetRequiresGrad on a tensor computed by a recorded operation")
	}
	t.leafGrad = b
	return t
}

// RequiresGrad reports whether gradients flow to or through t.
func (t *Tensor) RequiresGrad() bool { return t.leafGrad || t.node != nil }

// Grad returns the gradient accumulated on a leaf by Backward, or nil.
func (t *Tensor) Grad() *Tensor { return t.grad }

// SetGrad replaces the accumulated gradient (nil clears it).
func (t *Tensor) SetGrad(g *Tensor) { t.grad = g }

// Fill_ sets every element to v in place.
func (t *Tensor) Fill_(v float64) {
	if t.dtype == Float32 {
		f := float32(v)
		for i := range t.f32 {
			t.f32[i] = f
		}
	} else {
		for i := range t.f64 {
			t.f64[i] = v
		}
	}
}

// CopyFrom_ copies src's values into t in place; shapes must hold the same
// number of elements and types must match.
func (t *Tensor) CopyFrom_(src *Tensor) {
	if src.Numel() != t.Numel() || src.dtype != t.dtype {
		panic(fmt.Sprintf("tensor: CopyFrom_ %v %v into %v %v", src.dtype, src.shape, t.dtype, t.shape))
	}
	copy(t.f32, src.f32)
	copy(t.f64, src.f64)
}

// AddScaled_ adds alpha·x to t in place.
func (t *Tensor) AddScaled_(alpha float64, x *Tensor) {
	if x.Numel() != t.Numel() || x.dtype != t.dtype {
		panic(fmt.Sprintf("tensor: AddScaled_ %v %v into %v %v", x.dtype, x.shape, t.dtype, t.shape))
	}
	if t.dtype == Float32 {
		a := float32(alpha)
		d, s := t.f32, x.f32[:len(t.f32)]
		for i := range d {
			d[i] += a * s[i]
		}
	} else {
		d, s := t.f64, x.f64[:len(t.f64)]
		for i := range d {
			d[i] += alpha * s[i]
		}
	}
}

// String describes the tensor briefly, with its first values.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor(%v %v", t.dtype, t.shape)
	n := t.Numel()
	k := n
	if k > 8 {
		k = 8
	}
	b.WriteString(" [")
	for i := 0; i < k; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.4g", t.get(i))
	}
	if k < n {
		b.WriteString(" …")
	}
	b.WriteString("])")
	return b.String()
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// like returns a new zero tensor with x's dtype and the given shape, in
// x's arena if it has one.
func like(x *Tensor, shape ...int) *Tensor { return newIn(x.arena, x.dtype, shape...) }
