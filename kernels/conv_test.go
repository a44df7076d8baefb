package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// geom builds a geometry with OH and OW from the convolution formula.
func geom(n, c, h, w, k, kh, kw, sh, sw, ph, pw int, reflect bool) ConvParams {
	return ConvParams{N: n, C: c, H: h, W: w, K: k, KH: kh, KW: kw, SH: sh, SW: sw, PH: ph, PW: pw,
		OH: (h+2*ph-kh)/sh + 1, OW: (w+2*pw-kw)/sw + 1, Reflect: reflect}
}

// transposed builds the geometry of a transposed convolution from cin
// channels of oh×ow to cout channels with kernel k, stride s, padding pad
// and output padding op: the conv side is N×cout×H×W with
// H = (oh−1)·s − 2·pad + k + op.
func transposed(n, cin, cout, oh, ow, k, s, pad, op int) ConvParams {
	return ConvParams{N: n, C: cout, K: cin, KH: k, KW: k, SH: s, SW: s, PH: pad, PW: pad,
		OH: oh, OW: ow, H: (oh-1)*s - 2*pad + k + op, W: (ow-1)*s - 2*pad + k + op}
}

// testGeometries covers kernel sizes 1, 3, 4, 7, strides 1 and 2, padding
// 0–3 zero and reflect, odd/even and non-square sizes, batch 1 and 3,
// channel counts including 1 and 3, non-square kernels, and transposed
// convolutions with output padding.
func testGeometries() []ConvParams {
	var gs []ConvParams
	sizes := [][2]int{{5, 7}, {8, 6}, {9, 9}, {4, 11}, {10, 5}, {7, 8}}
	chans := [][2]int{{1, 1}, {3, 1}, {1, 3}, {3, 3}, {2, 4}}
	i := 0
	for _, k := range []int{1, 3, 4, 7} {
		for _, s := range []int{1, 2} {
			for pad := 0; pad <= 3; pad++ {
				for _, reflect := range []bool{false, true} {
					i++
					hw := sizes[i%len(sizes)]
					h, w := hw[0], hw[1]
					// Large kernels need room; reflection needs pad < size.
					h, w = max(h, k-2*pad, pad+1), max(w, k-2*pad, pad+1)
					ck := chans[i%len(chans)]
					n := 1 + 2*(i%2)
					gs = append(gs, geom(n, ck[0], h, w, ck[1], k, k, s, s, pad, pad, reflect))
				}
			}
		}
	}
	gs = append(gs,
		geom(2, 3, 6, 9, 2, 3, 1, 1, 2, 1, 0, false),
		geom(1, 2, 7, 5, 3, 1, 5, 2, 1, 0, 2, true),
		geom(3, 1, 9, 12, 1, 4, 3, 2, 3, 2, 1, true),
		geom(2, 2, 10, 11, 3, 5, 4, 3, 2, 2, 1, false),
		geom(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, false),
		geom(1, 1, 2, 3, 1, 3, 3, 1, 1, 1, 1, true),
		geom(3, 2, 3, 3, 2, 3, 3, 1, 1, 2, 2, false), // rows of pure padding
		// The generator's ConvTranspose2d(c, c/2, 3, stride 2, padding 1, output_padding 1).
		transposed(1, 4, 2, 4, 5, 3, 2, 1, 1),
		transposed(3, 6, 3, 3, 3, 3, 2, 1, 1),
		transposed(2, 3, 1, 5, 4, 3, 2, 1, 0),
		transposed(1, 2, 3, 4, 4, 4, 2, 1, 0),
		transposed(3, 3, 3, 3, 5, 5, 3, 2, 2),
	)
	return gs
}

func randSlice(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = 2*r.Float64() - 1
	}
	return s
}

// refIndex maps a padded input coordinate to the input, plainly: -1 when
// it falls in zero padding.
func refIndex(i, n int, reflect bool) int {
	if i >= 0 && i < n {
		return i
	}
	if !reflect {
		return -1
	}
	if i < 0 {
		return -i
	}
	return n - 1 - (i - (n - 1))
}

