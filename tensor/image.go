package tensor

import (
	"fmt"
	"math"

	"github.com/doggogan/doggogan/kernels"
)

// PadMode selects how Pad2d fills the border.
type PadMode uint8

const (
	// PadZero fills with zeros.
	PadZero PadMode = iota
	// PadReflect mirrors the image without repeating the edge, like
	// PyTorch's ReflectionPad2d.
	PadReflect
)

func check4D(op string, x *Tensor) {
	if x.Rank() != 4 {
		panic(fmt.Sprintf("tensor: %s needs an N×C×H×W tensor, got shape %v", op, x.shape))
	}
}

// Pad2d pads the last two dimensions of an N×C×H×W tensor by top, bottom,
// left and right rows and columns. With PadZero, negative amounts crop.
// With PadReflect each amount must be in [0, size).
func Pad2d(x *Tensor, top, bottom, left, right int, mode PadMode) *Tensor {
	check4D("Pad2d", x)
	if mode == PadZero {
		return padAxis(padAxis(x, 2, top, bottom), 3, left, right)
	}
	h, w := x.shape[2], x.shape[3]
	for _, p := range [...]struct{ v, lim int }{{top, h}, {bottom, h}, {left, w}, {right, w}} {
		if p.v < 0 || p.v >= p.lim {
			panic(fmt.Sprintf("tensor: reflection padding (%d, %d, %d, %d) of a %d×%d image", top, bottom, left, right, h, w))
		}
	}
	return reflectPad(x, top, bottom, left, right)
}

// reflectIndex maps a padded coordinate to its source in [0, n).
func reflectIndex(i, n int) int {
	if i < 0 {
		return -i
	}
	if i >= n {
		return 2*(n-1) - i
	}
	return i
}

func reflectPad(x *Tensor, top, bottom, left, right int) *Tensor {
	n, ch, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	oh, ow := h+top+bottom, w+left+right
	out := newOut(x.arena, x.dtype, n, ch, oh, ow)
	if x.dtype == Float32 {
		reflectKernel(out.f32, x.f32, n*ch, h, w, top, left, oh, ow, false)
	} else {
		reflectKernel(out.f64, x.f64, n*ch, h, w, top, left, oh, ow, false)
	}
	return record(out, "reflect_pad", []*Tensor{x}, func(c *bctx, g *Tensor) []*Tensor {
		return []*Tensor{reflectPadAdjoint(g, h, w, top, left)}
	})
}

// reflectPadAdjoint folds the gradient of a reflection-padded image back
// onto the h×w source.
func reflectPadAdjoint(g *Tensor, h, w, top, left int) *Tensor {
	n, ch, oh, ow := g.shape[0], g.shape[1], g.shape[2], g.shape[3]
	out := like(g, n, ch, h, w)
	if g.dtype == Float32 {
		reflectKernel(g.f32, out.f32, n*ch, h, w, top, left, oh, ow, true)
	} else {
		reflectKernel(g.f64, out.f64, n*ch, h, w, top, left, oh, ow, true)
	}
	return record(out, "reflect_pad_adjoint", []*Tensor{g}, func(c *bctx, gg *Tensor) []*Tensor {
		return []*Tensor{reflectPad(gg, top, oh-h-top, left, ow-w-left)}
	})
}

// reflectKernel copies src planes into padded dst planes, or with adjoint
// accumulates padded planes (pad) into source planes (src).
func reflectKernel[T kernels.Float](pad, src []T, planes, h, w, top, left, oh, ow int, adjoint bool) {
	kernels.ParallelFor(planes, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			s := src[p*h*w : (p+1)*h*w]
			d := pad[p*oh*ow : (p+1)*oh*ow]
			for i := 0; i < oh; i++ {
				si := reflectIndex(i-top, h)
				row := d[i*ow : (i+1)*ow]
				srow := s[si*w : (si+1)*w]
				if adjoint {
					for j, v := range row {
						srow[reflectIndex(j-left, w)] += v
					}
				} else {
					copy(row[left:left+w], srow)
					for j := 0; j < left; j++ {
						row[j] = srow[left-j]
					}
					for j := left + w; j < ow; j++ {
						row[j] = srow[2*(w-1)-(j-left)]
					}
				}
			}
		}
	})
}

