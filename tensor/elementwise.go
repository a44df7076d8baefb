package tensor

import (
	"fmt"
	"math"

	"github.com/doggogan/doggogan/kernels"
)

type binKind uint8

const (
	binAdd binKind = iota
	binSub
	binMul
	binDiv
)

var binNames = [...]string{"add", "sub", "mul", "div"}

// parallelMin is the element count under which elementwise kernels stay on
// one goroutine.
const parallelMin = 1 << 15

// Add returns a + b, broadcasting.
func Add(a, b *Tensor) *Tensor { return binary(a, b, binAdd) }

// Sub returns a − b, broadcasting.
func Sub(a, b *Tensor) *Tensor { return binary(a, b, binSub) }

// Mul returns a · b elementwise, broadcasting.
func Mul(a, b *Tensor) *Tensor { return binary(a, b, binMul) }

// Div returns a / b elementwise, broadcasting.
func Div(a, b *Tensor) *Tensor { return binary(a, b, binDiv) }

func binary(a, b *Tensor, k binKind) *Tensor {
	if a.dtype != b.dtype {
		panic(fmt.Sprintf("tensor: %s of %v and %v", binNames[k], a.dtype, b.dtype))
	}
	shape, err := BroadcastShapes(a.shape, b.shape)
	if err != nil {
		panic(err)
	}
	out := newOut(arenaOf(a, b), a.dtype, shape...)
	if a.dtype == Float32 {
		binaryKernel(k, out.f32, a.f32, b.f32, shape, a.shape, b.shape)
	} else {
		binaryKernel(k, out.f64, a.f64, b.f64, shape, a.shape, b.shape)
	}
	return record(out, binNames[k], []*Tensor{a, b}, func(c *bctx, g *Tensor) []*Tensor {
		var ga, gb *Tensor
		switch k {
		case binAdd:
			if c.needs(0) {
				ga = SumTo(g, c.n.inputs[0].shape)
			}
			if c.needs(1) {
				gb = SumTo(g, c.n.inputs[1].shape)
			}
		case binSub:
			if c.needs(0) {
				ga = SumTo(g, c.n.inputs[0].shape)
			}
			if c.needs(1) {
				gb = SumTo(Neg(g), c.n.inputs[1].shape)
			}
		case binMul:
			if c.needs(0) {
				ga = SumTo(Mul(g, c.in(1)), c.n.inputs[0].shape)
			}
			if c.needs(1) {
				gb = SumTo(Mul(g, c.in(0)), c.n.inputs[1].shape)
			}
		case binDiv:
			bb := c.in(1)
			if c.needs(0) {
				ga = SumTo(Div(g, bb), c.n.inputs[0].shape)
			}
			if c.needs(1) {
				// d(a/b)/db = −(a/b)/b
				gb = SumTo(Neg(Div(Mul(g, c.out()), bb)), c.n.inputs[1].shape)
			}
		}
		return []*Tensor{ga, gb}
	})
}

func binaryKernel[T kernels.Float](k binKind, out, a, b []T, shape, as, bs []int) {
	if sameShape(as, bs) {
		n := len(out)
		if n >= parallelMin {
			kernels.ParallelFor(n/4096+1, func(lo, hi int) {
				lo, hi = lo*4096, hi*4096
				if hi > n {
					hi = n
				}
				binaryRun(k, out[lo:hi], a[lo:hi], b[lo:hi], 1, 1)
			})
			return
		}
		binaryRun(k, out, a, b, 1, 1)
		return
	}
	p := makePlan(shape, contiguousStrides(shape), bstrides(as, shape), bstrides(bs, shape))
	last := len(p.shape) - 1
	n, sa, sb := p.shape[last], p.strides[1][last], p.strides[2][last]
	p.runs(func(offs []int) {
		var av, bv []T
		if sa == 0 {
			av = a[offs[1] : offs[1]+1]
		} else {
			av = a[offs[1] : offs[1]+n]
		}
		if sb == 0 {
			bv = b[offs[2] : offs[2]+1]
		} else {
			bv = b[offs[2] : offs[2]+n]
		}
		binaryRun(k, out[offs[0]:offs[0]+n], av, bv, sa, sb)
	})
}

