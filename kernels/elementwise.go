package kernels

import "math"

// Elementwise kernels for normalisation layers. Each has a pure-Go
// implementation (the *Go functions, used for float64, on CPUs without
// AVX2+FMA and under the purego tag) and, for float32 on amd64, an AVX2
// twin; tests compare the two.

// Sum returns Σx, accumulated in float64.
func Sum[T Float](x []T) float64 {
	if x32, ok := any(x).([]float32); ok && haveAsm {
		n := len(x32) &^ 7
		s := sumAsm(x32[:n])
		return s + sumGo(x32[n:])
	}
	return sumGo(x)
}

func sumGo[T Float](x []T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i])
		s1 += float64(x[i+1])
		s2 += float64(x[i+2])
		s3 += float64(x[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// SumSqDev returns Σ(x−m)², each square taken in T and accumulated in
// float64.
func SumSqDev[T Float](x []T, m T) float64 {
	if x32, ok := any(x).([]float32); ok && haveAsm {
		n := len(x32) &^ 7
		s := sumSqDevAsm(x32[:n], float32(m))
		return s + sumSqDevGo(x32[n:], float32(m))
	}
	return sumSqDevGo(x, m)
}

func sumSqDevGo[T Float](x []T, m T) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		d0, d1, d2, d3 := x[i]-m, x[i+1]-m, x[i+2]-m, x[i+3]-m
		s0 += float64(d0 * d0)
		s1 += float64(d1 * d1)
		s2 += float64(d2 * d2)
		s3 += float64(d3 * d3)
	}
	for ; i < len(x); i++ {
		d := x[i] - m
		s0 += float64(d * d)
	}
	return (s0 + s1) + (s2 + s3)
}

// AffineLeaky sets o[i] = f(x[i]·a + b) where f(y) = max(y, slope·y): a
// leaky ReLU for 0 < slope < 1, a ReLU for slope 0 and the identity for
// slope 1. slope must be in [0, 1]. len(o) must be at least len(x).
func AffineLeaky[T Float](o, x []T, a, b, slope T) {
	o = o[:len(x)]
	if o32, ok := any(o).([]float32); ok && haveAsm {
		x32 := any(x).([]float32)
		n := len(x32) &^ 7
		affineLeakyAsm(o32[:n], x32[:n], float32(a), float32(b), float32(slope))
		affineLeakyGo(o32[n:], x32[n:], float32(a), float32(b), float32(slope))
		return
	}
	affineLeakyGo(o, x, a, b, slope)
}

func affineLeakyGo[T Float](o, x []T, a, b, slope T) {
	o = o[:len(x)]
	for i, v := range x {
		y := v*a + b
		if y <= 0 {
			y *= slope
		}
		o[i] = y
	}
}

// LeakyGradSums sets o[i] = g[i]·f′(y[i]) with y[i] = x[i]·a + b and
// f′(y) = 1 for y > 0, slope otherwise, and returns Σo and Σo·y in
// float64. o may be g.
func LeakyGradSums[T Float](o, g, x []T, a, b, slope T) (s, sy float64) {
	o, g = o[:len(x)], g[:len(x)]
	if o32, ok := any(o).([]float32); ok && haveAsm {
		g32, x32 := any(g).([]float32), any(x).([]float32)
		n := len(x32) &^ 7
		s, sy = leakyGradSumsAsm(o32[:n], g32[:n], x32[:n], float32(a), float32(b), float32(slope))
		ts, tsy := leakyGradSumsGo(o32[n:], g32[n:], x32[n:], float32(a), float32(b), float32(slope))
		return s + ts, sy + tsy
	}
	return leakyGradSumsGo(o, g, x, a, b, slope)
}

func leakyGradSumsGo[T Float](o, g, x []T, a, b, slope T) (s, sy float64) {
	o, g = o[:len(x)], g[:len(x)]
	for i, v := range x {
		y := v*a + b
		gv := g[i]
		if y <= 0 {
			gv *= slope
		}
		o[i] = gv
		s += float64(gv)
		sy += float64(gv * y)
	}
	return s, sy
}