// refConvLoops visits every (n, k, c, oh, ow, kh, kw) term of the
// convolution with the flat indices of x, w and y it involves.
func refConvLoops(p ConvParams, visit func(xi, wi, yi int)) {
	for n := 0; n < p.N; n++ {
		for k := 0; k < p.K; k++ {
			for oh := 0; oh < p.OH; oh++ {
				for ow := 0; ow < p.OW; ow++ {
					for c := 0; c < p.C; c++ {
						for kh := 0; kh < p.KH; kh++ {
							for kw := 0; kw < p.KW; kw++ {
								ih := refIndex(oh*p.SH-p.PH+kh, p.H, p.Reflect)
								iw := refIndex(ow*p.SW-p.PW+kw, p.W, p.Reflect)
								if ih < 0 || iw < 0 {
									continue
								}
								visit(((n*p.C+c)*p.H+ih)*p.W+iw,
									((k*p.C+c)*p.KH+kh)*p.KW+kw,
									((n*p.K+k)*p.OH+oh)*p.OW+ow)
							}
						}
					}
				}
			}
		}
	}
}

// Reference results with, per element, the sum of the terms' magnitudes
// and their count, which bound the rounding error.
type refResult struct {
	v, abs []float64
	terms  []int
}

func newRef(n int) refResult {
	return refResult{make([]float64, n), make([]float64, n), make([]int, n)}
}

func (r refResult) add(i int, t float64) {
	r.v[i] += t
	r.abs[i] += math.Abs(t)
	r.terms[i]++
}

func refConv(p ConvParams, x, w []float64) refResult {
	r := newRef(p.OutputLen())
	refConvLoops(p, func(xi, wi, yi int) { r.add(yi, x[xi]*w[wi]) })
	return r
}

func refBackData(p ConvParams, gy, w []float64) refResult {
	r := newRef(p.InputLen())
	refConvLoops(p, func(xi, wi, yi int) { r.add(xi, gy[yi]*w[wi]) })
	return r
}

func refBackWeight(p ConvParams, x, gy []float64) refResult {
	r := newRef(p.WeightLen())
	refConvLoops(p, func(xi, wi, yi int) { r.add(wi, x[xi]*gy[yi]) })
	return r
}

func toT[T Float](s []float64) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[i] = T(v)
	}
	return out
}

func toF64[T Float](s []T) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

func nanSlice[T Float](n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = T(math.NaN())
	}
	return s
}