// binaryRun applies op to one run; a stride of 0 means a one-element operand.
func binaryRun[T kernels.Float](k binKind, o, a, b []T, sa, sb int) {
	if k != binDiv {
		// The vector kernels; a·1 + s, a·s + 0 and a·(−1) + s are exact, so
		// these give the values of a+s, a·s and s−a.
		op := [...]int{binAdd: kernels.OpAdd, binSub: kernels.OpSub, binMul: kernels.OpMul}[k]
		switch {
		case sa == 1 && sb == 1:
			kernels.BinaryOp(op, o, a[:len(o)], b[:len(o)])
			return
		case sa == 1:
			switch k {
			case binAdd:
				kernels.ScalarOp(o, a[:len(o)], 1, b[0])
			case binSub:
				kernels.ScalarOp(o, a[:len(o)], 1, -b[0])
			case binMul:
				kernels.ScalarOp(o, a[:len(o)], b[0], 0)
			}
			return
		case sb == 1:
			switch k {
			case binAdd:
				kernels.ScalarOp(o, b[:len(o)], 1, a[0])
			case binSub:
				kernels.ScalarOp(o, b[:len(o)], -1, a[0])
			case binMul:
				kernels.ScalarOp(o, b[:len(o)], a[0], 0)
			}
			return
		}
	}
	// Here k is binDiv, or both operands have one element.
	switch {
	case sa == 1 && sb == 1:
		a, b = a[:len(o)], b[:len(o)]
		for i := range o {
			o[i] = a[i] / b[i]
		}
	case sa == 1:
		a = a[:len(o)]
		s := b[0]
		for i := range o {
			o[i] = a[i] / s
		}
	case sb == 1:
		b = b[:len(o)]
		s := a[0]
		for i := range o {
			o[i] = s / b[i]
		}
	default:
		var v T
		switch k {
		case binAdd:
			v = a[0] + b[0]
		case binSub:
			v = a[0] - b[0]
		case binMul:
			v = a[0] * b[0]
		case binDiv:
			v = a[0] / b[0]
		}
		for i := range o {
			o[i] = v
		}
	}
}

type unKind uint8

const (
	unNeg unKind = iota
	unAbs
	unSquare
	unSqrt
	unExp
	unLog
	unRelu
	unLeaky
	unTanh
	unSigmoid
	unAddScalar
	unMulScalar
	unSign
	unStepPos // 1 where x > 0, p elsewhere (the derivative of leaky ReLU)
)

var unNames = [...]string{"neg", "abs", "square", "sqrt", "exp", "log", "relu", "leaky_relu", "tanh", "sigmoid", "add_scalar", "mul_scalar", "sign", "step"}

// Neg returns −x.
func Neg(x *Tensor) *Tensor { return unary(x, unNeg, 0) }

// Abs returns |x|; its derivative at 0 is taken as 0.
func Abs(x *Tensor) *Tensor { return unary(x, unAbs, 0) }

// Square returns x².
func Square(x *Tensor) *Tensor { return unary(x, unSquare, 0) }

// Sqrt returns √x.
func Sqrt(x *Tensor) *Tensor { return unary(x, unSqrt, 0) }

// Exp returns eˣ.
func Exp(x *Tensor) *Tensor { return unary(x, unExp, 0) }

// Log returns the natural logarithm of x.
func Log(x *Tensor) *Tensor { return unary(x, unLog, 0) }

// Relu returns max(x, 0); its derivative at 0 is taken as 0.
func Relu(x *Tensor) *Tensor { return unary(x, unRelu, 0) }

// LeakyRelu returns x where x > 0 and slope·x elsewhere.
func LeakyRelu(x *Tensor, slope float64) *Tensor { return unary(x, unLeaky, slope) }

// Tanh returns the hyperbolic tangent of x.
func Tanh(x *Tensor) *Tensor { return unary(x, unTanh, 0) }

// Sigmoid returns 1/(1+e⁻ˣ).
func Sigmoid(x *Tensor) *Tensor { return unary(x, unSigmoid, 0) }

// AddScalar returns x + s.
func AddScalar(x *Tensor, s float64) *Tensor { return unary(x, unAddScalar, s) }

