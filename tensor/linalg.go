package tensor

import (
	"fmt"

	"github.com/doggogan/doggogan/kernels"
)

// MatMul returns the matrix product a·b of two 2-D tensors.
func MatMul(a, b *Tensor) *Tensor { return matmulT(a, b, false, false) }

// matmulT returns op(a)·op(b), op transposing when the flag is set.
func matmulT(a, b *Tensor, ta, tb bool) *Tensor {
	if a.Rank() != 2 || b.Rank() != 2 || a.dtype != b.dtype {
		panic(fmt.Sprintf("tensor: MatMul of %v %v and %v %v", a.dtype, a.shape, b.dtype, b.shape))
	}
	m, k := a.shape[0], a.shape[1]
	if ta {
		m, k = k, m
	}
	k2, n := b.shape[0], b.shape[1]
	if tb {
		k2, n = n, k2
	}
	if k != k2 {
		panic(fmt.Sprintf("tensor: MatMul of %v and %v (transposed %v, %v)", a.shape, b.shape, ta, tb))
	}
	out := newOut(arenaOf(a, b), a.dtype, m, n)
	flops.Add(2 * int64(m) * int64(n) * int64(k))
	if a.dtype == Float32 {
		kernels.Gemm(ta, tb, m, n, k, 1, a.f32, a.shape[1], b.f32, b.shape[1], 0, out.f32, n)
	} else {
		kernels.Gemm(ta, tb, m, n, k, 1, a.f64, a.shape[1], b.f64, b.shape[1], 0, out.f64, n)
	}
	return record(out, "matmul", []*Tensor{a, b}, func(c *bctx, g *Tensor) []*Tensor {
		var ga, gb *Tensor
		A, B := c.in(0), c.in(1)
		if c.needs(0) {
			if !ta {
				ga = matmulT(g, B, false, !tb)
			} else {
				ga = matmulT(B, g, tb, true)
			}
		}
		if c.needs(1) {
			if !tb {
				gb = matmulT(A, g, !ta, false)
			} else {
				gb = matmulT(g, A, true, ta)
			}
		}
		return []*Tensor{ga, gb}
	})
}