// interp is a 1-D linear resampling: output i is w0[i]·in[i0[i]] +
// w1[i]·in[i1[i]].
type interp struct {
	i0, i1 []int
	w0, w1 []float64
}

func nearest2(n int) interp {
	m := interp{make([]int, 2*n), make([]int, 2*n), make([]float64, 2*n), make([]float64, 2*n)}
	for i := range m.i0 {
		m.i0[i], m.i1[i], m.w0[i] = i/2, i/2, 1
	}
	return m
}

// bilinear2 follows PyTorch's bilinear upsampling by 2 with
// align_corners=False.
func bilinear2(n int) interp {
	m := interp{make([]int, 2*n), make([]int, 2*n), make([]float64, 2*n), make([]float64, 2*n)}
	for i := range m.i0 {
		src := (float64(i)+0.5)/2 - 0.5
		if src < 0 {
			src = 0
		}
		i0 := int(math.Floor(src))
		i1 := i0 + 1
		if i1 > n-1 {
			i1 = n - 1
		}
		l := src - float64(i0)
		m.i0[i], m.i1[i], m.w0[i], m.w1[i] = i0, i1, 1-l, l
	}
	return m
}

// UpsampleNearest2 doubles the height and width of an N×C×H×W tensor by
// repeating each pixel.
func UpsampleNearest2(x *Tensor) *Tensor {
	check4D("UpsampleNearest2", x)
	return resample(x, nearest2(x.shape[2]), nearest2(x.shape[3]), false)
}

// UpsampleBilinear2 doubles the height and width of an N×C×H×W tensor by
// bilinear interpolation (PyTorch's align_corners=False).
func UpsampleBilinear2(x *Tensor) *Tensor {
	check4D("UpsampleBilinear2", x)
	return resample(x, bilinear2(x.shape[2]), bilinear2(x.shape[3]), false)
}

// resample applies separable 1-D resamplings to the last two dimensions, or
// with adjoint their transpose (from the resampled size back).
func resample(x *Tensor, my, mx interp, adjoint bool) *Tensor {
	n, ch := x.shape[0], x.shape[1]
	sh, sw := x.shape[2], x.shape[3] // sizes of x
	bh, bw := len(my.i0), len(mx.i0) // resampled (big) sizes
	var out *Tensor
	if adjoint {
		// source size: 1 + the largest index referenced
		h, w := maxIndex(my)+1, maxIndex(mx)+1
		out = like(x, n, ch, h, w)
		if x.dtype == Float32 {
			resampleKernel(x.f32, out.f32, n*ch, h, w, bh, bw, my, mx, true)
		} else {
			resampleKernel(x.f64, out.f64, n*ch, h, w, bh, bw, my, mx, true)
		}
	} else {
		out = newOut(x.arena, x.dtype, n, ch, bh, bw)
		if x.dtype == Float32 {
			resampleKernel(out.f32, x.f32, n*ch, sh, sw, bh, bw, my, mx, false)
		} else {
			resampleKernel(out.f64, x.f64, n*ch, sh, sw, bh, bw, my, mx, false)
		}
	}
	return record(out, "resample", []*Tensor{x}, func(c *bctx, g *Tensor) []*Tensor {
		return []*Tensor{resample(g, my, mx, !adjoint)}
	})
}

func maxIndex(m interp) int {
	mx := 0
	for i := range m.i0 {
		if m.i0[i] > mx {
			mx = m.i0[i]
		}
		if m.i1[i] > mx {
			mx = m.i1[i]
		}
	}
	return mx
}