// checkRef compares got with the reference within the rounding bound
// 2·terms·u·Σ|terms| for unit roundoff u.
func checkRef(t *testing.T, what string, got []float64, ref refResult, u float64) {
	t.Helper()
	bad := 0
	for i, g := range got {
		tol := 2*float64(ref.terms[i]+1)*u*ref.abs[i] + 1e-300
		if !(math.Abs(g-ref.v[i]) <= tol) {
			if bad < 3 {
				t.Errorf("%s[%d] = %.10g, want %.10g (tolerance %.3g)", what, i, g, ref.v[i], tol)
			}
			bad++
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d of %d elements wrong", what, bad, len(got))
	}
}

// withChunking runs f with each lowering (by cost, im2col, kn2row), with
// the default chunking and with chunks of one row, restoring the defaults
// after.
func withChunking(t *testing.T, f func(t *testing.T)) {
	defer func(ct, mc, fl int) { colTarget, minCols, forceLowering = ct, mc, fl }(colTarget, minCols, forceLowering)
	for _, fl := range []int{0, 1, 2} {
		forceLowering = fl
		colTarget, minCols = 1<<20, 1024
		t.Run(fmt.Sprintf("lowering=%d/chunks=default", fl), f)
		colTarget, minCols = 1, 1
		t.Run(fmt.Sprintf("lowering=%d/chunks=rows", fl), f)
	}
}

func testAgainstRef[T Float](t *testing.T, u float64) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range testGeometries() {
		if err := p.Validate(); err != nil {
			t.Fatalf("test geometry %+v: %v", p, err)
		}
		// Inputs rounded to T first, so that the reference sees the same values.
		x := toF64(toT[T](randSlice(r, p.InputLen())))
		w := toF64(toT[T](randSlice(r, p.WeightLen())))
		gy := toF64(toT[T](randSlice(r, p.OutputLen())))
		wantY, wantGX, wantGW := refConv(p, x, w), refBackData(p, gy, w), refBackWeight(p, x, gy)
		name := fmt.Sprintf("N%dC%dH%dW%dK%d_k%dx%d_s%dx%d_p%dx%d_reflect=%v",
			p.N, p.C, p.H, p.W, p.K, p.KH, p.KW, p.SH, p.SW, p.PH, p.PW, p.Reflect)
		t.Run(name, func(t *testing.T) {
			withChunking(t, func(t *testing.T) {
				y := nanSlice[T](p.OutputLen())
				Conv2d(p, toT[T](x), toT[T](w), y)
				checkRef(t, "y", toF64(y), wantY, u)
				gx := nanSlice[T](p.InputLen())
				Conv2dBackwardData(p, toT[T](gy), toT[T](w), gx)
				checkRef(t, "gx", toF64(gx), wantGX, u)
				gw := nanSlice[T](p.WeightLen())
				Conv2dBackwardWeight(p, toT[T](x), toT[T](gy), gw)
				checkRef(t, "gw", toF64(gw), wantGW, u)
			})
		})
	}
}

func TestConvAgainstReferenceFloat64(t *testing.T) { testAgainstRef[float64](t, 0x1p-53) }
func TestConvAgainstReferenceFloat32(t *testing.T) { testAgainstRef[float32](t, 0x1p-24) }

// TestConvThreads runs a few geometries with thread counts that split the
// work unevenly, and checks that the results do not depend on the count.
func TestConvThreads(t *testing.T) {
	defer SetThreads(Threads())
	r := rand.New(rand.NewPCG(3, 4))
	for _, p := range []ConvParams{
		geom(3, 3, 12, 10, 5, 3, 3, 1, 1, 1, 1, true),
		geom(2, 5, 9, 13, 2, 4, 4, 2, 2, 1, 1, false),
		transposed(2, 5, 3, 6, 7, 3, 2, 1, 1),
	} {
		x, w, gy := randSlice(r, p.InputLen()), randSlice(r, p.WeightLen()), randSlice(r, p.OutputLen())
		wantY, wantGX, wantGW := refConv(p, x, w), refBackData(p, gy, w), refBackWeight(p, x, gy)
		for _, th := range []int{1, 2, 3, 7} {
			SetThreads(th)
			withChunking(t, func(t *testing.T) {
				y, gx, gw := make([]float64, p.OutputLen()), make([]float64, p.InputLen()), make([]float64, p.WeightLen())
				Conv2d(p, x, w, y)
				Conv2dBackwardData(p, gy, w, gx)
				Conv2dBackwardWeight(p, x, gy, gw)
				checkRef(t, fmt.Sprintf("threads %d: y", th), y, wantY, 0x1p-53)
				checkRef(t, fmt.Sprintf("threads %d: gx", th), gx, wantGX, 0x1p-53)
				checkRef(t, fmt.Sprintf("threads %d: gw", th), gw, wantGW, 0x1p-53)
			})
		}
	}
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// TestConvAdjoint checks ⟨conv(x,w), gy⟩ = ⟨x, backdata(gy,w)⟩ =
// ⟨w, backweight(x,gy)⟩, which holds only if the three kernels use the
// same geometry (reflection included) consistently.
func TestConvAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, p := range []ConvParams{
		geom(2, 3, 11, 9, 4, 3, 3, 1, 1, 1, 1, true),
		geom(1, 3, 16, 16, 5, 7, 7, 1, 1, 3, 3, true),
		geom(3, 2, 13, 10, 3, 4, 4, 2, 2, 1, 1, false),
		geom(1, 4, 8, 8, 1, 4, 4, 1, 1, 1, 1, false),
		geom(2, 2, 9, 7, 3, 5, 3, 2, 1, 2, 1, true),
		transposed(2, 6, 3, 5, 4, 3, 2, 1, 1),
	} {
		x, w, gy := randSlice(r, p.InputLen()), randSlice(r, p.WeightLen()), randSlice(r, p.OutputLen())
		y, gx, gw := make([]float64, p.OutputLen()), make([]float64, p.InputLen()), make([]float64, p.WeightLen())
		Conv2d(p, x, w, y)
		Conv2dBackwardData(p, gy, w, gx)
		Conv2dBackwardWeight(p, x, gy, gw)
		a, b, c := dot(y, gy), dot(x, gx), dot(w, gw)
		scale := math.Sqrt(float64(p.FLOPs()))
		if math.Abs(a-b) > 1e-12*scale || math.Abs(a-c) > 1e-12*scale {
			t.Errorf("%+v: ⟨conv(x,w),gy⟩ = %.15g, ⟨x,backdata⟩ = %.15g, ⟨w,backweight⟩ = %.15g", p, a, b, c)
		}
	}
}

