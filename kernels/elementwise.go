package kernels

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