func resampleKernel[T kernels.Float](big, small []T, planes, h, w, bh, bw int, my, mx interp, adjoint bool) {
	kernels.ParallelFor(planes, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			s := small[p*h*w : (p+1)*h*w]
			b := big[p*bh*bw : (p+1)*bh*bw]
			for i := 0; i < bh; i++ {
				r0, r1 := s[my.i0[i]*w:(my.i0[i]+1)*w], s[my.i1[i]*w:(my.i1[i]+1)*w]
				wy0, wy1 := T(my.w0[i]), T(my.w1[i])
				row := b[i*bw : (i+1)*bw]
				for j := range row {
					j0, j1 := mx.i0[j], mx.i1[j]
					wx0, wx1 := T(mx.w0[j]), T(mx.w1[j])
					if adjoint {
						v := row[j]
						r0[j0] += wy0 * wx0 * v
						r0[j1] += wy0 * wx1 * v
						r1[j0] += wy1 * wx0 * v
						r1[j1] += wy1 * wx1 * v
					} else {
						row[j] = wy0*(wx0*r0[j0]+wx1*r0[j1]) + wy1*(wx0*r1[j0]+wx1*r1[j1])
					}
				}
			}
		}
	})
}

// InstanceNorm2d normalises each channel of each sample of an N×C×H×W
// tensor to zero mean and unit variance over H×W, with eps added to the
// (biased) variance, like PyTorch's InstanceNorm2d without affine
// parameters.
func InstanceNorm2d(x *Tensor, eps float64) *Tensor { return instanceNormAct(x, eps, actNone, 0) }

// InstanceNormReLU is Relu(InstanceNorm2d(x, eps)) in one pass over memory
// each way.
func InstanceNormReLU(x *Tensor, eps float64) *Tensor { return instanceNormAct(x, eps, actLeaky, 0) }

// InstanceNormLeakyReLU is LeakyRelu(InstanceNorm2d(x, eps), slope) in one
// pass over memory each way.
func InstanceNormLeakyReLU(x *Tensor, eps, slope float64) *Tensor {
	return instanceNormAct(x, eps, actLeaky, slope)
}

type actKind uint8

const (
	actNone  actKind = iota
	actLeaky         // x for x > 0, slope·x otherwise (ReLU with slope 0)
)

func instanceNormAct(x *Tensor, eps float64, act actKind, slope float64) *Tensor {
	check4D("InstanceNorm2d", x)
	n, ch, h, w := x.shape[0], x.shape[1], x.shape[2], x.shape[3]
	out := newOut(x.arena, x.dtype, x.shape...)
	var st []float64 // mean and inverse standard deviation per plane
	if x.dtype == Float32 {
		st = instanceNormKernel(out.f32, x.f32, n*ch, h*w, eps, act, float32(slope))
	} else {
		st = instanceNormKernel(out.f64, x.f64, n*ch, h*w, eps, act, slope)
	}
	return record(out, "instance_norm", []*Tensor{x}, func(c *bctx, g *Tensor) []*Tensor {
		if !c.create {
			gx := newOut(g.arena, g.dtype, g.shape...)
			xs := c.n.inputs[0]
			if g.dtype == Float32 {
				instanceNormBackwardKernel(gx.f32, g.f32, xs.f32, st, h*w, act, float32(slope))
			} else {
				instanceNormBackwardKernel(gx.f64, g.f64, xs.f64, st, h*w, act, slope)
			}
			return []*Tensor{gx}
		}
		// Recorded path: with g' = g·act'(x̂), gx = invstd·(g' − mean(g') −
		// x̂·mean(g'·x̂)), invstd and x̂ rebuilt differentiably from x.
		xx := c.in(0)
		axes := []int{2, 3}
		d := Sub(xx, MeanAxes(xx, axes, true))
		inv := Div(Scalar(x.dtype, 1), Sqrt(AddScalar(MeanAxes(Square(d), axes, true), eps)))
		xhat := Mul(d, inv)
		if act == actLeaky {
			g = Mul(g, constUnary(xhat.Detach(), unStepPos, slope))
		}
		inner := Sub(Sub(g, MeanAxes(g, axes, true)), Mul(xhat, MeanAxes(Mul(g, xhat), axes, true)))
		return []*Tensor{Mul(inv, inner)}
	})
}

