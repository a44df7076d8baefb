package tensor

import "fmt"

// Reshape returns x with a new shape holding the same number of elements,
// sharing its storage. One dimension may be −1 to be inferred.
func Reshape(x *Tensor, shape ...int) *Tensor {
	shape = append([]int(nil), shape...)
	infer, n := -1, 1
	for i, s := range shape {
		if s == -1 {
			if infer >= 0 {
				panic("tensor: Reshape with more than one −1")
			}
			infer = i
			continue
		}
		n *= s
	}
	if infer >= 0 && n > 0 {
		shape[infer] = x.Numel() / n
		n *= shape[infer]
	}
	if n != x.Numel() {
		panic(fmt.Sprintf("tensor: cannot reshape %v to %v", x.shape, shape))
	}
	if sameShape(shape, x.shape) {
		return x
	}
	out := &Tensor{shape: shape, dtype: x.dtype, f32: x.f32, f64: x.f64, arena: x.arena}
	return record(out, "reshape", []*Tensor{x}, func(c *bctx, g *Tensor) []*Tensor {
		return []*Tensor{Reshape(g, c.n.inputs[0].shape...)}
	})
}

// Flatten reshapes x to two dimensions, keeping the first.
func Flatten(x *Tensor) *Tensor { return Reshape(x, x.shape[0], -1) }

// outerInner splits a shape around axis into the product of the dimensions
// before it and the product of those after it.
func outerInner(shape []int, axis int) (outer, inner int) {
	outer, inner = 1, 1
	for i, s := range shape {
		if i < axis {
			outer *= s
		} else if i > axis {
			inner *= s
		}
	}
	return
}

// Concat joins tensors of equal shape but along axis.
func Concat(axis int, xs ...*Tensor) *Tensor {
	if len(xs) == 0 {
		panic("tensor: Concat of nothing")
	}
	r := xs[0].Rank()
	if axis < 0 {
		axis += r
	}
	shape := append([]int(nil), xs[0].shape...)
	shape[axis] = 0
	for _, x := range xs {
		if x.Rank() != r || x.dtype != xs[0].dtype {
			panic("tensor: Concat of tensors of different rank or type")
		}
		for i := range shape {
			if i != axis && x.shape[i] != shape[i] {
				panic(fmt.Sprintf("tensor: Concat of shapes %v and %v along %d", xs[0].shape, x.shape, axis))
			}
		}
		shape[axis] += x.shape[axis]
	}
	out := newOut(arenaOf(xs...), xs[0].dtype, shape...)
	outer, inner := outerInner(shape, axis)
	pos := 0
	for _, x := range xs {
		w := x.shape[axis] * inner
		for o := 0; o < outer; o++ {
			dst := o*shape[axis]*inner + pos*inner
			if out.dtype == Float32 {
				copy(out.f32[dst:dst+w], x.f32[o*w:(o+1)*w])
			} else {
				copy(out.f64[dst:dst+w], x.f64[o*w:(o+1)*w])
			}
		}
		pos += x.shape[axis]
	}
	return record(out, "concat", xs, func(c *bctx, g *Tensor) []*Tensor {
		gs := make([]*Tensor, len(xs))
		start := 0
		for i, x := range c.n.inputs {
			if c.needs(i) {
				gs[i] = Narrow(g, axis, start, x.shape[axis])
			}
			start += x.shape[axis]
		}
		return gs
	})
}

// Narrow returns the part of x with indices start … start+length−1 along
// axis (a copy).
func Narrow(x *Tensor, axis, start, length int) *Tensor {
	if axis < 0 {
		axis += x.Rank()
	}
	if start < 0 || length < 0 || start+length > x.shape[axis] {
		panic(fmt.Sprintf("tensor: Narrow(%d, %d, %d) of shape %v", axis, start, length, x.shape))
	}
	return padAxis(x, axis, -start, start+length-x.shape[axis])
}

// padAxis adds before zeros in front of x along axis and after zeros behind
// it; negative amounts remove elements. Its adjoint is padAxis with the
// amounts negated.
func padAxis(x *Tensor, axis, before, after int) *Tensor {
	shape := append([]int(nil), x.shape...)
	n := x.shape[axis]
	shape[axis] = n + before + after
	if shape[axis] < 0 {
		panic("tensor: padAxis leaves a negative size")
	}
	if before == 0 && after == 0 {
		return x
	}
	out := like(x, shape...)
	outer, inner := outerInner(shape, axis)
	// Copy source rows [s0, s1) to destination rows [s0+before, s1+before).
	s0, s1 := 0, n
	if before < 0 {
		s0 = -before
	}
	if after < 0 {
		s1 = n + after
	}
	if s1 > s0 {
		w := (s1 - s0) * inner
		for o := 0; o < outer; o++ {
			src := o*n*inner + s0*inner
			dst := o*shape[axis]*inner + (s0+before)*inner
			if x.dtype == Float32 {
				copy(out.f32[dst:dst+w], x.f32[src:src+w])
			} else {
				copy(out.f64[dst:dst+w], x.f64[src:src+w])
			}
		}
	}
	return record(out, "pad_axis", []*Tensor{x}, func(c *bctx, g *Tensor) []*Tensor {
		return []*Tensor{padAxis(g, axis, -before, -after)}
	})
}

// ToDType returns x converted to dt (x itself when it already is).
func ToDType(x *Tensor, dt DType) *Tensor {
	if x.dtype == dt {
		return x
	}
	out := newOut(x.arena, dt, x.shape...)
	if dt == Float64 {
		for i, v := range x.f32 {
			out.f64[i] = float64(v)
		}
	} else {
		for i, v := range x.f64 {
			out.f32[i] = float32(v)
		}
	}
	src := x.dtype
	return record(out, "to_dtype", []*Tensor{x}, func(c *bctx, g *Tensor) []*Tensor {
		return []*Tensor{ToDType(g, src)}
	})
}