// MulScalar returns s·x.
func MulScalar(x *Tensor, s float64) *Tensor { return unary(x, unMulScalar, s) }

// constUnary computes a non-differentiable elementwise function (no graph).
func constUnary(x *Tensor, k unKind, p float64) *Tensor {
	out := newOut(x.arena, x.dtype, x.shape...)
	if x.dtype == Float32 {
		unaryKernel(k, out.f32, x.f32, float32(p))
	} else {
		unaryKernel(k, out.f64, x.f64, p)
	}
	return out
}

func unary(x *Tensor, k unKind, p float64) *Tensor {
	out := constUnary(x, k, p)
	return record(out, unNames[k], []*Tensor{x}, func(c *bctx, g *Tensor) []*Tensor {
		var gx *Tensor
		switch k {
		case unNeg:
			gx = Neg(g)
		case unAbs:
			gx = Mul(g, constUnary(c.n.inputs[0], unSign, 0))
		case unSquare:
			gx = Mul(g, MulScalar(c.in(0), 2))
		case unSqrt:
			gx = Div(g, MulScalar(c.out(), 2))
		case unExp:
			gx = Mul(g, c.out())
		case unLog:
			gx = Div(g, c.in(0))
		case unRelu:
			gx = Mul(g, constUnary(c.n.inputs[0], unStepPos, 0))
		case unLeaky:
			gx = Mul(g, constUnary(c.n.inputs[0], unStepPos, p))
		case unTanh:
			y := c.out()
			gx = Mul(g, AddScalar(Neg(Square(y)), 1))
		case unSigmoid:
			y := c.out()
			gx = Mul(g, Mul(y, AddScalar(Neg(y), 1)))
		case unAddScalar:
			gx = g
		case unMulScalar:
			gx = MulScalar(g, p)
		}
		return []*Tensor{gx}
	})
}

func unaryKernel[T kernels.Float](k unKind, o, x []T, p T) {
	n := len(o)
	if n >= parallelMin {
		kernels.ParallelFor(n/4096+1, func(lo, hi int) {
			lo, hi = lo*4096, hi*4096
			if hi > n {
				hi = n
			}
			unaryRun(k, o[lo:hi], x[lo:hi], p)
		})
		return
	}
	unaryRun(k, o, x, p)
}

func unaryRun[T kernels.Float](k unKind, o, x []T, p T) {
	x = x[:len(o)]
	switch k {
	case unNeg:
		kernels.ScalarOp(o, x, -1, 0)
		return
	case unAddScalar:
		kernels.ScalarOp(o, x, 1, p)
		return
	case unMulScalar:
		kernels.ScalarOp(o, x, p, 0)
		return
	case unRelu:
		kernels.AffineLeaky(o, x, 1, 0, 0)
		return
	case unLeaky:
		if p >= 0 && p <= 1 {
			kernels.AffineLeaky(o, x, 1, 0, p)
			return
		}
	}
	// Kinds without a vector kernel, and leaky ReLU with a slope outside [0, 1].
	switch k {
	case unAbs:
		for i, v := range x {
			if v < 0 {
				v = -v
			}
			o[i] = v
		}
	case unSquare:
		for i, v := range x {
			o[i] = v * v
		}
	case unSqrt:
		for i, v := range x {
			o[i] = T(math.Sqrt(float64(v)))
		}
	case unExp:
		for i, v := range x {
			o[i] = T(math.Exp(float64(v)))
		}
	case unLog:
		for i, v := range x {
			o[i] = T(math.Log(float64(v)))
		}
	case unLeaky: // a slope outside [0, 1]
		for i, v := range x {
			if v < 0 {
				v *= p
			}
			o[i] = v
		}
	case unTanh:
		for i, v := range x {
			o[i] = T(math.Tanh(float64(v)))
		}
	case unSigmoid:
		for i, v := range x {
			o[i] = T(1 / (1 + math.Exp(-float64(v))))
		}
	case unSign:
		for i, v := range x {
			switch {
			case v > 0:
				o[i] = 1
			case v < 0:
				o[i] = -1
			default:
				o[i] = 0
			}
		}
	case unStepPos:
		for i, v := range x {
			if v > 0 {
				o[i] = 1
			} else {
				o[i] = p
			}
		}
	}
}