func TestConvValidate(t *testing.T) {
	good := geom(2, 3, 8, 9, 4, 3, 3, 2, 2, 1, 1, true)
	if err := good.Validate(); err != nil {
		t.Fatalf("valid geometry %+v: %v", good, err)
	}
	if err := transposed(1, 8, 4, 16, 16, 3, 2, 1, 1).Validate(); err != nil {
		t.Fatalf("transposed geometry with output padding: %v", err)
	}
	huge := good
	huge.N, huge.C, huge.H, huge.W = 1<<16, 1<<16, 1<<10, 1<<10
	huge.OH, huge.OW = ConvOutSize(huge.H, 3, 2, 1), ConvOutSize(huge.W, 3, 2, 1)
	for _, c := range []struct {
		name string
		edit func(p *ConvParams)
		want string
	}{
		{"zero batch", func(p *ConvParams) { p.N = 0 }, "N = 0"},
		{"huge width", func(p *ConvParams) { p.W = 1 << 29 }, "W = 536870912"},
		{"huge padding", func(p *ConvParams) { p.PH = 1 << 29 }, "padding 536870912×1"},
		{"negative channels", func(p *ConvParams) { p.C = -1 }, "C = -1"},
		{"zero output channels", func(p *ConvParams) { p.K = 0 }, "K = 0"},
		{"zero kernel", func(p *ConvParams) { p.KW = 0 }, "KW = 0"},
		{"zero stride", func(p *ConvParams) { p.SH = 0 }, "SH = 0"},
		{"negative padding", func(p *ConvParams) { p.PW = -1 }, "padding 1×-1"},
		{"wrong OH", func(p *ConvParams) { p.OH++ }, "OH = 5"},
		{"wrong OW", func(p *ConvParams) { p.OW-- }, "OW = 4"},
		{"kernel too large", func(p *ConvParams) { p.KH, p.PH, p.Reflect = 11, 1, false }, "kernel larger"},
		{"reflect pad = H", func(p *ConvParams) { p.H, p.PH, p.OH = 3, 3, 4 }, "reflection padding"},
		{"reflect pad > W", func(p *ConvParams) { p.W, p.PW, p.OW = 2, 3, 3 }, "reflection padding"},
		{"overflow", func(p *ConvParams) { *p = huge }, "more than"},
	} {
		p := good
		c.edit(&p)
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate(%+v) = %v, want an error containing %q", c.name, p, err, c.want)
		}
	}
	// Zero padding allows what reflection forbids.
	p := geom(1, 1, 3, 2, 1, 3, 3, 1, 1, 3, 3, false)
	if err := p.Validate(); err != nil {
		t.Errorf("zero padding as large as the input: %v", err)
	}
}