// instanceNormKernel normalises planes of hw values and applies the
// activation, returning each plane's mean and inverse standard deviation.
func instanceNormKernel[T kernels.Float](out, x []T, planes, hw int, eps float64, act actKind, slope T) []float64 {
	st := make([]float64, 2*planes)
	if act == actNone {
		slope = 1
	}
	parallelPlanes(planes, hw, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			xs := x[p*hw : (p+1)*hw]
			mean := kernels.Sum(xs) / float64(hw)
			inv := 1 / math.Sqrt(kernels.SumSqDev(xs, T(mean))/float64(hw)+eps)
			st[2*p], st[2*p+1] = mean, inv
			kernels.AffineLeaky(out[p*hw:(p+1)*hw], xs, T(inv), T(-mean*inv), slope)
		}
	})
	return st
}

// parallelPlanes runs fn over planes of hw elements, on several threads
// only when there is enough work to pay for the hand-off.
func parallelPlanes(planes, hw int, fn func(lo, hi int)) {
	if planes*hw < 4*parallelMin {
		fn(0, planes)
		return
	}
	kernels.ParallelFor(planes, fn)
}

// instanceNormBackwardKernel computes, per plane, gx = invstd·(g′ − mean(g′)
// − x̂·mean(g′·x̂)) with g′ = g·act′(x̂) and x̂ = (x − mean)·invstd.
func instanceNormBackwardKernel[T kernels.Float](gx, g, x []T, st []float64, hw int, act actKind, slope T) {
	if act == actNone {
		slope = 1
	}
	parallelPlanes(len(st)/2, hw, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			gs, xs := g[p*hw:(p+1)*hw], x[p*hw:(p+1)*hw]
			o := gx[p*hw : (p+1)*hw]
			m, iv := st[2*p], st[2*p+1]
			s, sy := kernels.LeakyGradSums(o, gs, xs, T(iv), T(-m*iv), slope)
			mg, mgy := s/float64(hw), sy/float64(hw)
			// iv·(g′ − mg − (x−m)·iv·mgy) as p·g′ + q·x + r
			kernels.Axpbyc(o, xs, T(iv), T(-iv*iv*mgy), T(iv*iv*mgy*m-iv*mg))
		}
	})
}

// NormPerSample returns the Euclidean norm of each sample of x (over all
// dimensions but the first), as a tensor of shape [N]. Its gradient at a
// zero sample is taken as zero.
func NormPerSample(x *Tensor) *Tensor {
	n := x.shape[0]
	m := x.Numel() / n
	out := like(x, n)
	for i := 0; i < n; i++ {
		var s float64
		for j := i * m; j < (i+1)*m; j++ {
			v := x.get(j)
			s += v * v
		}
		out.set(i, math.Sqrt(s))
	}
	return record(out, "norm_per_sample", []*Tensor{x}, func(c *bctx, g *Tensor) []*Tensor {
		xx, y := c.in(0), c.out()
		bshape := make([]int, xx.Rank())
		for i := range bshape {
			bshape[i] = 1
		}
		bshape[0] = n
		zero := like(x, n)
		for i := 0; i < n; i++ {
			if y.get(i) == 0 {
				zero.set(i, 1)
			}
		}
		scale := Div(g, Add(y, zero)) // g/‖x‖, with 0/1 where ‖x‖ = 0
		return []*Tensor{Mul(xx, Reshape(scale, bshape...))}
	})
}

// Dropout zeroes each element with probability p and scales the others by
// 1/(1−p) when train is true; otherwise it returns x.
func Dropout(x *Tensor, p float64, train bool, rng *RNG) *Tensor {
	if !train || p == 0 {
		return x
	}
	if p < 0 || p >= 1 {
		panic(fmt.Sprintf("tensor: dropout probability %g", p))
	}
	mask := like(x, x.shape...)
	keep := 1 / (1 - p)
	for i := 0; i < mask.Numel(); i++ {
		if rng.Float64() >= p {
			mask.set(i, keep)
		}
	}
	return Mul(x, mask)
}
