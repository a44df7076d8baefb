package tensor

import (
	"fmt"
	"sync/atomic"

	"github.com/doggogan/doggogan/kernels"
)

// ConvOptions configures a 2-D convolution.
type ConvOptions struct {
	Stride  int     // 1 when zero
	Padding int     // on each side
	Mode    PadMode // how the padding is filled
	// OutputPadding adds rows and columns at the bottom and right of a
	// transposed convolution's output; it must be smaller than Stride.
	OutputPadding int
}

func (o ConvOptions) stride() int {
	if o.Stride <= 0 {
		return 1
	}
	return o.Stride
}

// Conv2d returns the 2-D cross-correlation of an N×C×H×W input x with a
// K×C×KH×KW weight w (PyTorch's layout), plus a bias of K values when b is
// not nil, giving an N×K×OH×OW output.
func Conv2d(x, w, b *Tensor, o ConvOptions) *Tensor {
	check4D("Conv2d", x)
	if w.Rank() != 4 || w.shape[1] != x.shape[1] {
		panic(fmt.Sprintf("tensor: Conv2d of input %v with weight %v", x.shape, w.shape))
	}
	s := o.stride()
	p := kernels.ConvParams{
		N: x.shape[0], C: x.shape[1], H: x.shape[2], W: x.shape[3],
		K: w.shape[0], KH: w.shape[2], KW: w.shape[3],
		SH: s, SW: s, PH: o.Padding, PW: o.Padding, Reflect: o.Mode == PadReflect,
	}
	p.OH = (p.H+2*p.PH-p.KH)/p.SH + 1
	p.OW = (p.W+2*p.PW-p.KW)/p.SW + 1
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("tensor: Conv2d of input %v with weight %v: %v", x.shape, w.shape, err))
	}
	y := convPrim(x, w, p)
	if b != nil {
		y = Add(y, Reshape(b, 1, p.K, 1, 1))
	}
	return y
}

// ConvTranspose2d returns the transposed convolution (the gradient of
// Conv2d with respect to its input) of an N×Cin×H×W input x with a
// Cin×Cout×KH×KW weight w (PyTorch's ConvTranspose2d layout), plus a bias
// of Cout values when b is not nil. The output is N×Cout×OH×OW with
// OH = (H−1)·stride − 2·padding + KH + outputPadding.
func ConvTranspose2d(x, w, b *Tensor, o ConvOptions) *Tensor {
	check4D("ConvTranspose2d", x)
	if w.Rank() != 4 || w.shape[0] != x.shape[1] {
		panic(fmt.Sprintf("tensor: ConvTranspose2d of input %v with weight %v", x.shape, w.shape))
	}
	s := o.stride()
	if o.OutputPadding < 0 || o.OutputPadding >= s {
		panic(fmt.Sprintf("tensor: output padding %d with stride %d", o.OutputPadding, s))
	}
	if o.Mode != PadZero {
		panic("tensor: ConvTranspose2d supports zero padding only")
	}
	p := kernels.ConvParams{
		N: x.shape[0], K: x.shape[1], OH: x.shape[2], OW: x.shape[3],
		C: w.shape[1], KH: w.shape[2], KW: w.shape[3],
		SH: s, SW: s, PH: o.Padding, PW: o.Padding,
	}
	p.H = (p.OH-1)*s - 2*p.PH + p.KH + o.OutputPadding
	p.W = (p.OW-1)*s - 2*p.PW + p.KW + o.OutputPadding
	if err := p.Validate(); err != nil {
		panic(fmt.Sprintf("tensor: ConvTranspose2d of input %v with weight %v: %v", x.shape, w.shape, err))
	}
	y := convDataPrim(x, w, p)
	if b != nil {
		y = Add(y, Reshape(b, 1, p.C, 1, 1))
	}
	return y
}

// The three convolution primitives are the partial derivatives of one
// trilinear form T(x, w, gy) = ⟨conv(x, w), gy⟩, so the backward pass of
// each is written with the other two, to any order.

// convPrim: y = conv(x, w).
func convPrim(x, w *Tensor, p kernels.ConvParams) *Tensor {
	mustSameDType("Conv2d", x, w)
	y := newOut(arenaOf(x, w), x.dtype, p.N, p.K, p.OH, p.OW)
	flops.Add(int64(p.FLOPs()))
	if x.dtype == Float32 {
		kernels.Conv2d(p, x.f32, w.f32, y.f32)
	} else {
		kernels.Conv2d(p, x.f64, w.f64, y.f64)
	}
	return record(y, "conv2d", []*Tensor{x, w}, func(c *bctx, g *Tensor) []*Tensor {
		var gx, gw *Tensor
		if c.needs(0) {
			gx = convDataPrim(g, c.in(1), p)
		}
		if c.needs(1) {
			gw = convWeightPrim(c.in(0), g, p)
		}
		return []*Tensor{gx, gw}
	})
}

// convDataPrim: x = ∂T/∂x (gy, w), the transposed convolution.
func convDataPrim(gy, w *Tensor, p kernels.ConvParams) *Tensor {
	mustSameDType("ConvTranspose2d", gy, w)
	x := newOut(arenaOf(gy, w), gy.dtype, p.N, p.C, p.H, p.W)
	flops.Add(int64(p.FLOPs()))
	if gy.dtype == Float32 {
		kernels.Conv2dBackwardData(p, gy.f32, w.f32, x.f32)
	} else {
		kernels.Conv2dBackwardData(p, gy.f64, w.f64, x.f64)
	}
	return record(x, "conv2d_backward_data", []*Tensor{gy, w}, func(c *bctx, g *Tensor) []*Tensor {
		var ggy, gw *Tensor
		if c.needs(0) {
			ggy = convPrim(g, c.in(1), p)
		}
		if c.needs(1) {
			gw = convWeightPrim(g, c.in(0), p)
		}
		return []*Tensor{ggy, gw}
	})
}

// convWeightPrim: w = ∂T/∂w (x, gy).
func convWeightPrim(x, gy *Tensor, p kernels.ConvParams) *Tensor {
	mustSameDType("Conv2d weight gradient", x, gy)
	w := newOut(arenaOf(x, gy), x.dtype, p.K, p.C, p.KH, p.KW)
	flops.Add(int64(p.FLOPs()))
	if x.dtype == Float32 {
		kernels.Conv2dBackwardWeight(p, x.f32, gy.f32, w.f32)
	} else {
		kernels.Conv2dBackwardWeight(p, x.f64, gy.f64, w.f64)
	}
	return record(w, "conv2d_backward_weight", []*Tensor{x, gy}, func(c *bctx, g *Tensor) []*Tensor {
		var gx, ggy *Tensor
		if c.needs(0) {
			gx = convDataPrim(c.in(1), g, p)
		}
		if c.needs(1) {
			ggy = convPrim(c.in(0), g, p)
		}
		return []*Tensor{gx, ggy}
	})
}

// flops counts the floating-point operations of convolutions and matrix
// products, each convolution counted as a direct one (2·N·K·C·KH·KW·OH·OW)
// whatever algorithm runs it.
var flops atomic.Int64

// FLOPs returns the floating-point operations done by convolutions and
// matrix products since the program started: the numerator of a GFLOPS
// figure.
func FLOPs() int64 { return flops.Load() }

func mustSameDType(op string, a, b *Tensor) {
	if a.dtype != b.dtype {
		panic(fmt.Sprintf("tensor: %s of %v and %v", op, a.dtype, b.dtype))
	}
}