// Axpbyc sets o[i] = p·o[i] + q·x[i] + r.
func Axpbyc[T Float](o, x []T, p, q, r T) {
	o = o[:len(x)]
	if o32, ok := any(o).([]float32); ok && haveAsm {
		x32 := any(x).([]float32)
		n := len(x32) &^ 7
		axpbycAsm(o32[:n], x32[:n], float32(p), float32(q), float32(r))
		axpbycGo(o32[n:], x32[n:], float32(p), float32(q), float32(r))
		return
	}
	axpbycGo(o, x, p, q, r)
}

func axpbycGo[T Float](o, x []T, p, q, r T) {
	o = o[:len(x)]
	for i, v := range x {
		o[i] = p*o[i] + q*v + r
	}
}

// Binary elementwise operations for BinaryOp and ScalarOp.
const (
	OpAdd = iota // a + b
	OpSub        // a − b
	OpMul        // a · b
)

// BinaryOp sets o[i] = a[i] op b[i] for op OpAdd, OpSub or OpMul.
func BinaryOp[T Float](op int, o, a, b []T) {
	o, b = o[:len(a)], b[:len(a)]
	if o32, ok := any(o).([]float32); ok && haveAsm {
		a32, b32 := any(a).([]float32), any(b).([]float32)
		n := len(a32) &^ 7
		binaryAsm(op, o32[:n], a32[:n], b32[:n])
		binaryGo(op, o32[n:], a32[n:], b32[n:])
		return
	}
	binaryGo(op, o, a, b)
}

func binaryGo[T Float](op int, o, a, b []T) {
	o, b = o[:len(a)], b[:len(a)]
	switch op {
	case OpAdd:
		for i, v := range a {
			o[i] = v + b[i]
		}
	case OpSub:
		for i, v := range a {
			o[i] = v - b[i]
		}
	case OpMul:
		for i, v := range a {
			o[i] = v * b[i]
		}
	}
}

// ScalarOp sets o[i] = a[i]·p + q.
func ScalarOp[T Float](o, a []T, p, q T) {
	o = o[:len(a)]
	if o32, ok := any(o).([]float32); ok && haveAsm {
		a32 := any(a).([]float32)
		n := len(a32) &^ 7
		scalarAsm(o32[:n], a32[:n], float32(p), float32(q))
		scalarGo(o32[n:], a32[n:], float32(p), float32(q))
		return
	}
	scalarGo(o, a, p, q)
}

func scalarGo[T Float](o, a []T, p, q T) {
	o = o[:len(a)]
	for i, v := range a {
		o[i] = v*p + q
	}
}

// AdamStep applies one Adam update to parameters p with gradients g and
// moments m and v: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
// p ← p − step·m/(√v·s + ε), where step is the learning rate over the first
// bias correction and s is one over the square root of the second.
func AdamStep[T Float](p, g, m, v []T, b1, b2, eps, step, s T) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	if p32, ok := any(p).([]float32); ok && haveAsm {
		g32, m32, v32 := any(g).([]float32), any(m).([]float32), any(v).([]float32)
		n := len(p32) &^ 7
		adamAsm(p32[:n], g32[:n], m32[:n], v32[:n], float32(b1), float32(1-b1), float32(b2), float32(1-b2), float32(eps), float32(step), float32(s))
		adamGo(p32[n:], g32[n:], m32[n:], v32[n:], float32(b1), float32(b2), float32(eps), float32(step), float32(s))
		return
	}
	adamGo(p, g, m, v, b1, b2, eps, step, s)
}

func adamGo[T Float](p, g, m, v []T, b1, b2, eps, step, s T) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	c1, c2 := 1-b1, 1-b2
	for i := range p {
		gi := g[i]
		mi := b1*m[i] + c1*gi
		vi := b2*v[i] + c2*gi*gi
		m[i], v[i] = mi, vi
		p[i] -= step * mi / (T(math.Sqrt(float64(vi)))*s + eps)
	}
}