func TestConvPanicsOnBadInput(t *testing.T) {
	p := geom(1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1, false)
	for _, c := range []struct {
		name string
		call func()
		want string
	}{
		{"short y", func() {
			Conv2d(p, make([]float32, p.InputLen()), make([]float32, p.WeightLen()), make([]float32, p.OutputLen()-1))
		}, "y has"},
		{"short w", func() {
			Conv2dBackwardData(p, make([]float32, p.OutputLen()), make([]float32, 5), make([]float32, p.InputLen()))
		}, "w has 5"},
		{"bad geometry", func() {
			q := p
			q.OW = 9
			Conv2dBackwardWeight(q, make([]float64, 100), make([]float64, 100), make([]float64, 100))
		}, "OW = 9"},
	} {
		func() {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), c.want) {
					t.Errorf("%s: panic %v, want one containing %q", c.name, r, c.want)
				}
			}()
			c.call()
		}()
	}
}

// TestConvNoAllocs checks that, once the scratch is warm, the kernels
// allocate nothing (single-threaded, so that only this package's code is
// measured), in every chunking mode and lowering.
func TestConvNoAllocs(t *testing.T) {
	if convRaceDetector {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	defer SetThreads(Threads())
	SetThreads(1)
	defer func(ct, mc int) { colTarget, minCols = ct, mc }(colTarget, minCols)
	for _, c := range []struct {
		name        string
		p           ConvParams
		target, min int
	}{
		{"bands", geom(1, 3, 24, 20, 4, 3, 3, 1, 1, 1, 1, true), 500, 40},
		{"samples", geom(3, 4, 6, 6, 5, 4, 4, 2, 2, 1, 1, false), 1 << 20, 1024},
		{"pointwise", geom(2, 4, 6, 6, 5, 1, 1, 1, 1, 0, 0, false), 1 << 20, 1024},
		{"kn2row", geom(2, 6, 10, 9, 2, 3, 3, 1, 1, 1, 1, true), 1 << 20, 1024},
		{"kn2row bands", geom(1, 6, 30, 20, 1, 3, 3, 1, 1, 1, 1, true), 100, 20},
	} {
		colTarget, minCols = c.target, c.min
		p := c.p
		x, w, y := make([]float32, p.InputLen()), make([]float32, p.WeightLen()), make([]float32, p.OutputLen())
		n := testing.AllocsPerRun(10, func() {
			Conv2d(p, x, w, y)
			Conv2dBackwardData(p, y, w, x)
			Conv2dBackwardWeight(p, x, y, w)
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per forward+backward", c.name, n)
		}
	}
}

// TestReleaseConvScratch checks that the kernels still work after their
// scratch has been dropped.
func TestReleaseConvScratch(t *testing.T) {
	p := geom(1, 2, 6, 6, 2, 3, 3, 1, 1, 1, 1, true)
	r := rand.New(rand.NewPCG(7, 8))
	x, w := randSlice(r, p.InputLen()), randSlice(r, p.WeightLen())
	want := refConv(p, x, w)
	y := make([]float64, p.OutputLen())
	Conv2d(p, x, w, y)
	ReleaseConvScratch()
	Conv2d(p, x, w, y)
	checkRef(t, "y", y, want, 0x1p-53)
}

func TestConvOutSize(t *testing.T) {
	for _, c := range [][5]int{
		{64, 7, 1, 3, 64}, {64, 3, 2, 1, 32}, {65, 3, 2, 1, 33}, {16, 4, 1, 1, 15},
		{5, 7, 1, 0, 0}, {0, 1, 1, 0, 0}, {5, 3, 0, 1, 0}, {5, 3, 1, -1, 0},
	} {
		if got := ConvOutSize(c[0], c[1], c[2], c[3]); got != c[4] {
			t.Errorf("ConvOutSize(in %d, k %d, stride %d, pad %d) = %d, want %d", c[0], c[1], c[2], c[3], got, c[4])
		}
	}
}
