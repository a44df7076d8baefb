package tensor

import (
	"fmt"
	"sort"

	"github.com/doggogan/doggogan/kernels"
)

// SumTo sums x over the dimensions along which shape was broadcast to x's
// shape, returning a tensor of the given shape: the adjoint of BroadcastTo.
// When the shapes are equal it returns x itself.
func SumTo(x *Tensor, shape []int) *Tensor {
	if sameShape(x.shape, shape) {
		return x
	}
	if b, err := BroadcastShapes(shape, x.shape); err != nil || !sameShape(b, x.shape) {
		panic(fmt.Sprintf("tensor: cannot sum shape %v to %v", x.shape, shape))
	}
	out := newOut(x.arena, x.dtype, shape...) // the kernel writes every element
	if x.dtype == Float32 {
		sumToKernel(out.f32, x.f32, x.shape, shape)
	} else {
		sumToKernel(out.f64, x.f64, x.shape, shape)
	}
	return record(out, "sum_to", []*Tensor{x}, func(c *bctx, g *Tensor) []*Tensor {
		return []*Tensor{BroadcastTo(g, c.n.inputs[0].shape)}
	})
}

func sumToKernel[T kernels.Float](out, x []T, xs, ts []int) {
	acc := make([]float64, len(out))
	p := makePlan(xs, contiguousStrides(xs), bstrides(ts, xs))
	last := len(p.shape) - 1
	n, st := p.shape[last], p.strides[1][last]
	p.runs(func(offs []int) {
		xr := x[offs[0] : offs[0]+n]
		if st == 0 {
			acc[offs[1]] += kernels.Sum(xr)
		} else {
			ar := acc[offs[1] : offs[1]+n]
			for i, v := range xr {
				ar[i] += float64(v)
			}
		}
	})
	for i, v := range acc {
		out[i] = T(v)
	}
}

// BroadcastTo returns x repeated along broadcast dimensions to the given
// shape (a copy).
func BroadcastTo(x *Tensor, shape []int) *Tensor {
	if sameShape(x.shape, shape) {
		return x
	}
	if b, err := BroadcastShapes(x.shape, shape); err != nil || !sameShape(b, shape) {
		panic(fmt.Sprintf("tensor: cannot broadcast shape %v to %v", x.shape, shape))
	}
	out := newOut(x.arena, x.dtype, shape...) // the kernel writes every element
	if x.dtype == Float32 {
		broadcastKernel(out.f32, x.f32, shape, x.shape)
	} else {
		broadcastKernel(out.f64, x.f64, shape, x.shape)
	}
	return record(out, "broadcast_to", []*Tensor{x}, func(c *bctx, g *Tensor) []*Tensor {
		return []*Tensor{SumTo(g, c.n.inputs[0].shape)}
	})
}

func broadcastKernel[T kernels.Float](out, x []T, os, xs []int) {
	p := makePlan(os, contiguousStrides(os), bstrides(xs, os))
	last := len(p.shape) - 1
	n, st := p.shape[last], p.strides[1][last]
	p.runs(func(offs []int) {
		o := out[offs[0] : offs[0]+n]
		if st == 0 {
			v := x[offs[1]]
			for i := range o {
				o[i] = v
			}
		} else {
			copy(o, x[offs[1]:offs[1]+n])
		}
	})
}

// Sum returns the sum of all elements as a 0-dimensional tensor.
func Sum(x *Tensor) *Tensor { return SumTo(x, []int{}) }

// Mean returns the mean of all elements as a 0-dimensional tensor.
func Mean(x *Tensor) *Tensor { return MulScalar(Sum(x), 1/float64(x.Numel())) }

func normAxes(rank int, axes []int) []int {
	seen := map[int]bool{}
	out := make([]int, 0, len(axes))
	for _, a := range axes {
		if a < 0 {
			a += rank
		}
		if a < 0 || a >= rank {
			panic(fmt.Sprintf("tensor: axis %d out of range for rank %d", a, rank))
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	sort.Ints(out)
	return out
}

// SumAxes sums x over the given axes (negative counts from the end),
// keeping them as size-1 dimensions when keepDim is true.
func SumAxes(x *Tensor, axes []int, keepDim bool) *Tensor {
	axes = normAxes(x.Rank(), axes)
	kshape := append([]int(nil), x.shape...)
	for _, a := range axes {
		kshape[a] = 1
	}
	y := SumTo(x, kshape)
	if keepDim {
		return y
	}
	return Reshape(y, squeezeShape(x.shape, axes)...)
}

// MeanAxes averages x over the given axes, keeping them as size-1
// dimensions when keepDim is true.
func MeanAxes(x *Tensor, axes []int, keepDim bool) *Tensor {
	axes = normAxes(x.Rank(), axes)
	n := 1
	for _, a := range axes {
		n *= x.shape[a]
	}
	return MulScalar(SumAxes(x, axes, keepDim), 1/float64(n))
}

func squeezeShape(shape, axes []int) []int {
	out := make([]int, 0, len(shape))
	j := 0
	for i, s := range shape {
		if j < len(axes) && axes[j] == i {
			j++
			continue
		}
		out = append(out, s)
	}
	return out
}
